//! Integrations' names and settings as this process last read them, by version, so that a
//! claim or a hand-over reads (and parses) an integration's settings once per version rather
//! than once per delivery. Every change to an integration makes a new version
//! ([`crate::integrations`]), so a version read once never changes: a statement is given the
//! versions known here ([`SettingsCache::known`]) and returns the name and settings only of
//! integrations at another version, which are then kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use ricochet_domain::integration::IntegrationSettings;
use uuid::Uuid;

use crate::integrations::StoredSettings;

/// Most integrations kept; when full, all are forgotten and read again with their next
/// deliveries (the statements then return settings as they did before the cache).
pub const SETTINGS_CACHE_MAX: usize = 4_096;

/// One integration at one version.
#[derive(Debug, Clone)]
pub struct Versioned {
    /// The version.
    pub version: i32,
    /// Its name.
    pub name: Arc<str>,
    /// Its settings, parsed.
    pub settings: Arc<IntegrationSettings>,
}

/// Integrations by id, each at the last version read.
///
/// The map is shared, not copied, with every statement that reads it ([`SettingsCache::known`]
/// is an `Arc` clone): it is copied only when a statement read something new, which happens
/// once per integration and version.
#[derive(Debug, Default)]
pub struct SettingsCache {
    snapshot: Mutex<Arc<Snapshot>>,
}

/// The integrations known at one moment, with their ids and versions as a statement binds them.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    entries: HashMap<Uuid, Versioned>,
    pub(crate) ids: Vec<Uuid>,
    pub(crate) versions: Vec<i32>,
}

/// The integrations known when a statement was sent: what it may leave out.
pub type Known = Arc<Snapshot>;

impl SettingsCache {
    /// What is known now (ids and shared settings): a statement leaves these out, and its rows
    /// are resolved against this snapshot, whatever happens to the cache meanwhile.
    pub fn known(&self) -> Known {
        self.lock().clone()
    }

    /// Keeps what a statement read, replacing older versions.
    fn keep(&self, read: Vec<(Uuid, Versioned)>) {
        // Most statements read nothing new: they leave the cache, and its lock, alone.
        if read.is_empty() {
            return;
        }
        let mut shared = self.lock();
        // Each row of an integration read carries it: one entry an integration, its latest.
        let mut newer: HashMap<Uuid, Versioned> = HashMap::new();
        for (id, versioned) in read {
            let kept = newer.get(&id).or_else(|| shared.entries.get(&id));
            if kept.is_none_or(|kept| kept.version < versioned.version) {
                newer.insert(id, versioned);
            }
        }
        if newer.is_empty() {
            return;
        }
        let mut entries = if shared.entries.len() + newer.len() > SETTINGS_CACHE_MAX {
            HashMap::with_capacity(newer.len().min(SETTINGS_CACHE_MAX))
        } else {
            shared.entries.clone()
        };
        // A statement reading more integrations than the bound keeps as many as fit.
        entries.extend(newer.into_iter().take(SETTINGS_CACHE_MAX));
        let (ids, versions) = entries.iter().map(|(id, v)| (*id, v.version)).unzip();
        *shared = Arc::new(Snapshot {
            entries,
            ids,
            versions,
        });
    }

    fn lock(&self) -> MutexGuard<'_, Arc<Snapshot>> {
        self.snapshot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Resolves the rows of one statement: each integration's name and settings as the row gave
/// them (then kept), or as known at the row's version.
#[derive(Debug)]
pub(crate) struct Resolver<'a> {
    cache: &'a SettingsCache,
    known: Known,
    read: Vec<(Uuid, Versioned)>,
    /// The integrations (and versions) whose stored settings did not parse, logged once each.
    refused: Vec<(Uuid, i32)>,
}

impl<'a> Resolver<'a> {
    pub(crate) fn new(cache: &'a SettingsCache, known: Known) -> Self {
        Resolver {
            cache,
            known,
            read: Vec::new(),
            refused: Vec::new(),
        }
    }

    /// The integration `id` at `version`: from the row when it carries the settings, else as
    /// read earlier in this statement or known. `None` only if the statement left out a
    /// version it was not given (a bug).
    pub(crate) fn resolve(
        &mut self,
        id: Uuid,
        version: i32,
        name: Option<String>,
        settings: Option<StoredSettings>,
    ) -> Option<Versioned> {
        // Settings are decoded leniently ([`StoredSettings`]), so a row whose stored settings no
        // longer parse fails alone, not the whole statement with every other integration's rows.
        if let (Some(name), Some(stored)) = (name, settings) {
            let settings = match stored {
                StoredSettings::Parsed(settings) => settings,
                StoredSettings::Unreadable { error, .. } => {
                    // Once a statement: each of its rows of the integration carries them.
                    if !self.refused.contains(&(id, version)) {
                        self.refused.push((id, version));
                        tracing::error!(integration = %id, version, error, "an integration's stored settings do not parse: its deliveries are not attempted, and each is dead-lettered as worker_lost once its leases have expired; mend its settings with a PATCH or PUT, then replay its dead letters");
                    }
                    return None;
                }
            };
            let versioned = Versioned {
                version,
                name: name.into(),
                settings: Arc::from(settings),
            };
            self.read.push((id, versioned.clone()));
            return Some(versioned);
        }
        // Known first (a lookup by key, the case of almost every row); then what this statement
        // read already, which only a row left without its settings needs.
        self.known
            .entries
            .get(&id)
            .filter(|v| v.version == version)
            .or_else(|| {
                self.read
                    .iter()
                    .rev()
                    .find(|(read, v)| *read == id && v.version == version)
                    .map(|(_, v)| v)
            })
            .cloned()
    }
}

