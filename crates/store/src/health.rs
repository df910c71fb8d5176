//! Readiness: the database answers and every embedded migration has been applied.

use sqlx::PgPool;

/// Whether the database is reachable and fully migrated.
pub async fn is_ready(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await?;
    Ok(crate::MIGRATOR
        .iter()
        .all(|m| applied.binary_search(&m.version).is_ok()))
}
