//! Events and deliveries as resources: listing, filtering, paging and tenant scoping.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{PLAIN_FAILURES, Session, TestApp, problem};
use crate::receiver::{Receiver, Reply};

const WAIT: Duration = Duration::from_secs(30);

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Publishes `evt-0`..`evt-n` alternating between two types, in order.
async fn publish_numbered(s: &Session<'_>, n: usize) {
    for i in 0..n {
        let kind = if i % 2 == 0 {
            "order.created"
        } else {
            "order.paid"
        };
        let (status, _) = s
            .publish(&json!({ "type": kind, "id": format!("evt-{i}"), "data": { "n": i } }))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_list_newest_first_and_filter_by_type_and_id_prefix() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    publish_numbered(&s, 5).await;
    let (status, _) = s
        .publish(&json!({ "type": "order.created", "id": "other-1", "data": {} }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let all = s.get_json("/api/v2/events").await;
    assert_eq!(
        ids(&all),
        ["other-1", "evt-4", "evt-3", "evt-2", "evt-1", "evt-0"]
    );
    assert_eq!(all["data"][1]["type"], "order.created");
    assert_eq!(all["data"][1]["deliveryCount"], 0);
    assert!(all["data"][1]["receivedAt"].is_string());
    assert!(all.get("nextCursor").is_none_or(Value::is_null));

    let paid = s.get_json("/api/v2/events?type=order.paid").await;
    assert_eq!(ids(&paid), ["evt-3", "evt-1"]);
    let prefixed = s.get_json("/api/v2/events?idPrefix=evt-").await;
    assert_eq!(ids(&prefixed).len(), 5);
    let both = s
        .get_json("/api/v2/events?idPrefix=other&type=order.created")
        .await;
    assert_eq!(ids(&both), ["other-1"]);
    let future = s.get_json("/api/v2/events?from=2999-01-01T00:00:00Z").await;
    assert_eq!(ids(&future), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_page_with_a_cursor_without_repeating_or_skipping_one() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    publish_numbered(&s, 5).await;

    let mut seen = Vec::new();
    let mut path = "/api/v2/events?limit=2".to_owned();
    loop {
        let page = s.get_json(&path).await;
        assert!(ids(&page).len() <= 2);
        seen.extend(ids(&page));
        match page["nextCursor"].as_str() {
            Some(cursor) => path = format!("/api/v2/events?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ["evt-4", "evt-3", "evt-2", "evt-1", "evt-0"]);

    let bad = s
        .req(Method::GET, "/api/v2/events?cursor=bm9wZQ")
        .send()
        .await
        .expect("request");
    problem(bad, StatusCode::BAD_REQUEST).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_shows_its_data_and_each_delivery_with_its_state() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let ok = Receiver::start().await;
    let refusing = Receiver::scripted(|_, _| Reply::status(400)).await;
    let ok_id = s.integration("ok", &ok.url, json!({})).await;
    s.bind(&ok_id, &["order.created"]).await;
    let refusing_id = s
        .integration("refusing", &refusing.url, PLAIN_FAILURES.clone())
        .await;
    s.bind(&refusing_id, &["order.created"]).await;

    let (status, published) = s
        .publish(&json!({ "type": "order.created", "id": "evt-1", "data": { "total": 12 } }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    for d in published["deliveries"].as_array().expect("deliveries") {
        s.wait_delivery(d["deliveryId"].as_str().expect("id"), WAIT, |d| {
            d["status"] == "succeeded" || d["status"] == "dead_lettered"
        })
        .await;
    }

    let event = s.get_json("/api/v2/events/evt-1").await;
    assert_eq!(event["type"], "order.created");
    assert_eq!(event["data"], json!({ "total": 12 }));
    let deliveries = event["deliveries"].as_array().expect("deliveries");
    assert_eq!(deliveries.len(), 2);
    let state_of = |integration: &str| {
        deliveries
            .iter()
            .find(|d| d["integrationId"] == integration)
            .expect("a delivery per integration")
            .clone()
    };
    assert_eq!(state_of(&ok_id)["status"], "succeeded");
    assert_eq!(state_of(&ok_id)["lastStatusCode"], 200);
    let dead = state_of(&refusing_id);
    assert_eq!(dead["status"], "dead_lettered");
    assert_eq!(dead["reason"], "non_retryable_status:400");
    assert_eq!(dead["attemptCount"], 1);

    let listed = s.get_json("/api/v2/events?type=order.created").await;
    assert_eq!(listed["data"][0]["deliveryCount"], 2);
    // The dead letter raised its failure event into the tenant's own stream, listed too.
    let alerts = s
        .get_json("/api/v2/events?type=integration.message.failed")
        .await;
    assert_eq!(ids(&alerts).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_filter_by_status_integration_event_and_time() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let ok = Receiver::start().await;
    let refusing = Receiver::scripted(|_, _| Reply::status(410)).await;
    let ok_id = s.integration("ok", &ok.url, json!({})).await;
    s.bind(&ok_id, &["order.created"]).await;
    let refusing_id = s
        .integration("refusing", &refusing.url, PLAIN_FAILURES.clone())
        .await;
    s.bind(&refusing_id, &["order.created"]).await;

    let before = chrono::Utc::now();
    let mut delivery_ids = Vec::new();
    for i in 0..3 {
        let (_, published) = s
            .publish(&json!({ "type": "order.created", "id": format!("evt-{i}"), "data": {} }))
            .await;
        for d in published["deliveries"].as_array().expect("deliveries") {
            delivery_ids.push(d["deliveryId"].as_str().expect("id").to_owned());
        }
    }
    for id in &delivery_ids {
        s.wait_delivery(id, WAIT, |d| {
            d["status"] == "succeeded" || d["status"] == "dead_lettered"
        })
        .await;
    }

    let all = s.get_json("/api/v2/deliveries").await;
    assert_eq!(ids(&all).len(), 6);
    let mut sorted = ids(&all);
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids(&all), sorted, "newest first");

    let dead = s.get_json("/api/v2/deliveries?status=dead_lettered").await;
    assert_eq!(ids(&dead).len(), 3);
    assert!(
        dead["data"]
            .as_array()
            .expect("data")
            .iter()
            .all(|d| d["integrationId"] == refusing_id.as_str())
    );
    let to_ok = s
        .get_json(&format!(
            "/api/v2/deliveries?integrationId={ok_id}&status=succeeded"
        ))
        .await;
    assert_eq!(ids(&to_ok).len(), 3);
    let of_event = s.get_json("/api/v2/deliveries?eventId=evt-1").await;
    assert_eq!(ids(&of_event).len(), 2);

    let from = before.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let since = s
        .get_json(&format!("/api/v2/deliveries?from={}", urlencode(&from)))
        .await;
    assert_eq!(ids(&since).len(), 6);
    let until = s
        .get_json(&format!("/api/v2/deliveries?to={}", urlencode(&from)))
        .await;
    assert_eq!(
        ids(&until).len(),
        0,
        "nothing was made before the test began"
    );

    let paged = s.get_json("/api/v2/deliveries?limit=4").await;
    assert_eq!(ids(&paged).len(), 4);
    let cursor = paged["nextCursor"].as_str().expect("a next page");
    let rest = s
        .get_json(&format!("/api/v2/deliveries?limit=4&cursor={cursor}"))
        .await;
    assert_eq!(ids(&rest).len(), 2);
    assert!(rest.get("nextCursor").is_none_or(Value::is_null));
}

fn urlencode(raw: &str) -> String {
    raw.replace(':', "%3A").replace('+', "%2B")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_delivery_filter_is_a_400_naming_the_parameter() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    for (query, named) in [
        ("status=lost", "status"),
        ("integrationId=nope", "integrationId"),
        ("limit=0", "limit"),
    ] {
        let response = s
            .req(Method::GET, &format!("/api/v2/deliveries?{query}"))
            .send()
            .await
            .expect("request");
        let body = problem(response, StatusCode::BAD_REQUEST).await;
        assert!(
            body.to_string().contains(named),
            "{query}: {body} names {named}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_events_and_deliveries_are_absent_or_404() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let a = Session::new(&app, &acme).await;
    let o = Session::new(&app, &other).await;
    let receiver = Receiver::start().await;
    let id = a.integration("ok", &receiver.url, json!({})).await;
    a.bind(&id, &["order.created"]).await;
    let (_, published) = a
        .publish(&json!({ "type": "order.created", "id": "evt-1", "data": {} }))
        .await;
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("a delivery")
        .to_owned();

    assert_eq!(ids(&o.get_json("/api/v2/events").await).len(), 0);
    assert_eq!(ids(&o.get_json("/api/v2/deliveries").await).len(), 0);
    assert_eq!(
        ids(&o
            .get_json(&format!("/api/v2/deliveries?integrationId={id}"))
            .await)
        .len(),
        0
    );
    let response = o
        .req(Method::GET, "/api/v2/events/evt-1")
        .send()
        .await
        .expect("request");
    problem(response, StatusCode::NOT_FOUND).await;
    let response = o
        .req(Method::GET, &format!("/api/v2/deliveries/{delivery}"))
        .send()
        .await
        .expect("request");
    problem(response, StatusCode::NOT_FOUND).await;
    assert_eq!(a.get_json("/api/v2/events/evt-1").await["id"], "evt-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_events_and_deliveries_needs_log_view() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let narrow = app
        .token(&tenant.client_id, &tenant.secret, Some("event:publish"))
        .await;
    for path in [
        "/api/v2/events",
        "/api/v2/events/x",
        "/api/v2/deliveries",
        "/api/v2/stats",
    ] {
        let response = app
            .http
            .get(app.url(path))
            .bearer_auth(&narrow)
            .send()
            .await
            .expect("request");
        problem(response, StatusCode::FORBIDDEN).await;
    }
}
