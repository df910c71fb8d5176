//! Delivery statistics over a window, computed from the stored attempts.
//!
//! Every query reads `attempts_stats_idx` (integration, start time, with duration, status and
//! outcome included) by index-only scan: the cost grows with the attempts in the window, not
//! with the table. The integrations are checked to be the tenant's by the caller (or taken
//! from the tenant's own rows), so the attempts need no tenant filter, which would make
//! every row a heap fetch.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use ricochet_domain::TenantId;
use sqlx::PgPool;
use uuid::Uuid;

use crate::error::StoreResult;

/// The attempts of some integrations over a window.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Attempts started in the window.
    pub attempts: i64,
    /// Of which succeeded.
    pub succeeded: i64,
    /// Of which failed.
    pub failed: i64,
    /// Attempts the receiver answered (with any status).
    pub answered: i64,
    /// Mean response time of answered attempts, ms.
    pub avg_ms: Option<f64>,
    /// Median response time of answered attempts, ms.
    pub p50_ms: Option<f64>,
    /// 95th percentile, ms.
    pub p95_ms: Option<f64>,
    /// 99th percentile, ms.
    pub p99_ms: Option<f64>,
    /// Start of the last successful attempt in the window.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Start of the last failed attempt in the window.
    pub last_failure_at: Option<DateTime<Utc>>,
    /// Attempts per status code; `None` for those without an answer (timeouts, refused
    /// connections).
    pub by_status: BTreeMap<Option<i32>, i64>,
    /// Deliveries dead-lettered in the window (and not replayed since).
    pub dead_letters: i64,
    /// The window in buckets of equal width, oldest first, empty ones included.
    pub buckets: Vec<Bucket>,
}

/// One bucket of the time series.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// Its start.
    pub start: DateTime<Utc>,
    /// Attempts started in it.
    pub attempts: i64,
    /// Of which succeeded.
    pub succeeded: i64,
    /// Mean response time of its answered attempts, ms.
    pub avg_ms: Option<f64>,
}

/// A counted bucket: start, attempts, succeeded, mean response time.
type Counted = (DateTime<Utc>, i64, i64, Option<f64>);

#[derive(sqlx::FromRow)]
struct Totals {
    attempts: i64,
    succeeded: i64,
    answered: i64,
    avg_ms: Option<f64>,
    percentiles_ms: Option<Vec<Option<f64>>>,
    last_success_at: Option<DateTime<Utc>>,
    last_failure_at: Option<DateTime<Utc>>,
}

/// The stats of `integrations` (all of `tenant`'s) from `since` to `until`, in buckets of
/// `bucket` aligned to the Unix epoch.
pub async fn stats(
    pool: &PgPool,
    tenant: TenantId,
    integrations: &[Uuid],
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    bucket: Duration,
) -> StoreResult<Stats> {
    let totals = sqlx::query_as::<_, Totals>(
        "SELECT count(*) AS attempts,
                count(*) FILTER (WHERE outcome = 'succeeded') AS succeeded,
                count(status_code) AS answered,
                avg(duration_ms) FILTER (WHERE status_code IS NOT NULL)::float8 AS avg_ms,
                -- One sort for the three percentiles.
                percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY duration_ms)
                    FILTER (WHERE status_code IS NOT NULL) AS percentiles_ms,
                max(started_at) FILTER (WHERE outcome = 'succeeded') AS last_success_at,
                max(started_at) FILTER (WHERE outcome = 'failed') AS last_failure_at
         FROM attempts WHERE integration_id = ANY($1) AND started_at >= $2 AND started_at < $3",
    )
    .bind(integrations)
    .bind(since)
    .bind(until)
    .fetch_one(pool);
    let by_status = sqlx::query_as::<_, (Option<i32>, i64)>(
        "SELECT status_code, count(*) FROM attempts
         WHERE integration_id = ANY($1) AND started_at >= $2 AND started_at < $3
         GROUP BY status_code",
    )
    .bind(integrations)
    .bind(since)
    .bind(until)
    .fetch_all(pool);
    let series = sqlx::query_as::<_, Counted>(
        "SELECT date_bin(make_interval(secs => $4), started_at, 'epoch'::timestamptz) AS start,
                count(*), count(*) FILTER (WHERE outcome = 'succeeded'),
                avg(duration_ms) FILTER (WHERE status_code IS NOT NULL)::float8
         FROM attempts WHERE integration_id = ANY($1) AND started_at >= $2 AND started_at < $3
         GROUP BY 1 ORDER BY 1",
    )
    .bind(integrations)
    .bind(since)
    .bind(until)
    .bind(bucket.num_seconds() as f64)
    .fetch_all(pool);
    let dead_letters = sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM deliveries
         WHERE tenant_id = $1 AND status = 'dead_lettered' AND integration_id = ANY($2)
           AND completed_at >= $3 AND completed_at < $4",
    )
    .bind(tenant.0)
    .bind(integrations)
    .bind(since)
    .bind(until)
    .fetch_one(pool);
    let (totals, by_status, series, dead_letters) =
        tokio::try_join!(totals, by_status, series, dead_letters)?;

    let percentile = |i: usize| {
        totals
            .percentiles_ms
            .as_ref()
            .and_then(|p| p.get(i).copied().flatten())
    };
    Ok(Stats {
        attempts: totals.attempts,
        succeeded: totals.succeeded,
        failed: totals.attempts - totals.succeeded,
        answered: totals.answered,
        avg_ms: totals.avg_ms,
        p50_ms: percentile(0),
        p95_ms: percentile(1),
        p99_ms: percentile(2),
        last_success_at: totals.last_success_at,
        last_failure_at: totals.last_failure_at,
        by_status: by_status.into_iter().collect(),
        dead_letters,
        buckets: fill_buckets(since, until, bucket, &series),
    })
}

