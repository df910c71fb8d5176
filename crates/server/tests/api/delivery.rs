//! Events from `POST /api/v2/events` to receivers on loopback, through the real worker.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use ricochet_runtime::Handoff;
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, problem};
use crate::receiver::{Receiver, Reply};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_events_reach_the_exact_and_wildcard_receivers_once_each_and_the_disabled_one_nothing()
 {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let (exact, wildcard, disabled) = (
        Receiver::start().await,
        Receiver::start().await,
        Receiver::start().await,
    );
    let exact_id = s.integration("exact", &exact.url, json!({})).await;
    s.bind(&exact_id, &["routing.queue.member.update"]).await;
    let wildcard_id = s.integration("wildcard", &wildcard.url, json!({})).await;
    s.bind(&wildcard_id, &["routing.queue.*"]).await;
    let mut off =
        json!({ "name": "disabled", "enabled": false, "settings": { "url": disabled.url } });
    off["enabled"] = json!(false);
    let off: Value = s.create_integration(&off).await.json().await.expect("json");
    s.bind(
        off["id"].as_str().expect("id"),
        &["routing.queue.member.update"],
    )
    .await;

    let statuses: Vec<StatusCode> = futures::stream::iter(0..1000)
        .map(|i| {
            let s = &s;
            async move {
                let event = json!({ "type": "routing.queue.member.update", "id": format!("evt-{i}"), "data": { "n": i } });
                s.publish(&event).await.0
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == StatusCode::ACCEPTED));

    for (receiver, integration) in [(&exact, &exact_id), (&wildcard, &wildcard_id)] {
        let hits = receiver.wait_for(1000, WAIT).await;
        let ids: HashSet<&str> = hits.iter().map(|h| h.header("webhook-id")).collect();
        assert_eq!(ids.len(), 1000, "every event arrives");
        let sample = hits
            .iter()
            .find(|h| h.header("webhook-id") == "evt-7")
            .expect("evt-7 arrived");
        assert_eq!(sample.header("content-type"), "application/json");
        assert_eq!(sample.header("x-ricochet-attempt"), "1");
        assert!(sample.header("webhook-timestamp").parse::<i64>().is_ok());
        assert!(!sample.header("x-ricochet-delivery-id").is_empty());
        let body = sample.json();
        assert_eq!(body["id"], "evt-7");
        assert_eq!(body["type"], "routing.queue.member.update");
        assert_eq!(body["tenantId"], tenant.id.as_str());
        assert_eq!(body["data"], json!({ "n": 7 }));
        assert!(body["occurredAt"].is_string());
        let delivery = s
            .get_json(&format!(
                "/api/v2/deliveries/{}",
                sample.header("x-ricochet-delivery-id")
            ))
            .await;
        assert_eq!(delivery["integrationId"], integration.as_str());
    }
    exact
        .assert_stays_at(1000, Duration::from_millis(500))
        .await;
    assert_eq!(wildcard.hits().len(), 1000, "no duplicates");
    assert!(
        disabled.hits().is_empty(),
        "a disabled integration gets nothing"
    );
}

#[tokio::test]
async fn an_event_published_twice_with_the_same_id_is_delivered_once() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    let id = s.integration("hook", &receiver.url, json!({})).await;
    s.bind(&id, &["order.created"]).await;
    let event = json!({ "type": "order.created", "id": "order-1", "data": {} });

    let (first_status, first) = s.publish(&event).await;
    let (second_status, second) = s.publish(&event).await;

    assert_eq!(first_status, StatusCode::ACCEPTED);
    assert_eq!(second_status, StatusCode::OK);
    assert_eq!(
        first, second,
        "the repeat answers with the original deliveries"
    );
    receiver.wait_for(1, WAIT).await;
    receiver
        .assert_stays_at(1, Duration::from_millis(500))
        .await;
}

#[tokio::test]
async fn an_event_without_a_bound_integration_is_accepted_with_no_deliveries() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;

    let (status, body) = s
        .publish(&json!({ "type": "nobody.listens", "data": {} }))
        .await;

    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body["deliveries"], json!([]));
    assert!(
        body["eventId"].as_str().is_some_and(|id| !id.is_empty()),
        "an id is generated"
    );
}

