//! `POST /oauth/token` is rate limited per client id and per source address: beyond the
//! quota a request gets 429 with `Retry-After` and an OAuth error body, before any secret is
//! checked; other clients and, after the wait, the client itself get through.

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::TestApp;

async fn ask(app: &TestApp, client_id: &str, secret: &str) -> reqwest::Response {
    app.http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .expect("request")
}

/// Asks for a token with the right secret until the limits let it through, honouring
/// `Retry-After`; fails after `deadline`.
pub(crate) async fn token_once_allowed(
    app: &TestApp,
    client_id: &str,
    secret: &str,
    deadline: Duration,
) {
    let start = Instant::now();
    loop {
        let response = ask(app, client_id, secret).await;
        match response.status() {
            StatusCode::OK => return,
            StatusCode::TOO_MANY_REQUESTS => {
                let wait: u64 = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .expect("a 429 says when to retry");
                assert!(
                    start.elapsed() < deadline,
                    "still limited after {deadline:?}"
                );
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
            other => panic!("the right secret got {other}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_asking_faster_than_its_quota_gets_429_with_retry_after_and_others_do_not() {
    let app = TestApp::spawn().await;
    let tenant = app.bare_tenant("acme").await;

    let mut statuses = Vec::new();
    let mut limited = None;
    for i in 0..40 {
        let response = ask(&app, &tenant.client_id, &format!("rcs_wrong_{i}")).await;
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS && limited.is_none() {
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            let body: Value = response.json().await.expect("an OAuth error body");
            limited = Some((retry_after, body));
        }
    }

    // The default burst of 20 passes (and is refused for the wrong secret), then the quota.
    assert!(
        statuses[..20]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    let (retry_after, body) = limited.expect("40 requests at once exceed 10/s with a burst of 20");
    assert!(retry_after.is_some_and(|s| s >= 1), "{retry_after:?}");
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("client")),
        "{body}"
    );
    // Another client from the same address is not held back by this one.
    let other = ask(&app, &uuid::Uuid::now_v7().to_string(), "rcs_wrong").await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
    // After the wait, the client's right secret gets its token.
    token_once_allowed(
        &app,
        &tenant.client_id,
        &tenant.secret,
        Duration::from_secs(10),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_asking_faster_than_its_quota_gets_429_whatever_the_client_id() {
    let app = TestApp::spawn().await;
    let tenant = app.bare_tenant("acme").await;
    let statuses: Vec<(StatusCode, Value)> = futures::stream::iter(0..300)
        .map(|i| {
            let app = &app;
            async move {
                let response =
                    ask(app, &uuid::Uuid::now_v7().to_string(), &format!("rcs_{i}")).await;
                let status = response.status();
                (status, response.json().await.unwrap_or(Value::Null))
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;

    let limited: Vec<&Value> = statuses
        .iter()
        .filter(|(s, _)| *s == StatusCode::TOO_MANY_REQUESTS)
        .map(|(_, body)| body)
        .collect();
    assert!(
        !limited.is_empty(),
        "300 requests from one address exceed 50/s with a burst of 100"
    );
    assert!(limited.iter().all(|b| {
        b["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("address"))
    }));
    assert!(
        statuses
            .iter()
            .all(|(s, _)| matches!(*s, StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS))
    );
    token_once_allowed(
        &app,
        &tenant.client_id,
        &tenant.secret,
        Duration::from_secs(10),
    )
    .await;
}
