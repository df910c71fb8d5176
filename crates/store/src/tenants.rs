//! Tenants: organisations, managed by the platform admin.

use chrono::{DateTime, Utc};
use ricochet_domain::TenantId;
use sqlx::{PgExecutor, PgPool};
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

/// Deletes a tenant and everything it owns: its deliveries and attempts explicitly (they keep
/// no foreign keys, to spare a lookup per row on the hot path), the rest by cascade. Whether
/// it existed.
pub async fn delete_tenant(pool: &PgPool, id: TenantId) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    // Waits for publishes under way (they hold a key-share lock on the row through their
    // events) and keeps new ones out, so no delivery is made after the deletes below.
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE")
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Ok(false);
    }
    // Deliveries first: a worker recording an attempt holds its delivery's row, so this waits
    // for it, and the attempts it recorded are visible to the next statement.
    sqlx::query(
        "DELETE FROM deliveries WHERE id IN (SELECT unnest(delivery_ids) FROM events WHERE tenant_id = $1)",
    )
    .bind(id.0)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM attempts WHERE tenant_id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM tenants WHERE id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}
