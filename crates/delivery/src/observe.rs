//! What the worker tells operators about each recorded attempt (and each start a rate limit
//! paced): Prometheus counters and histograms, a `debug` line per attempt and an `info` line
//! per dead letter, with the tenant, integration, event, delivery, status and reason (never
//! URLs, headers or payloads, which may carry secrets).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use metrics::{Counter, Histogram};

use ricochet_store::deliveries::{Claimed, Transition};
use uuid::Uuid;

static PER_INTEGRATION: AtomicBool = AtomicBool::new(false);

/// Labels attempt metrics with tenant and integration ids too (`--metrics-per-integration`):
/// one series per integration, so only for fleets small enough for that.
pub fn set_per_integration(on: bool) {
    PER_INTEGRATION.store(on, Ordering::Relaxed);
}

/// The values of the attempt metrics' labels: `outcome`, `status_class` and the delivery's
/// `outcome` once finished (what comes next, [`NEXT`], indexed by [`Recorded::next`]).
const OUTCOMES: [&str; 2] = ["succeeded", "failed"];
const CLASSES: [&str; 7] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other", "none"];
const NEXT: [&str; 3] = ["succeeded", "retry", "dead_lettered"];
/// Places in [`NEXT`] (a success is also the first of [`OUTCOMES`]).
const SUCCEEDED: usize = 0;
const RETRY: usize = 1;
const DEAD_LETTERED: usize = 2;

/// The handles of the metrics every attempt updates, each made at its first use (the recorder
/// is installed before the worker starts) instead of being looked up by its name and labels
/// for every attempt, which built and copied its key each time.
static ATTEMPTS: [[OnceLock<Counter>; CLASSES.len()]; OUTCOMES.len()] =
    [const { [const { OnceLock::new() }; CLASSES.len()] }; OUTCOMES.len()];
static DURATIONS: [OnceLock<Histogram>; OUTCOMES.len()] =
    [const { OnceLock::new() }; OUTCOMES.len()];
static FINISHED: [OnceLock<Counter>; NEXT.len()] = [const { OnceLock::new() }; NEXT.len()];

/// One attempt, as operators see it once it is recorded.
pub(crate) struct Recorded {
    tenant: Uuid,
    integration: Uuid,
    event: Arc<str>,
    delivery: Uuid,
    attempt: u32,
    status_code: Option<i32>,
    error_kind: Option<String>,
    duration_ms: i32,
    /// What comes next: its place in [`NEXT`].
    next: usize,
    reason: Option<String>,
}

impl Recorded {
    /// What to report of this attempt of `claimed` once it is recorded.
    pub(crate) fn new(
        claimed: &Claimed,
        attempt: u32,
        record: &ricochet_store::deliveries::AttemptRecord,
        transition: &Transition,
    ) -> Recorded {
        let (next, reason) = match transition {
            Transition::Succeeded => (SUCCEEDED, None),
            Transition::Retry(_) => (RETRY, None),
            Transition::DeadLetter(reason) => (DEAD_LETTERED, Some(reason.clone())),
        };
        Recorded {
            tenant: claimed.tenant_id,
            integration: claimed.integration_id,
            event: claimed.event_id.clone(),
            delivery: claimed.id,
            attempt,
            status_code: record.status_code,
            error_kind: record.error_kind.clone(),
            duration_ms: record.duration_ms,
            next,
            reason,
        }
    }
}

/// Records an attempt's metrics and log lines.
pub(crate) fn attempt_recorded(r: &Recorded) {
    let (next, reason) = (NEXT[r.next], r.reason.as_deref());
    let o = usize::from(r.next != SUCCEEDED);
    let c = class_of(r.status_code);
    let (outcome, class) = (OUTCOMES[o], CLASSES[c]);
    let seconds = f64::from(r.duration_ms.max(0)) / 1000.0;
    if PER_INTEGRATION.load(Ordering::Relaxed) {
        let tenant = r.tenant.to_string();
        let integration = r.integration.to_string();
        metrics::counter!("ricochet_attempts_total", "outcome" => outcome, "status_class" => class,
            "tenant" => tenant.clone(), "integration" => integration.clone())
        .increment(1);
        metrics::histogram!("ricochet_attempt_duration_seconds", "outcome" => outcome,
            "tenant" => tenant, "integration" => integration)
        .record(seconds);
    } else {
        ATTEMPTS[o][c]
            .get_or_init(|| {
                metrics::counter!("ricochet_attempts_total", "outcome" => outcome, "status_class" => class)
            })
            .increment(1);
        DURATIONS[o]
            .get_or_init(
                || metrics::histogram!("ricochet_attempt_duration_seconds", "outcome" => outcome),
            )
            .record(seconds);
    }
    FINISHED[r.next]
        .get_or_init(|| metrics::counter!("ricochet_deliveries_finished_total", "outcome" => next))
        .increment(1);
    tracing::debug!(
        tenant = %r.tenant, integration = %r.integration, event = %r.event,
        delivery = %r.delivery, attempt = r.attempt, status = r.status_code, error = r.error_kind.as_deref(),
        duration_ms = r.duration_ms, next, "attempt recorded"
    );
    if let Some(reason) = reason {
        metrics::counter!("ricochet_dead_letters_total", "reason" => reason_label(reason))
            .increment(1);
        tracing::info!(
            tenant = %r.tenant, integration = %r.integration, event = %r.event,
            delivery = %r.delivery, attempts = r.attempt, status = r.status_code, reason,
            "delivery dead-lettered"
        );
    }
}

