//! What an attempt sends: the request body built from an event and an integration's settings
//! (envelope or bare data, after transformations).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::integration::{IntegrationSettings, PayloadFormat, Transformation};
use crate::template::check_path_size;
use crate::validation::{MAX_JSON_DEPTH, json_depth};

/// An event as it is delivered.
#[derive(Debug, Clone)]
pub struct EventView<'a> {
    /// The event's id.
    pub id: &'a str,
    /// Its type.
    pub kind: &'a str,
    /// Its tenant.
    pub tenant_id: uuid::Uuid,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Its data as published.
    pub data: &'a Value,
}

/// The JSON body for `event` under `settings`, as sent: the envelope `{id, type, tenantId,
/// occurredAt, data}` or the data alone, with the transformations applied to the data. Written
/// straight from the event: without transformations its data is not copied first.
pub fn body(settings: &IntegrationSettings, event: &EventView<'_>) -> String {
    let transformed;
    let data = if settings.transformations.is_empty() {
        event.data
    } else {
        transformed = transform(&settings.transformations, event.data);
        &transformed
    };
    match settings.payload_format {
        PayloadFormat::Data => data.to_string(),
        PayloadFormat::Envelope => {
            // Fields in the order a JSON object of them has always been written (by name).
            #[derive(Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Envelope<'a> {
                data: &'a Value,
                id: &'a str,
                occurred_at: String,
                tenant_id: uuid::Uuid,
                #[serde(rename = "type")]
                kind: &'a str,
            }
            let envelope = Envelope {
                data,
                id: event.id,
                occurred_at: event
                    .occurred_at
                    .to_rfc3339_opts(SecondsFormat::Millis, true),
                tenant_id: event.tenant_id,
                kind: event.kind,
            };
            // Serializing borrowed strings, a UUID and a `Value` cannot fail.
            serde_json::to_string(&envelope).unwrap_or_default()
        }
    }
}

/// Applies `steps` to `data` in order. Field mappings read the data as published; the first one
/// starts the body afresh, so that once any mapping exists the body holds only mapped fields
/// (a source that is absent maps to nothing). `remove` and `set` change the body built so far.
/// A step whose path is beyond the limits checked at save (an integration saved before they
/// existed) is skipped, so no stored setting can build a body too deep to serialize or drop.
pub fn transform(steps: &[Transformation], data: &Value) -> Value {
    let mut out = data.clone();
    let mut mapped = false;
    for step in steps.iter().filter(|step| within_limits(step)) {
        match step {
            Transformation::FieldMapping {
                source,
                destination,
            } => {
                if !mapped {
                    out = Value::Object(Map::new());
                    mapped = true;
                }
                if let Some(value) = lookup(data, source) {
                    insert(&mut out, destination, value.clone());
                }
            }
            Transformation::Remove { path } => remove(&mut out, path),
            Transformation::Set { path, value } => insert(&mut out, path, value.clone()),
        }
    }
    out
}

fn within_limits(step: &Transformation) -> bool {
    let fits = |path: &str| check_path_size(path).is_ok();
    match step {
        Transformation::FieldMapping {
            source,
            destination,
        } => fits(source) && fits(destination),
        Transformation::Remove { path } => fits(path),
        Transformation::Set { path, value } => fits(path) && json_depth(value) <= MAX_JSON_DEPTH,
    }
}

fn remove(target: &mut Value, path: &str) {
    let (parent, last) = match path.rsplit_once('.') {
        Some((parent, last)) => (lookup_mut(target, parent), last),
        None => (Some(target), path),
    };
    if let Some(Value::Object(map)) = parent {
        map.remove(last);
    }
}

fn lookup_mut<'v>(data: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    path.split('.')
        .try_fold(data, |value, segment| match value {
            Value::Object(map) => map.get_mut(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
            _ => None,
        })
}

/// The value at a dotted path.
pub fn lookup<'v>(data: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .try_fold(data, |value, segment| match value {
            Value::Object(map) => map.get(segment),
            Value::Array(items) => segment.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
}

