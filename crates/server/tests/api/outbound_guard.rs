//! The outbound guard: integrations may point only at public addresses unless the operator
//! opened a range (`--allow-targets`; every other test app allows loopback), checked at save
//! for literal addresses and at send on the address actually connected.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use ricochet_delivery::guard::HostLookup;
use ricochet_domain::target::TargetPolicy;

use crate::harness::{Session, TestApp, fields, problem, test_worker_config};
use crate::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(30);

/// The addresses of the issue, and other spellings of them.
const REFUSED: [&str; 16] = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/",
    "http://[::1]/",
    "http://[fd00::1]/",
    "http://0.0.0.0/",
    "http://[::ffff:169.254.169.254]/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://0x7f.1/",
    "http://127.1:8080/hook",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://{{data.host}}/",
    "http://user:pass@example.com/",
    "http://192.168.0.10/",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_loopback_and_metadata_targets_are_refused_at_save_naming_settings_url() {
    let app = TestApp::spawn_public_only().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    for url in REFUSED {
        let response = s
            .create_integration(&json!({ "name": "probe", "settings": { "url": url } }))
            .await;
        let body = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(fields(&body), vec!["settings.url"], "{url}: {body}");
    }
    assert_eq!(app.count("integrations", &tenant.id).await, 0);
    // A public address and a name pass.
    for url in ["http://93.184.216.34/hook", "https://hooks.example.com/x"] {
        s.integration(url, url, json!({})).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_ranges_open_only_themselves() {
    // The test app runs with `--allow-targets 127.0.0.0/8,::1/128`.
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    for url in [
        "http://127.0.0.1:9/",
        "http://2130706433:9/",
        "http://[::1]:9/",
    ] {
        s.integration(url, url, json!({})).await;
    }
    for url in [
        "http://169.254.169.254/",
        "http://10.0.0.1/",
        "http://[fd00::1]/",
    ] {
        let response = s
            .create_integration(&json!({ "name": "probe", "settings": { "url": url } }))
            .await;
        problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_resolving_to_loopback_is_blocked_at_send_without_allow_targets_and_not_retried() {
    let app = TestApp::spawn_public_only().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    let port = receiver.url.rsplit(':').next().expect("a port").to_owned();
    let id = s
        .integration("local", &format!("http://localhost:{port}/hook"), json!({}))
        .await;
    s.bind(&id, &["a.b"]).await;
    let (_, published) = s.publish(&json!({ "type": "a.b", "data": {} })).await;
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("a delivery")
        .to_owned();

    let dead = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "dead_lettered")
        .await;
    assert_eq!(dead["reason"], "blocked_target");
    assert_eq!(dead["attemptCount"], 1, "not retried");
    assert_eq!(dead["attempts"][0]["errorKind"], "blocked_target");
    assert!(
        dead["attempts"][0]["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("localhost")),
        "{dead}"
    );
    assert!(receiver.hits().is_empty(), "nothing reached the receiver");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_resolving_to_loopback_is_delivered_when_loopback_is_allowed() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    let port = receiver.url.rsplit(':').next().expect("a port").to_owned();
    let id = s
        .integration("local", &format!("http://localhost:{port}/hook"), json!({}))
        .await;
    s.bind(&id, &["a.b"]).await;
    s.publish(&json!({ "type": "a.b", "data": {} })).await;
    let hits = receiver.wait_for(1, WAIT).await;
    assert_eq!(hits[0].path, "/hook");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dns_answer_that_changes_after_save_is_checked_at_send() {
    // The worker resolves `rebind.test` with an answer this test sets; only 127.0.0.1 is open.
    let answer = Arc::new(Mutex::new(IpAddr::from([127, 0, 0, 1])));
    let current = answer.clone();
    let mut config = test_worker_config();
    config.targets = Arc::new(TargetPolicy {
        allow: vec!["127.0.0.1/32".parse().expect("a CIDR")],
        require_https: false,
    });
    config.lookup = HostLookup::with(move |host| {
        let ip = *current.lock().expect("answer lock");
        Box::pin(async move {
            if host == "rebind.test" {
                Ok(vec![ip])
            } else {
                Err(std::io::Error::new(std::io::ErrorKind::NotFound, host))
            }
        })
    });
    let app = TestApp::spawn_with_worker(config).await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    let port = receiver.url.rsplit(':').next().expect("a port").to_owned();
    let id = s
        .integration(
            "rebind",
            &format!("http://rebind.test:{port}/hook"),
            json!({}),
        )
        .await;
    s.bind(&id, &["a.b"]).await;

    // After the save, the name now points at the cloud metadata address.
    *answer.lock().expect("answer lock") = IpAddr::from([169, 254, 169, 254]);
    let (_, published) = s.publish(&json!({ "type": "a.b", "data": {} })).await;
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("a delivery")
        .to_owned();
    let dead = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "dead_lettered")
        .await;
    assert_eq!(dead["reason"], "blocked_target");
    let message = dead["attempts"][0]["errorMessage"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("rebind.test") && message.contains("169.254.169.254"),
        "{message}"
    );
    assert!(receiver.hits().is_empty(), "nothing reached any receiver");

    // Pointed back at the open address, the same name delivers.
    *answer.lock().expect("answer lock") = IpAddr::from([127, 0, 0, 1]);
    s.publish(&json!({ "type": "a.b", "data": {} })).await;
    let hits = receiver.wait_for(1, WAIT).await;
    assert_eq!(hits[0].path, "/hook");
}
