//! The OpenTelemetry span of a delivery attempt, made only when traces are exported
//! (`--otlp-endpoint`). Its parent is the publish span whose context the event stored, so an
//! attempt made later, on any worker process, joins the publisher's trace; the receiver gets
//! the attempt span's own `traceparent`.

use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SdkTracer, Span};
use ricochet_domain::outcome::Outcome;
use ricochet_domain::schedule::Decision;
use ricochet_domain::trace_context;
use ricochet_store::deliveries::{AttemptRecord, Claimed};

/// Starts the span of attempt number `claimed.attempt_count + 1`, and returns it with the
/// `traceparent` to send.
pub(crate) fn start_attempt(tracer: &SdkTracer, claimed: &Claimed) -> (Span, Option<String>) {
    let parent = claimed
        .traceparent
        .as_deref()
        .and_then(trace_context::parse)
        .map_or_else(Context::new, |publish| {
            Context::new().with_remote_span_context(publish)
        });
    let span = tracer
        .span_builder("attempt")
        .with_kind(SpanKind::Client)
        .with_attributes([
            KeyValue::new("ricochet.tenant.id", claimed.tenant_id.to_string()),
            KeyValue::new(
                "ricochet.integration.id",
                claimed.integration_id.to_string(),
            ),
            KeyValue::new("ricochet.delivery.id", claimed.id.to_string()),
            KeyValue::new("ricochet.event.id", claimed.event_id.clone()),
            KeyValue::new("ricochet.attempt", i64::from(claimed.attempt_count) + 1),
            KeyValue::new("http.request.method", claimed.settings.http_method.as_str()),
        ])
        .start_with_context(tracer, &parent);
    let traceparent = trace_context::format(span.span_context());
    (span, traceparent)
}

/// Ends an attempt's span with what came back and what follows.
pub(crate) fn end_attempt(
    mut span: Span,
    record: &AttemptRecord,
    outcome: &Outcome,
    decision: &Decision,
) {
    span.set_attribute(match outcome {
        Outcome::Status(code) => KeyValue::new("http.response.status_code", i64::from(*code)),
        Outcome::Error(kind) => KeyValue::new("error.type", kind.as_str()),
    });
    span.set_attribute(KeyValue::new(
        "ricochet.attempt.duration_ms",
        i64::from(record.duration_ms),
    ));
    let next = match decision {
        Decision::Succeeded => "succeeded",
        Decision::Retry { .. } => "retry",
        Decision::DeadLetter(_) => "dead_lettered",
    };
    span.set_attribute(KeyValue::new("ricochet.attempt.next", next));
    if !matches!(decision, Decision::Succeeded) {
        span.set_status(Status::error(record.error_kind.clone().unwrap_or_default()));
    }
    span.end();
}
