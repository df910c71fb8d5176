//! OpenTelemetry spans of the API, made only when traces are exported (`--otlp-endpoint`):
//! one per request (a W3C `traceparent` it carries is its parent), and one per publish, whose
//! context is stored with the event so that its delivery attempts join the same trace.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SdkTracer, Span};
use ricochet_domain::{TenantId, trace_context};
use ricochet_store::StoreError;
use ricochet_store::events::Published;

/// The span of one API request, current while its handler runs. Added to the router only when
/// traces are exported, so it costs nothing otherwise.
pub async fn request(State(tracer): State<SdkTracer>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(String::new, |path| path.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let parent = req
        .headers()
        .get(trace_context::TRACEPARENT)
        .and_then(|value| value.to_str().ok())
        .and_then(trace_context::parse)
        .map_or_else(Context::new, |remote| {
            Context::new().with_remote_span_context(remote)
        });
    let span = tracer
        .span_builder(format!("{method} {route}"))
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", method),
            KeyValue::new("http.route", route),
        ])
        .start_with_context(&tracer, &parent);
    let cx = parent.with_span(span);
    let response = next.run(req).with_context(cx.clone()).await;
    let span = cx.span();
    let status = response.status();
    span.set_attribute(KeyValue::new(
        "http.response.status_code",
        i64::from(status.as_u16()),
    ));
    if status.is_server_error() {
        span.set_status(Status::error(""));
    }
    span.end();
    response
}

/// Starts the span of a publish (of `tenant`'s event `id` of type `kind`), a child of the
/// current request's span, and returns it with the `traceparent` to store with the event.
pub(crate) fn start_publish(
    tracer: &SdkTracer,
    tenant: TenantId,
    kind: &str,
    id: &str,
) -> (Span, Option<String>) {
    let span = tracer
        .span_builder("publish")
        .with_kind(SpanKind::Producer)
        .with_attributes([
            KeyValue::new("ricochet.tenant.id", tenant.0.to_string()),
            KeyValue::new("ricochet.event.type", kind.to_owned()),
            KeyValue::new("ricochet.event.id", id.to_owned()),
        ])
        .start_with_context(tracer, &Context::current());
    let traceparent = trace_context::format(span.span_context());
    (span, traceparent)
}

/// Ends a publish's span with what it made.
pub(crate) fn end_publish(mut span: Span, result: &Result<Published, StoreError>) {
    match result {
        Ok(published) => {
            span.set_attribute(KeyValue::new(
                "ricochet.deliveries",
                i64::try_from(published.deliveries.len()).unwrap_or(i64::MAX),
            ));
            // A repeated id makes nothing new: its deliveries are the original ones.
            span.set_attribute(KeyValue::new("ricochet.event.created", published.created));
        }
        Err(e) => span.set_status(Status::error(e.to_string())),
    }
    span.end();
}