fn insert(target: &mut Value, path: &str, value: Value) {
    let mut current = target;
    let mut segments = path.split('.').peekable();
    while let Some(segment) = segments.next() {
        if !current.is_object() {
            *current = Value::Object(Map::new());
        }
        let Value::Object(map) = current else { return };
        if segments.peek().is_none() {
            map.insert(segment.to_owned(), value);
            return;
        }
        current = map
            .entry(segment.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn mapping(source: &str, destination: &str) -> Transformation {
        Transformation::FieldMapping {
            source: source.into(),
            destination: destination.into(),
        }
    }

    #[test]
    fn the_guides_field_mapping_keeps_exactly_the_mapped_fields() {
        let data = json!({"queueName": "support", "memberId": "agent-7", "history": [1, 2, 3]});
        let out = transform(
            &[
                mapping("queueName", "queue"),
                mapping("memberId", "agentId"),
            ],
            &data,
        );
        assert_eq!(out, json!({"queue": "support", "agentId": "agent-7"}));
    }

    #[test]
    fn nested_paths_map_into_nested_objects() {
        let data = json!({"a": {"b": [10, {"c": 3}]}});
        let out = transform(&[mapping("a.b.1.c", "x.y"), mapping("missing", "z")], &data);
        assert_eq!(out, json!({"x": {"y": 3}}));
    }

    #[test]
    fn remove_and_set_change_the_body_in_order() {
        let data = json!({"a": 1, "b": {"c": 2, "d": 3}});
        let steps = vec![
            Transformation::Remove { path: "b.c".into() },
            Transformation::Set {
                path: "b.e".into(),
                value: json!("x"),
            },
            Transformation::Remove {
                path: "missing.path".into(),
            },
        ];
        assert_eq!(
            transform(&steps, &data),
            json!({"a": 1, "b": {"d": 3, "e": "x"}})
        );
    }

    #[test]
    fn set_after_mappings_adds_to_the_mapped_body() {
        let data = json!({"queueName": "support", "secretStuff": 1});
        let steps = vec![
            mapping("queueName", "queue"),
            Transformation::Set {
                path: "source".into(),
                value: json!("ricochet"),
            },
        ];
        assert_eq!(
            transform(&steps, &data),
            json!({"queue": "support", "source": "ricochet"})
        );
    }

    #[test]
    fn without_transformations_the_data_is_sent_as_published() {
        let data = json!({"k": [1, "two"]});
        assert_eq!(transform(&[], &data), data);
    }

    #[test]
    fn the_envelope_is_written_as_the_object_of_its_fields() {
        let data = json!({"b": [1, {"c": null}], "a": "x\"y"});
        let event = EventView {
            id: "evt_1",
            kind: "order.created",
            tenant_id: uuid::Uuid::from_u128(7),
            occurred_at: DateTime::parse_from_rfc3339("2026-12-06T10:00:00.123456Z")
                .expect("a valid time")
                .with_timezone(&Utc),
            data: &data,
        };
        let mut settings: IntegrationSettings =
            serde_json::from_value(json!({"url": "https://example.com/hook"}))
                .expect("valid settings");
        let expected = json!({
            "id": "evt_1",
            "type": "order.created",
            "tenantId": "00000000-0000-0000-0000-000000000007",
            "occurredAt": "2026-12-06T10:00:00.123Z",
            "data": data,
        });
        assert_eq!(body(&settings, &event), expected.to_string());
        settings.transformations = vec![mapping("a", "z")];
        assert_eq!(
            serde_json::from_str::<Value>(&body(&settings, &event)).expect("a JSON body")["data"],
            json!({"z": "x\"y"})
        );
        settings.payload_format = PayloadFormat::Data;
        assert_eq!(body(&settings, &event), r#"{"z":"x\"y"}"#);
        settings.transformations.clear();
        assert_eq!(body(&settings, &event), data.to_string());
    }
}
