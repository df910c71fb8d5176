//! The keys that sign each integration's attempts, cached for a few seconds so an attempt
//! costs no database round trip for them. An entry never outlives the grace period of a key
//! it holds, so a retired key stops signing on time; a rotation reaches attempts within
//! [`KEYS_TTL`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use ricochet_domain::signature::{SignatureScheme, Signer};
use ricochet_domain::{IntegrationId, TenantId};
use ricochet_store::StoreError;
use ricochet_store::crypto::SharedKeyring;
use ricochet_store::signing_keys;
use sqlx::PgPool;
use uuid::Uuid;

/// How long keys read from the database are used before they are read again.
pub(crate) const KEYS_TTL: Duration = Duration::from_secs(5);
/// Entries beyond which expired ones are dropped.
const PRUNE_AT: usize = 10_000;

type Entry = (Instant, Arc<Vec<Signer>>);

/// Signing keys by integration.
#[derive(Debug, Default)]
pub(crate) struct SigningCache {
    entries: Mutex<HashMap<(Uuid, SignatureScheme), Entry>>,
}

impl SigningCache {
    /// The keys that sign the integration's attempts now under `scheme`, current keys first.
    pub(crate) async fn keys(
        &self,
        pool: &PgPool,
        keyring: &SharedKeyring,
        tenant: TenantId,
        integration: IntegrationId,
        scheme: SignatureScheme,
    ) -> Result<Arc<Vec<Signer>>, StoreError> {
        let now = Instant::now();
        let cache_key = (integration.0, scheme);
        if let Some((until, keys)) = self.lock().get(&cache_key)
            && *until > now
        {
            return Ok(keys.clone());
        }
        // Boxed: the query's future is large, and only a miss needs it (see `worker::deliver`).
        let keys = Box::pin(signing_keys::signing_keys(
            pool,
            keyring,
            tenant,
            integration,
            scheme.kinds(),
        ))
        .await?;
        let first_retirement = keys
            .iter()
            .filter_map(|k| k.retires_at)
            .min()
            .map(|at| (at - Utc::now()).to_std().unwrap_or(Duration::ZERO));
        let until = now + first_retirement.map_or(KEYS_TTL, |left| left.min(KEYS_TTL));
        let keys = Arc::new(keys.into_iter().map(|k| k.key).collect::<Vec<_>>());
        let mut entries = self.lock();
        if entries.len() >= PRUNE_AT {
            entries.retain(|_, (until, _)| *until > now);
        }
        entries.insert(cache_key, (until, keys.clone()));
        Ok(keys)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Uuid, SignatureScheme), Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
