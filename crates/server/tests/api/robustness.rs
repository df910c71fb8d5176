//! Hostile input and broken parts never crash the service or loop a delivery: size and depth
//! limits at save and preview, NUL in path and query parameters, unreadable secrets and
//! binary answers.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{ADMIN_KEY, Session, TestApp, fields, guide_integration, problem};
use crate::receiver::{Receiver, Reply};

const WAIT: Duration = Duration::from_secs(60);

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

/// The guide's integration on `receiver`, bound to `order.created`; returns its id.
async fn guide_on(s: &Session<'_>, receiver: &Receiver) -> String {
    let mut body = guide_integration();
    body["settings"]["url"] = json!(receiver.url);
    let created = s.create_integration(&body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    s.bind(&id, &["order.created"]).await;
    id
}

#[tokio::test]
async fn a_secret_sealed_under_an_unknown_master_key_dead_letters_at_once_as_secret_unreadable() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let receiver = Receiver::start().await;
    guide_on(&s, &receiver).await;
    // As if the keyring that sealed it were lost (a container recreated without its volume).
    sqlx::query("UPDATE secrets SET key_id = '00deadbeef00cafe' WHERE name = 'crm_api_token'")
        .execute(&app.pool)
        .await
        .expect("re-keying the row");

    let (status, published) = s
        .publish(&json!({ "type": "order.created", "id": "o-1", "data": {} }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("delivery");

    let dead = s
        .wait_delivery(delivery, WAIT, |d| d["status"] == "dead_lettered")
        .await;
    assert_eq!(dead["reason"], "secret_unreadable:crm_api_token");
    assert_eq!(dead["attemptCount"], 1);
    assert_eq!(dead["attempts"][0]["errorKind"], "secret_unreadable");
    let message = dead["attempts"][0]["errorMessage"].as_str().unwrap_or("");
    assert!(message.contains("00deadbeef00cafe"), "{message}");
    // The alert like any dead letter, and nothing sent or run again.
    let alerts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'integration.message.failed'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("count");
    assert_eq!(alerts, 1);
    receiver
        .assert_stays_at(0, Duration::from_millis(1_500))
        .await;
    let again = s.get_json(&format!("/api/v2/deliveries/{delivery}")).await;
    assert_eq!(again["attemptCount"], 1);
}

#[tokio::test]
async fn a_binary_answer_with_nul_is_recorded_and_its_batch_mates_are_recorded_once() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let binary = Receiver::scripted(|_, _| Reply {
        body: Some(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe ok"),
        ..Reply::status(200)
    })
    .await;
    let plain = Receiver::start().await;
    // One event to the binary receiver and four others: their attempts finish together and
    // are recorded in the same batches.
    let short = json!({ "requestTimeout": 1000 });
    let binary_hook = s.integration("binary", &binary.url, short.clone()).await;
    s.bind(&binary_hook, &["order.created"]).await;
    for i in 0..4 {
        let id = s
            .integration(&format!("plain-{i}"), &plain.url, short.clone())
            .await;
        s.bind(&id, &["order.created"]).await;
    }

    let (status, published) = s
        .publish(&json!({ "type": "order.created", "id": "o-1", "data": {} }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let deliveries: Vec<String> = published["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| d["deliveryId"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(deliveries.len(), 5);

    for id in &deliveries {
        let done = s
            .wait_delivery(id, WAIT, |d| d["status"] == "succeeded")
            .await;
        assert_eq!(done["attemptCount"], 1, "{done}");
        if done["integrationId"] == binary_hook.as_str() {
            assert_eq!(
                done["attempts"][0]["response"]["body"],
                "\\x89PNG\r\n\u{1a}\n\\x00\\x00\\x00\rIHDR\\xff\\xfe ok"
            );
        } else {
            assert_eq!(done["attempts"][0]["response"]["body"], "receiver says hi");
        }
    }
    // Beyond the leases (1 s timeout + 0.5 s grace): nothing was sent again.
    binary.assert_stays_at(1, Duration::from_secs(2)).await;
    assert_eq!(plain.hits().len(), 4);
}

#[tokio::test]
async fn a_record_made_under_an_expired_lease_changes_nothing_even_for_the_same_worker() {
    use ricochet_store::deliveries::{self, Finished, Transition};
    use ricochet_store::handoff::Handoff;
    use std::sync::Arc;

    // The API alone: nothing claims but this test, as worker `w`.
    let never_open = Arc::new(Handoff::new("nobody", 8, 0));
    let app = TestApp::spawn_api_handing_to(never_open).await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let id = s
        .integration(
            "hook",
            "http://127.0.0.1:9/",
            json!({ "requestTimeout": 1 }),
        )
        .await;
    s.bind(&id, &["order.created"]).await;
    let (status, _) = s
        .publish(&json!({ "type": "order.created", "id": "o-1", "data": {} }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let first = deliveries::claim(&app.pool, "w", 1, 0, 0)
        .await
        .expect("claim")
        .pop()
        .expect("the delivery");
    // Its lease (1 ms) expires; the reaper returns it and `w` claims it again.
    let start = std::time::Instant::now();
    loop {
        let mut conn = app.pool.acquire().await.expect("connection");
        let reaped = deliveries::reap_expired_leases(&mut conn, 3)
            .await
            .expect("reap");
        if !reaped.is_empty() {
            assert_eq!(
                reaped[0].status,
                ricochet_domain::delivery::DeliveryStatus::Pending
            );
            break;
        }
        assert!(start.elapsed() < WAIT, "the lease never expired");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = deliveries::claim(&app.pool, "w", 1, 60_000, 0)
        .await
        .expect("claim")
        .pop()
        .expect("the delivery again");
    assert_eq!(second.id, first.id);
    assert!(second.lease_token > first.lease_token);

    let record = |claimed: &deliveries::Claimed| deliveries::AttemptRecord {
        id: uuid::Uuid::now_v7(),
        started_at: chrono::Utc::now(),
        duration_ms: 1,
        status_code: Some(200),
        error_kind: None,
        error_message: None,
        request_method: "POST".into(),
        request_url: claimed.settings.0.url.clone(),
        request_headers: json!({}),
        response_content_type: None,
        response_body: None,
        retry_after_ms: None,
        retry_after_note: None,
    };
    let (late, current) = (record(&first), record(&second));
    let mut conn = app.pool.acquire().await.expect("connection");
    let zombie = deliveries::record_attempts(
        &mut conn,
        "w",
        &[Finished {
            delivery: first.id,
            lease_token: first.lease_token,
            attempt: &late,
            transition: &Transition::Succeeded,
        }],
    )
    .await
    .expect("the statement runs");
    assert!(zombie.is_empty(), "the first lease's record was taken");
    let held = deliveries::record_attempts(
        &mut conn,
        "w",
        &[Finished {
            delivery: second.id,
            lease_token: second.lease_token,
            attempt: &current,
            transition: &Transition::Succeeded,
        }],
    )
    .await
    .expect("the statement runs");
    assert_eq!(held.len(), 1);

    let shown = s
        .get_json(&format!("/api/v2/deliveries/{}", first.id))
        .await;
    assert_eq!(shown["status"], "succeeded");
    assert_eq!(shown["attemptCount"], 1);
    assert_eq!(shown["attempts"][0]["id"], current.id.to_string());
}

#[tokio::test]
async fn an_attempt_the_database_refuses_is_recorded_without_its_details_and_its_batch_mates_once()
{
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    // This database refuses to store any attempt whose answer mentions "poison", as it would a
    // row it cannot store for any other reason.
    for statement in [
        "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.response_body LIKE '%poison%' THEN RAISE EXCEPTION 'refusing this row'; END IF;
             RETURN NEW;
         END $$",
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON attempts
         FOR EACH ROW EXECUTE FUNCTION refuse_poison()",
    ] {
        sqlx::query(statement)
            .execute(&app.pool)
            .await
            .expect("installing the trigger");
    }
    let poisoned = Receiver::scripted(|_, _| Reply {
        body: Some(b"poison"),
        ..Reply::status(200)
    })
    .await;
    let plain = Receiver::start().await;
    let short = json!({ "requestTimeout": 1000 });
    let poisoned_hook = s
        .integration("poisoned", &poisoned.url, short.clone())
        .await;
    s.bind(&poisoned_hook, &["order.created"]).await;
    for i in 0..4 {
        let id = s
            .integration(&format!("plain-{i}"), &plain.url, short.clone())
            .await;
        s.bind(&id, &["order.created"]).await;
    }

    let (_, published) = s
        .publish(&json!({ "type": "order.created", "id": "o-1", "data": {} }))
        .await;

    let deliveries = published["deliveries"].as_array().expect("deliveries");
    assert_eq!(deliveries.len(), 5);
    for d in deliveries {
        let id = d["deliveryId"].as_str().expect("id");
        let done = s
            .wait_delivery(id, WAIT, |d| d["status"] == "succeeded")
            .await;
        assert_eq!(done["attemptCount"], 1, "{done}");
        let attempt = &done["attempts"][0];
        if done["integrationId"] == poisoned_hook.as_str() {
            assert_eq!(attempt["response"]["body"], Value::Null);
            assert_eq!(
                attempt["errorMessage"],
                "the details of this attempt could not be stored"
            );
        } else {
            assert_eq!(attempt["response"]["body"], "receiver says hi");
        }
    }
    // Beyond the leases (1 s timeout + 0.5 s grace): nothing was sent again.
    poisoned.assert_stays_at(1, Duration::from_secs(2)).await;
    assert_eq!(plain.hits().len(), 4);
}
