//! Prometheus metrics (`metrics` + `metrics-exporter-prometheus`): the process-wide recorder,
//! the `/metrics` page, and the HTTP middleware counting API requests by matched route.
//!
//! `metrics` was chosen over `prometheus-client` as axum's own example does: free label pairs
//! and one global recorder, so the worker and the API record without handles threaded through
//! them. Labels stay bounded: routes are the router's templates, never raw paths.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Buckets of durations, seconds: 5 ms to 60 s.
const SECONDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
];
/// Buckets of batch sizes.
const SIZES: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// Installs the process-wide recorder (once; later calls return the same handle). Without it
/// every metric call is a no-op.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS)
                .expect("the duration buckets are not empty")
                .set_buckets_for_metric(Matcher::Suffix("_batch_size".into()), &SIZES)
                .expect("the size buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics stays empty");
            }
            describe();
            handle
        })
        .clone()
}

/// The installed recorder's handle, if [`install`] ran.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE.get()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "ricochet_events_published_total",
        "Events accepted (repeats of an id excluded)."
    );
    describe_counter!(
        "ricochet_deliveries_created_total",
        "Deliveries made by publishing."
    );
    describe_histogram!(
        "ricochet_publish_batch_size",
        "Events committed per publishing batch."
    );
    describe_counter!(
        "ricochet_attempts_total",
        "Attempts recorded, by outcome and status class."
    );
    describe_histogram!(
        "ricochet_attempt_duration_seconds",
        Unit::Seconds,
        "How long attempts took."
    );
    describe_counter!(
        "ricochet_deliveries_finished_total",
        "Attempts by where they moved their delivery: succeeded, retry or dead_lettered."
    );
    describe_counter!(
        "ricochet_dead_letters_total",
        "Deliveries dead-lettered, by reason (its prefix)."
    );
    describe_histogram!(
        "ricochet_record_batch_size",
        "Attempts written per recording batch."
    );
    describe_gauge!(
        "ricochet_queue_depth",
        "Deliveries waiting, by state: due (pending, due now), scheduled (pending, later), in_flight, paused (integration disabled), blocked (behind an earlier delivery of their ordering key)."
    );
    describe_gauge!(
        "ricochet_queue_held_back",
        "Due deliveries held back to protect their receiver, by reason: circuit (not closed), paused (Retry-After), concurrency (maxConcurrency reached), rate_limit."
    );
    describe_counter!(
        "ricochet_rate_limit_waits_total",
        "Attempts whose start their integration's rate limit put later (paced in the claim)."
    );
    describe_histogram!(
        "ricochet_rate_limit_wait_seconds",
        Unit::Seconds,
        "How much later the rate limit put those starts."
    );
    describe_gauge!(
        "ricochet_circuits",
        "Enabled integrations by circuit-breaker state: closed, open or half_open."
    );
    describe_gauge!(
        "ricochet_integrations_disabled",
        "Integrations disabled (by a user, a 410 Gone or autoDisableAfter)."
    );
    describe_gauge!(
        "ricochet_integrations_paused",
        "Enabled integrations paused by a receiver's Retry-After (circuit closed)."
    );
    describe_gauge!(
        "ricochet_queue_lag_seconds",
        Unit::Seconds,
        "Age of the oldest due delivery (0 when none is due)."
    );
    describe_gauge!(
        "ricochet_db_pool_connections",
        "Database pool connections, idle or in use."
    );
    describe_counter!(
        "ricochet_http_requests_total",
        "API requests by matched route, method and status."
    );
    describe_histogram!(
        "ricochet_http_request_duration_seconds",
        Unit::Seconds,
        "API request latency by matched route."
    );
}

/// `GET /metrics`: the Prometheus text format.
pub async fn render() -> Response {
    let body = handle().map(PrometheusHandle::render).unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// A router serving only `/metrics` (for `--metrics-listen`).
pub fn router() -> axum::Router {
    axum::Router::new().route("/metrics", axum::routing::get(render))
}

/// Counts a request and times it, labelled with the route template that matched.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let start = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("ricochet_http_request_duration_seconds", "route" => route.clone(), "method" => method.clone())
        .record(start.elapsed().as_secs_f64());
    metrics::counter!("ricochet_http_requests_total", "route" => route, "method" => method, "status" => status)
        .increment(1);
    response
}

/// Counts what a publishing batch committed.
pub(crate) fn published(results: &[ricochet_store::events::Published]) {
    metrics::histogram!("ricochet_publish_batch_size").record(results.len() as f64);
    let created = results.iter().filter(|r| r.created);
    let (events, deliveries) = created.fold((0u64, 0u64), |(e, d), r| {
        (e + 1, d + r.deliveries.len() as u64)
    });
    metrics::counter!("ricochet_events_published_total").increment(events);
    metrics::counter!("ricochet_deliveries_created_total").increment(deliveries);
}
