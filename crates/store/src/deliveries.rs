//! Deliveries: the queue and the state machine. Workers claim due rows with a lease, record
//! each attempt in the transaction that moves the delivery on, and return expired leases.

use chrono::{DateTime, Utc};
use ricochet_domain::integration::IntegrationSettings;
use ricochet_domain::{IntegrationId, TenantId};
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::error::StoreResult;

/// A delivery a worker has leased, with what it needs to make the attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    /// The delivery.
    pub id: Uuid,
    /// Its tenant.
    pub tenant_id: Uuid,
    /// Its event.
    pub event_id: String,
    /// Its integration.
    pub integration_id: Uuid,
    /// Attempts recorded so far (this one is number `attempt_count + 1`).
    pub attempt_count: i32,
    /// `attempt_count` when the current attempt series began (0, or where a replay started).
    pub series_base: i32,
    /// When the delivery was made (the stable `webhook-timestamp`).
    pub created_at: DateTime<Utc>,
    /// The integration's name.
    pub integration_name: String,
    /// The integration's settings as of the claim.
    pub settings: Json<IntegrationSettings>,
    /// The event's type.
    pub event_type: String,
    /// When the event happened.
    pub occurred_at: DateTime<Utc>,
    /// The event's data.
    pub data: Json<Value>,
}

/// Leases up to `limit` due deliveries to `worker`. A lease lasts the integration's request
/// timeout plus `grace_ms`; one that expires (a killed worker) is returned to pending.
pub async fn claim(
    db: impl PgExecutor<'_>,
    worker: &str,
    limit: i64,
    grace_ms: i64,
) -> StoreResult<Vec<Claimed>> {
    let rows = sqlx::query_as(
        "WITH due AS (
             SELECT id FROM deliveries
             WHERE status = 'pending' AND next_attempt_at <= now()
             ORDER BY next_attempt_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED
         ), claimed AS (
             UPDATE deliveries d
             SET status = 'in_flight', leased_by = $1, updated_at = now(),
                 lease_expires_at = now() + make_interval(secs => ((i.settings->>'requestTimeout')::bigint + $3) / 1000.0)
             FROM due, integrations i
             WHERE d.id = due.id AND i.id = d.integration_id
             RETURNING d.id, d.tenant_id, d.event_id, d.integration_id, d.attempt_count, d.series_base, d.created_at,
                       i.name AS integration_name, i.settings
         )
         SELECT c.*, e.event_type, e.occurred_at, e.data
         FROM claimed c JOIN events e ON e.tenant_id = c.tenant_id AND e.id = c.event_id",
    )
    .bind(worker)
    .bind(limit)
    .bind(grace_ms)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// Returns deliveries whose lease expired to pending; how many.
pub async fn reap_expired_leases(db: impl PgExecutor<'_>) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE deliveries SET status = 'pending', leased_by = NULL, lease_expires_at = NULL, updated_at = now()
         WHERE status = 'in_flight' AND lease_expires_at < now()",
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// The earliest time a worker has something to do: the next due pending delivery or the next
/// lease to expire.
pub async fn next_wake_at(db: impl PgExecutor<'_>) -> StoreResult<Option<DateTime<Utc>>> {
    let at = sqlx::query_scalar(
        "SELECT min(t) FROM (
             (SELECT next_attempt_at AS t FROM deliveries WHERE status = 'pending' ORDER BY next_attempt_at LIMIT 1)
             UNION ALL
             (SELECT lease_expires_at FROM deliveries WHERE status = 'in_flight' ORDER BY lease_expires_at LIMIT 1)
         ) s",
    )
    .fetch_one(db)
    .await?;
    Ok(at)
}

/// Where a delivery goes after an attempt.
#[derive(Debug, Clone)]
pub enum Transition {
    /// Delivered.
    Succeeded,
    /// Another attempt at this time (paused instead if the integration is now disabled,
    /// cancelled if it was deleted).
    Retry(DateTime<Utc>),
    /// No further attempt, for this reason.
    DeadLetter(String),
}

/// One attempt as recorded in the log.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    /// The attempt's id (UUIDv7 of its start).
    pub id: Uuid,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How long it took.
    pub duration_ms: i32,
    /// The status the receiver answered, if any.
    pub status_code: Option<i32>,
    /// Why there is no (good) status: timeout, connect, dns, tls, body, request, status.
    pub error_kind: Option<String>,
    /// Details of the error, templates never resolved.
    pub error_message: Option<String>,
    /// Method sent.
    pub request_method: String,
    /// URL sent (secrets shown as their templates).
    pub request_url: String,
    /// Headers sent (secrets shown as their templates).
    pub request_headers: Value,
    /// Content type of the response.
    pub response_content_type: Option<String>,
    /// The first bytes of the response body.
    pub response_body: Option<String>,
    /// A honoured `Retry-After`, in milliseconds.
    pub retry_after_ms: Option<i64>,
    /// What was wrong with an ignored `Retry-After`.
    pub retry_after_note: Option<String>,
}

