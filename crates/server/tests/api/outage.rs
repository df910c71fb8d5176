//! The API while its database does not answer: liveness stays up, readiness and every
//! database-backed route answer 503 with `Retry-After` at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use ricochet_server::{ApiSettings, Application};
use ricochet_store::crypto::{Keyring, SharedKeyring};
use secrecy::SecretString;
use sqlx::postgres::PgConnectOptions;

use crate::harness::{ADMIN_KEY, JWT_SECRET, loopback_allowed};

/// The real API on a pool whose server is not there (a socket directory with no socket).
async fn api_without_database() -> String {
    let nowhere = std::env::temp_dir().join(format!("ricochet-no-pg-{}", uuid::Uuid::now_v7()));
    let options = PgConnectOptions::new()
        .socket(&nowhere)
        .port(5432)
        .username("ricochet")
        .database("ricochet");
    let pool = ricochet_store::pool_options(4).connect_lazy_with(options);
    let keyring = SharedKeyring::fixed(
        Keyring::parse(&Keyring::generate_key()).expect("a generated key parses"),
    );
    let settings = ApiSettings {
        listen: "127.0.0.1:0".parse().expect("a literal address"),
        admin_key: SecretString::from(ADMIN_KEY),
        jwt_secret: SecretString::from(JWT_SECRET),
        token_ttl: Duration::from_secs(3600),
        limits: ricochet_api::Limits::default(),
        keyring: Arc::new(keyring),
        publish_writers: 1,
        handoff: None,
        tracer: None,
        metrics_on_api: true,
        targets: loopback_allowed(),
    };
    let app = Application::build(settings, pool)
        .await
        .expect("the application builds without a database");
    let addr = app.local_addr().expect("bound address");
    tokio::spawn(app.run_until(std::future::pending()));
    format!("http://{addr}")
}

#[tokio::test]
async fn without_its_database_the_api_stays_live_and_answers_503_with_retry_after_within_two_seconds()
 {
    let base = api_without_database().await;
    let http = reqwest::Client::new();

    let healthz = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(
        healthz.status(),
        StatusCode::OK,
        "liveness ignores the database"
    );

    let started_ready = Instant::now();
    let readyz = http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(readyz.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started_ready.elapsed() < Duration::from_secs(1),
        "readyz took {:?}",
        started_ready.elapsed()
    );

    let started_tenants = Instant::now();
    let tenants = http
        .get(format!("{base}/api/v2/tenants"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .expect("tenants");
    assert_eq!(tenants.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started_tenants.elapsed() < Duration::from_secs(2));
    assert_eq!(tenants.headers()["retry-after"], "2");
    assert_eq!(
        tenants.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = tenants.json().await.expect("problem");
    assert_eq!(problem["type"], "urn:ricochet:problem:unavailable");

    let started_token = Instant::now();
    let token = http
        .post(format!("{base}/oauth/token"))
        .basic_auth(uuid::Uuid::now_v7().to_string(), Some("secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(token.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started_token.elapsed() < Duration::from_secs(2));
    assert!(token.headers().contains_key("retry-after"));
    let body: serde_json::Value = token.json().await.expect("oauth error");
    assert_eq!(body["error"], "temporarily_unavailable");
}
