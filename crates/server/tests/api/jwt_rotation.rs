//! JWT signing keys rotate: the server is configured with `NEW,OLD`; tokens carry their key's
//! `kid`, the first key signs, every listed key verifies, and a key taken off the list stops
//! verifying its tokens (401).

use reqwest::{Method, StatusCode};

use crate::harness::{TestApp, fresh_database};

const OLD: &str = "old-jwt-secret-0123456789abcdef0123456789";
const NEW: &str = "new-jwt-secret-fedcba9876543210fedcba9876";

fn kid_of(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token)
        .expect("a JWT header")
        .kid
}

async fn status_with(app: &TestApp, token: &str) -> StatusCode {
    app.http
        .request(Method::GET, app.url("/api/v2/integrations"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_of_the_old_key_verifies_while_listed_and_is_refused_once_removed() {
    let pool = fresh_database().await;
    let before = TestApp::spawn_api_on(pool.clone(), OLD).await;
    let tenant = before.bare_tenant("acme").await;
    let old_token = before.token(&tenant.client_id, &tenant.secret, None).await;

    // Restarted with a new signing key, the old one still listed.
    let rotating = TestApp::spawn_api_on(pool.clone(), &format!("{NEW},{OLD}")).await;
    let new_token = rotating
        .token(&tenant.client_id, &tenant.secret, None)
        .await;
    assert_ne!(kid_of(&old_token), kid_of(&new_token));
    assert!(kid_of(&new_token).is_some());
    assert_eq!(status_with(&rotating, &old_token).await, StatusCode::OK);
    assert_eq!(status_with(&rotating, &new_token).await, StatusCode::OK);

    // The old key removed: its tokens are refused, the new key's still work.
    let after = TestApp::spawn_api_on(pool, NEW).await;
    assert_eq!(
        status_with(&after, &old_token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(status_with(&after, &new_token).await, StatusCode::OK);
}
