//! `POST /api/v2/events/batch`: per-event results, only valid events stored and delivered,
//! idempotency shared with the single publish, and whole-request limits that write nothing.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::StatusCode;
use ricochet_domain::TenantId;
use ricochet_domain::event::matching_patterns;
use ricochet_runtime::publish::publish_batch;
use ricochet_store::events::{BatchEvent, Published};
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, fields, order_created, problem};
use crate::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(60);

fn outcomes(body: &Value) -> Vec<&str> {
    body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["outcome"].as_str().expect("outcome"))
        .collect()
}

#[tokio::test]
async fn a_mixed_batch_answers_each_event_in_order_and_stores_and_delivers_only_the_valid_ones() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let receiver = Receiver::start().await;
    let hook = s.integration("hook", &receiver.url, json!({})).await;
    s.bind(&hook, &["order.*"]).await;
    let too_big = "x".repeat(300 * 1024);

    let (status, body) = s
        .publish_batch(&[
            json!({ "type": "order.created", "id": "o-1", "data": { "n": 1 } }),
            json!({ "type": "bad type!", "id": "o-bad", "data": {} }),
            json!({ "type": "order.paid", "id": "o-2", "data": { "n": 2 } }),
            json!({ "type": "order.created", "id": "o-1", "data": { "n": 99 } }),
            json!({ "type": "order.created", "id": "o-big", "data": { "big": too_big } }),
            json!({ "type": "order.created", "data": {}, "extra": true }),
            json!({ "type": "order.shipped", "data": { "n": 3 } }),
        ])
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        outcomes(&body),
        [
            "created",
            "failed",
            "created",
            "duplicate",
            "failed",
            "failed",
            "created"
        ]
    );
    assert_eq!(
        (&body["created"], &body["duplicates"], &body["failed"]),
        (&json!(3), &json!(1), &json!(3))
    );
    let results = &body["results"];
    assert_eq!(results[0]["eventId"], "o-1");
    assert_eq!(results[0]["deliveries"][0]["integrationId"], hook.as_str());
    assert_eq!(
        results[3],
        json!({ "outcome": "duplicate", "eventId": "o-1", "deliveries": results[0]["deliveries"] }),
        "the same id later in the batch is a duplicate of the first, with its deliveries"
    );
    assert_eq!(results[1]["problem"]["status"], 422);
    assert_eq!(fields(&results[1]["problem"]), ["type"]);
    assert_eq!(results[4]["problem"]["status"], 413);
    assert_eq!(results[5]["problem"]["status"], 422);
    assert_eq!(fields(&results[5]["problem"]), ["extra"]);
    let generated = results[6]["eventId"].as_str().expect("a generated id");
    assert!(!generated.is_empty());
    assert_eq!(app.count("events", &tenant.id).await, 3);
    assert_eq!(app.count("deliveries", &tenant.id).await, 3);

    let hits = receiver.wait_for(3, WAIT).await;
    let ids: HashSet<&str> = hits.iter().map(|h| h.header("webhook-id")).collect();
    assert_eq!(ids, HashSet::from(["o-1", "o-2", generated]));
    let first = hits
        .iter()
        .find(|h| h.header("webhook-id") == "o-1")
        .expect("o-1 arrived");
    assert_eq!(
        first.json()["data"],
        json!({ "n": 1 }),
        "the first of a repeated id is the one stored"
    );
    receiver
        .assert_stays_at(3, Duration::from_millis(500))
        .await;
}

#[tokio::test]
async fn a_batch_of_1001_events_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let events: Vec<Value> = (0..1001)
        .map(|i| json!({ "type": "order.created", "id": format!("o-{i}"), "data": {} }))
        .collect();

    let response = s
        .req(reqwest::Method::POST, "/api/v2/events/batch")
        .json(&json!({ "events": events }))
        .send()
        .await
        .expect("request");

    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&body), ["events"]);
    assert_eq!(app.count("events", &tenant.id).await, 0);
}

#[tokio::test]
async fn a_batch_of_exactly_1000_events_is_stored_whole() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let events: Vec<Value> = (0..1000)
        .map(|i| json!({ "type": "order.created", "id": format!("o-{i}"), "data": { "n": i } }))
        .collect();

    let (status, body) = s.publish_batch(&events).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["created"], 1000);
    assert_eq!(body["results"][999]["eventId"], "o-999");
    assert_eq!(app.count("events", &tenant.id).await, 1000);
}

