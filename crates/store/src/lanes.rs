//! Delivery lanes: each integration's scheduling state (in-flight count, Retry-After pause)
//! and the health the worker keeps there (consecutive failures, last success and failure).

use chrono::{DateTime, Utc};
use ricochet_domain::{IntegrationId, TenantId};
use sqlx::PgExecutor;

use crate::error::StoreResult;

/// An integration's delivery health, as the worker last recorded it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Health {
    /// Attempts in flight now (claimed, handed over or running), across every worker.
    pub in_flight: i32,
    /// Until when no attempt starts (a receiver's Retry-After), while that is in the future.
    pub paused_until: Option<DateTime<Utc>>,
    /// Why it is paused, while it is.
    pub pause_reason: Option<String>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    /// When the last successful attempt started.
    pub last_success_at: Option<DateTime<Utc>>,
    /// When the last failed attempt started.
    pub last_failure_at: Option<DateTime<Utc>>,
}

/// The health of `tenant`'s live integration `id`.
pub async fn get_health(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: IntegrationId,
) -> StoreResult<Option<Health>> {
    let row = sqlx::query_as(
        "SELECT l.in_flight,
                CASE WHEN l.paused_until > now() THEN l.paused_until END AS paused_until,
                CASE WHEN l.paused_until > now() THEN l.pause_reason END AS pause_reason,
                l.consecutive_failures, l.last_success_at, l.last_failure_at
         FROM delivery_lanes l JOIN integrations i ON i.id = l.integration_id
         WHERE i.tenant_id = $1 AND i.id = $2 AND i.deleted_at IS NULL",
    )
    .bind(tenant.0)
    .bind(id.0)
    .fetch_optional(db)
    .await?;
    Ok(row)
}
