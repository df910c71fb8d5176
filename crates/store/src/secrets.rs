//! Secrets: a tenant's named values, sealed with the master keyring. No function here returns
//! a value except [`open_values`], which the worker calls at send time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ricochet_domain::TenantId;
use sqlx::{PgConnection, PgExecutor, PgPool};
use uuid::Uuid;

use crate::Page;
use crate::crypto::{Sealed, SharedKeyring};
use crate::error::{StoreError, StoreResult};

/// A secret's metadata.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SecretMeta {
    /// Its id.
    pub id: Uuid,
    /// Its name, unique in the tenant.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Incremented on every change of value.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

macro_rules! columns {
    () => {
        "id, name, description, version, created_at, updated_at"
    };
}

/// A sealed value with what identifies its row.
#[derive(Debug, sqlx::FromRow)]
struct SealedRow {
    id: Uuid,
    tenant_id: Uuid,
    name: String,
    key_id: String,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
}

impl SealedRow {
    fn open(self, keyring: &SharedKeyring) -> StoreResult<(Self, Vec<u8>)> {
        let aad = aad(TenantId(self.tenant_id), &self.name);
        let sealed = Sealed {
            key_id: self.key_id.clone(),
            nonce: self.nonce.clone(),
            ciphertext: self.ciphertext.clone(),
        };
        let plain = match keyring.open(&aad, &sealed) {
            Ok(plain) => plain,
            Err(source) => {
                return Err(StoreError::SecretUnreadable {
                    name: self.name,
                    source,
                });
            }
        };
        Ok((self, plain))
    }
}

/// The associated data binding a ciphertext to its row.
pub fn aad(tenant: TenantId, name: &str) -> Vec<u8> {
    format!("{tenant}/{name}").into_bytes()
}

/// Creates a secret; `Conflict("secrets_tenant_name_key")` when the name is taken.
pub async fn create_secret(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    name: &str,
    description: &str,
    sealed: &Sealed,
) -> StoreResult<SecretMeta> {
    let row = sqlx::query_as(concat!(
        "INSERT INTO secrets (id, tenant_id, name, description, key_id, nonce, ciphertext)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
        columns!()
    ))
    .bind(Uuid::now_v7())
    .bind(tenant.0)
    .bind(name)
    .bind(description)
    .bind(&sealed.key_id)
    .bind(&sealed.nonce)
    .bind(&sealed.ciphertext)
    .fetch_one(db)
    .await?;
    Ok(row)
}

/// A secret's metadata.
pub async fn get_secret(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    name: &str,
) -> StoreResult<Option<SecretMeta>> {
    let row = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM secrets WHERE tenant_id = $1 AND name = $2"
    ))
    .bind(tenant.0)
    .bind(name)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

/// A tenant's secrets in creation order.
pub async fn list_secrets(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    after: Option<Uuid>,
    limit: i64,
) -> StoreResult<Page<SecretMeta>> {
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM secrets WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3"
    ))
    .bind(tenant.0)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(db)
    .await?;
    Ok(Page::from_rows(rows, limit, |s: &SecretMeta| s.id))
}

/// Replaces a secret's value (and description, when given), if its version is `expected`
/// (any version when `None`). `Ok(None)` when there is no such secret or the version differs;
/// the caller tells them apart.
pub async fn update_secret(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    name: &str,
    expected: Option<i32>,
    description: Option<&str>,
    sealed: &Sealed,
) -> StoreResult<Option<SecretMeta>> {
    let row = sqlx::query_as(concat!(
        "UPDATE secrets SET key_id = $5, nonce = $6, ciphertext = $7, description = COALESCE($4, description),
                version = version + 1, updated_at = now()
         WHERE tenant_id = $1 AND name = $2 AND ($3::int IS NULL OR version = $3) RETURNING ",
        columns!()
    ))
    .bind(tenant.0)
    .bind(name)
    .bind(expected)
    .bind(description)
    .bind(&sealed.key_id)
    .bind(&sealed.nonce)
    .bind(&sealed.ciphertext)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

/// Deletes a secret. Whether it existed.
pub async fn delete_secret(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    name: &str,
) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM secrets WHERE tenant_id = $1 AND name = $2")
        .bind(tenant.0)
        .bind(name)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Which of `names` exist in the tenant.
pub async fn existing_names(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    names: &[String],
) -> StoreResult<Vec<String>> {
    let rows =
        sqlx::query_scalar("SELECT name FROM secrets WHERE tenant_id = $1 AND name = ANY($2)")
            .bind(tenant.0)
            .bind(names)
            .fetch_all(db)
            .await?;
    Ok(rows)
}

/// The current values of `names` (those that exist), opened with `keyring`. Read at every
/// attempt, so a rotated value is used by the very next one.
pub async fn open_values(
    db: impl PgExecutor<'_>,
    keyring: &SharedKeyring,
    tenant: TenantId,
    names: &[String],
) -> StoreResult<HashMap<String, String>> {
    let rows: Vec<SealedRow> = sqlx::query_as(
        "SELECT id, tenant_id, name, key_id, nonce, ciphertext FROM secrets WHERE tenant_id = $1 AND name = ANY($2)",
    )
    .bind(tenant.0)
    .bind(names)
    .fetch_all(db)
    .await?;
    let mut values = HashMap::new();
    for row in rows {
        let (row, plain) = row.open(keyring)?;
        values.insert(row.name, String::from_utf8_lossy(&plain).into_owned());
    }
    Ok(values)
}

/// What a rekey pass does with a row another transaction holds (locks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Skips it: the pass goes on with the others, and never waits.
    Skip,
    /// Waits for it: the holder's commit, then the row as it committed.
    Wait,
}

