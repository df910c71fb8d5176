//! Waking the workers after commits, outside any transaction.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::Notify;

/// Wakes the workers after commits, outside any transaction, folding wake-ups requested while
/// one is being sent into one NOTIFY. Should the process die between a commit and its wake-up,
/// the workers' fallback poll finds the work anyway.
#[derive(Debug, Clone)]
pub struct Waker {
    pending: Arc<Notify>,
}

impl Waker {
    /// Starts the task sending NOTIFYs on `pool`.
    pub fn spawn(pool: PgPool) -> Waker {
        let pending = Arc::new(Notify::new());
        let requests = pending.clone();
        tokio::spawn(async move {
            loop {
                requests.notified().await;
                if let Err(e) = ricochet_store::wake::wake_workers(&pool).await {
                    tracing::warn!(error = %e, "waking the workers failed; they find the work on their next poll");
                }
            }
        });
        Waker { pending }
    }

    /// Asks for a wake-up (cheap; never waits).
    pub fn wake(&self) {
        self.pending.notify_one();
    }
}