#[tokio::test]
async fn an_empty_batch_is_refused_with_422() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;

    let response = s
        .req(reqwest::Method::POST, "/api/v2/events/batch")
        .json(&json!({ "events": [] }))
        .send()
        .await
        .expect("request");

    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&body), ["events"]);
}

#[tokio::test]
async fn a_batch_body_over_the_limit_is_refused_with_413_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    // Each event within its own limit (256 KiB); together over the batch limit (8 MiB).
    let data = "x".repeat(200 * 1024);
    let events: Vec<Value> = (0..45)
        .map(|i| json!({ "type": "order.created", "id": format!("o-{i}"), "data": { "d": data } }))
        .collect();

    let response = s
        .req(reqwest::Method::POST, "/api/v2/events/batch")
        .json(&json!({ "events": events }))
        .send()
        .await
        .expect("request");

    problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(app.count("events", &tenant.id).await, 0);
}

#[tokio::test]
async fn a_batch_over_the_default_body_limit_but_within_the_batch_limit_is_stored() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    // About 4 MiB: over the 1 MiB other routes take, within the batch limit (8 MiB).
    let data = "x".repeat(200 * 1024);
    let events: Vec<Value> = (0..20)
        .map(|i| json!({ "type": "order.created", "id": format!("o-{i}"), "data": { "d": data } }))
        .collect();

    let (status, body) = s.publish_batch(&events).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["created"], 20);
    assert_eq!(app.count("events", &tenant.id).await, 20);
}

#[tokio::test]
async fn ids_are_idempotent_across_single_and_batch_publishing() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let receiver = Receiver::start().await;
    let hook = s.integration("hook", &receiver.url, json!({})).await;
    s.bind(&hook, &["order.created"]).await;

    let (single_status, single) = s
        .publish(&json!({ "type": "order.created", "id": "alone", "data": {} }))
        .await;
    let (batch_status, batch) = s
        .publish_batch(&[
            json!({ "type": "order.created", "id": "alone", "data": {} }),
            json!({ "type": "order.created", "id": "batched", "data": {} }),
        ])
        .await;
    let (again_status, again) = s
        .publish(&json!({ "type": "order.created", "id": "batched", "data": {} }))
        .await;

    assert_eq!(single_status, StatusCode::ACCEPTED);
    assert_eq!(batch_status, StatusCode::OK);
    assert_eq!(outcomes(&batch), ["duplicate", "created"]);
    assert_eq!(
        batch["results"][0]["deliveries"], single["deliveries"],
        "a batch repeat answers the single publish's deliveries"
    );
    assert_eq!(
        again_status,
        StatusCode::OK,
        "a single repeat of a batched id"
    );
    assert_eq!(again["deliveries"], batch["results"][1]["deliveries"]);
    receiver.wait_for(2, WAIT).await;
    receiver
        .assert_stays_at(2, Duration::from_millis(500))
        .await;
}

#[tokio::test]
async fn batch_publishing_needs_the_publish_permission() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let token = app
        .token(&tenant.client_id, &tenant.secret, Some("integration:view"))
        .await;

    let response = app
        .http
        .post(app.url("/api/v2/events/batch"))
        .bearer_auth(token)
        .json(&json!({ "events": [{ "type": "order.created", "data": {} }] }))
        .send()
        .await
        .expect("request");

    problem(response, StatusCode::FORBIDDEN).await;
    assert_eq!(app.count("events", &tenant.id).await, 0);
}

