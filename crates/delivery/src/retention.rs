//! The retention task of the worker role: every so often, deletes finished deliveries older
//! than the retention, their attempts and the events no delivery needs any more, in small
//! batches with a pause between them, so that no statement holds locks for long and the
//! deliveries in flight keep the database to themselves.

use std::future::Future;
use std::time::Duration;

use ricochet_store::retention::{self, Deleted};
use sqlx::PgPool;

/// How retention runs.
#[derive(Debug, Clone)]
pub struct RetentionConfig {
    /// How long finished deliveries (and their attempts and events) are kept.
    pub keep: Duration,
    /// How often a pass starts.
    pub every: Duration,
    /// Rows deleted per statement.
    pub batch: i64,
    /// Pause between two batches of one pass.
    pub pause: Duration,
}

impl RetentionConfig {
    /// Keeps rows for `keep`; a pass a minute, 500 deliveries a batch, 50 ms apart.
    pub fn new(keep: Duration) -> Self {
        RetentionConfig {
            keep,
            every: Duration::from_secs(60),
            batch: 500,
            pause: Duration::from_millis(50),
        }
    }
}

/// Runs retention passes on `pool` until `shutdown` completes.
pub async fn run(pool: PgPool, config: RetentionConfig, shutdown: impl Future<Output = ()>) {
    tokio::select! {
        () = shutdown => {}
        () = passes(&pool, &config) => {}
    }
}

async fn passes(pool: &PgPool, config: &RetentionConfig) {
    loop {
        match pass(pool, config).await {
            Ok(total) if !total.is_empty() => tracing::info!(
                deliveries = total.deliveries,
                attempts = total.attempts,
                events = total.events,
                "retention deleted old rows"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention pass failed; trying again later"),
        }
        tokio::time::sleep(config.every).await;
    }
}

/// One pass: batches until a batch comes back short.
async fn pass(
    pool: &PgPool,
    config: &RetentionConfig,
) -> Result<Deleted, ricochet_store::StoreError> {
    let keep = chrono::Duration::from_std(config.keep).unwrap_or(chrono::Duration::MAX);
    let cutoff = chrono::Utc::now()
        .checked_sub_signed(keep)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let mut total = Deleted::default();
    loop {
        let deleted = retention::delete_finished(pool, cutoff, config.batch).await?;
        total.deliveries += deleted.deliveries;
        total.attempts += deleted.attempts;
        total.events += deleted.events;
        if deleted.deliveries < config.batch {
            break;
        }
        tokio::time::sleep(config.pause).await;
    }
    loop {
        let events = retention::delete_undelivered_events(pool, cutoff, config.batch).await?;
        total.events += i64::try_from(events).unwrap_or(i64::MAX);
        if events < u64::try_from(config.batch).unwrap_or(0) {
            break;
        }
        tokio::time::sleep(config.pause).await;
    }
    Ok(total)
}
