//! Integrations: a tenant's target endpoints. Deleting one only marks it deleted, so that the
//! log of its deliveries stays readable.

use chrono::{DateTime, Utc};
use ricochet_domain::integration::{IntegrationIn, IntegrationSettings};
use ricochet_domain::{IntegrationId, TenantId};
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::Page;
use crate::error::StoreResult;

/// A stored, live integration.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Integration {
    /// Its id.
    pub id: Uuid,
    /// The tenant owning it.
    pub tenant_id: Uuid,
    /// Unique name within the tenant.
    pub name: String,
    /// Integration type (`webhook`).
    pub kind: String,
    /// Whether it gets new deliveries.
    pub enabled: bool,
    /// Complete settings, defaults filled in; or, when what is stored no longer parses, that.
    pub settings: StoredSettings,
    /// Optimistic-concurrency version, starting at 1.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Integration {
    /// The integration as a client would send it, as JSON (for merge patches): its settings as
    /// stored, even when they no longer parse, so a patch can mend them.
    pub fn to_input_document(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "type": self.kind,
            "enabled": self.enabled,
            "settings": self.settings.to_value(),
        })
    }
}

/// An integration's settings as read from the database. Settings that no longer parse (edited
/// in the database, or written by a newer version before a rollback) fail only the uses that
/// need them, never the read of the integration or of its tenant's list.
#[derive(Debug, Clone)]
pub enum StoredSettings {
    /// The settings (boxed: they are far larger than the other variant).
    Parsed(Box<IntegrationSettings>),
    /// What is stored, with why it does not parse.
    Unreadable {
        /// The stored JSON.
        stored: serde_json::Value,
        /// The parse error.
        error: String,
    },
}

impl StoredSettings {
    /// The settings, or why they do not parse.
    pub fn parsed(&self) -> Result<&IntegrationSettings, &str> {
        match self {
            StoredSettings::Parsed(settings) => Ok(settings),
            StoredSettings::Unreadable { error, .. } => Err(error),
        }
    }

    /// As JSON: the settings, or what is stored.
    pub fn to_value(&self) -> serde_json::Value {
        match self {
            StoredSettings::Parsed(settings) => {
                serde_json::to_value(settings).unwrap_or(serde_json::Value::Null)
            }
            StoredSettings::Unreadable { stored, .. } => stored.clone(),
        }
    }
}

impl sqlx::Type<sqlx::Postgres> for StoredSettings {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <Json<serde_json::Value> as sqlx::Type<sqlx::Postgres>>::type_info()
    }

    fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
        <Json<serde_json::Value> as sqlx::Type<sqlx::Postgres>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Postgres> for StoredSettings {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let Json(stored) =
            <Json<serde_json::Value> as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
        Ok(
            match serde_json::from_value::<IntegrationSettings>(stored.clone()) {
                Ok(settings) => StoredSettings::Parsed(Box::new(settings)),
                Err(e) => StoredSettings::Unreadable {
                    stored,
                    error: e.to_string(),
                },
            },
        )
    }
}

macro_rules! columns {
    () => {
        "id, tenant_id, name, kind, enabled, settings, version, created_at, updated_at"
    };
}

/// Outcome of a guarded write.
#[derive(Debug)]
pub enum Guarded<T> {
    /// The write happened.
    Done(T),
    /// No live integration with that id in the tenant.
    NotFound,
    /// It exists, but its version is not the expected one.
    VersionMismatch,
}

/// Creates an integration; `Conflict("integrations_tenant_name_key")` when the name is taken.
pub async fn create_integration(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: IntegrationId,
    input: &IntegrationIn,
) -> StoreResult<Integration> {
    let sql = concat!(
        "INSERT INTO integrations (id, tenant_id, name, kind, enabled, settings)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
        columns!(),
        ""
    );
    let row = sqlx::query_as(sql)
        .bind(id.0)
        .bind(tenant.0)
        .bind(&input.name)
        .bind(&input.kind)
        .bind(input.enabled)
        .bind(Json(&input.settings))
        .fetch_one(db)
        .await?;
    Ok(row)
}

/// A live integration of `tenant`.
pub async fn get_integration(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: IntegrationId,
) -> StoreResult<Option<Integration>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM integrations WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL"
    );
    Ok(sqlx::query_as(sql)
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(db)
        .await?)
}

