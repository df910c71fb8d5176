//! Authentication and tenant isolation: tokens from /oauth/token, what a bad token gets,
//! permissions, and one tenant never seeing another's integrations.

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{JWT_SECRET, Session, TestApp, guide_integration, problem};

fn claims(tenant: &str, exp_offset: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "sub": "01a2063e-0000-7000-8000-000000000000",
        "tenant": tenant,
        "permissions": ["integration:view", "integration:edit"],
        "iat": now,
        "exp": now + exp_offset,
        "iss": "ricochet",
    })
}

fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("signing")
}

async fn assert_rejected(app: &TestApp, token: &str) {
    let response = app
        .http
        .get(app.url("/api/v2/integrations"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert!(
        response.headers().get("www-authenticate").is_some(),
        "401 must carry WWW-Authenticate"
    );
    problem(response, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_valid_token_from_the_token_endpoint_is_accepted() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let token = app.token(&tenant.client_id, &tenant.secret, None).await;

    let response = app
        .http
        .get(app.url("/api/v2/integrations"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");

    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_expired_token_is_unauthorized() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    assert_rejected(&app, &sign(&claims(&tenant.id, -120), JWT_SECRET)).await;
}

#[tokio::test]
async fn a_token_signed_with_another_key_is_unauthorized() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    assert_rejected(
        &app,
        &sign(
            &claims(&tenant.id, 600),
            "some-other-secret-of-sufficient-length!",
        ),
    )
    .await;
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_unauthorized() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let token = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims(&tenant.id, 600))
    );
    assert_rejected(&app, &token).await;
}

#[tokio::test]
async fn garbage_and_missing_tokens_are_unauthorized() {
    let app = TestApp::spawn().await;
    assert_rejected(&app, "garbage").await;
    let missing = app
        .http
        .get(app.url("/api/v2/integrations"))
        .send()
        .await
        .expect("request");
    problem(missing, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_token_lives_for_the_configured_ttl() {
    let app = TestApp::spawn_with_ttl(std::time::Duration::from_secs(120)).await;
    let tenant = app.tenant("acme").await;

    let token = app.token(&tenant.client_id, &tenant.secret, None).await;

    let claims: Value = jsonwebtoken::dangerous::insecure_decode::<Value>(&token)
        .expect("decodes")
        .claims;
    assert_eq!(
        claims["exp"].as_i64().unwrap_or_default() - claims["iat"].as_i64().unwrap_or_default(),
        120
    );
    assert_eq!(claims["tenant"], tenant.id.as_str());
}

#[tokio::test]
async fn a_token_without_integration_edit_cannot_create() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let token = app
        .token(&tenant.client_id, &tenant.secret, Some("integration:view"))
        .await;
    let s = Session { app: &app, token };

    let body = problem(
        s.create_integration(&guide_integration()).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("integration:edit"),
        "{body}"
    );
    assert_eq!(app.count("integrations", &tenant.id).await, 0);
    assert_eq!(
        s.req(Method::GET, "/api/v2/integrations")
            .send()
            .await
            .expect("list")
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_client_created_with_few_permissions_gets_tokens_with_only_those() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let client = app
        .client(
            &tenant.id,
            json!({ "name": "reader", "permissions": ["integration:view"] }),
        )
        .await;
    let (id, secret) = (
        client["clientId"].as_str().expect("id"),
        client["clientSecret"].as_str().expect("secret"),
    );

    let token = app.token(id, secret, None).await;
    let s = Session { app: &app, token };
    problem(
        s.create_integration(&guide_integration()).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    let widened = app
        .http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("scope", "integration:edit"),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(widened.status(), StatusCode::BAD_REQUEST);
    let widened: Value = widened.json().await.expect("json");
    assert_eq!(widened["error"], "invalid_scope");
}

#[tokio::test]
async fn tenant_a_cannot_read_list_change_or_delete_tenant_bs_integrations() {
    let app = TestApp::spawn().await;
    let a = Session::new(&app, &app.tenant("a").await).await;
    let b_tenant = app.tenant("b").await;
    let b = Session::new(&app, &b_tenant).await;
    let created: Value = b
        .create_integration(&guide_integration())
        .await
        .json()
        .await
        .expect("json");
    let path = format!(
        "/api/v2/integrations/{}",
        created["id"].as_str().expect("id")
    );

    problem(
        a.req(Method::GET, &path).send().await.expect("get"),
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        a.req(Method::PUT, &path)
            .json(&guide_integration())
            .send()
            .await
            .expect("put"),
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        a.req(Method::PATCH, &path)
            .json(&json!({"enabled": false}))
            .send()
            .await
            .expect("patch"),
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        a.req(Method::DELETE, &path).send().await.expect("delete"),
        StatusCode::NOT_FOUND,
    )
    .await;
    let list: Value = a
        .req(Method::GET, "/api/v2/integrations")
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list["data"], json!([]));

    let still: Value = b
        .req(Method::GET, &path)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(still["version"], 1);
    assert_eq!(still["enabled"], true);
}

#[tokio::test]
async fn the_token_endpoint_accepts_http_basic() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;

    let response = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(&tenant.client_id, Some(&tenant.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
}

#[tokio::test]
async fn the_token_endpoint_answers_rfc_6749_errors() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let post = |form: Vec<(&'static str, String)>| {
        app.http.post(app.url("/oauth/token")).form(&form).send()
    };

    let wrong = post(vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", tenant.client_id.clone()),
        ("client_secret", "wrong".into()),
    ])
    .await
    .expect("token");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong.json::<Value>().await.expect("json")["error"],
        "invalid_client"
    );

    let grant = post(vec![("grant_type", "password".into())])
        .await
        .expect("token");
    assert_eq!(grant.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        grant.json::<Value>().await.expect("json")["error"],
        "unsupported_grant_type"
    );

    let missing = post(vec![("grant_type", "client_credentials".into())])
        .await
        .expect("token");
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.json::<Value>().await.expect("json")["error"],
        "invalid_request"
    );
}

#[tokio::test]
async fn a_revoked_client_gets_no_new_token() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;

    let revoked = app
        .admin(
            Method::DELETE,
            &format!("/api/v2/tenants/{}/clients/{}", tenant.id, tenant.client_id),
        )
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);

    let response = app
        .http
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &tenant.client_id),
            ("client_secret", &tenant.secret),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_tenant_token_cannot_manage_tenants_and_the_admin_key_cannot_manage_integrations() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;

    problem(
        s.req(Method::GET, "/api/v2/tenants")
            .send()
            .await
            .expect("list"),
        StatusCode::FORBIDDEN,
    )
    .await;
    let admin_on_integrations = app
        .admin(Method::GET, "/api/v2/integrations")
        .send()
        .await
        .expect("list");
    problem(admin_on_integrations, StatusCode::UNAUTHORIZED).await;
}
