//! Delivery statistics over a window, computed from the attempts' rollups (see the rollups
//! migration): one row per integration, minute (or hour, once compacted) and status code, so
//! the cost grows with the window's length, not with its attempts. The integrations are
//! checked to be the tenant's by the caller (or taken from the tenant's own rows), so the
//! rollups need no tenant.

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

/// The rollup rows of one series bucket and status code, summed.
#[derive(sqlx::FromRow)]
struct Group {
    bucket: DateTime<Utc>,
    status_code: i32,
    attempts: i64,
    succeeded: i64,
    duration_ms_sum: i64,
    last_success_at: Option<DateTime<Utc>>,
    last_failure_at: Option<DateTime<Utc>>,
}

/// The stats of `integrations` (all of `tenant`'s) from `since` to `until`, in buckets of
/// `bucket` aligned to the Unix epoch. `since` should be aligned to the minute (to the hour
/// for windows over a day): rollup rows count whole, by the start of their minute or hour.
pub async fn stats(
    pool: &PgPool,
    tenant: TenantId,
    integrations: &[Uuid],
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    bucket: Duration,
) -> StoreResult<Stats> {
    let groups = sqlx::query_as::<_, Group>(
        "SELECT date_bin(make_interval(secs => $4), period_start, 'epoch'::timestamptz) AS bucket,
                status_code, sum(attempts)::int8 AS attempts, sum(succeeded)::int8 AS succeeded,
                sum(duration_ms_sum)::int8 AS duration_ms_sum,
                max(last_success_at) AS last_success_at, max(last_failure_at) AS last_failure_at
         FROM attempt_rollups
         WHERE integration_id = ANY($1) AND period_start >= $2 AND period_start < $3
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(integrations)
    .bind(since)
    .bind(until)
    .bind(bucket.num_seconds() as f64)
    .fetch_all(pool);
    let histogram = sqlx::query_as::<_, (i32, i64)>(
        "SELECT u.bucket, sum(u.n)::int8
         FROM attempt_rollups r, unnest(r.buckets, r.counts) AS u(bucket, n)
         WHERE r.integration_id = ANY($1) AND r.period_start >= $2 AND r.period_start < $3
           AND r.status_code <> 0
         GROUP BY 1 ORDER BY 1",
    )
    .bind(integrations)
    .bind(since)
    .bind(until)
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
    let (groups, histogram, dead_letters) = tokio::try_join!(groups, histogram, dead_letters)?;

    let mut stats = Stats {
        dead_letters,
        ..Stats::default()
    };
    let mut answered_ms = 0i64;
    // Per series bucket: attempts, succeeded, answered, their summed duration.
    let mut series: BTreeMap<DateTime<Utc>, (i64, i64, i64, i64)> = BTreeMap::new();
    for g in &groups {
        stats.attempts += g.attempts;
        stats.succeeded += g.succeeded;
        let answered = g.status_code != 0;
        let entry = series.entry(g.bucket).or_default();
        entry.0 += g.attempts;
        entry.1 += g.succeeded;
        if answered {
            stats.answered += g.attempts;
            answered_ms += g.duration_ms_sum;
            entry.2 += g.attempts;
            entry.3 += g.duration_ms_sum;
        }
        *stats
            .by_status
            .entry(answered.then_some(g.status_code))
            .or_default() += g.attempts;
        stats.last_success_at = stats.last_success_at.max(g.last_success_at);
        stats.last_failure_at = stats.last_failure_at.max(g.last_failure_at);
    }
    stats.failed = stats.attempts - stats.succeeded;
    stats.avg_ms = mean(answered_ms, stats.answered);
    [stats.p50_ms, stats.p95_ms, stats.p99_ms] =
        [0.5, 0.95, 0.99].map(|p| percentile(&histogram, p));
    let counted: Vec<Counted> = series
        .into_iter()
        .map(|(start, (attempts, succeeded, answered, ms))| {
            (start, attempts, succeeded, mean(ms, answered))
        })
        .collect();
    stats.buckets = fill_buckets(since, until, bucket, &counted);
    Ok(stats)
}

fn mean(sum: i64, n: i64) -> Option<f64> {
    (n > 0).then(|| sum as f64 / n as f64)
}

/// The `p` quantile (nearest rank) of a duration histogram (bucket, attempts), in ms: the
/// upper bound of the bucket that holds it (`attempt_duration_bucket` in the rollups
/// migration: bucket k > 0 holds (1.04^(k-2), 1.04^(k-1)] ms), so never below the true value
/// and at most 4% above it.
fn percentile(histogram: &[(i32, i64)], p: f64) -> Option<f64> {
    let total: i64 = histogram.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    // Counts are far below 2^52: exact in f64.
    let rank = ((p * total as f64).ceil() as i64).clamp(1, total);
    let mut seen = 0;
    for &(bucket, n) in histogram {
        seen += n;
        if seen >= rank {
            return Some(if bucket <= 0 {
                0.0
            } else {
                (1.04f64.powi(bucket - 1) * 10.0).round() / 10.0
            });
        }
    }
    None
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

/// Compacts the rollups as of `at` (see `attempt_rollups_compact` in the rollups migration):
/// each finished minute into one row, minutes before the last hour into hours, rows older than
/// 8 days deleted. Only one caller at a time does the work (the others return 0 at once).
/// Returns the rows removed.
pub async fn compact_rollups(pool: &PgPool, at: DateTime<Utc>) -> StoreResult<i64> {
    let mut tx = pool.begin().await?;
    let mine: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(20261205020)")
        .fetch_one(&mut *tx)
        .await?;
    if !mine {
        return Ok(0);
    }
    let removed: i32 = sqlx::query_scalar("SELECT attempt_rollups_compact($1)")
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(i64::from(removed))
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
    fn percentiles_are_the_upper_bound_of_the_bucket_holding_their_rank() {
        // Bucket k > 0 holds (1.04^(k-2), 1.04^(k-1)] ms: 50 ms is in bucket 101, 150 ms in 129.
        let bucket = |ms: f64| (ms.ln() / 1.04f64.ln()).ceil() as i32 + 1;
        assert_eq!((bucket(50.0), bucket(150.0)), (101, 129));
        let histogram = [(0, 1), (bucket(50.0), 49), (bucket(150.0), 50)];
        let p50 = percentile(&histogram, 0.5).expect("a p50");
        assert!((50.0..52.0).contains(&p50), "{p50}");
        let p99 = percentile(&histogram, 0.99).expect("a p99");
        assert!((150.0..156.0).contains(&p99), "{p99}");
        assert_eq!(percentile(&histogram, 0.001), Some(0.0));
        assert_eq!(percentile(&[], 0.5), None);
    }

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
