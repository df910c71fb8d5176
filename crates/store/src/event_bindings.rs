//! Event bindings: which event types (or families) an integration receives.

use chrono::{DateTime, Utc};
use ricochet_domain::{IntegrationId, TenantId};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::Page;
use crate::error::StoreResult;

/// A stored binding.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Binding {
    /// Its id.
    pub id: Uuid,
    /// The integration it feeds.
    pub integration_id: Uuid,
    /// The event type or family (`routing.queue.*`).
    pub event_type: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// Binds `patterns` to an integration; existing bindings are kept as they are. Returns the
/// bindings of every pattern, new or old, in pattern order.
pub async fn add_bindings(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    integration: IntegrationId,
    patterns: &[String],
) -> StoreResult<Vec<Binding>> {
    let ids: Vec<Uuid> = patterns.iter().map(|_| Uuid::now_v7()).collect();
    let rows = sqlx::query_as(
        "WITH wanted AS (
             SELECT p.event_type, p.id, p.ord FROM unnest($3::text[], $4::uuid[]) WITH ORDINALITY AS p(event_type, id, ord)
         ), inserted AS (
             INSERT INTO event_bindings (id, tenant_id, integration_id, event_type)
             SELECT id, $1, $2, event_type FROM wanted
             ON CONFLICT (integration_id, event_type) DO NOTHING
             RETURNING id, integration_id, event_type, created_at
         )
         SELECT b.id, b.integration_id, b.event_type, b.created_at
         FROM wanted w
         JOIN LATERAL (
             SELECT id, integration_id, event_type, created_at FROM inserted WHERE inserted.event_type = w.event_type
             UNION ALL
             SELECT id, integration_id, event_type, created_at FROM event_bindings e
             WHERE e.integration_id = $2 AND e.event_type = w.event_type
             LIMIT 1
         ) b ON true
         ORDER BY w.ord",
    )
    .bind(tenant.0)
    .bind(integration.0)
    .bind(patterns)
    .bind(&ids)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// An integration's bindings in creation order.
pub async fn list_bindings(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    integration: IntegrationId,
    after: Option<Uuid>,
    limit: i64,
) -> StoreResult<Page<Binding>> {
    let rows = sqlx::query_as(
        "SELECT id, integration_id, event_type, created_at FROM event_bindings
         WHERE tenant_id = $1 AND integration_id = $2 AND ($3::uuid IS NULL OR id > $3)
         ORDER BY id LIMIT $4",
    )
    .bind(tenant.0)
    .bind(integration.0)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(db)
    .await?;
    Ok(Page::from_rows(rows, limit, |b: &Binding| b.id))
}

/// Removes one binding. Whether it existed.
pub async fn delete_binding(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    integration: IntegrationId,
    binding: Uuid,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "DELETE FROM event_bindings WHERE tenant_id = $1 AND integration_id = $2 AND id = $3",
    )
    .bind(tenant.0)
    .bind(integration.0)
    .bind(binding)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
