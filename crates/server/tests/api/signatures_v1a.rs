//! Asymmetric Standard Webhooks signatures (`v1a`, Ed25519): a receiver verifies them with the
//! integration's public `whpk_` key alone (here with aws-lc-rs, not Ricochet's own code), also
//! across a rotation; `both` adds them beside `v1`, which the `standardwebhooks` library still
//! verifies.

use std::time::Duration;

use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, fields, problem};
use crate::receiver::{Hit, Receiver};
use crate::standard_webhooks::{python, verify};

const WAIT: Duration = Duration::from_secs(30);

/// How many `v1a` entries of the hit's `webhook-signature` verify with `public_key`
/// (`whpk_...`), as a receiver computes it: Ed25519 over `id.timestamp.body`.
fn v1a_verified(public_key: &str, hit: &Hit) -> usize {
    let public = STANDARD
        .decode(public_key.strip_prefix("whpk_").expect("a whpk_ key"))
        .expect("base64");
    let content = format!(
        "{}.{}.{}",
        hit.header("webhook-id"),
        hit.header("webhook-timestamp"),
        hit.body
    );
    let key = UnparsedPublicKey::new(&ED25519, public);
    hit.header("webhook-signature")
        .split(' ')
        .filter_map(|entry| entry.strip_prefix("v1a,"))
        .filter(|sig| {
            STANDARD
                .decode(sig)
                .is_ok_and(|sig| key.verify(content.as_bytes(), &sig).is_ok())
        })
        .count()
}

async fn signing_secret(s: &Session<'_>, integration: &str) -> Value {
    s.get_json(&format!(
        "/api/v2/integrations/{integration}/signing-secret"
    ))
    .await
}

