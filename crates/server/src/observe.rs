//! Metrics that are sampled rather than counted: the queue's depth and lag and the database
//! pool's use, read by one periodic query per process (never per request), and the upkeep of
//! the Prometheus recorder.

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

async fn sample(pool: &PgPool) {
    match ricochet_store::stats::queue_depth(pool).await {
        Ok(depth) => {
            for (state, n) in [
                ("due", depth.due),
                ("scheduled", depth.scheduled),
                ("in_flight", depth.in_flight),
                ("paused", depth.paused),
            ] {
                metrics::gauge!("ricochet_queue_depth", "state" => state).set(n as f64);
            }
            metrics::gauge!("ricochet_queue_lag_seconds").set(depth.lag_seconds);
        }
        Err(e) => tracing::warn!(error = %e, "sampling the queue depth failed"),
    }
    let size = f64::from(pool.size());
    let idle = pool.num_idle() as f64;
    metrics::gauge!("ricochet_db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("ricochet_db_pool_connections", "state" => "in_use").set(size - idle);
    if let Some(handle) = ricochet_api::metrics::handle() {
        handle.run_upkeep();
    }
}
