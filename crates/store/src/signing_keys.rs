//! Signing keys: each integration's Standard Webhooks keys, sealed with the master keyring. One
//! is current; a rotation makes a new current key and leaves the old one signing until its
//! grace period ends. An integration made before keys existed gets one at its first use.

use chrono::{DateTime, Utc};
use ricochet_domain::signature::SigningKey;
use ricochet_domain::{IntegrationId, TenantId};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::crypto::{Sealed, SharedKeyring};
use crate::error::{StoreError, StoreResult};

/// Most replaced keys still in their grace period at once: each adds a signature to every
/// request.
pub const MAX_KEYS_IN_GRACE: i64 = 4;

#[derive(Debug, sqlx::FromRow)]
struct Row {
    id: Uuid,
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
    pub key: SigningKey,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops signing (`None` for the current key).
    pub retires_at: Option<DateTime<Utc>>,
}

fn aad(tenant: TenantId, integration: IntegrationId, id: Uuid) -> Vec<u8> {
    format!("signing/{tenant}/{}/{id}", integration.0).into_bytes()
}

fn open(
    keyring: &SharedKeyring,
    tenant: TenantId,
    integration: IntegrationId,
    row: Row,
) -> StoreResult<Key> {
    let plain = keyring
        .open(
            &aad(tenant, integration, row.id),
            &Sealed {
                key_id: row.key_id,
                nonce: row.nonce,
                ciphertext: row.ciphertext,
            },
        )
        .map_err(StoreError::Crypto)?;
    let key = SigningKey::from_bytes(plain)
        .map_err(|_| StoreError::Crypto(crate::crypto::CryptoError::Corrupt))?;
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
    key: &SigningKey,
) -> StoreResult<u64> {
    let id = Uuid::now_v7();
    let sealed = keyring
        .seal(&aad(tenant, integration, id), key.as_bytes())
        .map_err(StoreError::Crypto)?;
    let done = sqlx::query(
        "INSERT INTO signing_keys (id, tenant_id, integration_id, key_id, nonce, ciphertext)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (integration_id) WHERE retires_at IS NULL DO NOTHING",
    )
    .bind(id)
    .bind(tenant.0)
    .bind(integration.0)
    .bind(&sealed.key_id)
    .bind(&sealed.nonce)
    .bind(&sealed.ciphertext)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Gives the integration a current key if it has none (a new integration, or one made before
/// keys existed).
pub async fn ensure_key(
    conn: &mut PgConnection,
    keyring: &SharedKeyring,
    tenant: TenantId,
    integration: IntegrationId,
) -> StoreResult<()> {
    insert(conn, keyring, tenant, integration, &SigningKey::generate()).await?;
    Ok(())
}

/// The keys that sign the integration's requests now: the current one first, then the
/// replaced ones still in their grace period, newest first. Makes a current key if there is
/// none.
pub async fn signing_keys(
    pool: &PgPool,
    keyring: &SharedKeyring,
    tenant: TenantId,
    integration: IntegrationId,
) -> StoreResult<Vec<Key>> {
    let select = || {
        sqlx::query_as::<_, Row>(
            "SELECT id, key_id, nonce, ciphertext, created_at, retires_at FROM signing_keys
             WHERE tenant_id = $1 AND integration_id = $2 AND (retires_at IS NULL OR retires_at > now())
             ORDER BY retires_at IS NOT NULL, created_at DESC",
        )
        .bind(tenant.0)
        .bind(integration.0)
    };
    let mut rows = select().fetch_all(pool).await?;
    if rows.is_empty() {
        let mut conn = pool.acquire().await?;
        ensure_key(&mut conn, keyring, tenant, integration).await?;
        rows = select().fetch_all(&mut *conn).await?;
    }
    rows.into_iter()
        .map(|row| open(keyring, tenant, integration, row))
        .collect()
}

/// What a rotation did.
#[derive(Debug)]
pub enum Rotated {
    /// The new key is current; the old one signs until `old_retires_at`.
    Done {
        /// The new current key.
        key: Key,
        /// When the replaced key stops signing.
        old_retires_at: DateTime<Utc>,
    },
    /// Already [`MAX_KEYS_IN_GRACE`] replaced keys are in their grace period.
    TooManyInGrace,
}

/// Makes `key` the integration's current key; the replaced one keeps signing for `grace`.
/// Keys whose grace period ended are removed.
pub async fn rotate(
    pool: &PgPool,
    keyring: &SharedKeyring,
    tenant: TenantId,
    integration: IntegrationId,
    key: SigningKey,
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
    let in_grace: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM signing_keys WHERE tenant_id = $1 AND integration_id = $2 AND retires_at IS NOT NULL",
    )
    .bind(tenant.0)
    .bind(integration.0)
    .fetch_one(&mut *tx)
    .await?;
    if in_grace >= MAX_KEYS_IN_GRACE {
        return Ok(Rotated::TooManyInGrace);
    }
    let old_retires_at: Option<DateTime<Utc>> = sqlx::query_scalar(
        "UPDATE signing_keys SET retires_at = now() + make_interval(secs => $3::double precision)
         WHERE tenant_id = $1 AND integration_id = $2 AND retires_at IS NULL RETURNING retires_at",
    )
    .bind(tenant.0)
    .bind(integration.0)
    .bind(grace.as_seconds_f64())
    .fetch_optional(&mut *tx)
    .await?;
    insert(&mut tx, keyring, tenant, integration, &key).await?;
    let created_at: DateTime<Utc> = sqlx::query_scalar(
        "SELECT created_at FROM signing_keys WHERE tenant_id = $1 AND integration_id = $2 AND retires_at IS NULL",
    )
    .bind(tenant.0)
    .bind(integration.0)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Rotated::Done {
        key: Key {
            key,
            created_at,
            retires_at: None,
        },
        old_retires_at: old_retires_at.unwrap_or_else(Utc::now),
    })
}
