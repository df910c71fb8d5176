//! Waiting for deliveries to reach the receiver (with a deadline), and matching arrivals to the
//! publishes that caused them: latency, duplicates, missing.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::publish::{Published, event_index};
use crate::receiver::{Arrival, Receiver};
use crate::stats;

/// Give up when no delivery has arrived for this long.
const STALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How often to poll the receiver's counter.
const POLL: Duration = Duration::from_millis(5);
/// How often to count distinct deliveries once enough have arrived (it scans every arrival).
const RECOUNT: Duration = Duration::from_millis(250);

/// What the scenario expects: routes `0..routes`, each getting every accepted event once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    /// Routes registered for the scenario (ids `0..routes`).
    pub(crate) routes: usize,
    /// The event id tag of the publish.
    pub(crate) tag: &'a str,
    /// The publish.
    pub(crate) published: &'a Published,
}

impl Expected<'_> {
    /// Deliveries expected in all.
    pub(crate) fn count(&self) -> usize {
        self.routes * self.published.accepted
    }

    fn slots(&self) -> usize {
        self.routes * self.published.sent_at.len()
    }

    /// The slot of an accepted arrival of ours, `route * events + index`.
    fn slot(&self, arrival: &Arrival) -> Option<usize> {
        let route = usize::try_from(arrival.route).ok()?;
        let index = event_index(self.tag, &arrival.webhook_id)?;
        let events = self.published.sent_at.len();
        (arrival.accepted && route < self.routes && index < events)
            .then_some(route * events + index)
    }

    /// The first accepted arrival per slot.
    fn first_arrivals(&self, arrivals: &[Arrival]) -> Vec<Option<Instant>> {
        let mut first = vec![None; self.slots()];
        for arrival in arrivals {
            if let Some(slot) = self.slot(arrival) {
                let seen: &mut Option<Instant> = &mut first[slot];
                if seen.is_none_or(|at| arrival.at < at) {
                    *seen = Some(arrival.at);
                }
            }
        }
        first
    }
}

/// Waits until every expected delivery has been accepted once, nothing has arrived for
/// [`STALL_TIMEOUT`], or `cap` has passed.
pub(crate) async fn wait_for_all(receiver: &Receiver, expected: Expected<'_>, cap: Duration) {
    let target = expected.count() as u64;
    let started = Instant::now();
    let mut last_count = receiver.accepted();
    let mut last_progress = started;
    let mut last_recount: Option<Instant> = None;
    loop {
        let now = Instant::now();
        let count = receiver.accepted();
        if count != last_count {
            last_count = count;
            last_progress = now;
        }
        let recount_due = last_recount.is_none_or(|at| now - at >= RECOUNT);
        if count >= target && recount_due {
            last_recount = Some(now);
            let distinct = receiver.with_arrivals(|arrivals| {
                expected.first_arrivals(arrivals).iter().flatten().count()
            });
            if distinct >= expected.count() {
                return;
            }
        }
        if now - last_progress > STALL_TIMEOUT || now - started > cap {
            eprintln!(
                "  gave up waiting: {count} of {target} deliveries after {:.1} s",
                (now - started).as_secs_f64()
            );
            return;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// How the deliveries of one publish arrived.
#[derive(Debug)]
pub(crate) struct Arrived {
    /// Deliveries expected.
    pub(crate) expected: usize,
    /// Distinct deliveries accepted.
    pub(crate) delivered: usize,
    /// Accepted arrivals beyond one per (route, event).
    pub(crate) duplicates: usize,
    /// Publish-to-receipt latency of each delivered delivery, in ms.
    pub(crate) latencies_ms: Vec<f64>,
    /// The last first arrival.
    pub(crate) last: Option<Instant>,
}

impl Arrived {
    /// Matches `arrivals` against `expected`.
    pub(crate) fn analyse(arrivals: &[Arrival], expected: Expected<'_>) -> Arrived {
        let first = expected.first_arrivals(arrivals);
        let accepted_ours = arrivals
            .iter()
            .filter(|a| expected.slot(a).is_some())
            .count();
        let events = expected.published.sent_at.len();
        let mut latencies_ms = Vec::with_capacity(expected.count());
        let mut last = None;
        for (slot, arrived) in first.iter().enumerate() {
            let (Some(arrived), Some(sent)) = (arrived, expected.published.sent_at[slot % events])
            else {
                continue;
            };
            latencies_ms.push(stats::ms(arrived.saturating_duration_since(sent)));
            last = last.max(Some(*arrived));
        }
        let delivered = latencies_ms.len();
        Arrived {
            expected: expected.count(),
            delivered,
            duplicates: accepted_ours - first.iter().flatten().count(),
            latencies_ms,
            last,
        }
    }

    /// Deliveries per second from the first publish to the last arrival.
    pub(crate) fn rate(&self, first_publish: Instant) -> f64 {
        let seconds = self.last.map_or(0.0, |last| {
            last.saturating_duration_since(first_publish).as_secs_f64()
        });
        stats::per_second(self.delivered, seconds)
    }

    /// `expected`, `delivered`, `duplicates`, `missing` and `latency_ms_*` percentiles.
    pub(crate) fn fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("expected".into(), json!(self.expected));
        fields.insert("delivered".into(), json!(self.delivered));
        fields.insert("duplicates".into(), json!(self.duplicates));
        fields.insert(
            "missing".into(),
            json!(self.expected.saturating_sub(self.delivered)),
        );
        stats::insert_percentiles_ms(&mut fields, "latency_ms", self.latencies_ms.clone(), false);
        fields
    }
}
