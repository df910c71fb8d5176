//! Publishing events from concurrent clients, flat out or paced to a rate, remembering when
//! each event was sent so arrivals can be matched to it.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::api::TenantSession;
use crate::stats;

/// What to publish.
#[derive(Debug, Clone)]
pub(crate) struct PublishPlan {
    /// Events to publish.
    pub(crate) events: usize,
    /// Concurrent clients.
    pub(crate) concurrency: usize,
    /// Events per second to aim at; flat out when `None`.
    pub(crate) rate_per_s: Option<f64>,
    /// The event type, or with `lanes` above 1 the stem of the event types.
    pub(crate) event_type: String,
    /// Event types the events are spread over, round robin: with 1, every event has
    /// `event_type`; with more, event `i` has `{event_type}.l{i % lanes}`.
    pub(crate) lanes: usize,
    /// Event ids are `{tag}-{index}`.
    pub(crate) tag: String,
}

impl PublishPlan {
    /// The event type of event `index`.
    pub(crate) fn event_type_of(&self, index: usize) -> Cow<'_, str> {
        if self.lanes > 1 {
            Cow::Owned(format!("{}.l{}", self.event_type, index % self.lanes))
        } else {
            Cow::Borrowed(&self.event_type)
        }
    }

    /// Every event type the plan publishes, by lane.
    pub(crate) fn event_types(&self) -> Vec<String> {
        (0..self.lanes.max(1))
            .map(|lane| self.event_type_of(lane).into_owned())
            .collect()
    }
}

/// What publishing did.
#[derive(Debug)]
pub(crate) struct Published {
    /// When each event's request was sent, by index; `None` when it was not accepted.
    pub(crate) sent_at: Vec<Option<Instant>>,
    /// Request latency of accepted publishes, in ms.
    pub(crate) latencies_ms: Vec<f64>,
    /// Deliveries the accepted publishes made.
    pub(crate) delivery_ids: Vec<Uuid>,
    /// Publishes answered 202.
    pub(crate) accepted: usize,
    /// Publishes that failed.
    pub(crate) errors: usize,
    /// The first failure.
    pub(crate) first_error: Option<String>,
    /// When the first request was sent.
    pub(crate) started: Instant,
    /// From the first request to the last answer.
    pub(crate) elapsed: Duration,
}

impl Published {
    /// `published`, `publish_errors`, `publish_rate` (accepted events/s) and publish latency
    /// percentiles under `publish_ms_*`.
    pub(crate) fn fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        fields.insert("published".into(), json!(self.accepted));
        fields.insert("publish_errors".into(), json!(self.errors));
        if let Some(error) = &self.first_error {
            fields.insert("publish_first_error".into(), json!(error));
        }
        fields.insert(
            "publish_rate".into(),
            json!(stats::per_second(self.accepted, self.elapsed.as_secs_f64())),
        );
        stats::insert_percentiles_ms(&mut fields, "publish_ms", self.latencies_ms.clone(), false);
        fields
    }
}

/// The index in an event id `{tag}-{index}`, if the id has that form.
pub(crate) fn event_index(tag: &str, event_id: &str) -> Option<usize> {
    event_id.strip_prefix(tag)?.strip_prefix('-')?.parse().ok()
}

struct Sent {
    index: usize,
    at: Instant,
    latency: Duration,
    outcome: Result<Vec<Uuid>, String>,
}

/// Publishes `plan.events` events from `plan.concurrency` clients.
pub(crate) async fn publish(session: &TenantSession, plan: &PublishPlan) -> Published {
    let next = Arc::new(AtomicUsize::new(0));
    let start = tokio::time::Instant::now();
    let clients: Vec<_> = (0..plan.concurrency.max(1))
        .map(|_| {
            let session = session.clone();
            let plan = plan.clone();
            let next = next.clone();
            tokio::spawn(async move { run_client(&session, &plan, &next, start).await })
        })
        .collect();
    let mut sent = Vec::with_capacity(plan.events);
    for client in futures::future::join_all(clients).await {
        match client {
            Ok(mut records) => sent.append(&mut records),
            Err(e) => eprintln!("publisher task failed: {e}"),
        }
    }
    summarise(plan.events, sent)
}

async fn run_client(
    session: &TenantSession,
    plan: &PublishPlan,
    next: &AtomicUsize,
    start: tokio::time::Instant,
) -> Vec<Sent> {
    let mut records = Vec::with_capacity(plan.events / plan.concurrency.max(1) + 1);
    loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        if index >= plan.events {
            return records;
        }
        if let Some(rate) = plan.rate_per_s {
            // Event i is due at start + i/rate, whichever client sends it.
            let due = start + Duration::from_secs_f64(index as f64 / rate);
            tokio::time::sleep_until(due).await;
        }
        let event_id = format!("{}-{index}", plan.tag);
        let data = json!({
            "index": index,
            "source": "ricochet-bench",
            "customer": { "id": format!("cus_{index:08}"), "plan": "pro", "seats": 12 },
        });
        let at = Instant::now();
        let outcome = session
            .publish(&plan.event_type_of(index), &event_id, &data)
            .await
            .map(|deliveries| deliveries.into_iter().map(|d| d.delivery_id).collect())
            .map_err(|e| format!("{e:#}"));
        records.push(Sent {
            index,
            at,
            latency: at.elapsed(),
            outcome,
        });
    }
}

fn summarise(events: usize, sent: Vec<Sent>) -> Published {
    let mut published = Published {
        sent_at: vec![None; events],
        latencies_ms: Vec::with_capacity(sent.len()),
        delivery_ids: Vec::new(),
        accepted: 0,
        errors: 0,
        first_error: None,
        started: sent.iter().map(|s| s.at).min().unwrap_or_else(Instant::now),
        elapsed: Duration::ZERO,
    };
    let finished = sent
        .iter()
        .map(|s| s.at + s.latency)
        .max()
        .unwrap_or(published.started);
    published.elapsed = finished.saturating_duration_since(published.started);
    for record in sent {
        match record.outcome {
            Ok(mut ids) => {
                published.accepted += 1;
                published.sent_at[record.index] = Some(record.at);
                published.latencies_ms.push(stats::ms(record.latency));
                published.delivery_ids.append(&mut ids);
            }
            Err(error) => {
                published.errors += 1;
                published.first_error.get_or_insert(error);
            }
        }
    }
    published
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_index_reads_the_number_after_the_tag() {
        assert_eq!(event_index("e2e-ab12", "e2e-ab12-42"), Some(42));
        assert_eq!(event_index("e2e-ab12", "e2e-cd34-42"), None);
        assert_eq!(event_index("e2e-ab12", "e2e-ab12-x"), None);
    }

    #[test]
    fn lanes_spread_events_over_event_types_round_robin() {
        let plan = PublishPlan {
            events: 10,
            concurrency: 1,
            rate_per_s: None,
            event_type: "bench.event".into(),
            lanes: 3,
            tag: "t".into(),
        };
        assert_eq!(
            plan.event_types(),
            ["bench.event.l0", "bench.event.l1", "bench.event.l2"]
        );
        assert_eq!(plan.event_type_of(4), "bench.event.l1");
        let single = PublishPlan { lanes: 1, ..plan };
        assert_eq!(single.event_types(), ["bench.event"]);
        assert_eq!(single.event_type_of(4), "bench.event");
    }
}
