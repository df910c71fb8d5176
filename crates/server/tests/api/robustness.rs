//! Hostile input never crashes the service: size and depth limits at save and preview, NUL in
//! path and query parameters.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{ADMIN_KEY, Session, TestApp, fields, problem};

/// An integration whose one transformation sets a field at a path of 10,000 names: a 20 KB
/// body that once overflowed the stack wherever the body it builds was used.
fn ten_thousand_name_path(url: &str) -> Value {
    let path = vec!["a"; 10_000].join(".");
    json!({
        "name": "deep",
        "settings": {
            "url": url,
            "transformations": [{ "type": "set", "path": path, "value": 1 }]
        }
    })
}

#[tokio::test]
async fn a_transformation_path_of_ten_thousand_names_is_a_422_at_preview_and_at_save() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let deep = ten_thousand_name_path("http://127.0.0.1:9/hook");
    let field = "settings.transformations[0].path";
    let event = json!({ "type": "order.created", "data": { "a": 1 } });

    let preview = s
        .req(Method::POST, "/api/v2/integrations/preview")
        .json(&json!({ "integration": deep, "event": event }))
        .send()
        .await
        .expect("preview");
    let preview = problem(preview, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&preview), vec![format!("integration.{field}")]);

    let created = s.create_integration(&deep).await;
    assert_eq!(
        fields(&problem(created, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec![field]
    );

    let id = s
        .integration("shallow", "http://127.0.0.1:9/hook", json!({}))
        .await;
    let replaced = s
        .req(Method::PUT, &format!("/api/v2/integrations/{id}"))
        .json(&deep)
        .send()
        .await
        .expect("put");
    assert_eq!(
        fields(&problem(replaced, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec![field]
    );
    let patched = s
        .req(Method::PATCH, &format!("/api/v2/integrations/{id}"))
        .header("content-type", "application/merge-patch+json")
        .json(&json!({ "settings": deep["settings"] }))
        .send()
        .await
        .expect("patch");
    assert_eq!(
        fields(&problem(patched, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec![field]
    );

    // Nothing was written, and the server is still there to say so.
    let saved = s.get_json(&format!("/api/v2/integrations/{id}")).await;
    assert_eq!(saved["settings"]["transformations"], json!([]));
    assert_eq!(app.count("integrations", &tenant.id).await, 1);
}

#[tokio::test]
async fn event_data_nested_deeper_than_the_limit_is_a_422_naming_data() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let mut data = json!(1);
    for _ in 0..65 {
        data = json!({ "k": data });
    }

    let (status, body) = s
        .publish(&json!({ "type": "order.created", "data": data }))
        .await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&body), vec!["data"]);
}

/// Every operation of the served OpenAPI document, with its path and query parameters.
async fn operations(app: &TestApp) -> Vec<(Method, String, Vec<String>, Vec<String>)> {
    let spec: Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("spec")
        .json()
        .await
        .expect("json");
    let mut found = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                continue;
            };
            let params = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let named = |place: &str| -> Vec<String> {
                params
                    .iter()
                    .filter(|p| p["in"] == place)
                    .filter_map(|p| p["name"].as_str().map(str::to_owned))
                    .collect()
            };
            found.push((method, path.clone(), named("path"), named("query")));
        }
    }
    found
}

#[tokio::test]
async fn nul_in_any_path_or_query_parameter_is_a_400_on_every_route() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let mut checked = Vec::new();

    for (method, template, path_params, query_params) in operations(&app).await {
        // Once with NUL in every path parameter, once with NUL in every query parameter only.
        let mut cases = Vec::new();
        if !path_params.is_empty() {
            let mut path = template.clone();
            for name in &path_params {
                path = path.replace(&format!("{{{name}}}"), "a%00b");
            }
            cases.push(path);
        }
        if !query_params.is_empty() {
            let mut path = template.clone();
            for name in &path_params {
                path = path.replace(&format!("{{{name}}}"), &uuid::Uuid::now_v7().to_string());
            }
            let query: Vec<String> = query_params.iter().map(|q| format!("{q}=%00")).collect();
            cases.push(format!("{path}?{}", query.join("&")));
        }
        for path in cases {
            let request = if template.starts_with("/api/v2/tenants") {
                app.http
                    .request(method.clone(), app.url(&path))
                    .bearer_auth(ADMIN_KEY)
            } else {
                s.req(method.clone(), &path)
            };
            let response = request
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .expect("request");
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {body}");
            assert!(body.contains("NUL"), "{method} {path}: {body}");
            checked.push(format!("{method} {path}"));
        }
    }

    for expected in [
        "GET /api/v2/deadletters?",
        "GET /api/v2/secrets/a%00b",
        "DELETE /api/v2/integrations/a%00b",
        "GET /api/v2/integrations/",
    ] {
        assert!(
            checked.iter().any(|c| c.starts_with(expected)),
            "{expected} was not walked: {checked:?}"
        );
    }
}

