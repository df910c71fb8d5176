//! `batch-publish`: how fast `POST /api/v2/events/batch` accepts events into the database: four
//! clients sending 100-event batches flat out. No integration is bound to the events' type, so
//! the rate is events stored (each answer comes after its events are committed), not deliveries.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::{Bench, finish, result, tag};
use crate::api::TenantSession;
use crate::stats;

const EVENTS: usize = 200_000;
const CLIENTS: usize = 4;
const BATCH: usize = 100;
/// The type of the published events, bound to nothing.
const EVENT_TYPE: &str = "bench.batch";
/// Events per second the API should accept this way (issue 18).
const TARGET_EVENTS_PER_S: f64 = 20_000.0;

/// What the clients saw.
#[derive(Debug, Default)]
struct Sent {
    created: usize,
    duplicates: usize,
    failed_events: usize,
    failed_requests: usize,
    first_error: Option<String>,
    latencies_ms: Vec<f64>,
}

impl Sent {
    fn add(&mut self, other: Sent) {
        self.created += other.created;
        self.duplicates += other.duplicates;
        self.failed_events += other.failed_events;
        self.failed_requests += other.failed_requests;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.latencies_ms.extend(other.latencies_ms);
    }
}

/// Publishes the batches against a fresh Ricochet.
pub(super) async fn run(bench: &Bench<'_>, run: u32) -> anyhow::Result<Vec<Map<String, Value>>> {
    let events = bench.cli.scaled(EVENTS, BATCH);
    eprintln!(
        "batch-publish run {run}: publishing {events} events in batches of {BATCH} from {CLIENTS} clients"
    );
    let instance = bench.instance().await?;
    let mut outcome = result("batch-publish", run);
    let measured = async {
        let session = instance.tenant().await?;
        let tag = tag("batch");
        let window = instance.window();
        let started = Instant::now();
        let sent = publish(&session, &tag, events).await;
        let elapsed = started.elapsed();
        outcome.extend(finish(window).await);
        fields(&mut outcome, events, &sent, elapsed);
        anyhow::Ok(())
    }
    .await;
    let stopped = instance.stop(&mut outcome).await;
    measured?;
    stopped?;
    Ok(vec![outcome])
}

async fn publish(session: &TenantSession, tag: &str, events: usize) -> Sent {
    let next = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (session, tag, next) = (session.clone(), tag.to_owned(), next.clone());
            tokio::spawn(async move { run_client(&session, &tag, events, &next).await })
        })
        .collect();
    let mut sent = Sent::default();
    for client in futures::future::join_all(clients).await {
        match client {
            Ok(records) => sent.add(records),
            Err(e) => eprintln!("batch publisher task failed: {e}"),
        }
    }
    sent
}

async fn run_client(session: &TenantSession, tag: &str, events: usize, next: &AtomicUsize) -> Sent {
    let mut sent = Sent::default();
    loop {
        let first = next.fetch_add(1, Ordering::Relaxed) * BATCH;
        if first >= events {
            return sent;
        }
        let batch: Vec<Value> = (first..events.min(first + BATCH))
            .map(|index| {
                json!({
                    "type": EVENT_TYPE,
                    "id": format!("{tag}-{index}"),
                    "data": {
                        "index": index,
                        "source": "ricochet-bench",
                        "customer": { "id": format!("cus_{index:08}"), "plan": "pro", "seats": 12 },
                    },
                })
            })
            .collect();
        let at = Instant::now();
        match session.publish_batch(&batch).await {
            Ok(counts) => {
                sent.latencies_ms.push(stats::ms(at.elapsed()));
                sent.created += counts.created;
                sent.duplicates += counts.duplicates;
                sent.failed_events += counts.failed;
            }
            Err(e) => {
                sent.failed_requests += 1;
                sent.first_error.get_or_insert(format!("{e:#}"));
            }
        }
    }
}

fn fields(outcome: &mut Map<String, Value>, events: usize, sent: &Sent, elapsed: Duration) {
    let rate = stats::per_second(sent.created, elapsed.as_secs_f64());
    outcome.insert("rate".into(), json!(rate));
    outcome.insert("rate_unit".into(), json!("events/s"));
    outcome.insert("latency_of".into(), json!("request_ms"));
    stats::insert_percentiles_ms(outcome, "request_ms", sent.latencies_ms.clone(), false);
    outcome.insert("concurrency".into(), json!(CLIENTS));
    outcome.insert("batch_size".into(), json!(BATCH));
    outcome.insert("published".into(), json!(sent.created));
    outcome.insert("duplicates".into(), json!(sent.duplicates));
    outcome.insert("missing".into(), json!(events.saturating_sub(sent.created)));
    outcome.insert("failed_events".into(), json!(sent.failed_events));
    outcome.insert("publish_errors".into(), json!(sent.failed_requests));
    if let Some(error) = &sent.first_error {
        outcome.insert("publish_first_error".into(), json!(error));
    }
    // CPU per stored event, Ricochet's and PostgreSQL's, when the process is ours.
    super::insert_cpu_per(outcome, "event", sent.created);
    outcome.insert("target_rate".into(), json!(TARGET_EVENTS_PER_S));
    outcome.insert("target_met".into(), json!(rate >= TARGET_EVENTS_PER_S));
}
