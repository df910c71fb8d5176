//! `stats`: `GET /api/v2/integrations/{id}/stats` (and the tenant's `GET /api/v2/stats`) over
//! an integration with a million stored attempts, inserted straight into the database (their
//! rollups then made with `attempt_rollups_add`, as the recording statement makes them) within the last hour so that every window
//! (1h, 24h, 7d) aggregates all of them: the worst case.
//! `--stats-attempts` sets their number (10,000,000 for the figure).

use std::time::Instant;

use anyhow::Context;
use serde_json::{Map, Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::backlog::connect;
use super::{Bench, QUICK_RETRY, result};
use crate::receiver::Behaviour;

const ATTEMPTS: usize = 1_000_000;
/// Rows per INSERT statement, so progress shows and no transaction grows huge.
const INSERT_CHUNK: usize = 250_000;
/// Timed calls per window.
const CALLS: usize = 20;

/// Runs the scenario on a fresh Ricochet.
pub(super) async fn run(bench: &Bench<'_>, run: u32) -> anyhow::Result<Vec<Map<String, Value>>> {
    let attempts = match bench.cli.stats_attempts {
        Some(n) => usize::try_from(n).context("--stats-attempts")?,
        None => bench.cli.scaled(ATTEMPTS, 1_000),
    };
    eprintln!("stats run {run}: {attempts} attempts of one integration, {CALLS} calls per window");
    let instance = bench.instance().await?;
    let process = instance
        .process
        .as_ref()
        .context("the stats scenario needs its own Ricochet")?;
    let mut outcome = result("stats", run);
    let measured = async {
        let pool = connect(&process.socket_dir()).await?;
        let session = instance.tenant().await?;
        let path = "/stats/target";
        bench.receiver.add_route(path, Behaviour::default());
        let integration = session
            .create_integration(&bench.receiver.url(path), QUICK_RETRY)
            .await?;
        let insert_started = Instant::now();
        insert_attempts(&pool, integration, attempts).await?;
        // Their rollups (what the stats read), as the recording statement would have written
        // them; statistics on them let the planner see how few they are, as autovacuum soon
        // would.
        sqlx::query(
            "SELECT attempt_rollups_add(now() - interval '8 days', now() + interval '1 day')",
        )
        .execute(&pool)
        .await
        .context("rolling the attempts up")?;
        sqlx::query("ANALYZE attempt_rollups")
            .execute(&pool)
            .await
            .context("analyzing the rollups")?;
        outcome.insert("attempts".into(), json!(attempts));
        // The table shows the widest window; every window's figures are in the JSON line.
        outcome.insert("latency_of".into(), json!("stats_7d_ms"));
        outcome.insert(
            "insert_s".into(),
            json!(crate::stats::round3(insert_started.elapsed().as_secs_f64())),
        );
        for window in ["1h", "24h", "7d"] {
            let mut millis = Vec::with_capacity(CALLS);
            for _ in 0..CALLS {
                let started = Instant::now();
                let stats = session
                    .get(&format!(
                        "/api/v2/integrations/{integration}/stats?window={window}"
                    ))
                    .await?;
                millis.push(crate::stats::ms(started.elapsed()));
                anyhow::ensure!(
                    stats["attempts"].as_u64() == Some(attempts as u64),
                    "the {window} stats counted {} attempts",
                    stats["attempts"]
                );
            }
            crate::stats::insert_percentiles_ms(
                &mut outcome,
                &format!("stats_{window}_ms"),
                millis,
                false,
            );
        }
        for window in ["1h", "24h", "7d"] {
            let mut millis = Vec::with_capacity(CALLS);
            for _ in 0..CALLS {
                let started = Instant::now();
                let stats = session
                    .get(&format!("/api/v2/stats?window={window}"))
                    .await?;
                millis.push(crate::stats::ms(started.elapsed()));
                anyhow::ensure!(
                    stats["attempts"].as_u64() == Some(attempts as u64),
                    "the tenant's {window} stats counted {} attempts",
                    stats["attempts"]
                );
            }
            crate::stats::insert_percentiles_ms(
                &mut outcome,
                &format!("tenant_stats_{window}_ms"),
                millis,
                false,
            );
        }
        pool.close().await;
        anyhow::Ok(())
    }
    .await;
    let stopped = instance.stop(&mut outcome).await;
    measured?;
    stopped?;
    Ok(vec![outcome])
}

/// Inserts `count` attempts of `integration` started within the last 50 minutes: four in five
/// succeed in 20 to 120 ms, the others fail with a 503 in up to 2 s.
async fn insert_attempts(pool: &PgPool, integration: Uuid, count: usize) -> anyhow::Result<()> {
    let mut inserted = 0;
    while inserted < count {
        let chunk = INSERT_CHUNK.min(count - inserted);
        sqlx::query(
            "INSERT INTO attempts (id, delivery_id, tenant_id, integration_id, event_id, attempt_number,
                 started_at, duration_ms, outcome, status_code, request_method, request_url, request_headers)
             SELECT gen_random_uuid(), gen_random_uuid(), i.tenant_id, i.id, 'seed-' || g, 1,
                    now() - random() * interval '50 minutes',
                    CASE WHEN g % 5 = 0 THEN (random() * 2000)::int ELSE 20 + (random() * 100)::int END,
                    CASE WHEN g % 5 = 0 THEN 'failed' ELSE 'succeeded' END,
                    CASE WHEN g % 5 = 0 THEN 503 ELSE 200 END,
                    'POST', 'http://seed', '{}'::jsonb
             FROM integrations i, generate_series(1, $2::bigint) AS g
             WHERE i.id = $1",
        )
        .bind(integration)
        .bind(i64::try_from(chunk).context("chunk size")?)
        .execute(pool)
        .await
        .context("inserting attempts")?;
        inserted += chunk;
        eprintln!("  inserted {inserted} of {count}");
    }
    Ok(())
}