/// Every bucket from the one holding `since` to the one holding `until`, with the counted
/// ones filled in.
fn fill_buckets(
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    width: Duration,
    counted: &[Counted],
) -> Vec<Bucket> {
    let width_s = width.num_seconds().max(1);
    let floor = |t: DateTime<Utc>| t.timestamp().div_euclid(width_s) * width_s;
    let counted: BTreeMap<i64, &Counted> = counted.iter().map(|c| (c.0.timestamp(), c)).collect();
    let mut buckets = Vec::new();
    let mut at = floor(since);
    while at <= floor(until) {
        let start = DateTime::from_timestamp(at, 0).unwrap_or(since);
        buckets.push(match counted.get(&at) {
            Some((_, attempts, succeeded, avg_ms)) => Bucket {
                start,
                attempts: *attempts,
                succeeded: *succeeded,
                avg_ms: *avg_ms,
            },
            None => Bucket {
                start,
                attempts: 0,
                succeeded: 0,
                avg_ms: None,
            },
        });
        at += width_s;
    }
    buckets
}

/// Every integration `tenant` ever had (deleted ones too: their attempts still count).
pub async fn tenant_integrations(pool: &PgPool, tenant: TenantId) -> StoreResult<Vec<Uuid>> {
    let ids = sqlx::query_scalar("SELECT id FROM integrations WHERE tenant_id = $1")
        .bind(tenant.0)
        .fetch_all(pool)
        .await?;
    Ok(ids)
}

/// How much work waits, across every tenant.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct QueueDepth {
    /// Pending deliveries due now.
    pub due: i64,
    /// Pending deliveries scheduled later (retries, mostly).
    pub scheduled: i64,
    /// Deliveries a worker holds.
    pub in_flight: i64,
    /// Age of the oldest due delivery, seconds (0 when none is due).
    pub lag_seconds: f64,
    /// Deliveries parked because their integration is disabled.
    pub paused: i64,
    /// Deliveries waiting behind an earlier one of their ordering key (`perKey` ordering).
    pub blocked: i64,
}

/// The queue's depth and lag, from the partial indexes on pending and in-flight deliveries.
/// Meant for a periodic sample, not for every request: it counts every waiting delivery.
pub async fn queue_depth(db: impl sqlx::PgExecutor<'_>) -> StoreResult<QueueDepth> {
    let depth = sqlx::query_as(
        "SELECT
             count(*) FILTER (WHERE next_attempt_at <= now()) AS due,
             count(*) FILTER (WHERE next_attempt_at > now()) AS scheduled,
             (SELECT count(*) FROM deliveries WHERE status = 'in_flight') AS in_flight,
             COALESCE(extract(epoch FROM now() - min(next_attempt_at) FILTER (WHERE next_attempt_at <= now())), 0)::float8
                 AS lag_seconds,
             (SELECT count(*) FROM deliveries WHERE status = 'paused') AS paused,
             (SELECT count(*) FROM deliveries WHERE status = 'blocked') AS blocked
         FROM deliveries WHERE status = 'pending'",
    )
    .fetch_one(db)
    .await?;
    Ok(depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_the_window_with_empty_ones_filled_in() {
        let since = DateTime::from_timestamp(3_600 * 10 + 17, 0).expect("time");
        let until = since + Duration::hours(1);
        let counted = [(
            DateTime::from_timestamp(3_600 * 10 + 600, 0).expect("time"),
            4,
            3,
            Some(100.0),
        )];
        let buckets = fill_buckets(since, until, Duration::minutes(5), &counted);
        assert_eq!(
            buckets.len(),
            13,
            "12 buckets and the partial one at each end"
        );
        assert_eq!(buckets[0].start.timestamp(), 3_600 * 10);
        assert_eq!(buckets[2].attempts, 4);
        assert_eq!(buckets[2].succeeded, 3);
        assert_eq!(buckets.iter().map(|b| b.attempts).sum::<i64>(), 4);
    }
}
