//! The API while its database does not answer: liveness stays up, readiness and every
//! database-backed route answer 503 with `Retry-After` at once. The worker while it does not:
//! it starts no attempt it could not record.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use ricochet_server::{ApiSettings, Application};
use ricochet_store::crypto::{Keyring, SharedKeyring};
use secrecy::SecretString;
use serde_json::json;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use crate::harness::{
    ADMIN_KEY, JWT_SECRET, Session, TestApp, loopback_allowed, test_worker_config,
};
use crate::receiver::{Receiver, Reply};

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
        publish_overflow_writers: 1,
        publish_regather: Duration::from_millis(1),
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

/// Makes database `name` unreachable, as an outage does: new connections are refused and
/// open ones are ended. `keeper` is a connection to another database of the cluster.
async fn take_database_down(keeper: &mut PgConnection, name: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS false"
    )))
    .execute(&mut *keeper)
    .await
    .expect("refusing new connections");
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(name)
        .execute(&mut *keeper)
        .await
        .expect("ending the open connections");
}

/// Ends the outage [`take_database_down`] began.
async fn bring_database_back(keeper: &mut PgConnection, name: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} ALLOW_CONNECTIONS true"
    )))
    .execute(&mut *keeper)
    .await
    .expect("accepting connections again");
}

#[tokio::test]
async fn while_the_database_is_down_the_worker_starts_no_attempt_it_claimed_before_and_sends_them_once_it_is_back()
 {
    const WAIT: Duration = Duration::from_secs(60);
    // Retries are claimed as soon as they are due within 6 s: they wait in the worker, claimed,
    // when the database goes away.
    let retry_delay = Duration::from_secs(4);
    let mut config = test_worker_config();
    config.prefetch = Duration::from_secs(6);
    let app = TestApp::spawn_with_worker(config).await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::first_then_ok(|| Reply::status(503)).await;
    let policy = json!({ "retryPolicyType": "fixed", "retryDelay": retry_delay.as_millis(),
                         "maxRetries": 3, "jitter": false });
    let id = s
        .integration(
            "hook",
            &receiver.url,
            json!({ "requestTimeout": 1000, "retryPolicy": policy }),
        )
        .await;
    s.bind(&id, &["order.created"]).await;
    let mut deliveries = Vec::new();
    for i in 0..3 {
        let (status, published) = s
            .publish(&json!({ "type": "order.created", "id": format!("o-{i}"), "data": {} }))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        deliveries.push(
            published["deliveries"][0]["deliveryId"]
                .as_str()
                .expect("a delivery")
                .to_owned(),
        );
    }
    let first_tries = receiver.wait_for(3, WAIT).await;
    let retries_due = first_tries
        .iter()
        .map(|hit| hit.at + retry_delay)
        .min()
        .expect("three hits");
    // Each retry is claimed ahead of its time: in flight, its first attempt recorded.
    for delivery in &deliveries {
        s.wait_delivery(delivery, WAIT, |d| {
            d["status"] == "in_flight" && d["attemptCount"] == 1
        })
        .await;
    }

    let options = app.pool.connect_options();
    let name = options
        .get_database()
        .expect("the test database")
        .to_owned();
    let mut keeper = PgConnection::connect_with(&(*options).clone().database("postgres"))
        .await
        .expect("a connection beside the application's");
    take_database_down(&mut keeper, &name).await;
    assert!(
        Instant::now() + Duration::from_secs(1) < retries_due,
        "the outage began too late to test anything (the machine is slow): retries were due"
    );
    // Well past the time the retries were due (and past their leases): none was sent, since
    // none could be recorded.
    let quiet = retries_due + Duration::from_secs(3) - Instant::now();
    receiver.assert_stays_at(3, quiet).await;

    bring_database_back(&mut keeper, &name).await;
    let hits = receiver.wait_for(6, WAIT).await;
    for delivery in &deliveries {
        s.wait_delivery(delivery, WAIT, |d| d["status"] == "succeeded")
            .await;
    }
    let retried = hits
        .iter()
        .filter(|hit| hit.at > retries_due)
        .map(|hit| hit.header("x-ricochet-delivery-id"))
        .collect::<std::collections::HashSet<_>>();
    assert_eq!(
        retried.len(),
        3,
        "each delivery was retried once it was back"
    );
}