/// A GET's status and JSON body (null when it has none).
async fn status_and_json(s: &Session<'_>, path: &str) -> (StatusCode, Value) {
    let response = s.req(Method::GET, path).send().await.expect("request");
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

/// Publishes three `order.created` events, each answered 202 with `per_event` deliveries;
/// the ids of the deliveries to `integration`.
async fn publish_three(s: &Session<'_>, per_event: usize, integration: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 0..3 {
        let (status, published) = s
            .publish(&json!({ "type": "order.created", "data": { "n": n } }))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{published}");
        let deliveries = published["deliveries"].as_array().expect("deliveries");
        assert_eq!(deliveries.len(), per_event, "{published}");
        ids.extend(
            deliveries
                .iter()
                .filter(|d| d["integrationId"] == integration)
                .map(|d| d["deliveryId"].as_str().expect("id").to_owned()),
        );
    }
    ids
}

/// Waits (up to a minute for each) until each of `deliveries` is dead-lettered, as
/// `worker_lost`.
async fn wait_worker_lost(s: &Session<'_>, deliveries: &[String]) {
    for delivery in deliveries {
        let ended = s
            .wait_delivery(delivery, std::time::Duration::from_secs(60), |d| {
                d["status"] == "dead_lettered"
            })
            .await;
        assert_eq!(ended["reason"], "worker_lost", "{ended}");
    }
}

/// An integration whose stored settings no longer parse (edited in the database, or written by
/// a newer version before a rollback) fails alone: its tenant's integrations still read, with
/// its stored settings as they are; a use that needs them is a 409 that says so; the deliveries
/// published with it to another integration are delivered, and its own end dead-lettered (as
/// `worker_lost`, once their leases expired) rather than looping. A merge patch mends it, and
/// its dead letters replay.
#[tokio::test]
async fn an_integration_whose_stored_settings_no_longer_parse_holds_up_no_other_and_can_be_mended()
{
    use crate::receiver::Receiver;
    use std::time::Duration;

    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let (good_receiver, bad_receiver) = (Receiver::start().await, Receiver::start().await);
    s.order_hook("good", &good_receiver.url, json!({})).await;
    let bad = s
        .order_hook("bad", &bad_receiver.url, json!({ "requestTimeout": 200 }))
        .await;
    sqlx::query(
        "UPDATE integrations SET settings = settings || '{\"noSuchField\": 1}', version = version + 1
         WHERE id = $1::uuid",
    )
    .bind(&bad)
    .execute(&app.pool)
    .await
    .expect("settings no version of Ricochet accepts");
    let get = async |path: &str| status_and_json(&s, path).await;

    let (status, listed) = get("/api/v2/integrations").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(2), "{listed}");
    let (status, read) = get(&format!("/api/v2/integrations/{bad}")).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(
        read["settings"]["noSuchField"], 1,
        "shown as stored: {read}"
    );
    let preview = s
        .req(Method::POST, &format!("/api/v2/integrations/{bad}/preview"))
        .json(&json!({ "type": "order.created", "data": {} }))
        .send()
        .await
        .expect("request");
    let problem = problem(preview, StatusCode::CONFLICT).await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("noSuchField")),
        "{problem}"
    );

    let bad_deliveries = publish_three(&s, 2, &bad).await;
    good_receiver.wait_for(3, Duration::from_secs(20)).await;
    wait_worker_lost(&s, &bad_deliveries).await;
    assert!(
        bad_receiver.hits().is_empty(),
        "nothing was sent with settings that do not parse"
    );
    assert_eq!(good_receiver.hits().len(), 3);

    let mended = s
        .req(Method::PATCH, &format!("/api/v2/integrations/{bad}"))
        .header("content-type", "application/merge-patch+json")
        .body(json!({ "settings": { "noSuchField": null } }).to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(mended.status(), StatusCode::OK);
    for delivery in &bad_deliveries {
        assert_eq!(s.replay(delivery).await, StatusCode::ACCEPTED);
    }
    bad_receiver.wait_for(3, Duration::from_secs(20)).await;
}

