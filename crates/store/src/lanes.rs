//! Delivery lanes: each integration's scheduling state (in-flight count, Retry-After pause)
//! and the health the worker keeps there (consecutive failures, last success and failure).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ricochet_domain::{IntegrationId, TenantId};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

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

/// The in-flight cap of an integration whose row is `i`, in SQL (settings.maxConcurrency).
macro_rules! cap_sql {
    () => {
        "coalesce((i.settings->>'maxConcurrency')::int, 10)"
    };
}
pub(crate) use cap_sql;

/// Makes the statement's transaction commit without waiting for the disk, in SQL (a `FROM`
/// item): lane counts are not worth a flush, and a lane lock held through one would make every
/// statement of the integration wait in line for the disk. See the lanes migration for why a
/// count lost in a crash is safe.
macro_rules! no_flush_sql {
    () => {
        "(SELECT set_config('synchronous_commit', 'off', true)) AS no_flush"
    };
}

/// Takes slots on the lanes of `wants` (integration, deliveries it would like to hand over)
/// for deliveries the publisher is about to write leased: as many as each integration's
/// `maxConcurrency` leaves room for, none while it is paused. Returns the slots granted per
/// integration (integrations without a lane, deleted meanwhile, get none). Slots not used
/// must be given back with [`give_back`].
pub async fn reserve(
    conn: &mut PgConnection,
    wants: &[(Uuid, i32)],
) -> StoreResult<HashMap<Uuid, i32>> {
    if wants.is_empty() {
        return Ok(HashMap::new());
    }
    let (ids, counts): (Vec<Uuid>, Vec<i32>) = wants.iter().copied().unzip();
    let rows: Vec<(Uuid, i32)> = sqlx::query_as(concat!(
        "WITH want AS (
             SELECT integration_id, sum(n)::int AS n FROM unnest($1::uuid[], $2::int[]) AS t(integration_id, n)
             GROUP BY integration_id
         ), locked AS MATERIALIZED (
             -- In id order, like every statement that waits for lanes: none waits in a cycle.
             SELECT l.integration_id,
                 CASE WHEN l.paused_until > now() THEN 0
                     ELSE least(w.n, greatest(0, ", cap_sql!(), " - l.in_flight)) END AS granted
             FROM delivery_lanes l JOIN want w ON w.integration_id = l.integration_id
             JOIN integrations i ON i.id = l.integration_id, ", no_flush_sql!(), "
             ORDER BY l.integration_id FOR UPDATE OF l
         )
         UPDATE delivery_lanes l SET in_flight = l.in_flight + k.granted, touched_at = now()
         FROM locked k WHERE l.integration_id = k.integration_id AND k.granted > 0
         RETURNING l.integration_id, k.granted",
    ))
    .bind(&ids)
    .bind(&counts)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Gives back slots taken by [`reserve`] and not used (integration, slots).
pub async fn give_back(conn: &mut PgConnection, slots: &[(Uuid, i32)]) -> StoreResult<()> {
    let slots: Vec<(Uuid, i32)> = slots.iter().copied().filter(|(_, n)| *n > 0).collect();
    if slots.is_empty() {
        return Ok(());
    }
    let (ids, counts): (Vec<Uuid>, Vec<i32>) = slots.into_iter().unzip();
    sqlx::query(concat!(
        "WITH back AS (
             SELECT integration_id, sum(n)::int AS n FROM unnest($1::uuid[], $2::int[]) AS t(integration_id, n)
             GROUP BY integration_id
         ), locked AS MATERIALIZED (
             SELECT l.integration_id, b.n FROM delivery_lanes l JOIN back b ON b.integration_id = l.integration_id, ",
        no_flush_sql!(),
        "
             ORDER BY l.integration_id FOR UPDATE OF l
         )
         UPDATE delivery_lanes l SET in_flight = greatest(0, l.in_flight - k.n), touched_at = now()
         FROM locked k WHERE l.integration_id = k.integration_id",
    ))
    .bind(&ids)
    .bind(&counts)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One recorded attempt, as its lane counts it.
#[derive(Debug, Clone, Copy)]
pub struct Settled {
    /// Its integration.
    pub integration_id: Uuid,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Whether it succeeded.
    pub ok: bool,
    /// The receiver's status code, if it answered.
    pub status_code: Option<i32>,
    /// The receiver's Retry-After, in milliseconds (capped where it is parsed).
    pub retry_after_ms: Option<i64>,
}

