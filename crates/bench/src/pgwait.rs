//! What PostgreSQL's busy backends wait on during a window: `pg_stat_activity` sampled every
//! 50 ms, reported as the average number of active backends per wait event ("average active
//! sessions"). `CPU:running` means on CPU or runnable; `IO:WALSync` is commit fsyncs;
//! `Lock:object` is, among others, the lock NOTIFY takes at commit; `Idle:idle in transaction`
//! is a connection held open in a transaction while Ricochet works between statements.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value, json};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Row};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::stats;

const INTERVAL: Duration = Duration::from_millis(50);
/// Wait events reported, busiest first.
const TOP: usize = 6;

/// Samples taken, how often each wait event was seen, how often each lock wait was seen (by
/// waiting and blocking statement), and the per-query profile.
type Sampled = (
    u64,
    HashMap<String, u64>,
    HashMap<String, u64>,
    Option<Value>,
);

/// A running sampler.
#[derive(Debug)]
pub(crate) struct WaitSampler {
    stop: watch::Sender<bool>,
    task: JoinHandle<Option<Sampled>>,
}

impl WaitSampler {
    /// Starts sampling the cluster listening in `socket_dir`.
    pub(crate) fn start(socket_dir: PathBuf) -> WaitSampler {
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut conn = PgConnectOptions::new()
                .socket(socket_dir)
                .port(5432)
                .username("ricochet")
                .database("ricochet")
                .connect()
                .await
                .ok()?;
            let profiling = crate::pgstatements::reset(&mut conn).await;
            let mut samples = 0_u64;
            let mut seen: HashMap<String, u64> = HashMap::new();
            let mut locks: HashMap<String, u64> = HashMap::new();
            let mut tick = tokio::time::interval(INTERVAL);
            while !*stopped.borrow_and_update() {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => break,
                }
                let Ok(events) = sample(&mut conn).await else {
                    continue;
                };
                samples += 1;
                for (event, lock) in events {
                    *seen.entry(event).or_default() += 1;
                    if let Some(lock) = lock {
                        *locks.entry(lock).or_default() += 1;
                    }
                }
            }
            let statements = if profiling {
                crate::pgstatements::top(&mut conn).await
            } else {
                None
            };
            Some((samples, seen, locks, statements))
        });
        WaitSampler { stop, task }
    }

    /// Stops sampling: `pg_samples`, `pg_waits` (event -> average active backends),
    /// `pg_lock_waits` (the lock waits by "waiting statement <- blocking statements", each
    /// named by its first words) and, when the cluster preloads `pg_stat_statements`,
    /// `pg_statements`.
    pub(crate) async fn finish(self) -> Map<String, Value> {
        let _ = self.stop.send(true);
        let mut fields = Map::new();
        let Ok(Some((samples, seen, locks, statements))) = self.task.await else {
            return fields;
        };
        fields.insert("pg_samples".into(), json!(samples));
        fields.insert("pg_waits".into(), busiest(seen, samples));
        fields.insert("pg_lock_waits".into(), busiest(locks, samples));
        if let Some(statements) = statements {
            fields.insert("pg_statements".into(), statements);
        }
        fields
    }
}

/// The `TOP` most seen keys of `seen`, each with the average number of backends per sample.
fn busiest(seen: HashMap<String, u64>, samples: u64) -> Value {
    let mut busiest: Vec<(String, u64)> = seen.into_iter().collect();
    busiest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let averages: Map<String, Value> = busiest
        .into_iter()
        .take(TOP)
        .map(|(key, count)| {
            let average = count as f64 / samples.max(1) as f64;
            (key, json!(stats::round3(average)))
        })
        .collect();
    Value::Object(averages)
}

/// The wait event of every active client backend but ours (`Idle:idle in transaction` for one
/// holding a transaction open while its client works), and for one waiting on a lock, which
/// statement waits for which: "waiting <- blocking", each named by its first words.
async fn sample(conn: &mut PgConnection) -> sqlx::Result<Vec<(String, Option<String>)>> {
    let rows = sqlx::query(
        "SELECT CASE WHEN a.state = 'active'
                     THEN coalesce(a.wait_event_type, 'CPU') || ':' || coalesce(a.wait_event, 'running')
                     ELSE 'Idle:' || a.state END AS event,
                CASE WHEN a.state = 'active' AND a.wait_event_type = 'Lock' THEN
                    left(regexp_replace(a.query, '\\s+', ' ', 'g'), 60) || ' <- ' || coalesce(
                        (SELECT string_agg(DISTINCT left(regexp_replace(b.query, '\\s+', ' ', 'g'), 60), ' | ')
                         FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids(a.pid))), '?')
                END AS lock
         FROM pg_stat_activity a
         WHERE a.backend_type = 'client backend' AND a.state <> 'idle' AND a.pid <> pg_backend_pid()",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("event")?, row.try_get("lock")?)))
        .collect()
}