/// Reports a delivery the lease reaper dead-lettered as `worker_lost` (no attempt of it was
/// ever recorded by the workers that took it), with the same line and counter as any other.
pub(crate) fn worker_lost(d: &ricochet_store::deliveries::Reaped) {
    let reason = ricochet_store::deliveries::WORKER_LOST;
    metrics::counter!("ricochet_deliveries_finished_total", "outcome" => "dead_lettered")
        .increment(1);
    metrics::counter!("ricochet_dead_letters_total", "reason" => reason).increment(1);
    tracing::info!(
        tenant = %d.tenant_id, integration = %d.integration_id, event = %d.event_id,
        delivery = %d.id, attempts = d.attempt_count, status = d.last_status_code, reason,
        "delivery dead-lettered"
    );
}

/// Counts an attempt of `claimed` whose start its integration's rate limit put `wait` later.
pub(crate) fn rate_limit_wait(claimed: &Claimed, wait: std::time::Duration) {
    let seconds = wait.as_secs_f64();
    if PER_INTEGRATION.load(Ordering::Relaxed) {
        let tenant = claimed.tenant_id.to_string();
        let integration = claimed.integration_id.to_string();
        metrics::counter!("ricochet_rate_limit_waits_total",
            "tenant" => tenant.clone(), "integration" => integration.clone())
        .increment(1);
        metrics::histogram!("ricochet_rate_limit_wait_seconds",
            "tenant" => tenant, "integration" => integration)
        .record(seconds);
    } else {
        metrics::counter!("ricochet_rate_limit_waits_total").increment(1);
        metrics::histogram!("ricochet_rate_limit_wait_seconds").record(seconds);
    }
}

/// Records the size of a recording batch.
pub(crate) fn record_batch(size: usize) {
    metrics::histogram!("ricochet_record_batch_size").record(size as f64);
}

#[cfg(test)]
fn status_class(status: Option<i32>) -> &'static str {
    CLASSES[class_of(status)]
}

/// The status's class: its place in [`CLASSES`].
fn class_of(status: Option<i32>) -> usize {
    match status {
        Some(100..=199) => 0,
        Some(200..=299) => 1,
        Some(300..=399) => 2,
        Some(400..=499) => 3,
        Some(500..=599) => 4,
        Some(_) => 5,
        None => 6,
    }
}

/// The reason's kind, before any `:` detail (`non_retryable_status:401` counts as
/// `non_retryable_status`); anything that is not a short snake_case word is `other`, so the
/// label's values stay a small, fixed set.
fn reason_label(reason: &str) -> String {
    let kind = reason.split(':').next().unwrap_or_default();
    if !kind.is_empty()
        && kind.len() <= 40
        && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
    {
        kind.to_owned()
    } else {
        "other".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_letter_reasons_are_labelled_by_their_kind_only() {
        assert_eq!(
            reason_label("non_retryable_status:401"),
            "non_retryable_status"
        );
        assert_eq!(reason_label("retries_exhausted"), "retries_exhausted");
        assert_eq!(reason_label("invalid_header:X-Foo"), "invalid_header");
        assert_eq!(reason_label("secret `x` is missing"), "other");
        assert_eq!(reason_label(""), "other");
    }

    #[test]
    fn statuses_fall_into_their_class() {
        assert_eq!(status_class(Some(204)), "2xx");
        assert_eq!(status_class(Some(503)), "5xx");
        assert_eq!(status_class(None), "none");
    }
}
