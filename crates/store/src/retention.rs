//! Retention: deletes finished deliveries (succeeded, cancelled, purged) older than a cutoff,
//! their attempts, and the events no delivery still needs, one small batch per statement.
//! Dead letters, and anything pending or in flight, are never touched.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::error::StoreResult;

/// What one batch deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Deleted {
    /// Deliveries.
    pub deliveries: i64,
    /// Their attempts.
    pub attempts: i64,
    /// Events.
    pub events: i64,
}

impl Deleted {
    /// Whether the batch deleted nothing.
    pub fn is_empty(&self) -> bool {
        self.deliveries == 0 && self.events == 0
    }
}

/// Deletes up to `batch` finished deliveries completed before `cutoff`, with their attempts,
/// and their events once no other delivery of the event remains. One statement: the snapshot
/// all its parts see is the same, so a delivery deleted here still shows in `deliveries` to
/// the event check, which therefore leaves out the ones deleted. Rows another transaction
/// holds are skipped, not waited for: several workers may run this at once.
pub async fn delete_finished(
    db: impl PgExecutor<'_>,
    cutoff: DateTime<Utc>,
    batch: i64,
) -> StoreResult<Deleted> {
    let deleted = sqlx::query_as(
        "WITH doomed AS (
             DELETE FROM deliveries d
             WHERE d.id IN (
                 SELECT id FROM deliveries
                 WHERE status IN ('succeeded', 'cancelled', 'purged') AND completed_at < $1
                 ORDER BY completed_at
                 LIMIT $2
                 FOR UPDATE SKIP LOCKED)
             RETURNING d.id, d.tenant_id, d.event_id
         ),
         attempts_gone AS (
             DELETE FROM attempts a USING doomed WHERE a.delivery_id = doomed.id
             RETURNING 1
         ),
         events_gone AS (
             DELETE FROM events e
             USING (SELECT DISTINCT tenant_id, event_id FROM doomed) x
             WHERE e.tenant_id = x.tenant_id AND e.id = x.event_id
               AND NOT EXISTS (
                   SELECT 1 FROM deliveries other
                   WHERE other.id = ANY (e.delivery_ids)
                     AND other.id NOT IN (SELECT id FROM doomed))
             RETURNING 1
         )
         SELECT (SELECT count(*) FROM doomed) AS deliveries,
                (SELECT count(*) FROM attempts_gone) AS attempts,
                (SELECT count(*) FROM events_gone) AS events",
    )
    .bind(cutoff)
    .bind(batch)
    .fetch_one(db)
    .await?;
    Ok(deleted)
}

/// Deletes up to `batch` events received before `cutoff` that made no delivery (no binding
/// matched their type).
pub async fn delete_undelivered_events(
    db: impl PgExecutor<'_>,
    cutoff: DateTime<Utc>,
    batch: i64,
) -> StoreResult<u64> {
    let done = sqlx::query(
        "DELETE FROM events
         WHERE (tenant_id, id) IN (
             SELECT tenant_id, id FROM events
             WHERE cardinality(delivery_ids) = 0 AND received_at < $1
             LIMIT $2
             FOR UPDATE SKIP LOCKED)",
    )
    .bind(cutoff)
    .bind(batch)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
