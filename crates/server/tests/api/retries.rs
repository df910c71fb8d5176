//! The retry engine through the real worker: the backoff curve, Retry-After, which statuses
//! retry, timeouts, dead letters, the failure event, and replay.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, problem};
use crate::receiver::{Receiver, Reply};

const WAIT: Duration = Duration::from_secs(60);

/// An integration on `receiver` bound to an event type of its own, and one event of that type
/// published; returns the delivery id.
async fn one_delivery(s: &Session<'_>, receiver: &Receiver, policy: Value, extra: Value) -> String {
    let mut settings = json!({ "retryPolicy": policy });
    if let (Some(target), Value::Object(extra)) = (settings.as_object_mut(), extra) {
        target.extend(extra);
    }
    let unique = uuid::Uuid::now_v7().simple().to_string();
    let (name, kind) = (format!("hook-{unique}"), format!("test.{unique}"));
    let id = s.integration(&name, &receiver.url, settings).await;
    s.bind(&id, &[&kind]).await;
    let (_, published) = s.publish(&json!({ "type": kind, "data": {} })).await;
    published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("delivery")
        .to_owned()
}

async fn session(app: &TestApp) -> Session<'_> {
    Session::new(app, &app.tenant("acme").await).await
}

fn gap_ms(a: &crate::receiver::Hit, b: &crate::receiver::Hit) -> u128 {
    b.at.duration_since(a.at).as_millis()
}

#[tokio::test]
async fn the_guides_scenario_backs_off_exponentially_dead_letters_and_alerts_a_second_integration()
{
    let app = TestApp::spawn().await;
    let s = session(&app).await;
    let receiver = Receiver::scripted(|_, _| Reply::status(503)).await;
    let alerts = Receiver::start().await;
    let alert_id = s.integration("pager", &alerts.url, json!({})).await;
    s.bind(&alert_id, &["integration.message.failed"]).await;
    let base = 50u64;
    let policy = json!({ "retryPolicyType": "exponential", "retryDelay": base, "maxRetries": 4, "jitter": true });

    let delivery = one_delivery(&s, &receiver, policy, json!({})).await;

    let hits = receiver.wait_for(5, WAIT).await;
    for (n, pair) in hits.windows(2).enumerate() {
        let gap = gap_ms(&pair[0], &pair[1]) as f64;
        let expected = (base * 2u64.pow(n as u32)) as f64;
        // Jitter allows ±20%; scheduling adds a little on top, never takes away.
        assert!(
            gap >= expected * 0.8 - 2.0 && gap <= expected * 1.2 + 80.0,
            "retry {} came after {gap} ms, expected ≈{expected} ms",
            n + 1
        );
    }
    let dead = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "dead_lettered")
        .await;
    assert_eq!(dead["reason"], "retries_exhausted");
    assert_eq!(dead["attemptCount"], 5);
    let alert = alerts.wait_for(1, WAIT).await[0].json();
    assert_eq!(alert["type"], "integration.message.failed");
    assert_eq!(alert["data"]["deliveryId"], delivery.as_str());
    assert_eq!(alert["data"]["reason"], "retries_exhausted");
    assert_eq!(alert["data"]["lastStatusCode"], 503);
    assert_eq!(alert["data"]["attemptCount"], 5);
    assert_eq!(
        alert["data"]["integrationName"]
            .as_str()
            .map(|n| n.starts_with("hook-")),
        Some(true)
    );
    receiver
        .assert_stays_at(5, Duration::from_millis(300))
        .await;
}

