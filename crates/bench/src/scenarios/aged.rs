//! `aged`: `e2e-1` on a database that already holds ten million attempts (five million
//! delivered events of the last three weeks, two attempts each, made with SQL), compared with
//! `e2e-1` on an empty one. Does a long history slow delivery down?
//!
//! The history lies within the default retention (30 days), so the retention pass has nothing
//! to delete during the measurement: this measures the size of the tables and their indexes,
//! not retention at work.

use std::time::Instant;

use anyhow::Context;
use serde_json::{Map, Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::backlog::connect;
use super::{Bench, EVENT_TYPE, Instance, QUICK_RETRY, finish, flat_out, result, tag};
use crate::publish::{self, PublishPlan};
use crate::receiver::Behaviour;

/// Attempts in the aged database's history (two per delivery).
const HISTORY_ATTEMPTS: usize = 10_000_000;
/// Deliveries per INSERT statement, so progress shows and no transaction grows huge.
const INSERT_CHUNK: usize = 250_000;
/// Events published in each measurement, as in `e2e-1`.
const EVENTS: usize = 20_000;

/// `aged-empty`, then `aged` with the history, each on a fresh Ricochet.
pub(super) async fn run(bench: &Bench<'_>, run: u32) -> anyhow::Result<Vec<Map<String, Value>>> {
    let events = bench.cli.scaled(EVENTS, 200);
    let history = bench.cli.scaled(HISTORY_ATTEMPTS, 10_000);
    eprintln!("aged run {run}: e2e-1 with {events} events on an empty database");
    let empty = measure(bench, "aged-empty", run, events, 0).await?;
    eprintln!("aged run {run}: e2e-1 with {events} events after {history} attempts of history");
    let mut aged = measure(bench, "aged", run, events, history).await?;
    let rate = |r: &Map<String, Value>| r.get("rate").and_then(Value::as_f64).unwrap_or(0.0);
    if rate(&empty) > 0.0 {
        let ratio = rate(&aged) / rate(&empty);
        aged.insert("rate_vs_empty".into(), json!(crate::stats::round3(ratio)));
        aged.insert("within_10_percent".into(), json!(ratio >= 0.9));
    }
    Ok(vec![empty, aged])
}

/// e2e-1 flat out on a fresh Ricochet whose database first gets `history` attempts.
async fn measure(
    bench: &Bench<'_>,
    name: &str,
    run: u32,
    events: usize,
    history: usize,
) -> anyhow::Result<Map<String, Value>> {
    bench.receiver.reset(events);
    let instance = bench.instance().await?;
    let mut outcome = result(name, run);
    let measured = measured(bench, &instance, &mut outcome, events, history).await;
    let stopped = instance.stop(&mut outcome).await;
    measured?;
    stopped?;
    Ok(outcome)
}

async fn measured(
    bench: &Bench<'_>,
    instance: &Instance,
    outcome: &mut Map<String, Value>,
    events: usize,
    history: usize,
) -> anyhow::Result<()> {
    let process = instance
        .process
        .as_ref()
        .context("the aged scenario needs its own Ricochet")?;
    let session = instance.tenant().await?;
    let tag = tag("aged");
    bench
        .integrations(
            &session,
            &tag,
            1,
            Behaviour::default(),
            QUICK_RETRY,
            EVENT_TYPE,
        )
        .await?;
    let pool = connect(&process.socket_dir()).await?;
    if history > 0 {
        // The history belongs to another integration of the same tenant, as a busy tenant's
        // older integrations would; it is never delivered (its deliveries are finished).
        let history_path = format!("/{tag}/history");
        bench
            .receiver
            .add_route(&history_path, Behaviour::default());
        let integration = session
            .create_integration(&bench.receiver.url(&history_path), QUICK_RETRY)
            .await?;
        let tenant: Uuid = sqlx::query_scalar("SELECT tenant_id FROM integrations WHERE id = $1")
            .bind(integration)
            .fetch_one(&pool)
            .await
            .context("finding the bench tenant")?;
        let started = Instant::now();
        insert_history(&pool, tenant, integration, &tag, history).await?;
        outcome.insert("history_attempts".into(), json!(history));
        outcome.insert(
            "insert_s".into(),
            json!(crate::stats::round3(started.elapsed().as_secs_f64())),
        );
    }
    // As autovacuum would have by the time a database has grown so: statistics and the
    // visibility map, so the measurement sees a settled database, not a freshly loaded one.
    sqlx::raw_sql("VACUUM ANALYZE events, deliveries, attempts")
        .execute(&pool)
        .await
        .context("vacuuming the loaded tables")?;
    let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
        .fetch_one(&pool)
        .await
        .context("measuring the database")?;
    outcome.insert("database_mb".into(), json!(size / (1024 * 1024)));
    pool.close().await;

    let plan: PublishPlan = flat_out(events, &tag);
    let window = instance.window();
    let published = publish::publish(&session, &plan).await;
    bench.wait_for(1, &plan.tag, &published).await;
    outcome.extend(finish(window).await);
    let arrived = bench.arrived(1, &plan.tag, &published).await;
    outcome.insert("rate".into(), json!(arrived.rate(published.started)));
    outcome.insert("rate_unit".into(), json!("deliveries/s"));
    outcome.insert("latency_of".into(), json!("latency_ms"));
    outcome.insert("integrations".into(), json!(1));
    outcome.extend(arrived.fields());
    outcome.extend(published.fields());
    Ok(())
}

/// Inserts `attempts / 2` delivered events of the last three weeks for `integration`, each
/// with one delivery (succeeded) and two attempts (a 503, then a 200).
async fn insert_history(
    pool: &PgPool,
    tenant: Uuid,
    integration: Uuid,
    tag: &str,
    attempts: usize,
) -> anyhow::Result<()> {
    let deliveries = attempts / 2;
    let mut inserted = 0;
    while inserted < deliveries {
        let chunk = INSERT_CHUNK.min(deliveries - inserted);
        let (first, last) = (inserted as i64, (inserted + chunk) as i64 - 1);
        sqlx::query(
            "WITH g AS MATERIALIZED (
                 SELECT n, gen_random_uuid() AS delivery,
                        now() - interval '1 day' - random() * interval '20 days' AS at
                 FROM generate_series($3::bigint, $4::bigint) AS n
             ),
             new_events AS (
                 INSERT INTO events (tenant_id, id, event_type, occurred_at, data, received_at, delivery_ids)
                 SELECT $1, $5 || '-h-' || n, 'bench.history', at,
                        jsonb_build_object('n', n, 'queue', 'support', 'member', 'agent-' || (n % 500)),
                        at, ARRAY[delivery]
                 FROM g
             ),
             new_deliveries AS (
                 INSERT INTO deliveries (id, tenant_id, event_id, integration_id, status, attempt_count,
                                         next_attempt_at, created_at, updated_at, completed_at)
                 SELECT delivery, $1, $5 || '-h-' || n, $2, 'succeeded', 2,
                        at, at, at + interval '2 seconds', at + interval '2 seconds'
                 FROM g
             )
             INSERT INTO attempts (id, delivery_id, tenant_id, integration_id, event_id, attempt_number,
                                   started_at, duration_ms, outcome, status_code, request_method,
                                   request_url, request_headers, response_content_type, response_body)
             SELECT gen_random_uuid(), delivery, $1, $2, $5 || '-h-' || n, k,
                    at + (k - 1) * interval '1 second', 12,
                    CASE k WHEN 1 THEN 'failed' ELSE 'succeeded' END,
                    CASE k WHEN 1 THEN 503 ELSE 200 END,
                    'POST', 'http://127.0.0.1/history',
                    '{\"content-type\": \"application/json\"}'::jsonb, 'text/plain', 'ok'
             FROM g CROSS JOIN generate_series(1, 2) AS k",
        )
        .bind(tenant)
        .bind(integration)
        .bind(first)
        .bind(last)
        .bind(tag)
        .execute(pool)
        .await
        .context("inserting the history")?;
        inserted += chunk;
        eprintln!("  inserted {} of {attempts} attempts", inserted * 2);
    }
    Ok(())
}