impl Held {
    /// Of a pass's batch statement written both ways, the one that treats held rows so.
    pub(crate) fn pick(self, skip_locked: &'static str, wait: &'static str) -> &'static str {
        match self {
            Held::Skip => skip_locked,
            Held::Wait => wait,
        }
    }
}

/// Re-seals every secret value and signing key not sealed with the keyring's current key,
/// while servers run (`ricochet secrets rekey`); how many of each. A first pass skips the rows
/// other transactions hold. A server may have sealed a value with the old key just before the
/// keyring's file changed and commit it after that pass, so a second pass follows after
/// `settle` (longer than such a write takes) and waits for held rows: after it, no value is
/// left under an old key unless a write took longer than `settle` to commit.
pub async fn rekey_all(
    pool: &PgPool,
    keyring: &SharedKeyring,
    settle: std::time::Duration,
) -> StoreResult<(u64, u64)> {
    let mut secrets = rekey(pool, keyring, Held::Skip).await?;
    let mut signing = crate::signing_keys::rekey(pool, keyring, Held::Skip).await?;
    tokio::time::sleep(settle).await;
    secrets += rekey(pool, keyring, Held::Wait).await?;
    signing += crate::signing_keys::rekey(pool, keyring, Held::Wait).await?;
    Ok((secrets, signing))
}

/// Re-seals every value not sealed with the keyring's current key, in batches, while the
/// server runs, treating rows other transactions hold as `held` says; how many were re-sealed.
pub async fn rekey(pool: &PgPool, keyring: &SharedKeyring, held: Held) -> StoreResult<u64> {
    let current = keyring.get().current_id().to_owned();
    let mut total = 0;
    loop {
        let mut tx = pool.begin().await?;
        let batch = rekey_batch(&mut tx, keyring, &current, held).await?;
        tx.commit().await?;
        if batch == 0 {
            return Ok(total);
        }
        total += batch;
    }
}

async fn rekey_batch(
    conn: &mut PgConnection,
    keyring: &SharedKeyring,
    current: &str,
    held: Held,
) -> StoreResult<u64> {
    macro_rules! batch_sql {
        ($lock:literal) => {
            concat!(
                "SELECT id, tenant_id, name, key_id, nonce, ciphertext FROM secrets WHERE key_id <> $1
                 ORDER BY id LIMIT 100 ",
                $lock
            )
        };
    }
    let rows: Vec<SealedRow> = sqlx::query_as(held.pick(
        batch_sql!("FOR UPDATE SKIP LOCKED"),
        batch_sql!("FOR UPDATE"),
    ))
    .bind(current)
    .fetch_all(&mut *conn)
    .await?;
    let count = rows.len() as u64;
    for row in rows {
        let (row, plain) = row.open(keyring)?;
        let sealed = keyring.seal(&aad(TenantId(row.tenant_id), &row.name), &plain)?;
        sqlx::query("UPDATE secrets SET key_id = $2, nonce = $3, ciphertext = $4 WHERE id = $1")
            .bind(row.id)
            .bind(&sealed.key_id)
            .bind(&sealed.nonce)
            .bind(&sealed.ciphertext)
            .execute(&mut *conn)
            .await?;
    }
    Ok(count)
}
