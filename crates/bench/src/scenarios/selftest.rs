//! `selftest`: the harness's own capacity. The bench's HTTP client blasts the bench's receiver
//! directly (no Ricochet); if that is not several times the best deliveries/s measured, the
//! harness, not Ricochet, would be the limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::{Bench, result, tag};
use crate::procstat;
use crate::receiver::Behaviour;
use crate::stats;

const CONCURRENCY: usize = 64;
const DURATION: Duration = Duration::from_secs(5);
/// How many times the best deliveries/s the harness must sustain.
pub(crate) const REQUIRED_FACTOR: f64 = 3.0;

/// Runs the self-test; `earlier` results supply the best deliveries/s to compare with.
pub(super) async fn run(
    bench: &Bench<'_>,
    run: u32,
    earlier: &[Map<String, Value>],
) -> anyhow::Result<Vec<Map<String, Value>>> {
    eprintln!("selftest run {run}: {CONCURRENCY} clients against the receiver for {DURATION:?}");
    bench.receiver.reset(200_000);
    let tag = tag("self");
    let path = format!("/{tag}/receiver");
    bench.receiver.add_route(&path, Behaviour::default());
    let url = Arc::<str>::from(bench.receiver.url(&path));
    let next = Arc::new(AtomicUsize::new(0));
    let cpu_before = procstat::own_cpu_seconds();
    let started = Instant::now();
    let deadline = started + DURATION;
    let clients: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (http, url, next, tag) =
                (bench.http.clone(), url.clone(), next.clone(), tag.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0_usize;
                while Instant::now() < deadline {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let body = json!({
                        "id": format!("{tag}-{index}"),
                        "type": "bench.event",
                        "tenantId": "00000000-0000-0000-0000-000000000000",
                        "occurredAt": "2026-01-01T00:00:00Z",
                        "data": { "index": index, "source": "ricochet-bench" },
                    });
                    let sent = Instant::now();
                    let answer = http
                        .post(&*url)
                        .header("webhook-id", format!("{tag}-{index}"))
                        .header("x-ricochet-delivery-id", index.to_string())
                        .header("x-ricochet-attempt", "1")
                        .json(&body)
                        .send()
                        .await;
                    match answer {
                        Ok(response) if response.status().is_success() => {
                            latencies.push(stats::ms(sent.elapsed()));
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for client in futures::future::join_all(clients).await {
        let (mut client_latencies, client_errors) = client?;
        latencies.append(&mut client_latencies);
        errors += client_errors;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let bench_cpu = procstat::own_cpu_seconds() - cpu_before;
    let mut outcome = result("selftest", run);
    let rate = stats::per_second(latencies.len(), elapsed);
    outcome.insert("rate".into(), json!(rate));
    outcome.insert("rate_unit".into(), json!("req/s"));
    outcome.insert("latency_of".into(), json!("request_ms"));
    outcome.insert("requests".into(), json!(latencies.len()));
    outcome.insert("request_errors".into(), json!(errors));
    outcome.insert("window_s".into(), json!(stats::round3(elapsed)));
    outcome.insert("bench_cpu_s".into(), json!(stats::round3(bench_cpu)));
    outcome.insert("recorded".into(), json!(bench.receiver.accepted()));
    stats::insert_percentiles_ms(&mut outcome, "request_ms", latencies, false);
    if let Some(best) = best_delivery_rate(earlier) {
        let factor = stats::round3(rate / best);
        outcome.insert("best_deliveries_per_s".into(), json!(best));
        outcome.insert("harness_factor".into(), json!(factor));
        outcome.insert("harness_ok".into(), json!(factor >= REQUIRED_FACTOR));
    }
    Ok(vec![outcome])
}

/// The highest deliveries/s among `results`.
pub(crate) fn best_delivery_rate(results: &[Map<String, Value>]) -> Option<f64> {
    results
        .iter()
        .filter(|r| r.get("rate_unit").and_then(Value::as_str) == Some("deliveries/s"))
        .filter_map(|r| r.get("rate").and_then(Value::as_f64))
        .max_by(f64::total_cmp)
}
