//! The dead-letter queue: deliveries that will not be attempted again until a tenant replays
//! them. A replay starts a new attempt series now; the earlier attempts stay in the log.

use chrono::{DateTime, Utc};
use ricochet_domain::TenantId;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::Page;
use crate::deliveries::Delivery;
use crate::error::StoreResult;

/// Which dead letters a list or a bulk replay takes.
#[derive(Debug, Clone, Default)]
pub struct DeadLetterFilter {
    /// Only this integration's.
    pub integration_id: Option<Uuid>,
    /// Only reasons starting with this (`non_retryable_status` takes every status).
    pub reason: Option<String>,
    /// Only those whose last attempt got this status.
    pub status_code: Option<i32>,
    /// Dead-lettered at or after.
    pub from: Option<DateTime<Utc>>,
    /// Dead-lettered before.
    pub to: Option<DateTime<Utc>>,
}

/// The `WHERE` clause shared by the list and the bulk replay; parameters `$1` (tenant) and
/// `$2`..`$6` (the filter).
macro_rules! matching {
    () => {
        "tenant_id = $1 AND status = 'dead_lettered'
         AND ($2::uuid IS NULL OR integration_id = $2)
         AND ($3::text IS NULL OR starts_with(reason, $3))
         AND ($4::int IS NULL OR last_status_code = $4)
         AND ($5::timestamptz IS NULL OR completed_at >= $5)
         AND ($6::timestamptz IS NULL OR completed_at < $6)"
    };
}

/// A tenant's dead letters, newest first, before `before`.
pub async fn list_dead_letters(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    filter: &DeadLetterFilter,
    before: Option<Uuid>,
    limit: i64,
) -> StoreResult<Page<Delivery>> {
    let rows = sqlx::query_as(concat!(
        "SELECT id, event_id, integration_id, status, attempt_count, next_attempt_at, last_status_code, reason,
                replay_count, created_at, updated_at, completed_at, ordering_key
         FROM deliveries WHERE ",
        matching!(),
        " AND ($7::uuid IS NULL OR id < $7) ORDER BY id DESC LIMIT $8"
    ))
    .bind(tenant.0)
    .bind(filter.integration_id)
    .bind(&filter.reason)
    .bind(filter.status_code)
    .bind(filter.from)
    .bind(filter.to)
    .bind(before)
    .bind(limit + 1)
    .fetch_all(db)
    .await?;
    Ok(Page::from_rows(rows, limit, |d: &Delivery| d.id))
}

/// What a single replay found.
#[derive(Debug, PartialEq, Eq)]
pub enum ReplayOutcome {
    /// Replayed: pending now (paused if its integration is disabled).
    Replayed,
    /// No such delivery in the tenant.
    NotFound,
    /// It exists but is not dead-lettered (it has this status).
    NotDeadLettered(String),
}

/// The `SET` of a replay: a new series from now. A deleted integration's delivery is
/// cancelled instead, a disabled one's parked. A keyed delivery of an integration keeping the
/// order per key goes back in line (`blocked`, then promoted by [`promote_replayed`]): it is
/// the oldest of its key, so it goes next, once the key's current head is done.
macro_rules! replay_set {
    () => {
        "SET status = (SELECT CASE WHEN i.deleted_at IS NOT NULL THEN 'cancelled'
                           WHEN deliveries.ordering_key IS NOT NULL AND i.settings->>'ordering' = 'perKey' THEN 'blocked'
                           WHEN NOT i.enabled THEN 'paused' ELSE 'pending' END
                       FROM integrations i WHERE i.id = deliveries.integration_id),
             series_base = attempt_count, replay_count = replay_count + 1, next_attempt_at = now(), lost_leases = 0,
             reason = NULL, completed_at = NULL, updated_at = now()"
    };
}

/// Replays one dead letter.
pub async fn replay_one(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: Uuid,
) -> StoreResult<ReplayOutcome> {
    let done: Vec<(Uuid, String, Option<String>)> = sqlx::query_as(concat!(
        "UPDATE deliveries ",
        replay_set!(),
        " WHERE tenant_id = $1 AND id = $2 AND status = 'dead_lettered'
         RETURNING integration_id, status, ordering_key"
    ))
    .bind(tenant.0)
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    if !done.is_empty() {
        promote_replayed(conn, &done).await?;
        crate::wake::wake_workers(&mut *conn).await?;
        return Ok(ReplayOutcome::Replayed);
    }
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM deliveries WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.0)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(status.map_or(ReplayOutcome::NotFound, ReplayOutcome::NotDeadLettered))
}

/// Replays up to `limit` dead letters matching `filter`; how many. Only dead-lettered rows
/// change, so replaying the same set twice replays nothing the second time.
pub async fn replay_matching(
    conn: &mut PgConnection,
    tenant: TenantId,
    filter: &DeadLetterFilter,
    limit: i64,
) -> StoreResult<u64> {
    let done: Vec<(Uuid, String, Option<String>)> = sqlx::query_as(concat!(
        "UPDATE deliveries ",
        replay_set!(),
        " WHERE id IN (SELECT id FROM deliveries WHERE ",
        matching!(),
        " ORDER BY id LIMIT $7 FOR UPDATE SKIP LOCKED)
         RETURNING integration_id, status, ordering_key"
    ))
    .bind(tenant.0)
    .bind(filter.integration_id)
    .bind(&filter.reason)
    .bind(filter.status_code)
    .bind(filter.from)
    .bind(filter.to)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    if !done.is_empty() {
        promote_replayed(conn, &done).await?;
        crate::wake::wake_workers(&mut *conn).await?;
    }
    Ok(u64::try_from(done.len()).unwrap_or(u64::MAX))
}

/// Promotes the keys of replayed deliveries that went back in line (in the replay's
/// transaction: the key locks are held until it commits).
async fn promote_replayed(
    conn: &mut PgConnection,
    replayed: &[(Uuid, String, Option<String>)],
) -> StoreResult<()> {
    let keys: Vec<(Uuid, &str)> = replayed
        .iter()
        .filter(|(_, status, _)| status == "blocked")
        .filter_map(|(integration, _, key)| key.as_deref().map(|k| (*integration, k)))
        .collect();
    crate::ordering::promote(conn, &keys).await?;
    Ok(())
}

/// Removes a dead letter from the queue; its attempts stay in the log. Whether it was one.
pub async fn purge(db: impl PgExecutor<'_>, tenant: TenantId, id: Uuid) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE deliveries SET status = 'purged', updated_at = now() WHERE tenant_id = $1 AND id = $2 AND status = 'dead_lettered'",
    )
    .bind(tenant.0)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
