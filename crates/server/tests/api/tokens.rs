//! Tokens end with their grant, and the token endpoint stays cheap under wrong secrets.

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::harness::{Session, TestApp};

/// Routes of every kind a token reaches.
const ROUTES: [(&str, &str); 5] = [
    ("GET", "/api/v2/integrations"),
    ("GET", "/api/v2/secrets"),
    ("GET", "/api/v2/deadletters"),
    ("POST", "/api/v2/events"),
    ("POST", "/api/v2/integrations/preview"),
];

/// Waits until every route answers the token with 401, failing after a few seconds.
async fn wait_until_every_route_refuses(s: &Session<'_>) {
    let start = Instant::now();
    loop {
        let mut statuses = Vec::new();
        for (method, path) in ROUTES {
            let method = Method::from_bytes(method.as_bytes()).expect("a method");
            let status = s
                .req(method, path)
                .json(&json!({ "type": "a.b", "data": {} }))
                .send()
                .await
                .expect("request")
                .status();
            statuses.push(status);
        }
        if statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "still answered: {statuses:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_clients_token_gets_401_on_every_route_within_seconds() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    s.get_json("/api/v2/integrations").await;
    let client = tenant.client_id.clone();
    let revoked = app
        .admin(
            Method::DELETE,
            &format!("/api/v2/tenants/{}/clients/{client}", tenant.id),
        )
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    wait_until_every_route_refuses(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_tenants_token_gets_401_on_every_route_within_seconds() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    s.get_json("/api/v2/secrets").await;
    let deleted = app
        .admin(Method::DELETE, &format!("/api/v2/tenants/{}", tenant.id))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    wait_until_every_route_refuses(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_secret_hashed_with_argon2_still_works_and_is_rehashed_at_its_next_token() {
    let app = TestApp::spawn().await;
    let tenant = app.bare_tenant("acme").await;
    let legacy = ricochet_api::auth::argon2_hash(&tenant.secret).expect("hashed");
    let client: uuid::Uuid = tenant.client_id.parse().expect("a uuid");
    sqlx::query("UPDATE api_clients SET secret_hash = $2 WHERE id = $1")
        .bind(client)
        .bind(&legacy)
        .execute(&app.pool)
        .await
        .expect("set a legacy hash");

    app.token(&tenant.client_id, &tenant.secret, None).await;
    let stored: String = sqlx::query_scalar("SELECT secret_hash FROM api_clients WHERE id = $1")
        .bind(client)
        .fetch_one(&app.pool)
        .await
        .expect("the hash");
    assert!(stored.starts_with("sha256$"), "rehashed: {stored}");
    app.token(&tenant.client_id, &tenant.secret, None).await;
}

fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS")
        / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_wrong_secrets_keep_memory_low_get_429s_and_other_routes_answer() {
    let app = TestApp::spawn().await;
    let tenant = app.bare_tenant("acme").await;
    let url = app.url("/oauth/token");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("a client");
    let wrong = |i: usize| {
        let client_id = if i.is_multiple_of(2) {
            tenant.client_id.clone()
        } else {
            uuid::Uuid::now_v7().to_string()
        };
        let (http, url) = (http.clone(), url.clone());
        async move {
            http.post(&url)
                .form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", &client_id),
                    ("client_secret", &format!("rcs_wrong_{i}")),
                ])
                .send()
                .await
                .map(|r| r.status())
        }
    };
    let flood = futures::stream::iter(0..1000)
        .map(wrong)
        .buffer_unordered(250)
        .collect::<Vec<_>>();
    let other = async {
        let mut answered = 0;
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(500) {
            let ready = app
                .http
                .get(app.url("/healthz"))
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .expect("healthz answers during the flood");
            assert_eq!(ready.status(), StatusCode::OK);
            answered += 1;
        }
        answered
    };
    let (statuses, answered) = tokio::join!(flood, other);
    assert!(answered > 0);
    assert!(
        statuses.iter().all(|s| matches!(
            s,
            Ok(StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS)
        )),
        "every wrong secret is refused or deferred: {statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .any(|s| matches!(s, Ok(StatusCode::TOO_MANY_REQUESTS))),
        "a flood beyond the concurrency bound and the rate limits gets 429s"
    );
    let rss = rss_mib();
    assert!(rss < 200, "the process holds {rss} MiB");
    // The flood used up the address's and the client's quotas: the right secret gets through
    // once their Retry-After has passed.
    crate::token_rate_limit::token_once_allowed(
        &app,
        &tenant.client_id,
        &tenant.secret,
        Duration::from_secs(10),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_names_missing_secrets_only_to_a_token_with_secret_view() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let full = Session::new(&app, &tenant).await;
    let viewer = Session {
        app: &app,
        token: app
            .token(&tenant.client_id, &tenant.secret, Some("integration:view"))
            .await,
    };
    let probe = json!({
        "integration": { "name": "p", "settings": { "url": "https://x.test/", "headers": { "A": "{{secret:guess_me}}" } } },
        "event": { "type": "a.b", "data": {} }
    });
    let preview = |s: &Session<'_>| {
        s.req(Method::POST, "/api/v2/integrations/preview")
            .json(&probe)
            .send()
    };
    let viewed: serde_json::Value = preview(&viewer)
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert!(viewed.get("missingSecrets").is_none(), "{viewed}");
    assert_eq!(viewed["headers"]["A"], "{{secret:guess_me}}");
    let full: serde_json::Value = preview(&full)
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(full["missingSecrets"], json!(["guess_me"]));
}
