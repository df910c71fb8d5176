//! Tenants: organisations, managed by the platform admin.

use chrono::{DateTime, Utc};
use ricochet_domain::TenantId;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::Page;
use crate::error::StoreResult;

/// A stored tenant.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Tenant {
    /// Its id.
    pub id: Uuid,
    /// Its unique name.
    pub name: String,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// Creates a tenant; `Conflict("tenants_name_key")` when the name is taken.
pub async fn create_tenant(
    db: impl PgExecutor<'_>,
    id: TenantId,
    name: &str,
) -> StoreResult<Tenant> {
    let tenant = sqlx::query_as(
        "INSERT INTO tenants (id, name) VALUES ($1, $2)
         RETURNING id, name, version, created_at, updated_at",
    )
    .bind(id.0)
    .bind(name)
    .fetch_one(db)
    .await?;
    Ok(tenant)
}

/// One tenant, if it exists.
pub async fn get_tenant(db: impl PgExecutor<'_>, id: TenantId) -> StoreResult<Option<Tenant>> {
    let tenant = sqlx::query_as(
        "SELECT id, name, version, created_at, updated_at FROM tenants WHERE id = $1",
    )
    .bind(id.0)
    .fetch_optional(db)
    .await?;
    Ok(tenant)
}

/// Tenants in creation order, after `after`.
pub async fn list_tenants(
    db: impl PgExecutor<'_>,
    after: Option<Uuid>,
    limit: i64,
) -> StoreResult<Page<Tenant>> {
    let rows = sqlx::query_as(
        "SELECT id, name, version, created_at, updated_at FROM tenants
         WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit + 1)
    .fetch_all(db)
    .await?;
    Ok(Page::from_rows(rows, limit, |t: &Tenant| t.id))
}

/// Deletes a tenant and, by cascade, everything it owns. Whether it existed.
pub async fn delete_tenant(db: impl PgExecutor<'_>, id: TenantId) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM tenants WHERE id = $1")
        .bind(id.0)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}