impl Drop for Resolver<'_> {
    fn drop(&mut self) {
        self.cache.keep(std::mem::take(&mut self.read));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> StoredSettings {
        StoredSettings::Parsed(Box::new(
            serde_json::from_value(serde_json::json!({ "url": url })).expect("settings"),
        ))
    }

    #[test]
    fn settings_read_once_are_served_at_their_version_and_replaced_by_newer_ones() {
        let cache = SettingsCache::default();
        let id = Uuid::now_v7();
        {
            let mut resolver = Resolver::new(&cache, cache.known());
            // Not known and not read: nothing to serve.
            assert!(resolver.resolve(id, 1, None, None).is_none());
            let read = resolver
                .resolve(id, 1, Some("a".into()), Some(settings("https://a.test/")))
                .expect("read");
            assert_eq!(read.settings.url, "https://a.test/");
            // A second row of the same statement at the same version, left out.
            let again = resolver.resolve(id, 1, None, None).expect("known");
            assert!(Arc::ptr_eq(&again.settings, &read.settings));
        }
        let known = cache.known();
        assert_eq!(
            (known.ids.clone(), known.versions.clone()),
            (vec![id], vec![1])
        );
        {
            let mut resolver = Resolver::new(&cache, known);
            assert_eq!(
                &*resolver.resolve(id, 1, None, None).expect("known").name,
                "a"
            );
            // Another version is never served from what is known.
            assert!(resolver.resolve(id, 2, None, None).is_none());
            resolver.resolve(id, 2, Some("b".into()), Some(settings("https://b.test/")));
        }
        let kept = cache.known();
        assert_eq!(kept.versions, vec![2]);
        // An older version read late (a statement sent before the change) does not replace it.
        {
            let mut resolver = Resolver::new(&cache, SettingsCache::default().known());
            resolver.resolve(id, 1, Some("a".into()), Some(settings("https://a.test/")));
        }
        assert_eq!(cache.known().versions, vec![2]);
    }

    #[test]
    fn settings_that_do_not_parse_are_refused_noted_once_a_statement_and_never_kept() {
        let cache = SettingsCache::default();
        let id = Uuid::now_v7();
        let unreadable = || StoredSettings::Unreadable {
            stored: serde_json::json!({ "maxConcurrency": "ten" }),
            error: "invalid type".to_owned(),
        };
        for _ in 0..2 {
            let mut resolver = Resolver::new(&cache, cache.known());
            for _ in 0..3 {
                assert!(
                    resolver
                        .resolve(id, 1, Some("bad".into()), Some(unreadable()))
                        .is_none()
                );
            }
            assert_eq!(resolver.refused, vec![(id, 1)], "one note for its rows");
            assert!(
                resolver.resolve(id, 1, None, None).is_none(),
                "a row left without its settings is not served them either"
            );
        }
        assert!(
            cache.known().ids.is_empty(),
            "read again by every statement"
        );
    }

    #[test]
    fn a_full_cache_starts_again() {
        let cache = SettingsCache::default();
        {
            let mut resolver = Resolver::new(&cache, cache.known());
            for _ in 0..SETTINGS_CACHE_MAX {
                let id = Uuid::now_v7();
                resolver.resolve(id, 1, Some("x".into()), Some(settings("https://x.test/")));
            }
        }
        assert_eq!(cache.known().ids.len(), SETTINGS_CACHE_MAX);
        {
            let mut resolver = Resolver::new(&cache, cache.known());
            resolver.resolve(
                Uuid::now_v7(),
                1,
                Some("y".into()),
                Some(settings("https://y.test/")),
            );
        }
        assert_eq!(cache.known().ids.len(), 1);
    }

    #[test]
    fn the_rows_of_one_integration_count_once_against_the_bound() {
        let cache = SettingsCache::default();
        {
            let mut resolver = Resolver::new(&cache, cache.known());
            for _ in 0..SETTINGS_CACHE_MAX - 1 {
                let id = Uuid::now_v7();
                resolver.resolve(id, 1, Some("x".into()), Some(settings("https://x.test/")));
            }
        }
        let id = Uuid::now_v7();
        {
            // A statement with 100 deliveries to one new integration: each row carries it.
            let mut resolver = Resolver::new(&cache, cache.known());
            for _ in 0..100 {
                resolver.resolve(id, 1, Some("y".into()), Some(settings("https://y.test/")));
            }
        }
        let known = cache.known();
        assert_eq!(
            known.ids.len(),
            SETTINGS_CACHE_MAX,
            "one integration more fills the cache, and does not clear it"
        );
        assert!(known.ids.contains(&id));
    }

    #[test]
    fn a_statement_reading_more_than_the_bound_keeps_no_more_than_it() {
        let cache = SettingsCache::default();
        {
            let mut resolver = Resolver::new(&cache, cache.known());
            for _ in 0..SETTINGS_CACHE_MAX + 10 {
                let id = Uuid::now_v7();
                resolver.resolve(id, 1, Some("x".into()), Some(settings("https://x.test/")));
            }
        }
        assert_eq!(cache.known().ids.len(), SETTINGS_CACHE_MAX);
    }
}
