//! `retry-timing`: deliveries whose receiver fails the first three attempts with 503 under a
//! fixed 200 ms retry policy; how late each retry starts against the time it was scheduled for.

use std::collections::HashMap;
use std::time::Instant;

use futures::StreamExt;
use serde_json::{Map, Value, json};

use super::{Bench, EVENT_TYPE, Route, finish, flat_out, result, tag};
use crate::api::{DeliveryOut, FixedRetry};
use crate::publish;
use crate::receiver::{Arrival, Behaviour};
use crate::stats;

const DELIVERIES: usize = 1_000;
const FAILED_ATTEMPTS: u32 = 3;
const RETRY: FixedRetry = FixedRetry {
    delay_ms: 200,
    max_retries: 5,
};
/// Concurrent GET /api/v2/deliveries/{id} requests.
const READ_CONCURRENCY: usize = 8;

/// Runs the scenario on a fresh Ricochet.
pub(super) async fn run(bench: &Bench<'_>, run: u32) -> anyhow::Result<Vec<Map<String, Value>>> {
    let events = bench.cli.scaled(DELIVERIES, 50);
    eprintln!(
        "retry-timing run {run}: {events} deliveries failing {FAILED_ATTEMPTS} times, retried every {} ms",
        RETRY.delay_ms
    );
    bench
        .receiver
        .reset(events * (FAILED_ATTEMPTS as usize + 1));
    let instance = bench.instance().await?;
    let mut outcome = result("retry-timing", run);
    let measured = async {
        let session = instance.tenant().await?;
        let tag = tag("retry");
        let behaviour = Behaviour {
            fail_first: FAILED_ATTEMPTS,
            retry_after_secs: None,
            hold_ms: 0,
        };
        // Every delivery fails its first attempts, so the failures come in long runs: with
        // the default threshold (10) the circuit breaker would open and hold every retry for
        // its cool-down. The scenario measures retry timing, not the breaker: its threshold is
        // the highest allowed, above the scenario's 3,000 failures.
        let mut settings = Map::new();
        settings.insert(
            "circuitBreaker".into(),
            json!({ "failureThreshold": 10_000 }),
        );
        let route = Route {
            behaviour,
            retry: RETRY,
            settings: &settings,
        };
        bench
            .integrations_for(&session, &tag, 1, route, &[EVENT_TYPE])
            .await?;
        let window = instance.window();
        let published = publish::publish(&session, &flat_out(events, &tag)).await;
        bench.wait_for(1, &tag, &published).await;
        outcome.extend(finish(window).await);
        let arrived = bench.arrived(1, &tag, &published).await;
        outcome.insert("latency_of".into(), json!("lateness_ms"));
        outcome.insert("retry_delay_ms".into(), json!(RETRY.delay_ms));
        outcome.extend(arrived.fields());
        outcome.extend(published.fields());
        let gaps = bench.receiver.with_arrivals(receiver_gaps_ms);
        stats::insert_percentiles_ms(&mut outcome, "receiver_gap_ms", gaps, true);

        let deliveries: Vec<anyhow::Result<DeliveryOut>> =
            futures::stream::iter(published.delivery_ids.iter().copied())
                .map(|id| {
                    let session = &session;
                    async move { session.delivery(id).await }
                })
                .buffer_unordered(READ_CONCURRENCY)
                .collect()
                .await;
        let mut lateness = Vec::new();
        let (mut succeeded, mut read_errors, mut wrong_attempts) = (0, 0, 0);
        for delivery in deliveries {
            let Ok(delivery) = delivery else {
                read_errors += 1;
                continue;
            };
            succeeded += usize::from(delivery.status == "succeeded");
            wrong_attempts += usize::from(!attempts_as_expected(&delivery));
            lateness.extend(retry_lateness_ms(delivery));
        }
        outcome.insert("retries".into(), json!(lateness.len()));
        outcome.insert("deliveries_succeeded".into(), json!(succeeded));
        outcome.insert("deliveries_unreadable".into(), json!(read_errors));
        outcome.insert(
            "deliveries_unexpected_attempts".into(),
            json!(wrong_attempts),
        );
        stats::insert_percentiles_ms(&mut outcome, "lateness_ms", lateness, true);
        anyhow::Ok(())
    }
    .await;
    let stopped = instance.stop(&mut outcome).await;
    measured?;
    stopped?;
    Ok(vec![outcome])
}

/// Whether the delivery shows 503 three times, then 200.
fn attempts_as_expected(delivery: &DeliveryOut) -> bool {
    let mut codes: Vec<(i32, Option<i32>)> = delivery
        .attempts
        .iter()
        .map(|a| (a.attempt_number, a.status_code))
        .collect();
    codes.sort_unstable();
    let codes: Vec<Option<i32>> = codes.into_iter().map(|(_, code)| code).collect();
    codes == [Some(503), Some(503), Some(503), Some(200)]
}

/// `attempts[n+1].startedAt - attempts[n].nextAttemptAt` for every retry, in ms.
fn retry_lateness_ms(mut delivery: DeliveryOut) -> Vec<f64> {
    delivery.attempts.sort_by_key(|a| a.attempt_number);
    delivery
        .attempts
        .windows(2)
        .filter_map(|pair| {
            let scheduled = pair[0].next_attempt_at?;
            let late = pair[1].started_at - scheduled;
            Some(late.num_microseconds()? as f64 / 1000.0)
        })
        .collect()
}

/// Time between consecutive attempts of each delivery as the receiver saw them, in ms.
fn receiver_gaps_ms(arrivals: &[Arrival]) -> Vec<f64> {
    let mut by_event: HashMap<&str, Vec<(u32, Instant)>> = HashMap::new();
    for arrival in arrivals {
        by_event
            .entry(&arrival.webhook_id)
            .or_default()
            .push((arrival.attempt, arrival.at));
    }
    let mut gaps = Vec::with_capacity(arrivals.len());
    for attempts in by_event.values_mut() {
        attempts.sort_unstable_by_key(|&(number, _)| number);
        gaps.extend(
            attempts
                .windows(2)
                .map(|pair| stats::ms(pair[1].1.saturating_duration_since(pair[0].1))),
        );
    }
    gaps
}
