//! W3C Trace Context (`traceparent`): read from a publisher's request, stored with its event,
//! and sent to receivers. Parsing is OpenTelemetry's own propagator (every rule of the spec:
//! lowercase hex, no all-zero ids, the version's field count; the fields' widths are checked
//! here); writing re-encodes a parsed
//! span context, so what Ricochet stores or sends is always well-formed whatever it was given.

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{SpanContext, TraceContextExt, TraceFlags};
use opentelemetry_sdk::propagation::TraceContextPropagator;

/// The header's name.
pub const TRACEPARENT: &str = "traceparent";

/// The span context a `traceparent` value names, or `None` when it is not a valid one.
pub fn parse(traceparent: &str) -> Option<SpanContext> {
    // The propagator reads ids as numbers, so a short one would pass; the spec fixes widths.
    let widths = traceparent.trim().split('-').take(4).map(str::len);
    if !widths.eq([2, 32, 16, 2]) {
        return None;
    }
    let cx = TraceContextPropagator::new().extract(&One(traceparent));
    let span = cx.span();
    let context = span.span_context();
    context.is_valid().then(|| context.clone())
}

/// The `traceparent` value of a span context (version 00; only the sampled flag is kept, as
/// the spec asks of flags one does not know), or `None` for an invalid (empty) context.
pub fn format(context: &SpanContext) -> Option<String> {
    context.is_valid().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            context.trace_id(),
            context.span_id(),
            context.trace_flags() & TraceFlags::SAMPLED
        )
    })
}

/// A carrier holding only a `traceparent`.
struct One<'a>(&'a str);

impl Extractor for One<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        (key == TRACEPARENT).then_some(self.0)
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT]
    }
}

#[cfg(test)]
mod tests {
    use super::{format, parse};

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_traceparent_reads_back_as_itself() {
        let context = parse(VALID).expect("valid");
        assert_eq!(
            context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert!(context.is_sampled());
        assert!(context.is_remote());
        assert_eq!(format(&context).as_deref(), Some(VALID));
    }

    #[test]
    fn an_unsampled_trace_stays_unsampled_and_unknown_flags_are_dropped() {
        let unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
        let context = parse(unsampled).expect("valid");
        assert!(!context.is_sampled());
        assert_eq!(format(&context).as_deref(), Some(unsampled));
        let odd_flags = parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03")
            .expect("unknown flags are accepted");
        assert_eq!(format(&odd_flags).as_deref(), Some(VALID));
    }

    #[test]
    fn malformed_traceparents_are_ignored() {
        for bad in [
            "",
            "garbage",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nx: y",
        ] {
            assert!(parse(bad).is_none(), "{bad:?} must be refused");
        }
    }
}