#[tokio::test]
async fn an_event_body_over_the_limit_is_refused_with_413() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let big = "x".repeat(300 * 1024);

    let response = s
        .req(reqwest::Method::POST, "/api/v2/events")
        .json(&json!({ "type": "a.b", "data": { "big": big } }))
        .send()
        .await
        .expect("request");

    problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(app.count("events", &tenant.id).await, 0);
}

#[tokio::test]
async fn an_invalid_event_is_refused_naming_each_field() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;

    let response = s
        .req(reqwest::Method::POST, "/api/v2/events")
        .json(&json!({ "type": "bad type!", "id": "has space", "data": {} }))
        .send()
        .await
        .expect("request");

    let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(crate::harness::fields(&body), vec!["type", "id"]);
    assert_eq!(app.count("events", &tenant.id).await, 0);
}

#[tokio::test]
async fn a_delivery_shows_its_attempt_with_request_and_response() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    let id = s
        .integration(
            "hook",
            &format!("{}/in/{{{{eventType}}}}", receiver.url),
            json!({ "headers": { "X-Event": "{{eventId}}" } }),
        )
        .await;
    s.bind(&id, &["order.created"]).await;

    let (_, published) = s
        .publish(&json!({ "type": "order.created", "id": "o-1", "data": { "total": 5 } }))
        .await;
    let delivery_id = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("delivery id")
        .to_owned();

    let delivery = s
        .wait_delivery(&delivery_id, WAIT, |d| d["status"] == "succeeded")
        .await;
    assert_eq!(delivery["attemptCount"], 1);
    let attempt = &delivery["attempts"][0];
    assert_eq!(attempt["attemptNumber"], 1);
    assert_eq!(attempt["outcome"], "succeeded");
    assert_eq!(attempt["statusCode"], 200);
    assert_eq!(
        attempt["request"]["url"],
        format!("{}/in/order.created", receiver.url)
    );
    assert_eq!(attempt["request"]["headers"]["X-Event"], "o-1");
    assert_eq!(attempt["response"]["body"], "receiver says hi");
    assert_eq!(receiver.hits()[0].path, "/in/order.created");
}

#[tokio::test]
async fn logs_filtered_by_status_code_return_only_those_attempts() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::scripted(|hit, _| {
        let n: u32 = hit
            .header("webhook-id")
            .trim_start_matches("e-")
            .parse()
            .unwrap_or(0);
        Reply::status(if n.is_multiple_of(2) { 503 } else { 200 })
    })
    .await;
    let id = s
        .integration(
            "hook",
            &receiver.url,
            json!({ "retryPolicy": { "retryPolicyType": "none" } }),
        )
        .await;
    s.bind(&id, &["a.b"]).await;
    for i in 0..6 {
        s.publish(&json!({ "type": "a.b", "id": format!("e-{i}"), "data": {} }))
            .await;
    }
    receiver.wait_for(6, WAIT).await;
    let logs = format!("/api/v2/integrations/{id}/logs");
    let all = wait_for_attempts(&s, &logs, 6).await;
    assert_eq!(all.len(), 6);

    let failed = s.get_json(&format!("{logs}?statusCode=503")).await;
    let failed = failed["data"].as_array().expect("data");
    assert_eq!(failed.len(), 3);
    assert!(
        failed
            .iter()
            .all(|a| a["statusCode"] == 503 && a["outcome"] == "failed")
    );
    let ok = s.get_json(&format!("{logs}?statusClass=2xx")).await;
    assert!(
        ok["data"]
            .as_array()
            .expect("data")
            .iter()
            .all(|a| a["statusCode"] == 200)
    );
    let one = s.get_json(&format!("{logs}?eventId=e-3")).await;
    assert_eq!(one["data"].as_array().map(Vec::len), Some(1));
    let newest_first: Vec<&str> = all.iter().filter_map(|a| a["startedAt"].as_str()).collect();
    let mut sorted = newest_first.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(newest_first, sorted, "newest first");
}