/// A live integration of `tenant`, locked for update until the transaction ends.
pub async fn lock_integration(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: IntegrationId,
) -> StoreResult<Option<Integration>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM integrations WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE"
    );
    Ok(sqlx::query_as(sql)
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(db)
        .await?)
}

/// A tenant's live integrations in creation order, after `after`.
pub async fn list_integrations(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    after: Option<Uuid>,
    limit: i64,
) -> StoreResult<Page<Integration>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM integrations
         WHERE tenant_id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR id > $2)
         ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query_as(sql)
        .bind(tenant.0)
        .bind(after)
        .bind(limit + 1)
        .fetch_all(db)
        .await?;
    Ok(Page::from_rows(rows, limit, |i: &Integration| i.id))
}

/// Replaces an integration's fields, if its version is `expected` (any version when `None`).
pub async fn update_integration(
    db: &mut PgConnection,
    tenant: TenantId,
    id: IntegrationId,
    expected: Option<i32>,
    input: &IntegrationIn,
) -> StoreResult<Guarded<Integration>> {
    let sql = concat!("UPDATE integrations
         SET name = $4, kind = $5, enabled = $6, settings = $7, version = version + 1, updated_at = now()
         WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL AND ($3::int IS NULL OR version = $3)
         RETURNING ", columns!(), "");
    let row: Option<Integration> = sqlx::query_as(sql)
        .bind(tenant.0)
        .bind(id.0)
        .bind(expected)
        .bind(&input.name)
        .bind(&input.kind)
        .bind(input.enabled)
        .bind(Json(&input.settings))
        .fetch_optional(&mut *db)
        .await?;
    match row {
        Some(row) => Ok(Guarded::Done(row)),
        None => miss(db, tenant, id).await,
    }
}

/// Disables a live, enabled integration on Ricochet's own decision (its receiver is gone, or
/// it has failed too long), as a new version; whether it was enabled before.
pub async fn disable(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: IntegrationId,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE integrations SET enabled = false, version = version + 1, updated_at = now()
         WHERE tenant_id = $1 AND id = $2 AND enabled AND deleted_at IS NULL",
    )
    .bind(tenant.0)
    .bind(id.0)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks an integration deleted, if its version is `expected` (any version when `None`).
pub async fn delete_integration(
    db: &mut PgConnection,
    tenant: TenantId,
    id: IntegrationId,
    expected: Option<i32>,
) -> StoreResult<Guarded<()>> {
    let done = sqlx::query(
        "UPDATE integrations SET deleted_at = now(), updated_at = now(), version = version + 1
         WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL AND ($3::int IS NULL OR version = $3)",
    )
    .bind(tenant.0)
    .bind(id.0)
    .bind(expected)
    .execute(&mut *db)
    .await?;
    if done.rows_affected() == 1 {
        Ok(Guarded::Done(()))
    } else {
        miss(db, tenant, id).await
    }
}

/// Tells apart a missing integration from a version mismatch after a guarded write missed.
async fn miss<T>(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: IntegrationId,
) -> StoreResult<Guarded<T>> {
    Ok(match get_integration(db, tenant, id).await? {
        Some(_) => Guarded::VersionMismatch,
        None => Guarded::NotFound,
    })
}

/// Whether `tenant` has (or had, before deleting it) this integration: its log stays readable.
pub async fn integration_ever_existed(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: IntegrationId,
) -> StoreResult<bool> {
    let found = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM integrations WHERE tenant_id = $1 AND id = $2)",
    )
    .bind(tenant.0)
    .bind(id.0)
    .fetch_one(db)
    .await?;
    Ok(found)
}

/// The tenant's live integrations whose settings mention `secret:<name>` (candidates: the
/// caller confirms by parsing their templates).
pub async fn mentioning_secret(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    name: &str,
) -> StoreResult<Vec<Integration>> {
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM integrations WHERE tenant_id = $1 AND deleted_at IS NULL AND strpos(settings::text, 'secret:' || $2) > 0 ORDER BY id"
    ))
    .bind(tenant.0)
    .bind(name)
    .fetch_all(db)
    .await?;
    Ok(rows)
}
