//! Signing keys: each integration's Standard Webhooks keys, sealed with the master keyring, of
//! two kinds: `v1` (HMAC) and `v1a` (Ed25519). Of each kind one is current; a rotation makes a
//! new current key and leaves the old one signing until its grace period ends. An integration
//! made before keys existed, or that starts using a kind, gets a key of it at its first use.

use chrono::{DateTime, Utc};
use ricochet_domain::signature::{KeyKind, Signer};
use ricochet_domain::{IntegrationId, TenantId};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::crypto::{Sealed, SharedKeyring};
use crate::error::{StoreError, StoreResult};
use crate::secrets::Held;

/// Most replaced keys of one kind still in their grace period at once: each adds a signature
/// to every request.
pub const MAX_KEYS_IN_GRACE: i64 = 4;

#[derive(Debug, sqlx::FromRow)]
struct Row {
    id: Uuid,
    scheme: String,
    key_id: String,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
    created_at: DateTime<Utc>,
    retires_at: Option<DateTime<Utc>>,
}

/// A key with when it was made.
#[derive(Debug, Clone)]
pub struct Key {
    /// The key.
    pub key: Signer,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops signing (`None` for the current key).
    pub retires_at: Option<DateTime<Utc>>,
}

/// The associated data a key is sealed with; it names the kind (`v1` keys, made before kinds
/// existed, keep their original form), so a row's kind cannot be changed without the seal
/// failing.
fn aad(tenant: TenantId, integration: IntegrationId, id: Uuid, kind: KeyKind) -> Vec<u8> {
    match kind {
        KeyKind::V1 => format!("signing/{tenant}/{}/{id}", integration.0),
        KeyKind::V1a => format!("signing-v1a/{tenant}/{}/{id}", integration.0),
    }
    .into_bytes()
}

fn open(
    keyring: &SharedKeyring,
    tenant: TenantId,
    integration: IntegrationId,
    row: Row,
) -> StoreResult<Key> {
    let corrupt = || StoreError::Crypto(crate::crypto::CryptoError::Corrupt);
    let kind = KeyKind::parse(&row.scheme).ok_or_else(corrupt)?;
    let plain = keyring
        .open(
            &aad(tenant, integration, row.id, kind),
            &Sealed {
                key_id: row.key_id,
                nonce: row.nonce,
                ciphertext: row.ciphertext,
            },
        )
        .map_err(StoreError::Crypto)?;
    let key = Signer::from_bytes(kind, plain).ok_or_else(corrupt)?;
    Ok(Key {
        key,
        created_at: row.created_at,
        retires_at: row.retires_at,
    })
}