async fn wait_for_attempts(s: &Session<'_>, logs: &str, n: usize) -> Vec<Value> {
    let start = std::time::Instant::now();
    loop {
        let page = s.get_json(&format!("{logs}?limit=200")).await;
        let data = page["data"].as_array().cloned().unwrap_or_default();
        if data.len() >= n {
            return data;
        }
        assert!(
            start.elapsed() < WAIT,
            "only {} attempts recorded",
            data.len()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn another_tenants_logs_and_deliveries_are_a_404() {
    let app = TestApp::spawn().await;
    let owner = Session::new(&app, &app.tenant("owner").await).await;
    let other = Session::new(&app, &app.tenant("other").await).await;
    let receiver = Receiver::start().await;
    let id = owner.integration("hook", &receiver.url, json!({})).await;
    owner.bind(&id, &["a.b"]).await;
    let (_, published) = owner.publish(&json!({ "type": "a.b", "data": {} })).await;
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("delivery")
        .to_owned();

    problem(
        other
            .req(
                reqwest::Method::GET,
                &format!("/api/v2/integrations/{id}/logs"),
            )
            .send()
            .await
            .expect("logs"),
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        other
            .req(
                reqwest::Method::GET,
                &format!("/api/v2/deliveries/{delivery}"),
            )
            .send()
            .await
            .expect("delivery"),
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        other
            .req(
                reqwest::Method::POST,
                &format!("/api/v2/integrations/{id}/eventbindings"),
            )
            .json(&json!({"events": ["x.y"]}))
            .send()
            .await
            .expect("bind"),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn deleting_an_integration_cancels_its_waiting_delivery_and_keeps_its_log() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::scripted(|_, _| Reply::status(503)).await;
    let id = s
        .integration(
            "hook",
            &receiver.url,
            json!({ "retryPolicy": { "retryDelay": 60_000, "jitter": false } }),
        )
        .await;
    s.bind(&id, &["a.b"]).await;
    let (_, published) = s.publish(&json!({ "type": "a.b", "data": {} })).await;
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("delivery")
        .to_owned();
    s.wait_delivery(&delivery, WAIT, |d| {
        d["attemptCount"] == 1 && d["status"] == "pending"
    })
    .await;

    let deleted = s
        .req(
            reqwest::Method::DELETE,
            &format!("/api/v2/integrations/{id}"),
        )
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    let after = s.get_json(&format!("/api/v2/deliveries/{delivery}")).await;
    assert_eq!(after["status"], "cancelled");
    let logs = s.get_json(&format!("/api/v2/integrations/{id}/logs")).await;
    assert_eq!(
        logs["data"].as_array().map(Vec::len),
        Some(1),
        "the log outlives the integration"
    );
}

#[tokio::test]
async fn a_disabled_integrations_retry_waits_and_resumes_when_it_is_enabled() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver =
        Receiver::scripted(|_, earlier| Reply::status(if earlier == 0 { 503 } else { 200 })).await;
    let id = s
        .integration(
            "hook",
            &receiver.url,
            // Far enough ahead that the retry is not yet claimed (prefetch: 250 ms before it
            // is due) when the integration is disabled, even on a loaded machine.
            json!({ "retryPolicy": { "retryDelay": 3000, "jitter": false } }),
        )
        .await;
    s.bind(&id, &["a.b"]).await;
    let (_, published) = s.publish(&json!({ "type": "a.b", "data": {} })).await;
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("delivery")
        .to_owned();
    receiver.wait_for(1, WAIT).await;
    s.wait_delivery(&delivery, WAIT, |d| d["attemptCount"] == 1)
        .await;

    let path = format!("/api/v2/integrations/{id}");
    s.req(reqwest::Method::PATCH, &path)
        .json(&json!({ "enabled": false }))
        .send()
        .await
        .expect("disable");
    let paused = s.get_json(&format!("/api/v2/deliveries/{delivery}")).await;
    assert_eq!(paused["status"], "paused");
    receiver
        .assert_stays_at(1, Duration::from_millis(800))
        .await;

    s.req(reqwest::Method::PATCH, &path)
        .json(&json!({ "enabled": true }))
        .send()
        .await
        .expect("enable");

    receiver.wait_for(2, WAIT).await;
    s.wait_delivery(&delivery, WAIT, |d| d["status"] == "succeeded")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_published_ten_times_at_once_is_accepted_once_and_delivered_once() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    let id = s.integration("hook", &receiver.url, json!({})).await;
    s.bind(&id, &["order.created"]).await;
    let event = json!({ "type": "order.created", "id": "order-1", "data": {} });

    let answers: Vec<(StatusCode, Value)> =
        futures::future::join_all((0..10).map(|_| s.publish(&event))).await;

    assert_eq!(
        answers
            .iter()
            .filter(|(status, _)| *status == StatusCode::ACCEPTED)
            .count(),
        1
    );
    assert_eq!(
        answers
            .iter()
            .filter(|(status, _)| *status == StatusCode::OK)
            .count(),
        9
    );
    assert!(
        answers.iter().all(|(_, body)| *body == answers[0].1),
        "every answer names the same delivery"
    );
    receiver.wait_for(1, WAIT).await;
    receiver
        .assert_stays_at(1, Duration::from_millis(500))
        .await;
}

#[tokio::test]
async fn an_event_whose_data_holds_a_nul_character_is_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let body = r#"{"type": "a.b", "data": {"note": "nul \u0000 here"}}"#;

    let response = s
        .req(reqwest::Method::POST, "/api/v2/events")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");

    let problem = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(crate::harness::fields(&problem), vec!["data.note"]);
    assert_eq!(app.count("events", &tenant.id).await, 0);
}

#[tokio::test]
async fn a_delivery_handed_to_a_worker_that_died_is_delivered_by_another_once_its_lease_expires() {
    // The API hands new deliveries to a worker that opened its hand-over and then died: 100 ms
    // of lease beyond the request timeout.
    let gone = Arc::new(Handoff::new("worker-gone", 8, 100));
    gone.set_open(true);
    let app = TestApp::spawn_api_handing_to(gone.clone()).await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    let id = s
        .integration("hook", &receiver.url, json!({ "requestTimeout": 200 }))
        .await;
    s.bind(&id, &["order.created"]).await;

    let (status, published) = s
        .publish(&json!({ "type": "order.created", "id": "order-1", "data": {} }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("a delivery")
        .to_owned();

    // Written leased to the worker it was handed to, as a claim would have leased it.
    let (state, holder): (String, Option<String>) =
        sqlx::query_as("SELECT status, leased_by FROM deliveries WHERE id = $1::uuid")
            .bind(&delivery)
            .fetch_one(&app.pool)
            .await
            .expect("the delivery row");
    assert_eq!(
        (state.as_str(), holder.as_deref()),
        ("in_flight", Some("worker-gone"))
    );
    // Nothing else delivers it while the lease holds.
    receiver
        .assert_stays_at(0, Duration::from_millis(150))
        .await;

    // Another worker returns the expired lease to pending and delivers it, once.
    app.start_worker();
    let hits = receiver.wait_for(1, WAIT).await;
    assert_eq!(hits[0].header("x-ricochet-delivery-id"), delivery);
    assert_eq!(hits[0].header("x-ricochet-attempt"), "1");
    s.wait_delivery(&delivery, WAIT, |d| d["status"] == "succeeded")
        .await;
    receiver
        .assert_stays_at(1, Duration::from_millis(300))
        .await;
}

#[tokio::test]
async fn a_lane_slot_reserved_for_a_hand_over_that_the_publish_did_not_use_is_given_back() {
    // A worker that opened its hand-over (so every publish reserves a slot of the lane for it)
    // and then died.
    let gone = Arc::new(Handoff::new("worker-gone", 8, 100));
    gone.set_open(true);
    let app = TestApp::spawn_api_handing_to(gone.clone()).await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    let id = s
        .integration("hook", &receiver.url, json!({ "requestTimeout": 200 }))
        .await;
    s.bind(&id, &["order.created"]).await;
    let in_flight = || async {
        s.get_json(&format!("/api/v2/integrations/{id}")).await["health"]["inFlight"].clone()
    };
    let event = json!({ "type": "order.created", "id": "order-1", "data": {} });

    // The lane counts the slots the publisher holds for the next deliveries as well, until it
    // gives back those it does not spend (within 200 ms).
    let settles_at = |n: i64, what: &'static str| async move {
        let start = std::time::Instant::now();
        while in_flight().await != n {
            assert!(start.elapsed() < WAIT, "{what}: {}", in_flight().await);
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(in_flight().await, n, "{what}");
    };

    let (status, _) = s.publish(&event).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(in_flight().await.as_i64() >= Some(1));
    settles_at(1, "the delivery handed over holds a slot, and only it").await;

    // The repeat takes slots before its statement finds the event already there, and makes no
    // delivery to use them.
    let (status, repeat) = s.publish(&event).await;
    assert_eq!(status, StatusCode::OK, "a repeat: {repeat}");
    assert_eq!(repeat["deliveries"].as_array().map(Vec::len), Some(1));
    settles_at(1, "the unused slots were given back").await;

    // Once the dead worker's lease expires another worker delivers it, and the lane is empty.
    app.start_worker();
    receiver.wait_for(1, WAIT).await;
    let start = std::time::Instant::now();
    while in_flight().await != 0 {
        assert!(start.elapsed() < WAIT, "the lane kept a slot");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_takes_lane_slots_ahead_and_gives_back_those_it_does_not_spend() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    // Each request is held a while, so its attempt keeps its slot meanwhile.
    let receiver = Receiver::scripted(|_, _| Reply {
        hold: Some(Duration::from_millis(1_500)),
        ..Reply::status(200)
    })
    .await;
    let id = s
        .integration("slow", &receiver.url, json!({ "maxConcurrency": 50 }))
        .await;
    s.bind(&id, &["order.created"]).await;
    let counts = || async {
        let (lane, leased): (i32, i64) = sqlx::query_as(
            "SELECT (SELECT in_flight FROM delivery_lanes WHERE integration_id = $1::uuid),
                    (SELECT count(*) FROM deliveries WHERE integration_id = $1::uuid AND status = 'in_flight')",
        )
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .expect("counted");
        (i64::from(lane), leased)
    };
    let session = &s;
    let succeeded = |published: Value| async move {
        let id = published["deliveries"][0]["deliveryId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        session
            .wait_delivery(&id, WAIT, |d| d["status"] == "succeeded")
            .await;
    };
    // One delivered first, and a moment for the worker to wait for work again with its
    // hand-over open (it closes it while it claims), and for the lane to empty.
    let (_, warm_up) = s
        .publish(&json!({ "type": "order.created", "id": "order-0", "data": {} }))
        .await;
    succeeded(warm_up).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(counts().await, (0, 0));

    let (status, published) = s
        .publish(&json!({ "type": "order.created", "id": "order-1", "data": {} }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // Handed over with a slot taken ahead: never claimed.
    let (token,): (i64,) = sqlx::query_as("SELECT lease_token FROM deliveries WHERE id = $1::uuid")
        .bind(published["deliveries"][0]["deliveryId"].as_str())
        .fetch_one(&app.pool)
        .await
        .expect("the delivery");
    assert_eq!(token, 0, "claimed, not handed over");
    // The lane counts the delivery and the slots taken for the next ones like it.
    let (lane, leased) = counts().await;
    assert_eq!(leased, 1);
    assert!(lane > leased, "no slots held ahead: {lane}");

    // Not spent, they go back while the attempt still holds its own.
    receiver.wait_for(2, WAIT).await;
    let start = std::time::Instant::now();
    while counts().await != (1, 1) {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{:?}",
            counts().await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // And the lane is empty once it is recorded.
    succeeded(published).await;
    let start = std::time::Instant::now();
    while counts().await != (0, 0) {
        assert!(start.elapsed() < WAIT, "{:?}", counts().await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Settings are read once per version of an integration: a change reaches the very next
/// delivery, handed over at publish or claimed (a retry scheduled before the change).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_integration_reaches_its_next_delivery_handed_over_or_claimed() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::first_then_ok(|| Reply::status(500)).await;
    let id = s
        .order_hook(
            "versioned",
            &receiver.url,
            json!({
                "headers": { "x-version": "one" },
                "retryPolicy": { "retryDelay": 1500, "jitter": false }
            }),
        )
        .await;
    let (_, first) = s
        .publish(&json!({ "type": "order.created", "data": {} }))
        .await;
    let first = first["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("delivery")
        .to_owned();
    let hits = receiver.wait_for(1, WAIT).await;
    assert_eq!(hits[0].header("x-version"), "one");

    let response = s
        .req(
            reqwest::Method::PATCH,
            &format!("/api/v2/integrations/{id}"),
        )
        .header("content-type", "application/merge-patch+json")
        .body(json!({ "settings": { "headers": { "x-version": "two" } } }).to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let (_, second) = s
        .publish(&json!({ "type": "order.created", "data": {} }))
        .await;
    let second = second["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("delivery")
        .to_owned();
    let hits = receiver.wait_for(3, WAIT).await;
    let sent = |delivery: &str, attempt: &str| {
        hits.iter()
            .find(|h| {
                h.header("x-ricochet-delivery-id") == delivery
                    && h.header("x-ricochet-attempt") == attempt
            })
            .map(|h| h.header("x-version").to_owned())
    };
    assert_eq!(sent(&second, "1").as_deref(), Some("two"), "{hits:?}");
    assert_eq!(sent(&first, "2").as_deref(), Some("two"), "{hits:?}");
}