/// Retries are claimed ahead of their time (the prefetch window is longer than this delay) and
/// held until it: each starts at its scheduled time, never before, and promptly.
#[tokio::test]
async fn each_retry_starts_at_its_scheduled_time_never_before() {
    let app = TestApp::spawn().await;
    let s = session(&app).await;
    let receiver =
        Receiver::scripted(|_, earlier| Reply::status(if earlier < 3 { 503 } else { 200 })).await;
    let policy =
        json!({ "retryPolicyType": "fixed", "retryDelay": 100, "maxRetries": 5, "jitter": false });

    let delivery = one_delivery(&s, &receiver, policy, json!({})).await;

    let done = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "succeeded")
        .await;
    let attempts = done["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 4);
    let time = |v: &Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a timestamp")).expect("RFC 3339")
    };
    for pair in attempts.windows(2) {
        let scheduled = time(&pair[0]["nextAttemptAt"]);
        let late_ms = (time(&pair[1]["startedAt"]) - scheduled)
            .num_microseconds()
            .expect("µs") as f64
            / 1000.0;
        // Never early; late by scheduling and the database round trips of a busy test run at
        // most (a claim made only at the due time would add its round trip to every retry).
        assert!(
            (0.0..=150.0).contains(&late_ms),
            "attempt {} started {late_ms} ms after its scheduled time",
            pair[1]["attemptNumber"]
        );
    }
}

#[tokio::test]
async fn a_429_with_retry_after_in_seconds_is_not_retried_before_it() {
    let app = TestApp::spawn().await;
    let s = session(&app).await;
    let receiver = Receiver::first_then_ok(|| Reply::retry_after(429, "1")).await;

    let delivery = one_delivery(&s, &receiver, json!({ "retryDelay": 20 }), json!({})).await;

    let hits = receiver.wait_for(2, WAIT).await;
    assert!(
        gap_ms(&hits[0], &hits[1]) >= 1000,
        "retried after {} ms",
        gap_ms(&hits[0], &hits[1])
    );
    let done = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "succeeded")
        .await;
    assert_eq!(done["attempts"][0]["retryAfterMs"], 1000);
    assert!(done["attempts"][0]["nextAttemptAt"].is_string());
}

#[tokio::test]
async fn a_429_with_an_http_date_retry_after_is_not_retried_before_it() {
    let app = TestApp::spawn().await;
    let s = session(&app).await;
    let receiver = Receiver::first_then_ok(|| {
        let at = chrono::Utc::now() + chrono::Duration::seconds(2);
        Reply::retry_after(429, at.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
    })
    .await;

    let delivery = one_delivery(&s, &receiver, json!({ "retryDelay": 20 }), json!({})).await;

    let hits = receiver.wait_for(2, WAIT).await;
    // The date is whole seconds: two seconds from now, truncated, is at least one from now.
    assert!(
        gap_ms(&hits[0], &hits[1]) >= 1000,
        "retried after {} ms",
        gap_ms(&hits[0], &hits[1])
    );
    s.wait_delivery(&delivery, WAIT, |d| d["status"] == "succeeded")
        .await;
}

#[tokio::test]
async fn max_retry_after_caps_a_long_retry_after() {
    let app = TestApp::spawn().await;
    let s = session(&app).await;
    let receiver = Receiver::first_then_ok(|| Reply::retry_after(503, "30")).await;

    let delivery = one_delivery(
        &s,
        &receiver,
        json!({ "retryDelay": 20, "maxRetryAfter": 300 }),
        json!({}),
    )
    .await;

    let hits = receiver.wait_for(2, WAIT).await;
    let gap = gap_ms(&hits[0], &hits[1]);
    assert!(
        (300..5_000).contains(&gap),
        "retried after {gap} ms; the cap is 300 ms"
    );
    let done = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "succeeded")
        .await;
    assert_eq!(done["attempts"][0]["retryAfterMs"], 300);
}

#[tokio::test]
async fn an_unparseable_retry_after_falls_back_to_the_policy_and_is_noted() {
    let app = TestApp::spawn().await;
    let s = session(&app).await;
    let receiver = Receiver::first_then_ok(|| Reply::retry_after(429, "soon")).await;

    let delivery = one_delivery(&s, &receiver, json!({ "retryDelay": 20 }), json!({})).await;

    let done = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "succeeded")
        .await;
    assert!(
        done["attempts"][0]["retryAfterNote"]
            .as_str()
            .is_some_and(|n| n.contains("unparseable")),
        "{done}"
    );
    assert!(done["attempts"][0]["retryAfterMs"].is_null());
}