/// After attempts' records committed: gives their slots back to their lanes and keeps the
/// integrations' health (consecutive failures, last success and failure, a pause on a 429 or
/// 503 with Retry-After, which never shrinks). Returns the integrations that were at their cap
/// before (their due deliveries may go now: the caller wakes the workers).
pub async fn settle(conn: &mut PgConnection, attempts: &[Settled]) -> StoreResult<Vec<Uuid>> {
    if attempts.is_empty() {
        return Ok(Vec::new());
    }
    let full: Vec<Uuid> = sqlx::query_scalar::<_, Option<Uuid>>(concat!(
        "WITH input AS (
             SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::bool[], $4::int[], $5::bigint[])
                 AS t(integration_id, started_at, ok, status_code, retry_after_ms)
         ), outcome AS (
             SELECT integration_id, started_at, ok, status_code,
                 max(started_at) FILTER (WHERE ok) OVER (PARTITION BY integration_id) AS last_ok_at,
                 CASE WHEN status_code IN (429, 503) THEN retry_after_ms END AS pause_ms
             FROM input
         ), health AS (
             SELECT integration_id, count(*)::int AS n, max(last_ok_at) AS last_ok_at,
                 max(started_at) FILTER (WHERE NOT ok) AS last_fail_at,
                 (count(*) FILTER (WHERE NOT ok AND (last_ok_at IS NULL OR started_at > last_ok_at)))::int AS fails_after,
                 max(pause_ms) AS pause_ms, max(status_code) FILTER (WHERE pause_ms IS NOT NULL) AS pause_code
             FROM outcome GROUP BY integration_id
         ), locked AS MATERIALIZED (
             -- In id order, like every statement that waits for lanes: none waits in a cycle.
             SELECT l.integration_id, l.in_flight >= ", cap_sql!(), " AS was_full
             FROM delivery_lanes l JOIN integrations i ON i.id = l.integration_id, ", no_flush_sql!(), "
             WHERE l.integration_id IN (SELECT integration_id FROM health)
             ORDER BY l.integration_id FOR UPDATE OF l
         )
         UPDATE delivery_lanes l
         SET in_flight = greatest(0, l.in_flight - h.n), touched_at = now(),
             consecutive_failures = CASE WHEN h.last_ok_at IS NOT NULL THEN h.fails_after
                 ELSE l.consecutive_failures + h.fails_after END,
             last_success_at = greatest(l.last_success_at, h.last_ok_at),
             last_failure_at = greatest(l.last_failure_at, h.last_fail_at),
             pause_reason = CASE WHEN h.pause_ms IS NOT NULL
                     AND (l.paused_until IS NULL OR l.paused_until < now() + make_interval(secs => h.pause_ms / 1000.0))
                 THEN 'Retry-After on HTTP ' || h.pause_code ELSE l.pause_reason END,
             paused_until = CASE WHEN h.pause_ms IS NOT NULL
                 THEN greatest(l.paused_until, now() + make_interval(secs => h.pause_ms / 1000.0))
                 ELSE l.paused_until END
         FROM health h JOIN locked k ON k.integration_id = h.integration_id
         WHERE l.integration_id = h.integration_id
         RETURNING CASE WHEN k.was_full THEN l.integration_id END",
    ))
    .bind(attempts.iter().map(|a| a.integration_id).collect::<Vec<_>>())
    .bind(attempts.iter().map(|a| a.started_at).collect::<Vec<_>>())
    .bind(attempts.iter().map(|a| a.ok).collect::<Vec<_>>())
    .bind(attempts.iter().map(|a| a.status_code).collect::<Vec<_>>())
    .bind(attempts.iter().map(|a| a.retry_after_ms).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .flatten()
    .collect();
    Ok(full)
}

/// Recounts lanes whose count was left alone for `quiet` (see the lanes migration); returns
/// how many were wrong.
pub async fn audit(db: impl PgExecutor<'_>, quiet: std::time::Duration) -> StoreResult<i32> {
    let fixed: i32 = sqlx::query_scalar("SELECT delivery_lanes_audit(make_interval(secs => $1))")
        .bind(quiet.as_secs_f64())
        .fetch_one(db)
        .await?;
    Ok(fixed)
}
