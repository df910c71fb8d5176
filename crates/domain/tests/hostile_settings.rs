//! Bounded fuzzing of the code a request drives: templates, transformations and the request
//! built from them. Whatever a user sends, validation answers and rendering finishes: no panic,
//! no unbounded recursion.

use proptest::prelude::*;
use ricochet_domain::integration::{IntegrationIn, Transformation};
use ricochet_domain::payload::{EventView, transform};
use ricochet_domain::request::{RequestContext, prepare};
use ricochet_domain::template::Template;
use serde_json::{Value, json};

/// JSON values up to a few levels deep, with keys that collide with the paths generated.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-c0-9]{0,3}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 48, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-c0-2]{1,2}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Dotted paths, often deep, sometimes malformed (empty names, numbers, stray dots).
fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec("[a-c0-2]{0,2}", 1..80).prop_map(|segments| segments.join(".")),
        "[a-c.0-2{}]{0,40}",
    ]
}

fn step() -> impl Strategy<Value = Transformation> {
    prop_oneof![
        (path(), path()).prop_map(|(source, destination)| Transformation::FieldMapping {
            source,
            destination
        }),
        path().prop_map(|path| Transformation::Remove { path }),
        (path(), json_value()).prop_map(|(path, value)| Transformation::Set { path, value }),
    ]
}

fn integration(
    url: String,
    header: String,
    body: Option<String>,
    steps: Vec<Transformation>,
) -> IntegrationIn {
    let mut integration: IntegrationIn = serde_json::from_value(json!({
        "name": "fuzzed",
        "settings": { "url": "http://example.com/" }
    }))
    .expect("a minimal integration deserializes");
    integration.settings.url = url;
    integration.settings.headers.insert("X-Fuzz".into(), header);
    integration.settings.body_template = body;
    integration.settings.transformations = steps;
    integration
}

/// Template text: placeholders, partial delimiters, secrets and deep data paths mixed.
fn template_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-z /:?=é]{0,6}",
        Just("{{".to_owned()),
        Just("}}".to_owned()),
        Just("<<secret:".to_owned()),
        Just(">>".to_owned()),
        Just("{{eventId}}".to_owned()),
        Just("{{secret:tok}}".to_owned()),
        path().prop_map(|p| format!("{{{{data.{p}}}}}")),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn template_parsing_never_panics(source in template_text()) {
        if let Ok(template) = Template::parse(&source) {
            let _ = template.render(|v| v.to_string());
        }
    }

    #[test]
    fn transformations_of_any_shape_finish_and_serialize(
        data in json_value(),
        steps in prop::collection::vec(step(), 0..8),
    ) {
        let out = transform(&steps, &data);
        prop_assert!(serde_json::to_string(&out).is_ok());
    }

    #[test]
    fn a_valid_integration_always_renders_its_request(
        url in template_text().prop_map(|t| format!("http://example.com/{t}")),
        header in template_text(),
        body in proptest::option::of(template_text()),
        steps in prop::collection::vec(step(), 0..8),
        data in json_value(),
    ) {
        let integration = integration(url, header, body, steps);
        if integration.validate().is_ok() {
            let ctx = RequestContext {
                event: EventView {
                    id: "evt-1",
                    kind: "order.created",
                    tenant_id: uuid::Uuid::nil(),
                    occurred_at: chrono::Utc::now(),
                    data: &data,
                },
                integration_id: uuid::Uuid::nil(),
                delivery_id: None,
                sent_at: chrono::Utc::now(),
                attempt: 1,
            };
            prop_assert!(prepare(&integration.settings, &ctx, &|_| Some("v".into())).is_ok());
        }
    }
}

#[test]
fn a_path_of_ten_thousand_names_is_refused_and_never_applied() {
    let deep = vec!["a"; 10_000].join(".");
    let steps = vec![Transformation::Set {
        path: deep.clone(),
        value: json!(1),
    }];
    let integration = integration(
        "http://example.com/".into(),
        "x".into(),
        None,
        steps.clone(),
    );
    let errors = integration
        .validate()
        .expect_err("a 10,000-name path is refused");
    assert!(errors.has("settings.transformations[0].path"), "{errors:?}");
    // A setting stored before the limit existed builds nothing deep either.
    assert_eq!(transform(&steps, &json!({"k": 1})), json!({"k": 1}));
    let data_path = format!("{{{{data.{deep}}}}}");
    assert!(Template::parse(&data_path).is_err());
}

#[test]
fn event_data_and_set_values_deeper_than_the_limit_are_refused() {
    let mut deep = json!(1);
    for _ in 0..=ricochet_domain::validation::MAX_JSON_DEPTH {
        deep = json!([deep]);
    }
    let event: ricochet_domain::event::EventIn =
        serde_json::from_value(json!({"type": "a.b", "data": deep})).expect("deserializes");
    assert!(event.validate().expect_err("too deep").has("data"));
    let steps = vec![Transformation::Set {
        path: "x".into(),
        value: deep,
    }];
    let integration = integration("http://example.com/".into(), "x".into(), None, steps);
    assert!(
        integration
            .validate()
            .expect_err("too deep")
            .has("settings.transformations[0].value")
    );
}