/// Stored settings whose numbers are of the wrong type, or beyond any range Ricochet accepts
/// (a database edit, or a rollback past a version that wrote them), fail no statement: every
/// statement that reads them (the publish's route, the claim, the lane settle, the health an
/// integration shows, the metrics sampler's protection counts) takes such a number as its
/// default, or as the nearest bound a user could have saved. So the publishes answer 202, a
/// healthy neighbour gets its deliveries, the integration whose numbers are too large gets its
/// own (bounded as if they were at their limits), and the one whose numbers are not numbers
/// ends its deliveries dead-lettered as `worker_lost` (its settings do not parse).
#[tokio::test]
async fn stored_settings_numbers_of_the_wrong_type_or_beyond_every_limit_fail_no_statement() {
    use crate::receiver::Receiver;
    use std::time::Duration;

    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let receivers = [
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    ];
    let [good, typed, huge] = &receivers;
    s.order_hook("good", &good.url, json!({})).await;
    let typed_id = s
        .order_hook("typed", &typed.url, json!({ "requestTimeout": 200 }))
        .await;
    let huge_id = s.order_hook("huge", &huge.url, json!({})).await;
    let edit = async |id: &str, settings: Value| {
        sqlx::query(
            "UPDATE integrations SET settings = settings || $2, version = version + 1
             WHERE id = $1::uuid",
        )
        .bind(id)
        .bind(sqlx::types::Json(settings))
        .execute(&app.pool)
        .await
        .expect("a database edit");
    };
    edit(
        &typed_id,
        json!({
            "maxConcurrency": "ten",
            "rateLimit": { "requests": "many", "per": "second" },
            "circuitBreaker": { "failureThreshold": "x", "coolDown": [], "maxCoolDown": true },
            "autoDisableAfter": "never"
        }),
    )
    .await;
    edit(
        &huge_id,
        json!({
            "maxConcurrency": 1_000_000_000_000_i64,
            "requestTimeout": 10_000_000_000_000_000_i64,
            "rateLimit": { "requests": 1_000_000_000_000_000_i64, "per": "second" },
            "circuitBreaker": {
                "failureThreshold": 100_000_000_000_i64,
                "coolDown": 100_000_000_000_000_000_i64,
                "maxCoolDown": 100_000_000_000_000_000_i64
            },
            "autoDisableAfter": 9_000_000_000_000_000_000_i64
        }),
    )
    .await;
    let get = async |path: &str| status_and_json(&s, path).await;
    for id in [&typed_id, &huge_id] {
        let (status, read) = get(&format!("/api/v2/integrations/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{read}");
    }
    let (_, typed_read) = get(&format!("/api/v2/integrations/{typed_id}")).await;
    assert_eq!(
        typed_read["health"]["effectiveMaxConcurrency"], 10,
        "a cap that is not a number is the default: {typed_read}"
    );
    assert_eq!(
        typed_read["health"]["effectiveRatePerSecond"],
        Value::Null,
        "a rate that is not a number is none: {typed_read}"
    );
    let (_, huge_read) = get(&format!("/api/v2/integrations/{huge_id}")).await;
    assert_eq!(
        huge_read["health"]["effectiveMaxConcurrency"], 256,
        "the highest cap a user can set: {huge_read}"
    );
    assert_eq!(
        huge_read["health"]["effectiveRatePerSecond"], 100_000.0,
        "the highest rate a user can set: {huge_read}"
    );

    let typed_deliveries = publish_three(&s, 3, &typed_id).await;
    good.wait_for(3, Duration::from_secs(20)).await;
    huge.wait_for(3, Duration::from_secs(20)).await;
    wait_worker_lost(&s, &typed_deliveries).await;
    assert!(
        typed.hits().is_empty(),
        "nothing sent with settings that do not parse"
    );
    // The lane settle of the huge integration's attempts ran (its health shows their success),
    // and the metrics sampler's protection counts read every lane.
    let start = std::time::Instant::now();
    loop {
        let (_, read) = get(&format!("/api/v2/integrations/{huge_id}")).await;
        if read["health"]["lastSuccessAt"].is_string() && read["health"]["inFlight"] == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the huge integration's lane was never settled: {read}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let protection = ricochet_store::lanes::protection(&app.pool)
        .await
        .expect("the sampler's protection counts");
    assert_eq!(protection.closed, 3, "{protection:?}");
}
