//! The platform operator's view across tenants: each tenant's size and dead letters, and the
//! health of integrations over a recent window (computed per integration from the stats
//! rollups, a row per minute and status code, never by scanning attempts).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::error::StoreResult;

/// Most rows the overview lists.
pub const MAX_ROWS: i64 = 1_000;

/// A tenant with its counts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TenantSummary {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Live integrations.
    pub integrations: i64,
    /// Deliveries waiting in its dead-letter queue.
    pub dead_letters: i64,
}

/// Tenants by name (only `name`, when given), with their counts.
pub async fn tenant_summaries(
    db: impl PgExecutor<'_>,
    name: Option<&str>,
) -> StoreResult<Vec<TenantSummary>> {
    let rows = sqlx::query_as(
        "SELECT t.id, t.name, t.created_at,
                (SELECT count(*) FROM integrations i WHERE i.tenant_id = t.id AND i.deleted_at IS NULL) AS integrations,
                (SELECT count(*) FROM deliveries d WHERE d.tenant_id = t.id AND d.status = 'dead_lettered') AS dead_letters
         FROM tenants t WHERE ($1::text IS NULL OR t.name = $1)
         ORDER BY t.name LIMIT $2",
    )
    .bind(name)
    .bind(MAX_ROWS)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// An integration's health over a recent window.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IntegrationHealth {
    /// Its tenant.
    pub tenant_id: Uuid,
    /// Its tenant's name.
    pub tenant_name: String,
    /// The integration.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Whether it receives new deliveries.
    pub enabled: bool,
    /// Attempts in the window.
    pub attempts: i64,
    /// Of which failed.
    pub failed: i64,
    /// Last successful attempt in the window.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Last failed attempt in the window.
    pub last_failure_at: Option<DateTime<Utc>>,
}

impl IntegrationHealth {
    /// Failing: it failed in the window and has not succeeded since its last failure.
    pub fn failing(&self) -> bool {
        match (self.last_failure_at, self.last_success_at) {
            (Some(failed), Some(succeeded)) => failed > succeeded,
            (Some(_), None) => true,
            _ => false,
        }
    }
}

/// The live integrations (of `tenant`, or every tenant's) with their attempts since `since`
/// (from the start of its minute: the rollups count whole minutes);
/// `failing_only` keeps those whose last attempt in the window failed. Most failures first.
pub async fn integration_health(
    db: impl PgExecutor<'_>,
    tenant: Option<Uuid>,
    since: DateTime<Utc>,
    failing_only: bool,
) -> StoreResult<Vec<IntegrationHealth>> {
    let rows = sqlx::query_as(
        "SELECT i.tenant_id, t.name AS tenant_name, i.id, i.name, i.enabled,
                s.attempts, s.failed, s.last_success_at, s.last_failure_at
         FROM integrations i
         JOIN tenants t ON t.id = i.tenant_id
         CROSS JOIN LATERAL (
             SELECT coalesce(sum(r.attempts), 0)::bigint AS attempts,
                    coalesce(sum(r.attempts - r.succeeded), 0)::bigint AS failed,
                    max(r.last_success_at) AS last_success_at,
                    max(r.last_failure_at) AS last_failure_at
             FROM attempt_rollups r
             WHERE r.integration_id = i.id AND r.period_start >= date_bin('1 minute', $2, 'epoch')
         ) s
         WHERE i.deleted_at IS NULL AND ($1::uuid IS NULL OR i.tenant_id = $1)
           AND (NOT $3 OR (s.failed > 0 AND (s.last_success_at IS NULL OR s.last_failure_at > s.last_success_at)))
         ORDER BY s.failed DESC, t.name, i.name
         LIMIT $4",
    )
    .bind(tenant)
    .bind(since)
    .bind(failing_only)
    .bind(MAX_ROWS)
    .fetch_all(db)
    .await?;
    Ok(rows)
}