#[tokio::test]
async fn a_401_and_a_400_are_dead_lettered_at_once_with_their_reason() {
    let app = TestApp::spawn().await;
    let s = session(&app).await;
    for status in [401u16, 400] {
        let receiver = Receiver::scripted(move |_, _| Reply::status(status)).await;

        let delivery = one_delivery(&s, &receiver, json!({ "retryDelay": 10 }), json!({})).await;

        let dead = s
            .wait_delivery(&delivery, WAIT, |d| d["status"] == "dead_lettered")
            .await;
        assert_eq!(dead["reason"], format!("non_retryable_status:{status}"));
        assert_eq!(dead["attemptCount"], 1);
        receiver
            .assert_stays_at(1, Duration::from_millis(200))
            .await;
    }
}

#[tokio::test]
async fn a_409_is_retried_when_retry_on_status_lists_it() {
    let app = TestApp::spawn().await;
    let s = session(&app).await;
    let receiver =
        Receiver::scripted(|_, earlier| Reply::status(if earlier == 0 { 409 } else { 200 })).await;

    let delivery = one_delivery(
        &s,
        &receiver,
        json!({ "retryDelay": 10, "retryOnStatus": [409] }),
        json!({}),
    )
    .await;

    let done = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "succeeded")
        .await;
    assert_eq!(done["attemptCount"], 2);
}

#[tokio::test]
async fn a_timeout_is_retried_when_retry_on_timeout_is_true() {
    let app = TestApp::spawn().await;
    let s = session(&app).await;
    let receiver = Receiver::scripted(|_, earlier| Reply {
        status: 200,
        retry_after: None,
        hold: (earlier == 0).then_some(Duration::from_secs(2)),
        body: None,
    })
    .await;

    let delivery = one_delivery(
        &s,
        &receiver,
        json!({ "retryDelay": 10 }),
        json!({ "requestTimeout": 200 }),
    )
    .await;

    let done = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "succeeded")
        .await;
    assert_eq!(done["attemptCount"], 2);
    assert_eq!(done["attempts"][0]["errorKind"], "timeout");
}

#[tokio::test]
async fn a_timeout_is_dead_lettered_when_retry_on_timeout_is_false() {
    let app = TestApp::spawn().await;
    let s = session(&app).await;
    let receiver = Receiver::scripted(|_, _| Reply {
        status: 200,
        retry_after: None,
        hold: Some(Duration::from_secs(2)),
        body: None,
    })
    .await;

    let delivery = one_delivery(
        &s,
        &receiver,
        json!({ "retryDelay": 10, "retryOnTimeout": false }),
        json!({ "requestTimeout": 200 }),
    )
    .await;

    let dead = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "dead_lettered")
        .await;
    assert_eq!(dead["reason"], "timeout");
    assert_eq!(dead["attemptCount"], 1);
}