#[tokio::test]
async fn an_event_whose_id_is_batch_can_still_be_read() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let (status, _) = s
        .publish(&json!({ "type": "order.created", "id": "batch", "data": { "n": 1 } }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let event = s.get_json("/api/v2/events/batch").await;

    assert_eq!(event["id"], "batch");
    assert_eq!(event["data"], json!({ "n": 1 }));
}

/// Integration ids in sorted order, to compare sets of them.
fn sorted<S: ToString>(ids: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut ids: Vec<String> = ids.into_iter().map(|id| id.to_string()).collect();
    ids.sort_unstable();
    ids
}

/// The integrations of each event's deliveries, as its publish answered them.
fn routed(deliveries: &Value) -> Vec<String> {
    sorted(
        deliveries
            .as_array()
            .expect("deliveries")
            .iter()
            .map(|d| d["integrationId"].as_str().expect("integrationId")),
    )
}

#[tokio::test]
async fn events_of_several_types_in_one_batch_each_go_to_their_own_bindings() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let orders = s.integration("orders", &receiver.url, json!({})).await;
    s.bind(&orders, &["order.*"]).await;
    // Bound by two of order.paid's patterns: still one delivery an event.
    let paid = s.integration("paid", &receiver.url, json!({})).await;
    s.bind(&paid, &["order.paid", "order.*"]).await;
    let all = s.integration("all", &receiver.url, json!({})).await;
    s.bind(&all, &["*"]).await;
    let keyed = s
        .integration("keyed", &receiver.url, json!({ "ordering": "perKey" }))
        .await;
    s.bind(&keyed, &["order.created"]).await;

    let (status, body) = s
        .publish_batch(&[
            json!({ "type": "order.created", "id": "o-1", "orderingKey": "k", "data": {} }),
            json!({ "type": "order.paid", "id": "o-2", "data": {} }),
            json!({ "type": "user.created", "id": "u-1", "data": {} }),
            json!({ "type": "order.created", "id": "o-3", "orderingKey": "k", "data": {} }),
            json!({ "type": "order.paid", "id": "o-4", "data": {} }),
        ])
        .await;

    assert_eq!(status, StatusCode::OK);
    let created = sorted([&orders, &paid, &all, &keyed]);
    let paid_to = sorted([&orders, &paid, &all]);
    let expected = [
        created.clone(),
        paid_to.clone(),
        sorted([&all]),
        created,
        paid_to,
    ];
    let results = body["results"].as_array().expect("results");
    assert_eq!(results.len(), expected.len());
    for (result, want) in results.iter().zip(&expected) {
        assert_eq!(result["outcome"], "created");
        assert_eq!(&routed(&result["deliveries"]), want, "{result}");
    }
    assert_eq!(app.count("deliveries", &tenant.id).await, 15);
    let hits = receiver.wait_for(15, WAIT).await;
    let per_event = |id: &str| hits.iter().filter(|h| h.header("webhook-id") == id).count();
    assert_eq!(
        ["o-1", "o-2", "u-1", "o-3", "o-4"].map(per_event),
        [4, 3, 1, 4, 3]
    );
    receiver
        .assert_stays_at(15, Duration::from_millis(500))
        .await;
}

#[tokio::test]
async fn one_batch_of_two_tenants_events_of_one_type_goes_to_each_tenants_own_bindings() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start().await;
    let (acme, beta) = (app.tenant("acme").await, app.tenant("beta").await);
    let (a, b) = (
        Session::new(&app, &acme).await,
        Session::new(&app, &beta).await,
    );
    let ours = a.integration("ours", &receiver.url, json!({})).await;
    a.bind(&ours, &["order.*"]).await;
    let also_ours = a.integration("also-ours", &receiver.url, json!({})).await;
    a.bind(&also_ours, &["order.created"]).await;
    let theirs = b.integration("theirs", &receiver.url, json!({})).await;
    b.bind(&theirs, &["order.created"]).await;

    // The publisher's writer takes the events of every tenant waiting into one batch, which
    // this builds directly: the same type from both tenants, interleaved.
    let tenant = |t: &crate::harness::Tenant| TenantId(t.id.parse().expect("a tenant id"));
    let patterns = matching_patterns("order.created");
    let data = json!({});
    let ids = ["a-1", "b-1", "a-2", "b-2"];
    let batch: Vec<BatchEvent<'_>> = ids
        .iter()
        .map(|id| {
            let owner = if id.starts_with('a') { &acme } else { &beta };
            order_created(tenant(owner), id, &data, &patterns)
        })
        .collect();
    let mut conn = app.pool.acquire().await.expect("a connection");
    let (published, _) = publish_batch(&mut conn, &batch, None)
        .await
        .expect("the batch is published");

    let to = |p: &Published| sorted(p.deliveries.iter().map(|d| d.integration_id));
    let (acme_to, beta_to) = (sorted([&ours, &also_ours]), sorted([&theirs]));
    for (id, p) in ids.iter().zip(&published) {
        assert!(p.created, "{id}");
        if id.starts_with('a') {
            assert_eq!(to(p), acme_to, "{id}");
        } else {
            assert_eq!(to(p), beta_to, "{id}");
        }
    }
    assert_eq!(app.count("deliveries", &acme.id).await, 4);
    assert_eq!(app.count("deliveries", &beta.id).await, 2);
}
