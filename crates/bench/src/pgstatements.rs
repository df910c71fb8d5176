//! The per-query profile: `pg_stat_statements` over a scenario's window, when the cluster
//! preloads it (`ricochet-bench --profile-queries` starts Ricochet with
//! `--pg-setting shared_preload_libraries=pg_stat_statements`). Each statement's total
//! execution time, calls, rows and WAL bytes; commit flushes are not in it (they show as
//! `IO:WALSync` among the wait events).

use serde_json::{Value, json};
use sqlx::Row;
use sqlx::postgres::PgConnection;

use crate::stats;

/// Statements reported, most expensive first.
const TOP: i64 = 12;
/// Characters of each statement's text kept.
const TEXT: usize = 160;

/// Starts a window: creates the extension if needed and clears its counters. False when the
/// cluster does not preload it (the profile is then left out).
pub(crate) async fn reset(conn: &mut PgConnection) -> bool {
    let created = sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        .execute(&mut *conn)
        .await;
    created.is_ok()
        && sqlx::query("SELECT pg_stat_statements_reset()")
            .execute(&mut *conn)
            .await
            .is_ok()
}

/// The busiest statements since [`reset`], as `{query, calls, rows, total_ms, mean_ms,
/// wal_kb, plans, plan_ms, share}` objects (`plans` and `plan_ms`: how often and how long it
/// was planned, with `pg_stat_statements.track_planning` on) (`share` of the total execution time of all statements).
pub(crate) async fn top(conn: &mut PgConnection) -> Option<Value> {
    let rows = sqlx::query(
        "SELECT query, calls, rows, total_exec_time AS total_ms, mean_exec_time AS mean_ms,
                wal_bytes::float8 / 1024 AS wal_kb, plans, total_plan_time AS plan_ms,
                total_exec_time / nullif(sum(total_exec_time) OVER (), 0) AS share
         FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND query NOT ILIKE '%pg_stat_%'
         ORDER BY total_exec_time DESC",
    )
    .fetch_all(conn)
    .await
    .ok()?;
    let statements = rows
        .iter()
        .take(TOP as usize)
        .filter_map(|row| {
            let query: String = row.try_get("query").ok()?;
            let compact = query.split_whitespace().collect::<Vec<_>>().join(" ");
            let float = |name: &str| row.try_get::<Option<f64>, _>(name).ok().flatten();
            Some(json!({
                "query": compact.chars().take(TEXT).collect::<String>(),
                "calls": row.try_get::<i64, _>("calls").ok()?,
                "rows": row.try_get::<i64, _>("rows").ok()?,
                "total_ms": stats::round3(float("total_ms")?),
                "mean_ms": stats::round3(float("mean_ms")?),
                "wal_kb": stats::round3(float("wal_kb").unwrap_or(0.0)),
                "plans": row.try_get::<i64, _>("plans").ok()?,
                "plan_ms": stats::round3(float("plan_ms").unwrap_or(0.0)),
                "share": stats::round3(float("share").unwrap_or(0.0)),
            }))
        })
        .collect();
    Some(Value::Array(statements))
}