#[tokio::test]
async fn dead_letters_replayed_in_bulk_are_delivered_once_and_a_second_replay_delivers_nothing() {
    let app = TestApp::spawn().await;
    let s = session(&app).await;
    let recovered = Arc::new(AtomicBool::new(false));
    let flag = recovered.clone();
    let receiver = Receiver::scripted(move |_, _| {
        Reply::status(if flag.load(Ordering::SeqCst) {
            200
        } else {
            500
        })
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
    for i in 0..5 {
        s.publish(&json!({ "type": "a.b", "id": format!("e-{i}"), "data": {} }))
            .await;
    }
    let start = std::time::Instant::now();
    let listed = loop {
        let page = s.get_json("/api/v2/deadletters?statusCode=500").await;
        if page["data"].as_array().map(Vec::len) == Some(5) {
            break page;
        }
        assert!(start.elapsed() < WAIT, "dead letters: {page}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert!(
        listed["data"]
            .as_array()
            .expect("data")
            .iter()
            .all(|d| d["reason"] == "retries_exhausted")
    );
    recovered.store(true, Ordering::SeqCst);

    let replay = s
        .req(Method::POST, "/api/v2/deadletters/replay")
        .json(&json!({ "statusCode": 500 }))
        .send()
        .await
        .expect("replay");
    assert_eq!(replay.status(), StatusCode::ACCEPTED);
    assert_eq!(replay.json::<Value>().await.expect("json")["replayed"], 5);
    let hits = receiver.wait_for(10, WAIT).await;
    let again = s
        .req(Method::POST, "/api/v2/deadletters/replay")
        .json(&json!({ "statusCode": 500 }))
        .send()
        .await
        .expect("replay");
    assert_eq!(again.json::<Value>().await.expect("json")["replayed"], 0);

    receiver
        .assert_stays_at(10, Duration::from_millis(500))
        .await;
    let delivered: std::collections::HashSet<&str> =
        hits[5..].iter().map(|h| h.header("webhook-id")).collect();
    assert_eq!(delivered.len(), 5, "each dead letter delivered once");
    assert_eq!(s.get_json("/api/v2/deadletters").await["data"], json!([]));
}

#[tokio::test]
async fn a_replayed_delivery_keeps_its_history_and_a_purged_one_leaves_the_queue() {
    let app = TestApp::spawn().await;
    let s = session(&app).await;
    let receiver =
        Receiver::scripted(|_, earlier| Reply::status(if earlier == 0 { 400 } else { 200 })).await;
    let replayed = one_delivery(&s, &receiver, json!({}), json!({})).await;
    s.wait_delivery(&replayed, WAIT, |d| d["status"] == "dead_lettered")
        .await;

    let response = s
        .req(
            Method::POST,
            &format!("/api/v2/deadletters/{replayed}/replay"),
        )
        .send()
        .await
        .expect("replay");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let done = s
        .wait_delivery(&replayed, WAIT, |d| d["status"] == "succeeded")
        .await;
    assert_eq!(done["attemptCount"], 2);
    assert_eq!(done["replayCount"], 1);
    assert_eq!(
        done["attempts"][0]["statusCode"], 400,
        "the first series stays in the log"
    );
    problem(
        s.req(
            Method::POST,
            &format!("/api/v2/deadletters/{replayed}/replay"),
        )
        .send()
        .await
        .expect("replay"),
        StatusCode::CONFLICT,
    )
    .await;

    let failing = Receiver::scripted(|_, _| Reply::status(401)).await;
    let purged = one_delivery(&s, &failing, json!({}), json!({})).await;
    s.wait_delivery(&purged, WAIT, |d| d["status"] == "dead_lettered")
        .await;
    let response = s
        .req(Method::DELETE, &format!("/api/v2/deadletters/{purged}"))
        .send()
        .await
        .expect("purge");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(s.get_json("/api/v2/deadletters").await["data"], json!([]));
    let after = s.get_json(&format!("/api/v2/deliveries/{purged}")).await;
    assert_eq!(after["status"], "purged");
    assert_eq!(
        after["attempts"].as_array().map(Vec::len),
        Some(1),
        "its log stays"
    );
}

#[tokio::test]
async fn a_failure_event_that_cannot_be_delivered_raises_no_further_one() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let failing = Receiver::scripted(|_, _| Reply::status(503)).await;
    let alert_id = s
        .integration(
            "pager",
            &failing.url,
            json!({ "retryPolicy": { "retryPolicyType": "none" } }),
        )
        .await;
    s.bind(&alert_id, &["integration.message.failed"]).await;

    let delivery = one_delivery(
        &s,
        &failing,
        json!({ "retryPolicyType": "none" }),
        json!({}),
    )
    .await;
    s.wait_delivery(&delivery, WAIT, |d| d["status"] == "dead_lettered")
        .await;

    failing.wait_for(2, WAIT).await;
    failing.assert_stays_at(2, Duration::from_millis(500)).await;
    let failures: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'integration.message.failed'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("count");
    assert_eq!(failures, 1);
}

#[tokio::test]
async fn the_dead_letter_api_checks_permissions() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let token = app
        .token(&tenant.client_id, &tenant.secret, Some("log:view"))
        .await;
    let s = Session { app: &app, token };

    assert_eq!(
        s.req(Method::GET, "/api/v2/deadletters")
            .send()
            .await
            .expect("list")
            .status(),
        StatusCode::OK
    );
    problem(
        s.req(Method::POST, "/api/v2/deadletters/replay")
            .json(&json!({}))
            .send()
            .await
            .expect("replay"),
        StatusCode::FORBIDDEN,
    )
    .await;
}
