//! Whether the database answers, as the worker last saw it: a probe asks every half second, and
//! an attempt about to start waits while the answer is no, since the worker could not record
//! what it sent (the receiver would get it again once the lease expires).

use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::watch;

/// How often the probe asks.
const PROBE_EVERY: Duration = Duration::from_millis(500);
/// How long a probe waits for its answer before it counts as no.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The shared "database reachable" signal; cheap to clone.
#[derive(Debug, Clone)]
pub struct Reachability {
    up: watch::Receiver<bool>,
}

impl Reachability {
    /// Starts probing `pool`; the probe ends when every clone of the signal is gone.
    pub fn spawn(pool: PgPool) -> Reachability {
        let (tx, up) = watch::channel(true);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PROBE_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !tx.is_closed() {
                tick.tick().await;
                let probe = sqlx::query("SELECT 1").execute(&pool);
                let up = matches!(tokio::time::timeout(PROBE_TIMEOUT, probe).await, Ok(Ok(_)));
                let was = tx.send_replace(up);
                if was && !up {
                    tracing::warn!("the database does not answer; attempts wait until it does");
                } else if !was && up {
                    tracing::info!("the database answers again; attempts resume");
                }
            }
        });
        Reachability { up }
    }

    /// Whether the last probe got an answer.
    pub fn is_up(&self) -> bool {
        *self.up.borrow()
    }

    /// Waits until the database answers, at most `limit`; whether it does.
    pub async fn wait_up(&self, limit: Duration) -> bool {
        let mut up = self.up.clone();
        matches!(
            tokio::time::timeout(limit, up.wait_for(|up| *up)).await,
            Ok(Ok(_))
        )
    }
}
