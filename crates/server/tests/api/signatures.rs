//! Standard Webhooks signatures: every attempt is signed with the integration's key(s) and
//! verified here by the `standardwebhooks` library; the signing secret and its rotation.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, fields, problem};
use crate::receiver::{Receiver, Reply};
use crate::standard_webhooks::{python, verify};

const WAIT: Duration = Duration::from_secs(30);

async fn signing_secret(s: &Session<'_>, integration: &str) -> String {
    let out = s
        .get_json(&format!(
            "/api/v2/integrations/{integration}/signing-secret"
        ))
        .await;
    out["key"].as_str().expect("a key").to_owned()
}

async fn rotate(s: &Session<'_>, integration: &str, body: &Value) -> Value {
    let response = s
        .req(
            Method::POST,
            &format!("/api/v2/integrations/{integration}/signing-secret/rotate"),
        )
        .json(body)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attempt_including_retries_verifies_with_the_standardwebhooks_library() {
    let Some(python) = python() else { return };
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let receiver = Receiver::first_then_ok(|| Reply::status(503)).await;
    let policy = json!({ "retryPolicy": { "maxRetries": 2, "retryDelay": 1500, "retryPolicyType": "fixed", "jitter": false } });
    let id = s.integration("signed", &receiver.url, policy).await;
    s.bind(&id, &["order.*"]).await;
    let key = signing_secret(&s, &id).await;
    assert!(key.starts_with("whsec_"));

    for event in ["evt-1", "evt.with.dots"] {
        let (status, _) = s
            .publish(
                &json!({ "type": "order.created", "id": event, "data": { "quote": "a\"b\nc" } }),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let hits = receiver.wait_for(4, WAIT).await;

    let cases: Vec<(&str, _)> = hits.iter().map(|h| (key.as_str(), h)).collect();
    assert_eq!(verify(&python, &cases), vec!["ok"; 4]);
    for hit in &hits {
        assert!(!hit.header("webhook-id").contains('.'));
        assert_eq!(hit.header("webhook-signature").split(' ').count(), 1);
    }
    // The retry carries its own send time, not the first attempt's.
    for event in ["evt-1", "msg_"] {
        let attempts: Vec<_> = hits
            .iter()
            .filter(|h| h.header("webhook-id").starts_with(event))
            .collect();
        assert_eq!(attempts.len(), 2, "two attempts of {event}");
        assert_eq!(
            attempts[0].header("webhook-id"),
            attempts[1].header("webhook-id")
        );
        let stamp = |h: &crate::receiver::Hit| {
            h.header("webhook-timestamp")
                .parse::<i64>()
                .expect("integer seconds")
        };
        assert!(stamp(attempts[1]) > stamp(attempts[0]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_rotation_both_keys_verify_during_the_grace_period_and_only_the_new_one_after() {
    let Some(python) = python() else { return };
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let receiver = Receiver::start().await;
    let id = s.integration("signed", &receiver.url, json!({})).await;
    s.bind(&id, &["order.*"]).await;
    let old = signing_secret(&s, &id).await;

    let given = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let rotated = rotate(&s, &id, &json!({ "key": given, "gracePeriodSeconds": 3 })).await;
    assert_eq!(rotated["key"], given);
    assert_eq!(signing_secret(&s, &id).await, given);
    s.publish(&json!({ "type": "order.created", "id": "during", "data": {} }))
        .await;
    let during = receiver.wait_for(1, WAIT).await.remove(0);
    assert_eq!(during.header("webhook-signature").split(' ').count(), 2);
    assert_eq!(
        verify(&python, &[(old.as_str(), &during), (given, &during)]),
        vec!["ok", "ok"]
    );

    // Once the grace period is over, only the new key signs.
    let retires: chrono::DateTime<chrono::Utc> = rotated["previousKeyRetiresAt"]
        .as_str()
        .expect("a retirement time")
        .parse()
        .expect("a time");
    while chrono::Utc::now() <= retires + chrono::Duration::milliseconds(200) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s.publish(&json!({ "type": "order.created", "id": "after", "data": {} }))
        .await;
    let after = receiver.wait_for(2, WAIT).await.remove(1);
    assert_eq!(after.header("webhook-signature").split(' ').count(), 1);
    let results = verify(&python, &[(old.as_str(), &after), (given, &after)]);
    assert_ne!(results[0], "ok", "the retired key no longer verifies");
    assert_eq!(results[1], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signing_secret_is_shown_only_with_secret_view_and_only_to_its_tenant() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let id = s
        .integration("signed", "http://127.0.0.1:9/", json!({}))
        .await;
    let path = format!("/api/v2/integrations/{id}/signing-secret");

    let viewer = Session {
        app: &app,
        token: app
            .token(&tenant.client_id, &tenant.secret, Some("integration:view"))
            .await,
    };
    problem(
        viewer
            .req(Method::GET, &path)
            .send()
            .await
            .expect("request"),
        StatusCode::FORBIDDEN,
    )
    .await;
    let other = app.tenant("other").await;
    let other = Session::new(&app, &other).await;
    problem(
        other.req(Method::GET, &path).send().await.expect("request"),
        StatusCode::NOT_FOUND,
    )
    .await;
    // The key never appears in the integration itself.
    let key = signing_secret(&s, &id).await;
    let integration = s.get_json(&format!("/api/v2/integrations/{id}")).await;
    assert!(!integration.to_string().contains(&key[6..]));

    let bad = s
        .req(Method::POST, &format!("{path}/rotate"))
        .json(&json!({ "key": "whsec_dG9vLXNob3J0", "gracePeriodSeconds": -1 }))
        .send()
        .await
        .expect("request");
    let bad = problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&bad), vec!["key", "gracePeriodSeconds"]);
    assert_eq!(signing_secret(&s, &id).await, key, "nothing changed");
    // With no body at all a new key is generated.
    let rotated = s
        .req(Method::POST, &format!("{path}/rotate"))
        .send()
        .await
        .expect("request");
    assert_eq!(rotated.status(), StatusCode::OK);
    assert_ne!(signing_secret(&s, &id).await, key);
}
