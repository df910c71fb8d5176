//! Events and event types: what a tenant publishes, and the patterns that bind types to
//! integrations (`routing.queue.member.update`, or a family such as `routing.queue.*`).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::validation::ValidationErrors;

/// Longest event type or binding pattern.
pub const MAX_EVENT_TYPE_LEN: usize = 255;
/// Longest client-chosen event id.
pub const MAX_EVENT_ID_LEN: usize = 255;
/// Longest ordering key, in bytes.
pub const MAX_ORDERING_KEY_LEN: usize = 256;
/// Most patterns in one binding request.
pub const MAX_BINDINGS_PER_REQUEST: usize = 100;
/// The event Ricochet publishes into a tenant's stream when a delivery is dead-lettered.
pub const MESSAGE_FAILED: &str = "integration.message.failed";
/// The event Ricochet publishes into a tenant's stream when an integration's circuit opens.
pub const CIRCUIT_OPENED: &str = "integration.circuit.opened";
/// The event Ricochet publishes into a tenant's stream when an integration's circuit closes.
pub const CIRCUIT_CLOSED: &str = "integration.circuit.closed";
/// The event Ricochet publishes into a tenant's stream when it disables an integration (a
/// `410 Gone`, or failing for longer than its `autoDisableAfter`).
pub const INTEGRATION_DISABLED: &str = "integration.disabled";

/// An event as a client publishes it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventIn {
    /// Dot-separated event type.
    #[serde(rename = "type")]
    #[schema(example = "routing.queue.member.update")]
    pub kind: String,
    /// The client's id for the event: publishing the same id again is a no-op. Generated when absent.
    #[schema(example = "evt_01HF3")]
    pub id: Option<String>,
    /// When the event happened; the time it was received when absent.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The event's payload: a JSON object.
    #[schema(value_type = std::collections::BTreeMap<String, Value>)]
    pub data: Value,
    /// Events with the same key (a conversation id, say) are delivered one at a time, in
    /// publish order, to integrations with `settings.ordering: perKey`. 1 to 256 bytes, no
    /// control characters.
    #[schema(example = "conversation-8841", min_length = 1, max_length = 256)]
    pub ordering_key: Option<String>,
}

impl EventIn {
    /// Checks every field.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if let Err(message) = check_event_type(&self.kind) {
            errors.add("type", message);
        }
        if let Some(id) = &self.id
            && (id.is_empty()
                || id.len() > MAX_EVENT_ID_LEN
                || !id.chars().all(|c| c.is_ascii_graphic()))
        {
            errors.add(
                "id",
                format!(
                    "must be 1 to {MAX_EVENT_ID_LEN} printable ASCII characters without spaces"
                ),
            );
        }
        if self
            .occurred_at
            .is_some_and(|at| !(1..=9999).contains(&chrono::Datelike::year(&at)))
        {
            errors.add("occurredAt", "must be a time between the years 1 and 9999");
        }
        if let Some(key) = &self.ordering_key
            && let Err(message) = check_ordering_key(key)
        {
            errors.add("orderingKey", message);
        }
        crate::validation::check_depth(&mut errors, "data", &self.data);
        crate::validation::check_no_nul(&mut errors, &self.data, "data");
        errors.finish(())
    }
}

/// Checks an ordering key: 1 to [`MAX_ORDERING_KEY_LEN`] bytes without control characters.
pub fn check_ordering_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > MAX_ORDERING_KEY_LEN || key.chars().any(char::is_control) {
        return Err(format!(
            "must be 1 to {MAX_ORDERING_KEY_LEN} bytes without control characters"
        ));
    }
    Ok(())
}

/// Event types to bind to an integration.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BindingsIn {
    /// Event types or families (`routing.queue.*`; `*` alone binds every event).
    #[schema(example = json!(["routing.queue.member.update"]))]
    pub events: Vec<String>,
}

impl BindingsIn {
    /// Checks every pattern; returns them deduplicated in their given order.
    pub fn validate(&self) -> Result<Vec<String>, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.events.is_empty() || self.events.len() > MAX_BINDINGS_PER_REQUEST {
            errors.add(
                "events",
                format!("must list 1 to {MAX_BINDINGS_PER_REQUEST} event types"),
            );
        }
        let mut patterns: Vec<String> = Vec::new();
        for (i, pattern) in self.events.iter().enumerate() {
            match check_pattern(pattern) {
                Ok(()) if !patterns.contains(pattern) => patterns.push(pattern.clone()),
                Ok(()) => {}
                Err(message) => errors.add(format!("events[{i}]"), message),
            }
        }
        errors.finish(patterns)
    }
}

fn is_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Checks a published event type: dot-separated segments of letters, digits, `_` and `-`.
pub fn check_event_type(kind: &str) -> Result<(), String> {
    if kind.len() > MAX_EVENT_TYPE_LEN {
        return Err(format!("must be at most {MAX_EVENT_TYPE_LEN} characters"));
    }
    if kind.split('.').all(is_segment) {
        Ok(())
    } else {
        Err("must be dot-separated names of letters, digits, `_` and `-`, such as `routing.queue.member.update`".into())
    }
}

/// Checks a binding pattern: an event type, or one whose last segment is `*`.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    match pattern.strip_suffix('*') {
        Some("") => Ok(()),
        Some(prefix) => match prefix.strip_suffix('.') {
            Some(family) => check_event_type(family).map_err(|_| wildcard_hint()),
            None => Err(wildcard_hint()),
        },
        None => check_event_type(pattern),
    }
}

fn wildcard_hint() -> String {
    "a wildcard may only be the whole last segment, as in `routing.queue.*`".into()
}

/// Every pattern that matches `kind`: itself, each family above it, and `*`.
/// `routing.queue.*` matches `routing.queue.member.update` but not `routing.queue` itself.
pub fn matching_patterns(kind: &str) -> Vec<String> {
    let mut patterns = vec![kind.to_owned(), "*".to_owned()];
    let mut end = kind.len();
    while let Some(dot) = kind[..end].rfind('.') {
        patterns.push(format!("{}.*", &kind[..dot]));
        end = dot;
    }
    patterns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_pattern_matches_its_descendants_only() {
        let patterns = matching_patterns("routing.queue.member.update");
        for p in [
            "routing.queue.member.update",
            "routing.queue.member.*",
            "routing.queue.*",
            "routing.*",
            "*",
        ] {
            assert!(patterns.contains(&p.to_owned()), "{p}");
        }
        assert!(!matching_patterns("routing.queue").contains(&"routing.queue.*".to_owned()));
    }

    #[test]
    fn patterns_are_checked() {
        assert!(check_pattern("routing.queue.*").is_ok());
        assert!(check_pattern("*").is_ok());
        assert!(check_pattern("routing.*.update").is_err());
        assert!(check_pattern("routing.queue*").is_err());
        assert!(check_pattern("routing..queue").is_err());
        assert!(check_event_type("routing.queue.*").is_err());
    }

    #[test]
    fn duplicate_patterns_collapse_and_bad_ones_are_each_named() {
        let input = BindingsIn {
            events: vec!["a.b".into(), "a.b".into(), "bad type".into(), "x.*".into()],
        };
        let errors = input.validate().expect_err("one pattern is invalid");
        assert!(errors.has("events[2]"));
        let ok = BindingsIn {
            events: vec!["a.b".into(), "a.b".into(), "x.*".into()],
        };
        assert_eq!(ok.validate(), Ok(vec!["a.b".to_owned(), "x.*".to_owned()]));
    }
}
