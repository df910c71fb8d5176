//! Metrics that are sampled rather than counted: the queue's depth and lag, the integrations'
//! circuits and pauses with the due deliveries they hold back, and the database pool's use,
//! read by periodic queries of each process (never per request), and the upkeep of the
//! Prometheus recorder; and the periodic compaction of the stats rollups.

use std::time::Duration;

use sqlx::PgPool;
use tokio::task::JoinHandle;

/// Samples every `every` until the task is aborted.
pub fn spawn_sampler(pool: PgPool, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            sample(&pool).await;
        }
    })
}

/// Compacts the stats rollups every `every` until the task is aborted (one process at a time
/// does the work; see `ricochet_store::stats::compact_rollups`).
pub fn spawn_rollup_compactor(pool: PgPool, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = ricochet_store::stats::compact_rollups(&pool, chrono::Utc::now()).await
            {
                tracing::warn!(error = %e, "compacting the stats rollups failed");
            }
        }
    })
}

async fn sample(pool: &PgPool) {
    match ricochet_store::stats::queue_depth(pool).await {
        Ok(depth) => {
            for (state, n) in [
                ("due", depth.due),
                ("scheduled", depth.scheduled),
                ("in_flight", depth.in_flight),
                ("paused", depth.paused),
                ("blocked", depth.blocked),
            ] {
                metrics::gauge!("ricochet_queue_depth", "state" => state).set(n as f64);
            }
            metrics::gauge!("ricochet_queue_lag_seconds").set(depth.lag_seconds);
        }
        Err(e) => tracing::warn!(error = %e, "sampling the queue depth failed"),
    }
    match ricochet_store::lanes::protection(pool).await {
        Ok(p) => {
            for (state, n) in [
                ("closed", p.closed),
                ("open", p.open),
                ("half_open", p.half_open),
            ] {
                metrics::gauge!("ricochet_circuits", "state" => state).set(n as f64);
            }
            metrics::gauge!("ricochet_integrations_disabled").set(p.disabled as f64);
            metrics::gauge!("ricochet_integrations_paused").set(p.paused as f64);
            for (reason, n) in [
                ("circuit", p.held_circuit),
                ("paused", p.held_paused),
                ("concurrency", p.held_concurrency),
                ("rate_limit", p.held_rate_limit),
            ] {
                metrics::gauge!("ricochet_queue_held_back", "reason" => reason).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "sampling the integrations' protection failed"),
    }
    let size = f64::from(pool.size());
    let idle = pool.num_idle() as f64;
    metrics::gauge!("ricochet_db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("ricochet_db_pool_connections", "state" => "in_use").set(size - idle);
    if let Some(handle) = ricochet_api::metrics::handle() {
        handle.run_upkeep();
    }
}