async fn rotate(s: &Session<'_>, integration: &str, body: &Value) -> reqwest::Response {
    s.req(
        Method::POST,
        &format!("/api/v2/integrations/{integration}/signing-secret/rotate"),
    )
    .json(body)
    .send()
    .await
    .expect("request")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1a_deliveries_verify_with_the_public_key_and_a_rotation_sends_both_entries() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let receiver = Receiver::start().await;
    let id = s
        .integration(
            "ed25519",
            &receiver.url,
            json!({ "signature": { "scheme": "v1a" } }),
        )
        .await;
    s.bind(&id, &["order.*"]).await;
    let shown = signing_secret(&s, &id).await;
    assert_eq!(shown["scheme"], "v1a");
    let old = shown["publicKey"]
        .as_str()
        .expect("a public key")
        .to_owned();
    assert!(old.starts_with("whpk_"));
    assert!(!shown.to_string().contains("whsk_"), "no private key shown");

    s.publish(&json!({ "type": "order.created", "id": "first", "data": { "q": "a\"b" } }))
        .await;
    let first = receiver.wait_for(1, WAIT).await.remove(0);
    let signature = first.header("webhook-signature");
    assert!(
        signature.starts_with("v1a,") && !signature.contains(' '),
        "{signature}"
    );
    assert_eq!(v1a_verified(&old, &first), 1);

    let rotated = rotate(&s, &id, &json!({ "gracePeriodSeconds": 600 })).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.expect("json");
    let new = rotated["publicKey"].as_str().expect("a public key");
    assert_ne!(new, old);
    assert!(rotated["previousKeyRetiresAt"].is_string());
    assert_eq!(signing_secret(&s, &id).await["publicKey"], new);
    // Workers read keys again within a few seconds of a rotation: publish until a delivery
    // carries the new key (bounded).
    let started = std::time::Instant::now();
    let second = loop {
        let n = receiver.hits().len();
        s.publish(&json!({ "type": "order.created", "id": format!("after-{n}"), "data": {} }))
            .await;
        let hit = receiver.wait_for(n + 1, WAIT).await.remove(n);
        if hit.header("webhook-signature").split(' ').count() == 2 {
            break hit;
        }
        assert_eq!(v1a_verified(&old, &hit), 1, "until then the old key signs");
        assert!(
            started.elapsed() < WAIT,
            "the rotation never reached an attempt"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(v1a_verified(&old, &second), 1, "the old key still signs");
    assert_eq!(v1a_verified(new, &second), 1, "the new key signs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sends_a_v1_entry_the_library_verifies_beside_a_v1a_entry() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let receiver = Receiver::start().await;
    let id = s
        .integration(
            "both",
            &receiver.url,
            json!({ "signature": { "scheme": "both" } }),
        )
        .await;
    s.bind(&id, &["order.*"]).await;
    let shown = signing_secret(&s, &id).await;
    let (secret, public) = (
        shown["key"].as_str().expect("a whsec_ key").to_owned(),
        shown["publicKey"].as_str().expect("a whpk_ key").to_owned(),
    );

    s.publish(&json!({ "type": "order.created", "id": "evt-1", "data": {} }))
        .await;
    let hit = receiver.wait_for(1, WAIT).await.remove(0);
    let entries: Vec<&str> = hit.header("webhook-signature").split(' ').collect();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(entries[0].starts_with("v1,") && entries[1].starts_with("v1a,"));
    assert_eq!(v1a_verified(&public, &hit), 1);
    // The library skips `v1a` entries and verifies the `v1` one.
    if let Some(python) = python() {
        assert_eq!(verify(&python, &[(secret.as_str(), &hit)]), vec!["ok"]);
    }

    // Back to v1 alone: the public key is no longer shown, one entry is sent.
    let mut integration = s.get_json(&format!("/api/v2/integrations/{id}")).await;
    integration["settings"]["signature"] = json!({ "scheme": "v1" });
    let body = json!({ "name": integration["name"], "settings": integration["settings"] });
    let response = s
        .req(Method::PUT, &format!("/api/v2/integrations/{id}"))
        .json(&body)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(signing_secret(&s, &id).await.get("publicKey").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_scheme_and_a_key_of_the_wrong_kind_are_refused() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let response = s
        .create_integration(&json!({ "name": "x", "settings": {
            "url": "http://127.0.0.1:9/", "signature": { "scheme": "v2" } } }))
        .await;
    let refused = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        fields(&refused)
            .iter()
            .any(|f| f.starts_with("settings.signature")),
        "{refused}"
    );

    let id = s
        .integration(
            "v1a",
            "http://127.0.0.1:9/",
            json!({ "signature": { "scheme": "v1a" } }),
        )
        .await;
    let before = signing_secret(&s, &id).await;
    let wrong = rotate(
        &s,
        &id,
        &json!({ "scheme": "v1a", "key": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
    )
    .await;
    assert_eq!(
        fields(&problem(wrong, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec!["key"]
    );
    let bad = rotate(&s, &id, &json!({ "key": "whsk_dG9vLXNob3J0" })).await;
    assert_eq!(
        fields(&problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec!["key"]
    );
    let unknown = rotate(&s, &id, &json!({ "scheme": "v3" })).await;
    assert_eq!(
        fields(&problem(unknown, StatusCode::UNPROCESSABLE_ENTITY).await),
        vec!["scheme"]
    );
    assert_eq!(
        signing_secret(&s, &id).await["publicKey"],
        before["publicKey"]
    );

    // A given Ed25519 key (seed and public key) becomes the current one.
    let seed = [7u8; 32];
    let pair = aws_lc_rs::signature::Ed25519KeyPair::from_seed_unchecked(&seed).expect("a key");
    let public = aws_lc_rs::signature::KeyPair::public_key(&pair)
        .as_ref()
        .to_vec();
    let mut whole = seed.to_vec();
    whole.extend_from_slice(&public);
    let given = rotate(
        &s,
        &id,
        &json!({ "key": format!("whsk_{}", STANDARD.encode(&whole)) }),
    )
    .await;
    assert_eq!(given.status(), StatusCode::OK);
    let given: Value = given.json().await.expect("json");
    assert_eq!(
        given["publicKey"],
        format!("whpk_{}", STANDARD.encode(&public))
    );
}
