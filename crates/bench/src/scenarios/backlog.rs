//! `backlog`: a million pending deliveries due in two hours, inserted straight into the
//! database; then fresh events at ~20/s to another integration. Does the backlog cost memory
//! or slow the fresh deliveries down?

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Map, Value, json};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use uuid::Uuid;

use super::{Bench, EVENT_TYPE, QUICK_RETRY, finish, flat_out, result, tag};
use crate::publish::{self, PublishPlan};
use crate::receiver::Behaviour;

const BACKLOG: usize = 1_000_000;
/// Rows per INSERT statement, so progress shows and no transaction grows huge.
const INSERT_CHUNK: usize = 250_000;
const SEED_EVENTS: usize = 4;
const SEED_EVENT_TYPE: &str = "bench.seed";
const LIVE_EVENTS: usize = 500;
const LIVE_RATE_PER_S: f64 = 20.0;
const SETTLE: Duration = Duration::from_secs(5);

/// Runs the scenario on a fresh Ricochet.
pub(super) async fn run(bench: &Bench<'_>, run: u32) -> anyhow::Result<Vec<Map<String, Value>>> {
    let backlog = bench.cli.scaled(BACKLOG, 1_000);
    let live = bench.cli.scaled(LIVE_EVENTS, 50);
    eprintln!(
        "backlog run {run}: {backlog} future deliveries, then {live} events at {LIVE_RATE_PER_S}/s"
    );
    bench.receiver.reset(live + SEED_EVENTS);
    let instance = bench.instance().await?;
    let process = instance
        .process
        .as_ref()
        .context("the backlog scenario needs its own Ricochet")?;
    let mut outcome = result("backlog", run);
    let measured = async {
        let pool = connect(&process.socket_dir()).await?;
        let session = instance.tenant().await?;
        let tag = tag("backlog");
        // Route 0 is the live integration, the one the arrivals are matched against.
        bench
            .integrations(&session, &tag, 1, Behaviour::default(), QUICK_RETRY, EVENT_TYPE)
            .await?;
        let seed_path = format!("/{tag}/seed");
        bench.receiver.add_route(&seed_path, Behaviour::default());
        let seed_integration = session
            .create_integration(&bench.receiver.url(&seed_path), QUICK_RETRY)
            .await?;
        session.bind(seed_integration, &[SEED_EVENT_TYPE]).await?;
        let seed_tag = format!("{tag}-seed");
        let seeds = PublishPlan {
            event_type: SEED_EVENT_TYPE.into(),
            ..flat_out(SEED_EVENTS, &seed_tag)
        };
        let seeded = publish::publish(&session, &seeds).await;
        anyhow::ensure!(
            seeded.accepted == SEED_EVENTS,
            "publishing the seed events failed: {:?}",
            seeded.first_error
        );

        let whole = instance.window();
        let insert_started = Instant::now();
        insert_backlog(&pool, seed_integration, &seed_tag, backlog).await?;
        outcome.insert("backlog".into(), json!(backlog));
        outcome.insert("insert_s".into(), json!(crate::stats::round3(insert_started.elapsed().as_secs_f64())));

        let idle = instance.window();
        tokio::time::sleep(SETTLE).await;
        for (key, value) in finish(idle).await {
            outcome.insert(format!("idle_{key}"), value);
        }

        let plan = PublishPlan {
            concurrency: 4,
            rate_per_s: Some(LIVE_RATE_PER_S),
            ..flat_out(live, &tag)
        };
        let published = publish::publish(&session, &plan).await;
        bench.wait_for(1, &tag, &published).await;
        outcome.extend(finish(whole).await);
        let arrived = bench.arrived(1, &tag, &published).await;
        outcome.insert("latency_of".into(), json!("latency_ms"));
        outcome.extend(arrived.fields());
        outcome.extend(published.fields());

        let claimed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM deliveries
             WHERE integration_id = $1 AND next_attempt_at > now() + interval '1 hour' AND status <> 'pending'",
        )
        .bind(seed_integration)
        .fetch_one(&pool)
        .await
        .context("counting touched backlog rows")?;
        outcome.insert("backlog_touched".into(), json!(claimed));
        let delete_started = Instant::now();
        let deleted = sqlx::query(
            "DELETE FROM deliveries WHERE integration_id = $1 AND next_attempt_at > now() + interval '1 hour'",
        )
        .bind(seed_integration)
        .execute(&pool)
        .await
        .context("deleting the backlog")?
        .rows_affected();
        outcome.insert("backlog_deleted".into(), json!(deleted));
        outcome.insert("delete_s".into(), json!(crate::stats::round3(delete_started.elapsed().as_secs_f64())));
        pool.close().await;
        anyhow::Ok(())
    }
    .await;
    let stopped = instance.stop(&mut outcome).await;
    measured?;
    stopped?;
    Ok(vec![outcome])
}

/// A small pool on the embedded cluster's Unix socket.
pub(super) async fn connect(socket_dir: &Path) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::new()
        .socket(socket_dir)
        .port(5432)
        .username("ricochet")
        .database("ricochet");
    PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .context("connecting to Ricochet's PostgreSQL")
}

/// Inserts `count` pending deliveries for `integration`, due in two hours, spread over the seed
/// events (whose ids start with `seed_tag`).
async fn insert_backlog(
    pool: &PgPool,
    integration: Uuid,
    seed_tag: &str,
    count: usize,
) -> anyhow::Result<()> {
    let mut inserted = 0;
    while inserted < count {
        let chunk = INSERT_CHUNK.min(count - inserted);
        sqlx::query(
            "WITH seeds AS (
                 SELECT tenant_id, id, row_number() OVER (ORDER BY id) - 1 AS n
                 FROM events WHERE id LIKE $2 || '-%'
             )
             INSERT INTO deliveries (id, tenant_id, event_id, integration_id, next_attempt_at)
             SELECT gen_random_uuid(), seeds.tenant_id, seeds.id, $1, now() + interval '2 hours'
             FROM generate_series(1, $3::bigint) AS g
             JOIN seeds ON seeds.n = g % $4",
        )
        .bind(integration)
        .bind(seed_tag)
        .bind(i64::try_from(chunk).context("chunk size")?)
        .bind(i64::try_from(SEED_EVENTS).context("seed count")?)
        .execute(pool)
        .await
        .context("inserting the backlog")?;
        inserted += chunk;
        eprintln!("  inserted {inserted} of {count}");
    }
    Ok(())
}