async fn insert(
    conn: &mut PgConnection,
    keyring: &SharedKeyring,
    tenant: TenantId,
    integration: IntegrationId,
    key: &Signer,
) -> StoreResult<u64> {
    let id = Uuid::now_v7();
    let sealed = keyring
        .seal(
            &aad(tenant, integration, id, key.kind()),
            key.secret_bytes(),
        )
        .map_err(StoreError::Crypto)?;
    let done = sqlx::query(
        "INSERT INTO signing_keys (id, tenant_id, integration_id, key_id, nonce, ciphertext, scheme)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (integration_id, scheme) WHERE retires_at IS NULL DO NOTHING",
    )
    .bind(id)
    .bind(tenant.0)
    .bind(integration.0)
    .bind(&sealed.key_id)
    .bind(&sealed.nonce)
    .bind(&sealed.ciphertext)
    .bind(key.kind().as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Gives the integration a current key of each of `kinds` it has none of (a new integration,
/// one made before keys existed, or one that starts signing with a kind).
pub async fn ensure_keys(
    conn: &mut PgConnection,
    keyring: &SharedKeyring,
    tenant: TenantId,
    integration: IntegrationId,
    kinds: &[KeyKind],
) -> StoreResult<()> {
    for kind in kinds {
        insert(conn, keyring, tenant, integration, &Signer::generate(*kind)).await?;
    }
    Ok(())
}

/// The keys of `kinds` that sign the integration's requests now: the current ones first
/// (`v1` before `v1a`), then the replaced ones still in their grace period, newest first.
/// Makes a current key of each kind that has none.
pub async fn signing_keys(
    pool: &PgPool,
    keyring: &SharedKeyring,
    tenant: TenantId,
    integration: IntegrationId,
    kinds: &[KeyKind],
) -> StoreResult<Vec<Key>> {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let select = || {
        sqlx::query_as::<_, Row>(
            "SELECT id, scheme, key_id, nonce, ciphertext, created_at, retires_at FROM signing_keys
             WHERE tenant_id = $1 AND integration_id = $2 AND scheme = ANY($3)
               AND (retires_at IS NULL OR retires_at > now())
             ORDER BY retires_at IS NOT NULL, scheme, created_at DESC",
        )
        .bind(tenant.0)
        .bind(integration.0)
        .bind(&names)
    };
    let mut rows = select().fetch_all(pool).await?;
    let lacking: Vec<KeyKind> = kinds
        .iter()
        .copied()
        .filter(|kind| {
            !rows
                .iter()
                .any(|r| r.retires_at.is_none() && r.scheme == kind.as_str())
        })
        .collect();
    if !lacking.is_empty() {
        let mut conn = pool.acquire().await?;
        ensure_keys(&mut conn, keyring, tenant, integration, &lacking).await?;
        rows = select().fetch_all(&mut *conn).await?;
    }
    rows.into_iter()
        .map(|row| open(keyring, tenant, integration, row))
        .collect()
}

/// A sealed key with what its seal is bound to, for re-sealing.
#[derive(Debug, sqlx::FromRow)]
struct SealedKey {
    id: Uuid,
    tenant_id: Uuid,
    integration_id: Uuid,
    scheme: String,
    key_id: String,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
}

/// Re-seals every signing key not sealed with the keyring's current key, in batches, while the
/// server runs (part of `ricochet secrets rekey`: after it the old master key can be dropped);
/// how many were re-sealed, treating rows other transactions hold as `held` says (see
/// [`crate::secrets::rekey_all`]). The keys themselves do not change, so receivers notice
/// nothing.
pub async fn rekey(pool: &PgPool, keyring: &SharedKeyring, held: Held) -> StoreResult<u64> {
    let current = keyring.get().current_id().to_owned();
    let mut total = 0;
    loop {
        let mut tx = pool.begin().await?;
        macro_rules! batch_sql {
            ($lock:literal) => {
                concat!(
                    "SELECT id, tenant_id, integration_id, scheme, key_id, nonce, ciphertext FROM signing_keys
                     WHERE key_id <> $1 ORDER BY id LIMIT 100 ",
                    $lock
                )
            };
        }
        let rows: Vec<SealedKey> = sqlx::query_as(held.pick(
            batch_sql!("FOR UPDATE SKIP LOCKED"),
            batch_sql!("FOR UPDATE"),
        ))
        .bind(&current)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(total);
        }
        total += rows.len() as u64;
        for row in rows {
            let corrupt = || StoreError::Crypto(crate::crypto::CryptoError::Corrupt);
            let kind = KeyKind::parse(&row.scheme).ok_or_else(corrupt)?;
            let aad = aad(
                TenantId(row.tenant_id),
                IntegrationId(row.integration_id),
                row.id,
                kind,
            );
            let plain = keyring
                .open(
                    &aad,
                    &Sealed {
                        key_id: row.key_id,
                        nonce: row.nonce,
                        ciphertext: row.ciphertext,
                    },
                )
                .map_err(StoreError::Crypto)?;
            let sealed = keyring.seal(&aad, &plain).map_err(StoreError::Crypto)?;
            sqlx::query(
                "UPDATE signing_keys SET key_id = $2, nonce = $3, ciphertext = $4 WHERE id = $1",
            )
            .bind(row.id)
            .bind(&sealed.key_id)
            .bind(&sealed.nonce)
            .bind(&sealed.ciphertext)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    }
}

/// What a rotation did.
#[derive(Debug)]
pub enum Rotated {
    /// The new keys are current; the old ones sign until `old_retires_at`.
    Done {
        /// The new current keys, one per kind rotated.
        keys: Vec<Key>,
        /// When the replaced keys stop signing.
        old_retires_at: DateTime<Utc>,
    },
    /// Already [`MAX_KEYS_IN_GRACE`] replaced keys of this kind are in their grace period.
    TooManyInGrace(KeyKind),
}

/// Makes each of `keys` (one per kind) the integration's current key of its kind, in one
/// transaction; the replaced ones keep signing for `grace`. Keys whose grace period ended are
/// removed.
pub async fn rotate(
    pool: &PgPool,
    keyring: &SharedKeyring,
    tenant: TenantId,
    integration: IntegrationId,
    keys: Vec<Signer>,
    grace: chrono::Duration,
) -> StoreResult<Rotated> {
    let mut tx = pool.begin().await?;
    // Serialises rotations of one integration.
    sqlx::query("SELECT 1 FROM integrations WHERE tenant_id = $1 AND id = $2 FOR UPDATE")
        .bind(tenant.0)
        .bind(integration.0)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "DELETE FROM signing_keys WHERE tenant_id = $1 AND integration_id = $2 AND retires_at <= now()",
    )
    .bind(tenant.0)
    .bind(integration.0)
    .execute(&mut *tx)
    .await?;
    let mut rotated = Vec::with_capacity(keys.len());
    let mut old_retires_at = None;
    for key in keys {
        let kind = key.kind().as_str();
        let in_grace: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM signing_keys
             WHERE tenant_id = $1 AND integration_id = $2 AND scheme = $3 AND retires_at IS NOT NULL",
        )
        .bind(tenant.0)
        .bind(integration.0)
        .bind(kind)
        .fetch_one(&mut *tx)
        .await?;
        if in_grace >= MAX_KEYS_IN_GRACE {
            return Ok(Rotated::TooManyInGrace(key.kind()));
        }
        let retires_at: Option<DateTime<Utc>> = sqlx::query_scalar(
            "UPDATE signing_keys SET retires_at = now() + make_interval(secs => $4::double precision)
             WHERE tenant_id = $1 AND integration_id = $2 AND scheme = $3 AND retires_at IS NULL
             RETURNING retires_at",
        )
        .bind(tenant.0)
        .bind(integration.0)
        .bind(kind)
        .bind(grace.as_seconds_f64())
        .fetch_optional(&mut *tx)
        .await?;
        old_retires_at = old_retires_at.or(retires_at);
        insert(&mut tx, keyring, tenant, integration, &key).await?;
        let created_at: DateTime<Utc> = sqlx::query_scalar(
            "SELECT created_at FROM signing_keys
             WHERE tenant_id = $1 AND integration_id = $2 AND scheme = $3 AND retires_at IS NULL",
        )
        .bind(tenant.0)
        .bind(integration.0)
        .bind(kind)
        .fetch_one(&mut *tx)
        .await?;
        rotated.push(Key {
            key,
            created_at,
            retires_at: None,
        });
    }
    tx.commit().await?;
    Ok(Rotated::Done {
        keys: rotated,
        old_retires_at: old_retires_at.unwrap_or_else(Utc::now),
    })
}