/// Records an attempt and moves the delivery on, if `worker` still holds its lease (after a
/// lost lease another worker owns the delivery, and this result is dropped). Whether it was
/// recorded.
pub async fn record_attempt(
    conn: &mut PgConnection,
    delivery: Uuid,
    worker: &str,
    attempt: &AttemptRecord,
    transition: &Transition,
) -> StoreResult<bool> {
    let (status, next_at, reason) = match transition {
        Transition::Succeeded => ("succeeded", None, None),
        Transition::Retry(at) => ("pending", Some(*at), None),
        Transition::DeadLetter(reason) => ("dead_lettered", None, Some(reason.as_str())),
    };
    let moved: Option<(i32, Uuid, String, Uuid, String)> = sqlx::query_as(
        "UPDATE deliveries d
         SET status = CASE WHEN $3 = 'pending' THEN
                 (SELECT CASE WHEN i.deleted_at IS NOT NULL THEN 'cancelled' WHEN NOT i.enabled THEN 'paused' ELSE 'pending' END
                  FROM integrations i WHERE i.id = d.integration_id)
                 ELSE $3 END,
             attempt_count = attempt_count + 1,
             next_attempt_at = COALESCE($4, next_attempt_at),
             leased_by = NULL, lease_expires_at = NULL,
             last_status_code = $5, reason = $6, updated_at = now(),
             completed_at = CASE WHEN $3 IN ('succeeded', 'dead_lettered') THEN now() END
         WHERE id = $1 AND leased_by = $2 AND status = 'in_flight'
         RETURNING attempt_count, tenant_id, event_id, integration_id, status",
    )
    .bind(delivery)
    .bind(worker)
    .bind(status)
    .bind(next_at)
    .bind(attempt.status_code)
    .bind(reason)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((number, tenant, event, integration, new_status)) = moved else {
        return Ok(false);
    };
    sqlx::query(
        "INSERT INTO attempts (id, delivery_id, tenant_id, integration_id, event_id, attempt_number, started_at,
             duration_ms, outcome, status_code, error_kind, error_message, request_method, request_url,
             request_headers, response_content_type, response_body, retry_after_ms, retry_after_note, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)",
    )
    .bind(attempt.id)
    .bind(delivery)
    .bind(tenant)
    .bind(integration)
    .bind(&event)
    .bind(number)
    .bind(attempt.started_at)
    .bind(attempt.duration_ms)
    .bind(if matches!(transition, Transition::Succeeded) { "succeeded" } else { "failed" })
    .bind(attempt.status_code)
    .bind(&attempt.error_kind)
    .bind(&attempt.error_message)
    .bind(&attempt.request_method)
    .bind(&attempt.request_url)
    .bind(Json(&attempt.request_headers))
    .bind(&attempt.response_content_type)
    .bind(&attempt.response_body)
    .bind(attempt.retry_after_ms)
    .bind(&attempt.retry_after_note)
    .bind(if new_status == "pending" { next_at } else { None })
    .execute(&mut *conn)
    .await?;
    if new_status == "pending" {
        crate::events::wake_workers(conn).await?;
    }
    Ok(true)
}

/// A delivery as the API shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delivery {
    /// Its id.
    pub id: Uuid,
    /// Its event.
    pub event_id: String,
    /// Its integration.
    pub integration_id: Uuid,
    /// Its state.
    pub status: String,
    /// Attempts recorded.
    pub attempt_count: i32,
    /// When the next attempt is due (while pending).
    pub next_attempt_at: DateTime<Utc>,
    /// The last status code a receiver answered.
    pub last_status_code: Option<i32>,
    /// Why it was dead-lettered.
    pub reason: Option<String>,
    /// How often it was replayed from the dead-letter queue.
    pub replay_count: i32,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it succeeded or was dead-lettered.
    pub completed_at: Option<DateTime<Utc>>,
}

/// One delivery of `tenant`.
pub async fn get_delivery(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: Uuid,
) -> StoreResult<Option<Delivery>> {
    let row = sqlx::query_as(
        "SELECT id, event_id, integration_id, status, attempt_count, next_attempt_at, last_status_code, reason,
                replay_count, created_at, updated_at, completed_at
         FROM deliveries WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.0)
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

/// Parks an integration's pending deliveries (it was disabled) or resumes its parked ones (it
/// was enabled), in the caller's transaction.
pub async fn set_integration_paused(
    conn: &mut PgConnection,
    tenant: TenantId,
    integration: IntegrationId,
    paused: bool,
) -> StoreResult<u64> {
    let (from, to) = if paused {
        ("pending", "paused")
    } else {
        ("paused", "pending")
    };
    let done = sqlx::query(
        "UPDATE deliveries SET status = $4, updated_at = now() WHERE tenant_id = $1 AND integration_id = $2 AND status = $3",
    )
    .bind(tenant.0)
    .bind(integration.0)
    .bind(from)
    .bind(to)
    .execute(&mut *conn)
    .await?;
    if !paused && done.rows_affected() > 0 {
        crate::events::wake_workers(conn).await?;
    }
    Ok(done.rows_affected())
}

/// Cancels an integration's deliveries that wait (it was deleted). Attempts in flight finish
/// and are recorded, then stop.
pub async fn cancel_for_integration(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    integration: IntegrationId,
) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE deliveries SET status = 'cancelled', updated_at = now(), completed_at = now()
         WHERE tenant_id = $1 AND integration_id = $2 AND status IN ('pending', 'paused')",
    )
    .bind(tenant.0)
    .bind(integration.0)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Returns deliveries a stopping worker had claimed but not started to pending.
pub async fn release(conn: &mut PgConnection, worker: &str, ids: &[Uuid]) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE deliveries SET status = 'pending', leased_by = NULL, lease_expires_at = NULL, updated_at = now()
         WHERE id = ANY($1) AND leased_by = $2 AND status = 'in_flight'",
    )
    .bind(ids)
    .bind(worker)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() > 0 {
        crate::events::wake_workers(conn).await?;
    }
    Ok(done.rows_affected())
}
