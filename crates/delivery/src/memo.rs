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
