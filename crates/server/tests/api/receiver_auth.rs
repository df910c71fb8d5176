//! Receiver authentication (`settings.auth`): HTTP Basic, and OAuth 2.0 client-credentials
//! tokens from a token server on loopback, cached and shared by attempts, refreshed when they
//! expire and once when the receiver answers 401.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Form;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, fields, problem};
use crate::receiver::{Receiver, Reply};

const WAIT: Duration = Duration::from_secs(30);
const CLIENT_SECRET: &str = "cl!ent:s3cret";

/// How the token server answers.
#[derive(Clone, Copy)]
struct Issue {
    status: u16,
    expires_in: u64,
    delay: Duration,
}

/// The `scope` and `audience` of one token request.
type ScopeAndAudience = (Option<String>, Option<String>);

/// An OAuth 2.0 token endpoint: checks the client-credentials grant and the client's Basic
/// credentials, and issues `tok-1`, `tok-2`, ... in turn.
#[derive(Clone)]
struct TokenServer {
    url: String,
    issued: Arc<AtomicUsize>,
    /// Each request's `scope` and `audience`.
    forms: Arc<Mutex<Vec<ScopeAndAudience>>>,
}

impl TokenServer {
    async fn start(issue: Issue) -> TokenServer {
        let issued = Arc::new(AtomicUsize::new(0));
        let forms = Arc::new(Mutex::new(Vec::new()));
        let (count, seen) = (issued.clone(), forms.clone());
        let app = axum::Router::new().route(
            "/oauth/token",
            axum::routing::post(
                move |headers: HeaderMap, Form(form): Form<Vec<(String, String)>>| {
                    let (count, seen) = (count.clone(), seen.clone());
                    async move { token(issue, &count, &seen, &headers, &form).await }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the token server");
        let addr = listener.local_addr().expect("token server address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        TokenServer {
            url: format!("http://{addr}/oauth/token"),
            issued,
            forms,
        }
    }

    fn issued(&self) -> usize {
        self.issued.load(Ordering::SeqCst)
    }
}

async fn token(
    issue: Issue,
    count: &AtomicUsize,
    seen: &Mutex<Vec<ScopeAndAudience>>,
    headers: &HeaderMap,
    form: &[(String, String)],
) -> Response {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    seen.lock()
        .expect("forms lock")
        .push((field("scope"), field("audience")));
    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
    tokio::time::sleep(issue.delay).await;
    // RFC 6749 §2.3.1: id and secret form-encoded, then Basic.
    let expected = format!(
        "Basic {}",
        STANDARD.encode("ricochet-client:cl%21ent%3As3cret")
    );
    let authorized = headers
        .get("authorization")
        .is_some_and(|v| v.as_bytes() == expected.as_bytes());
    if !authorized || field("grant_type").as_deref() != Some("client_credentials") {
        return (
            axum::http::StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    let status = axum::http::StatusCode::from_u16(issue.status).expect("a status the test chose");
    if !status.is_success() {
        return (status, axum::Json(json!({ "error": "server_error" }))).into_response();
    }
    axum::Json(json!({
        "access_token": format!("tok-{n}"),
        "token_type": "bearer",
        "expires_in": issue.expires_in,
    }))
    .into_response()
}

async fn secret(s: &Session<'_>, name: &str, value: &str) {
    let response = s
        .req(Method::POST, "/api/v2/secrets")
        .json(&json!({ "name": name, "value": value }))
        .send()
        .await
        .expect("request");
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "creating secret {name}"
    );
}

/// An integration posting to `receiver` with OAuth 2.0 tokens from `tokens`, bound to `a.b`.
async fn oauth_integration(
    s: &Session<'_>,
    receiver: &Receiver,
    tokens: &TokenServer,
    extra: Value,
) -> String {
    secret(s, "client_secret", CLIENT_SECRET).await;
    let mut settings = json!({ "auth": {
        "type": "oauth2ClientCredentials", "tokenUrl": tokens.url,
        "clientId": "ricochet-client", "clientSecret": "{{secret:client_secret}}",
        "scope": "events:write", "audience": "https://crm.example"
    } });
    if let (Some(target), Value::Object(extra)) = (settings.as_object_mut(), extra) {
        target.extend(extra);
    }
    let id = s
        .integration("oauth", &format!("{}/hook", receiver.url), settings)
        .await;
    s.bind(&id, &["a.b"]).await;
    id
}

async fn publish_many(s: &Session<'_>, n: usize) {
    let events: Vec<Value> = (0..n)
        .map(|i| json!({ "type": "a.b", "data": { "i": i } }))
        .collect();
    let publishes = events.iter().map(|event| s.publish(event));
    for (status, body) in futures::future::join_all(publishes).await {
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
}

fn bearer_of(hit: &crate::receiver::Hit) -> &str {
    hit.header("authorization")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_arrives_and_the_password_is_shown_only_as_its_template() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    secret(&s, "crm_password", "p@ss w0rd").await;
    let receiver = Receiver::start().await;
    let auth =
        json!({ "type": "basic", "username": "ricochet", "password": "{{secret:crm_password}}" });
    let id = s
        .integration("basic", &receiver.url, json!({ "auth": auth }))
        .await;
    s.bind(&id, &["a.b"]).await;

    let (_, published) = s.publish(&json!({ "type": "a.b", "data": {} })).await;
    let hits = receiver.wait_for(1, WAIT).await;

    let expected = format!("Basic {}", STANDARD.encode("ricochet:p@ss w0rd"));
    assert_eq!(hits[0].header("authorization"), expected);
    let shown = s.get_json(&format!("/api/v2/integrations/{id}")).await;
    assert_eq!(shown["settings"]["auth"], auth);
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("a delivery");
    let done = s
        .wait_delivery(delivery, WAIT, |d| d["status"] == "succeeded")
        .await;
    let logged = done["attempts"][0]["request"]["headers"].to_string();
    assert!(logged.contains("{{secret:crm_password}}"), "{logged}");
    assert!(
        !logged.contains("p@ss") && !logged.contains(&expected),
        "{logged}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_deliveries_use_one_token() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    // A slow token endpoint: attempts arriving while the token is fetched wait for that fetch.
    let tokens = TokenServer::start(Issue {
        status: 200,
        expires_in: 3600,
        delay: Duration::from_millis(300),
    })
    .await;
    let receiver = Receiver::start().await;
    oauth_integration(&s, &receiver, &tokens, json!({})).await;

    publish_many(&s, 100).await;
    let hits = receiver.wait_for(100, WAIT).await;

    assert_eq!(tokens.issued(), 1, "one token fetch for 100 deliveries");
    assert!(hits.iter().all(|h| bearer_of(h) == "Bearer tok-1"));
    let forms = tokens.forms.lock().expect("forms lock").clone();
    assert_eq!(
        forms,
        vec![(
            Some("events:write".to_owned()),
            Some("https://crm.example".to_owned())
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_fetched_again_exactly_once() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    // Two seconds of life: used for 1.5 s, then replaced.
    let tokens = TokenServer::start(Issue {
        status: 200,
        expires_in: 2,
        delay: Duration::from_millis(100),
    })
    .await;
    let receiver = Receiver::start().await;
    oauth_integration(&s, &receiver, &tokens, json!({})).await;
    publish_many(&s, 5).await;
    receiver.wait_for(5, WAIT).await;
    assert_eq!(tokens.issued(), 1);

    // Letting the token expire is the behaviour under test, not a wait for something else.
    tokio::time::sleep(Duration::from_secs(2)).await;
    publish_many(&s, 20).await;
    let hits = receiver.wait_for(25, WAIT).await;

    assert_eq!(
        tokens.issued(),
        2,
        "one refresh for 20 deliveries after expiry"
    );
    assert!(hits[5..].iter().all(|h| bearer_of(h) == "Bearer tok-2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_refreshes_the_token_once_and_the_same_attempt_succeeds() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let tokens = TokenServer::start(Issue {
        status: 200,
        expires_in: 3600,
        delay: Duration::ZERO,
    })
    .await;
    // The receiver has revoked the first token.
    let receiver = Receiver::scripted(|hit, _| {
        if bearer_of(hit) == "Bearer tok-1" {
            Reply::status(401)
        } else {
            Reply::status(200)
        }
    })
    .await;
    oauth_integration(&s, &receiver, &tokens, json!({})).await;

    let (_, published) = s.publish(&json!({ "type": "a.b", "data": {} })).await;
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("a delivery");
    let done = s
        .wait_delivery(delivery, WAIT, |d| d["status"] == "succeeded")
        .await;

    assert_eq!(
        done["attemptCount"], 1,
        "the retry with a new token is the same attempt"
    );
    assert_eq!(done["attempts"][0]["statusCode"], 200);
    assert_eq!(tokens.issued(), 2);
    let hits = receiver.hits();
    assert_eq!(hits.len(), 2);
    assert_eq!(bearer_of(&hits[1]), "Bearer tok-2");
    let logged = done["attempts"][0]["request"]["headers"].to_string();
    assert!(
        !logged.contains("tok-"),
        "tokens are never logged: {logged}"
    );
    assert!(
        logged.contains("Bearer <token from settings.auth.tokenUrl>"),
        "{logged}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_token_endpoint_is_recorded_as_error_kind_auth_and_retried() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let tokens = TokenServer::start(Issue {
        status: 503,
        expires_in: 3600,
        delay: Duration::ZERO,
    })
    .await;
    let receiver = Receiver::start().await;
    let policy = json!({ "retryPolicy": { "maxRetries": 1, "retryDelay": 1200, "retryPolicyType": "fixed", "jitter": false } });
    oauth_integration(&s, &receiver, &tokens, policy).await;

    let (_, published) = s.publish(&json!({ "type": "a.b", "data": {} })).await;
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("a delivery");
    let dead = s
        .wait_delivery(delivery, WAIT, |d| d["status"] == "dead_lettered")
        .await;

    assert_eq!(
        dead["attemptCount"], 2,
        "retried as the policy says: {dead}"
    );
    for attempt in dead["attempts"].as_array().expect("attempts") {
        assert_eq!(attempt["errorKind"], "auth", "{attempt}");
        let message = attempt["errorMessage"].as_str().unwrap_or_default();
        assert!(
            message.contains("503") && message.contains("server_error"),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "{message}");
    }
    assert!(receiver.hits().is_empty(), "nothing sent without a token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_receiver_auth_is_refused_at_save_naming_each_field() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    secret(&s, "pw", "x").await;
    let cases = [
        (
            json!({ "type": "basic", "username": "u", "password": "hunter2" }),
            json!({}),
            "settings.auth.password",
        ),
        (
            json!({ "type": "basic", "username": "u:v", "password": "{{secret:pw}}" }),
            json!({}),
            "settings.auth.username",
        ),
        (
            json!({ "type": "oauth2ClientCredentials", "tokenUrl": "http://127.0.0.1:9/t",
                    "clientId": "c", "clientSecret": "{{secret:missing}}" }),
            json!({}),
            "settings.auth.clientSecret",
        ),
        (
            json!({ "type": "oauth2ClientCredentials", "tokenUrl": "http://{{data.host}}/t",
                    "clientId": "c", "clientSecret": "{{secret:pw}}" }),
            json!({}),
            "settings.auth.tokenUrl",
        ),
        (
            json!({ "type": "oauth2ClientCredentials", "tokenUrl": "http://169.254.169.254/t",
                    "clientId": "c", "clientSecret": "{{secret:pw}}" }),
            json!({}),
            "settings.auth.tokenUrl",
        ),
        (
            json!({ "type": "basic", "username": "u", "password": "{{secret:pw}}" }),
            json!({ "Authorization": "Bearer x" }),
            "settings.headers.Authorization",
        ),
    ];
    for (auth, headers, field) in cases {
        let response = s
            .create_integration(&json!({ "name": "probe", "settings": {
                "url": "http://127.0.0.1:9/hook", "auth": auth, "headers": headers } }))
            .await;
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(fields(&body), vec![field], "{auth}: {body}");
    }
    let response = s
        .create_integration(&json!({ "name": "probe", "settings": {
            "url": "http://127.0.0.1:9/hook", "auth": { "type": "digest" } } }))
        .await;
    assert!(response.status().is_client_error());
    assert_eq!(app.count("integrations", &tenant.id).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_url_resolving_to_a_blocked_address_is_blocked_target_and_nothing_is_sent() {
    // The token endpoint's name resolves to the cloud metadata address at send time.
    let mut config = crate::harness::test_worker_config();
    config.lookup = ricochet_delivery::guard::HostLookup::with(|host| {
        Box::pin(async move {
            match host.as_str() {
                "idp.test" => Ok(vec![std::net::IpAddr::from([169, 254, 169, 254])]),
                _ => Ok(vec![std::net::IpAddr::from([127, 0, 0, 1])]),
            }
        })
    });
    let app = TestApp::spawn_with_worker(config).await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    secret(&s, "client_secret", CLIENT_SECRET).await;
    let auth = json!({ "type": "oauth2ClientCredentials", "tokenUrl": "http://idp.test:9/oauth/token",
        "clientId": "ricochet-client", "clientSecret": "{{secret:client_secret}}" });
    let id = s
        .integration("oauth", &receiver.url, json!({ "auth": auth }))
        .await;
    s.bind(&id, &["a.b"]).await;

    let (_, published) = s.publish(&json!({ "type": "a.b", "data": {} })).await;
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("a delivery");
    let dead = s
        .wait_delivery(delivery, WAIT, |d| d["status"] == "dead_lettered")
        .await;

    assert_eq!(dead["reason"], "blocked_target");
    assert_eq!(dead["attemptCount"], 1, "not retried: {dead}");
    let message = dead["attempts"][0]["errorMessage"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("token endpoint") && message.contains("169.254.169.254"),
        "{message}"
    );
    assert!(receiver.hits().is_empty());
}
