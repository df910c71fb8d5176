//! The workers' wake-up channel: a NOTIFY on it means "there may be due work".

use sqlx::PgExecutor;

use crate::error::StoreResult;

/// The channel workers LISTEN on; a notification means "there may be due work".
pub const WAKE_CHANNEL: &str = "ricochet_deliveries";

/// Tells every listening worker that work may be due: at once outside a transaction, at its
/// commit inside one.
pub async fn wake_workers(db: impl PgExecutor<'_>) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(WAKE_CHANNEL)
        .execute(db)
        .await?;
    Ok(())
}
