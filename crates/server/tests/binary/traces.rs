//! OpenTelemetry traces from the real binary: with `--otlp-endpoint` on a loopback OTLP/HTTP
//! collector, a publish and its attempts arrive as spans of the publisher's own trace, and the
//! receiver gets the attempt's `traceparent` (and `GET /api/v2/events/{id}` the publish's);
//! without it, no `traceparent` is sent or stored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::StatusCode as HttpStatus;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use prost::Message as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::*;
use crate::receiver::{Receiver, Reply};

/// The publisher's own trace, as its `traceparent` names it.
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PUBLISHER_SPAN: &str = "00f067aa0ba902b7";

/// One span the collector received.
#[derive(Debug, Clone)]
struct Seen {
    service: String,
    name: String,
    trace: String,
    id: String,
    parent: String,
    attributes: HashMap<String, Value>,
}

/// A loopback OTLP/HTTP collector: decodes every `ExportTraceServiceRequest` posted to
/// `/v1/traces` and keeps its spans.
struct Collector {
    base: String,
    spans: Arc<Mutex<Vec<Seen>>>,
}

impl Collector {
    async fn start() -> Collector {
        let spans = Arc::new(Mutex::new(Vec::new()));
        let kept = spans.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move |body: Bytes| {
                let kept = kept.clone();
                async move {
                    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
                        return HttpStatus::BAD_REQUEST;
                    };
                    kept.lock().expect("spans lock").extend(seen(request));
                    HttpStatus::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the collector");
        let addr = listener.local_addr().expect("its address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Collector {
            base: format!("http://{addr}"),
            spans,
        }
    }

    /// Waits until spans named `name` of `trace` number `n`; returns the trace's spans.
    async fn wait_for(&self, trace: &str, name: &str, n: usize) -> Vec<Seen> {
        let start = Instant::now();
        loop {
            let spans: Vec<Seen> = self
                .spans
                .lock()
                .expect("spans lock")
                .iter()
                .filter(|s| s.trace == trace)
                .cloned()
                .collect();
            if spans.iter().filter(|s| s.name == name).count() >= n {
                return spans;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{n} {name} span(s) of {trace} never arrived; got {spans:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn value(any: Option<&Any>) -> Value {
    match any {
        Some(Any::StringValue(s)) => json!(s),
        Some(Any::IntValue(i)) => json!(i),
        Some(Any::BoolValue(b)) => json!(b),
        Some(Any::DoubleValue(d)) => json!(d),
        _ => Value::Null,
    }
}

fn seen(request: ExportTraceServiceRequest) -> Vec<Seen> {
    let mut spans = Vec::new();
    for resource in request.resource_spans {
        let service = resource
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|kv| kv.key == "service.name")
            .map(|kv| value(kv.value.as_ref().and_then(|v| v.value.as_ref())))
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        for span in resource.scope_spans.into_iter().flat_map(|s| s.spans) {
            spans.push(Seen {
                service: service.clone(),
                name: span.name,
                trace: hex(&span.trace_id),
                id: hex(&span.span_id),
                parent: hex(&span.parent_span_id),
                attributes: span
                    .attributes
                    .iter()
                    .map(|kv| {
                        (
                            kv.key.clone(),
                            value(kv.value.as_ref().and_then(|v| v.value.as_ref())),
                        )
                    })
                    .collect(),
            });
        }
    }
    spans
}

fn named<'a>(spans: &'a [Seen], name: &str) -> Vec<&'a Seen> {
    spans.iter().filter(|s| s.name == name).collect()
}

/// `traceparent`'s trace id and span id.
fn ids(traceparent: &str) -> (&str, &str) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "not a traceparent: {traceparent:?}");
    (parts[1], parts[2])
}

async fn publish(api: &Api, id: &str, headers: &[(&str, &str)]) -> Value {
    let (status, body) = api
        .send(
            Method::POST,
            "/api/v2/events",
            Some(json!({"type": "order.created", "id": id, "data": {"n": 1}})),
            headers,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    serde_json::from_str(&body).expect("json")
}

fn traced(dir: &DataDir, collector: &Collector) -> Server {
    Server::role(
        dir,
        "serve",
        &[
            ("RICOCHET_OTLP_ENDPOINT", collector.base.as_str()),
            // Batches leave every 100 ms rather than every 5 s.
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_and_its_attempt_arrive_as_spans_of_the_publishers_trace_and_the_receiver_gets_the_attempts_traceparent()
 {
    let dir = DataDir::new();
    let collector = Collector::start().await;
    let receiver = Receiver::start().await;
    let server = traced(&dir, &collector);
    let api = Api::provision(&server, &dir).await;
    let hook = api
        .hook("traced", &receiver.url, "order.created", json!({}))
        .await;
    let incoming = format!("00-{TRACE}-{PUBLISHER_SPAN}-01");
    let published = publish(&api, "o-1", &[("traceparent", &incoming)]).await;
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("a delivery")
        .to_owned();

    let hits = receiver.wait_for(1, DEADLINE).await;
    let sent = hits[0].header("traceparent").to_owned();
    let spans = collector.wait_for(TRACE, "attempt", 1).await;

    let request = named(&spans, "POST /api/v2/events");
    assert_eq!(request.len(), 1, "{spans:#?}");
    assert_eq!(
        request[0].parent, PUBLISHER_SPAN,
        "the publisher's span is the request's parent"
    );
    assert_eq!(request[0].attributes["http.route"], "/api/v2/events");
    assert_eq!(request[0].attributes["http.response.status_code"], 202);
    assert_eq!(request[0].service, "ricochet");

    let publish = named(&spans, "publish");
    assert_eq!(publish.len(), 1, "{spans:#?}");
    assert_eq!(publish[0].parent, request[0].id);
    assert_eq!(publish[0].attributes["ricochet.event.id"], "o-1");
    assert_eq!(
        publish[0].attributes["ricochet.event.type"],
        "order.created"
    );
    assert_eq!(publish[0].attributes["ricochet.deliveries"], 1);
    assert!(publish[0].attributes["ricochet.tenant.id"].is_string());

    let attempt = named(&spans, "attempt");
    assert_eq!(attempt.len(), 1, "{spans:#?}");
    assert_eq!(
        attempt[0].parent, publish[0].id,
        "the attempt continues the publish"
    );
    assert_eq!(
        attempt[0].attributes["ricochet.delivery.id"],
        delivery.as_str()
    );
    assert_eq!(
        attempt[0].attributes["ricochet.integration.id"],
        hook.as_str()
    );
    assert_eq!(
        attempt[0].attributes["ricochet.tenant.id"],
        publish[0].attributes["ricochet.tenant.id"]
    );
    assert_eq!(attempt[0].attributes["ricochet.attempt"], 1);
    assert_eq!(attempt[0].attributes["http.response.status_code"], 200);
    assert!(attempt[0].attributes["ricochet.attempt.duration_ms"].is_i64());

    assert_eq!(
        ids(&sent),
        (TRACE, attempt[0].id.as_str()),
        "the receiver sees the attempt span"
    );
    // The attempt's log shows the header it sent.
    let logged = api.get(&format!("/api/v2/deliveries/{delivery}")).await;
    assert!(logged.to_string().contains(&sent), "{logged}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_shows_the_traceparent_of_its_publish_span_in_the_publishers_trace() {
    let dir = DataDir::new();
    let collector = Collector::start().await;
    let receiver = Receiver::start().await;
    let server = traced(&dir, &collector);
    let api = Api::provision(&server, &dir).await;
    api.hook("traced", &receiver.url, "order.created", json!({}))
        .await;
    let incoming = format!("00-{TRACE}-{PUBLISHER_SPAN}-01");
    publish(&api, "o-5", &[("traceparent", &incoming)]).await;

    let spans = collector.wait_for(TRACE, "publish", 1).await;
    let publish = named(&spans, "publish");
    let event = api.get("/api/v2/events/o-5").await;
    let stored = event["traceparent"].as_str().expect("a traceparent");
    assert_eq!(ids(stored), (TRACE, publish[0].id.as_str()), "{event}");
    assert!(
        stored.starts_with("00-") && stored.ends_with("-01"),
        "{stored}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_claimed_from_the_queue_later_still_joins_the_trace_the_event_stored() {
    let dir = DataDir::new();
    let collector = Collector::start().await;
    let receiver = Receiver::first_then_ok(|| Reply::status(503)).await;
    let server = traced(&dir, &collector);
    let api = Api::provision(&server, &dir).await;
    api.hook(
        "flaky",
        &receiver.url,
        "order.created",
        json!({"retryPolicy": {"retryDelay": 50}}),
    )
    .await;
    let incoming = format!("00-{TRACE}-{PUBLISHER_SPAN}-01");
    publish(&api, "o-2", &[("traceparent", &incoming)]).await;

    let hits = receiver.wait_for(2, DEADLINE).await;
    let spans = collector.wait_for(TRACE, "attempt", 2).await;
    let publish = named(&spans, "publish");
    assert_eq!(publish.len(), 1, "{spans:#?}");
    let mut attempts = named(&spans, "attempt");
    attempts.sort_by_key(|s| s.attributes["ricochet.attempt"].as_i64());
    assert_eq!(attempts[0].attributes["http.response.status_code"], 503);
    assert_eq!(attempts[0].attributes["ricochet.attempt.next"], "retry");
    assert_eq!(attempts[1].attributes["ricochet.attempt"], 2);
    assert_eq!(attempts[1].attributes["http.response.status_code"], 200);
    for (attempt, hit) in attempts.iter().zip(&hits) {
        assert_eq!(attempt.parent, publish[0].id);
        assert_eq!(ids(hit.header("traceparent")), (TRACE, attempt.id.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_of_a_batch_gets_its_publish_span_and_its_attempts_continue_it() {
    let dir = DataDir::new();
    let collector = Collector::start().await;
    let receiver = Receiver::start().await;
    let server = traced(&dir, &collector);
    let api = Api::provision(&server, &dir).await;
    api.hook("batched", &receiver.url, "order.created", json!({}))
        .await;
    let incoming = format!("00-{TRACE}-{PUBLISHER_SPAN}-01");
    let events = json!({"events": [
        {"type": "order.created", "id": "b-1", "data": {}},
        {"type": "order.created", "id": "b-2", "data": {}},
    ]});
    let (status, body) = api
        .send(
            Method::POST,
            "/api/v2/events/batch",
            Some(events),
            &[("traceparent", &incoming)],
        )
        .await;
    assert!(status.is_success(), "{status} {body}");

    let hits = receiver.wait_for(2, DEADLINE).await;
    let spans = collector.wait_for(TRACE, "attempt", 2).await;
    let request = named(&spans, "POST /api/v2/events/batch");
    assert_eq!(request.len(), 1, "{spans:#?}");
    assert_eq!(request[0].parent, PUBLISHER_SPAN);
    let publishes = named(&spans, "publish");
    assert_eq!(publishes.len(), 2, "{spans:#?}");
    for event in ["b-1", "b-2"] {
        let publish = publishes
            .iter()
            .find(|s| s.attributes["ricochet.event.id"] == event)
            .unwrap_or_else(|| panic!("no publish span of {event}: {spans:#?}"));
        assert_eq!(publish.parent, request[0].id);
        let attempt = named(&spans, "attempt")
            .into_iter()
            .find(|s| s.attributes["ricochet.event.id"] == event)
            .unwrap_or_else(|| panic!("no attempt span of {event}: {spans:#?}"));
        assert_eq!(attempt.parent, publish.id);
        let hit = hits
            .iter()
            .find(|h| h.header("webhook-id") == event)
            .expect("its delivery");
        assert_eq!(ids(hit.header("traceparent")), (TRACE, attempt.id.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_made_by_another_worker_process_after_the_publish_joins_the_publishers_trace() {
    let dir = DataDir::new();
    let collector = Collector::start().await;
    let receiver = Receiver::start().await;
    let role_env = |service: &'static str| {
        [
            ("RICOCHET_OTLP_ENDPOINT", collector.base.clone()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
            ("OTEL_SERVICE_NAME", service.to_owned()),
        ]
    };
    let api_env = role_env("ricochet-api");
    let api_env: Vec<(&str, &str)> = api_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The API role alone: nothing is delivered until a worker process starts.
    let api_only = Server::role(&dir, "api", &api_env);
    let api = Api::provision(&api_only, &dir).await;
    api.hook("later", &receiver.url, "order.created", json!({}))
        .await;
    let incoming = format!("00-{TRACE}-{PUBLISHER_SPAN}-01");
    publish(&api, "o-4", &[("traceparent", &incoming)]).await;
    collector.wait_for(TRACE, "publish", 1).await;
    assert!(receiver.hits().is_empty());

    let worker_env = role_env("ricochet-worker");
    let worker_env: Vec<(&str, &str)> = worker_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let _worker = Server::role(&dir, "worker", &worker_env);
    let hits = receiver.wait_for(1, DEADLINE).await;
    let spans = collector.wait_for(TRACE, "attempt", 1).await;
    let publish = named(&spans, "publish");
    let attempt = named(&spans, "attempt");
    assert_eq!(publish[0].service, "ricochet-api");
    assert_eq!(attempt[0].service, "ricochet-worker");
    assert_eq!(attempt[0].parent, publish[0].id);
    assert_eq!(
        ids(hits[0].header("traceparent")),
        (TRACE, attempt[0].id.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_otlp_endpoint_no_traceparent_reaches_the_receiver() {
    let dir = DataDir::new();
    let receiver = Receiver::start().await;
    let server = Server::start(&dir);
    let api = Api::provision(&server, &dir).await;
    api.hook("untraced", &receiver.url, "order.created", json!({}))
        .await;
    let incoming = format!("00-{TRACE}-{PUBLISHER_SPAN}-01");
    publish(&api, "o-3", &[("traceparent", &incoming)]).await;

    let hits = receiver.wait_for(1, DEADLINE).await;
    assert!(
        !hits[0].headers.contains_key("traceparent"),
        "{:?}",
        hits[0].headers
    );
    let event = api.get("/api/v2/events/o-3").await;
    assert_eq!(event["traceparent"], Value::Null, "{event}");
}
