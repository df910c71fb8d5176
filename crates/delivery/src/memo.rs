//! A bounded memo shared by the worker's attempts: values built once by key and kept, up to a
//! fixed count; when full it starts again empty (a clear costs one rebuild per key, and the
//! bound is hard).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Values by key, at most `max` of them.
pub(crate) struct Memo<K, V> {
    entries: Mutex<HashMap<K, V>>,
    max: usize,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    /// An empty memo that keeps at most `max` values.
    pub(crate) fn new(max: usize) -> Self {
        Memo {
            entries: Mutex::new(HashMap::new()),
            max,
        }
    }

    /// The value kept for `key`, or the one `build` makes, kept if it is `Ok` (an error is not
    /// kept: the next call builds again). The lock is not held while building.
    pub(crate) fn get_or_try_insert<Q, E>(
        &self,
        key: &Q,
        build: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(value) = self.lock().get(key) {
            return Ok(value.clone());
        }
        let value = build()?;
        let mut entries = self.lock();
        if entries.len() >= self.max {
            entries.clear();
        }
        entries.insert(key.to_owned(), value.clone());
        Ok(value)
    }

    /// How many values are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, V>> {
        // Each change is one call on the map, so a panic elsewhere cannot leave it half-written:
        // a poisoned memo is used as it is.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_built_once_and_an_error_is_not_kept() {
        let memo: Memo<String, usize> = Memo::new(8);
        let built = std::cell::Cell::new(0);
        let build = |value| {
            built.set(built.get() + 1);
            Ok::<usize, ()>(value)
        };
        assert_eq!(memo.get_or_try_insert("a", || build(1)), Ok(1));
        assert_eq!(memo.get_or_try_insert("a", || build(2)), Ok(1), "kept");
        assert_eq!(built.get(), 1, "built once");
        assert_eq!(memo.get_or_try_insert("b", || Err(())), Err(()));
        assert_eq!(memo.len(), 1, "an error is not kept");
    }

    #[test]
    fn the_memo_never_holds_more_than_its_bound() {
        let memo: Memo<String, usize> = Memo::new(3);
        for n in 0..3 {
            assert_eq!(
                memo.get_or_try_insert(&n.to_string(), || Ok::<_, ()>(n)),
                Ok(n)
            );
        }
        assert_eq!(memo.len(), 3);
        assert_eq!(memo.get_or_try_insert("3", || Ok::<_, ()>(3)), Ok(3));
        assert_eq!(memo.len(), 1, "full at 3, cleared, then one more");
    }
}
