//! Secrets through the API and the worker: write-only values, encryption at rest, rotation
//! without a restart, missing secrets, transformations, payload limits and preview.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{GUIDE_TOKEN, Session, TestApp, fields, guide_integration, problem};
use crate::receiver::{Receiver, Reply};

const WAIT: Duration = Duration::from_secs(60);

/// The guide's integration, pointed at `receiver` and bound to its event; returns its id.
async fn guide_on(s: &Session<'_>, receiver: &Receiver, retry_delay: u64) -> String {
    let mut body = guide_integration();
    body["settings"]["url"] = json!(receiver.url);
    body["settings"]["retryPolicy"]["retryDelay"] = json!(retry_delay);
    body["settings"]["retryPolicy"]["jitter"] = json!(false);
    let created = s.create_integration(&body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    s.bind(&id, &["routing.queue.member.update"]).await;
    id
}

async fn publish(s: &Session<'_>, data: Value) -> String {
    let (_, published) = s
        .publish(&json!({ "type": "routing.queue.member.update", "data": data }))
        .await;
    published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("delivery")
        .to_owned()
}

#[tokio::test]
async fn the_guides_integration_sends_the_secret_and_the_attempt_after_a_rotation_sends_the_new_value()
 {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver =
        Receiver::scripted(|_, earlier| Reply::status(if earlier == 0 { 503 } else { 200 })).await;
    guide_on(&s, &receiver, 1_000).await;

    let delivery = publish(&s, json!({})).await;
    let first = receiver.wait_for(1, WAIT).await;
    assert_eq!(
        first[0].header("authorization"),
        format!("Bearer {GUIDE_TOKEN}")
    );
    let rotated = s
        .req(Method::PUT, "/api/v2/secrets/crm_api_token")
        .json(&json!({ "value": "rotated-token" }))
        .send()
        .await
        .expect("rotate");
    assert_eq!(rotated.status(), StatusCode::OK);

    let hits = receiver.wait_for(2, WAIT).await;
    assert_eq!(hits[1].header("authorization"), "Bearer rotated-token");
    assert_eq!(
        hits[1].header("x-genesys-event-id"),
        hits[1].header("webhook-id")
    );
    let done = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "succeeded")
        .await;
    assert_eq!(
        done["attempts"][0]["request"]["headers"]["Authorization"],
        "Bearer {{secret:crm_api_token}}"
    );
}

#[tokio::test]
async fn the_database_holds_only_ciphertext() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let value = "plain-value-that-must-not-be-stored";
    s.req(Method::POST, "/api/v2/secrets")
        .json(&json!({ "name": "stored", "value": value }))
        .send()
        .await
        .expect("create");

    let rows: Vec<(Vec<u8>, Vec<u8>, String)> =
        sqlx::query_as("SELECT ciphertext, nonce, key_id FROM secrets")
            .fetch_all(&app.pool)
            .await
            .expect("rows");

    assert_eq!(rows.len(), 2);
    for (ciphertext, nonce, key_id) in rows {
        assert!(
            !ciphertext
                .windows(value.len())
                .any(|w| w == value.as_bytes())
        );
        assert!(
            !ciphertext
                .windows(GUIDE_TOKEN.len())
                .any(|w| w == GUIDE_TOKEN.as_bytes())
        );
        assert_eq!(nonce.len(), 12);
        assert!(!key_id.is_empty());
    }
    let dump: String = sqlx::query_scalar("SELECT string_agg(s::text, ',') FROM secrets s")
        .fetch_one(&app.pool)
        .await
        .expect("dump");
    assert!(!dump.contains(value));
}

#[tokio::test]
async fn the_secrets_api_never_returns_a_value_and_tells_who_uses_a_secret() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    let integration = guide_on(&s, &receiver, 1_000).await;

    let one = s
        .req(Method::GET, "/api/v2/secrets/crm_api_token")
        .send()
        .await
        .expect("get");
    let text = one.text().await.expect("body");
    assert!(!text.contains(GUIDE_TOKEN));
    let one: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(one["version"], 1);
    assert_eq!(one["usedBy"][0]["id"], integration.as_str());
    let list = s
        .req(Method::GET, "/api/v2/secrets")
        .send()
        .await
        .expect("list")
        .text()
        .await
        .expect("body");
    assert!(!list.contains(GUIDE_TOKEN) && list.contains("crm_api_token"));

    let rotated: Value = s
        .req(Method::PUT, "/api/v2/secrets/crm_api_token")
        .header("if-match", "\"1\"")
        .json(&json!({ "value": "v2" }))
        .send()
        .await
        .expect("put")
        .json()
        .await
        .expect("json");
    assert_eq!(rotated["version"], 2);
    assert!(rotated.get("value").is_none());
    problem(
        s.req(Method::PUT, "/api/v2/secrets/crm_api_token")
            .header("if-match", "\"1\"")
            .json(&json!({ "value": "v3" }))
            .send()
            .await
            .expect("put"),
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    problem(
        s.req(Method::POST, "/api/v2/secrets")
            .json(&json!({ "name": "crm_api_token", "value": "x" }))
            .send()
            .await
            .expect("post"),
        StatusCode::CONFLICT,
    )
    .await;
    let bad = problem(
        s.req(Method::POST, "/api/v2/secrets")
            .json(&json!({ "name": "no spaces", "value": "" }))
            .send()
            .await
            .expect("post"),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(fields(&bad), vec!["name", "value"]);
    assert_eq!(
        s.req(Method::DELETE, "/api/v2/secrets/crm_api_token")
            .send()
            .await
            .expect("delete")
            .status(),
        StatusCode::NO_CONTENT
    );
    problem(
        s.req(Method::GET, "/api/v2/secrets/crm_api_token")
            .send()
            .await
            .expect("get"),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn secret_view_reads_metadata_but_cannot_write() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let token = app
        .token(&tenant.client_id, &tenant.secret, Some("secret:view"))
        .await;
    let s = Session { app: &app, token };

    assert_eq!(
        s.req(Method::GET, "/api/v2/secrets")
            .send()
            .await
            .expect("list")
            .status(),
        StatusCode::OK
    );
    problem(
        s.req(Method::POST, "/api/v2/secrets")
            .json(&json!({ "name": "x", "value": "y" }))
            .send()
            .await
            .expect("post"),
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn an_integration_referencing_a_missing_secret_or_an_unknown_variable_is_refused_naming_each()
{
    let app = TestApp::spawn().await;
    let tenant = app.bare_tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let mut body = guide_integration();
    body["settings"]["url"] = json!("https://example.com/{{dta.id}}");

    let refused = problem(
        s.create_integration(&body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    let named = fields(&refused);
    assert!(named.contains(&"settings.url".to_owned()), "{refused}");
    body["settings"]["url"] = json!("https://example.com/");
    let refused = problem(
        s.create_integration(&body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(fields(&refused), vec!["settings.headers.Authorization"]);
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("crm_api_token")
    );
    assert_eq!(app.count("integrations", &tenant.id).await, 0);
}

#[tokio::test]
async fn a_deleted_secret_dead_letters_with_its_name_and_restoring_it_and_replaying_delivers() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    guide_on(&s, &receiver, 10).await;
    s.req(Method::DELETE, "/api/v2/secrets/crm_api_token")
        .send()
        .await
        .expect("delete");

    let delivery = publish(&s, json!({})).await;

    let dead = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "dead_lettered")
        .await;
    assert_eq!(dead["reason"], "missing_secret:crm_api_token");
    assert!(
        receiver.hits().is_empty(),
        "nothing is sent without the secret"
    );
    s.req(Method::POST, "/api/v2/secrets")
        .json(&json!({ "name": "crm_api_token", "value": "restored" }))
        .send()
        .await
        .expect("restore");
    assert_eq!(s.replay(&delivery).await, StatusCode::ACCEPTED);
    let hits = receiver.wait_for(1, WAIT).await;
    assert_eq!(hits[0].header("authorization"), "Bearer restored");
    s.wait_delivery(&delivery, WAIT, |d| d["status"] == "succeeded")
        .await;
}

#[tokio::test]
async fn the_guides_field_mapping_sends_a_body_with_exactly_those_two_fields() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    let settings = json!({
        "payloadFormat": "data",
        "transformations": [
            { "type": "fieldMapping", "source": "queueName", "destination": "queue" },
            { "type": "fieldMapping", "source": "memberId", "destination": "agentId" }
        ]
    });
    let id = s.integration("mapped", &receiver.url, settings).await;
    s.bind(&id, &["routing.queue.member.update"]).await;

    publish(&s, json!({ "queueName": "support", "memberId": "agent-7", "history": [1, 2, 3], "skills": { "a": 1 } })).await;

    let hits = receiver.wait_for(1, WAIT).await;
    assert_eq!(
        hits[0].json(),
        json!({ "queue": "support", "agentId": "agent-7" })
    );
}

#[tokio::test]
async fn a_body_over_the_payload_limit_is_dead_lettered_without_being_sent() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    let template = "{{data.big}}".repeat(6);
    let id = s
        .integration("big", &receiver.url, json!({ "bodyTemplate": template }))
        .await;
    s.bind(&id, &["routing.queue.member.update"]).await;

    let delivery = publish(&s, json!({ "big": "x".repeat(200 * 1024) })).await;

    let dead = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "dead_lettered")
        .await;
    assert_eq!(dead["reason"], "payload_too_large");
    assert!(receiver.hits().is_empty());
}

#[tokio::test]
async fn a_receivers_413_is_dead_lettered_as_payload_too_large_without_retries() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::scripted(|_, _| Reply::status(413)).await;
    let id = s
        .integration(
            "small",
            &receiver.url,
            json!({ "retryPolicy": { "retryDelay": 10 } }),
        )
        .await;
    s.bind(&id, &["routing.queue.member.update"]).await;

    let delivery = publish(&s, json!({})).await;

    let dead = s
        .wait_delivery(&delivery, WAIT, |d| d["status"] == "dead_lettered")
        .await;
    assert_eq!(dead["reason"], "payload_too_large");
    assert_eq!(dead["attemptCount"], 1);
}

#[tokio::test]
async fn preview_shows_the_redacted_request_and_sends_nothing() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    let id = guide_on(&s, &receiver, 1_000).await;
    let event = json!({ "type": "routing.queue.member.update", "id": "evt-9", "data": { "queueName": "support" } });

    let saved: Value = s
        .req(Method::POST, &format!("/api/v2/integrations/{id}/preview"))
        .json(&event)
        .send()
        .await
        .expect("preview")
        .json()
        .await
        .expect("json");
    let mut unsaved_integration = guide_integration();
    unsaved_integration["settings"]["headers"]["X-Other"] = json!("<<secret:not_created_yet>>");
    let unsaved = s
        .req(Method::POST, "/api/v2/integrations/preview")
        .json(&json!({ "integration": unsaved_integration, "event": event }))
        .send()
        .await
        .expect("preview");
    assert_eq!(unsaved.status(), StatusCode::OK);
    let unsaved: Value = unsaved.json().await.expect("json");

    assert_eq!(saved["method"], "POST");
    assert_eq!(saved["url"], receiver.url.as_str());
    assert_eq!(
        saved["headers"]["Authorization"],
        "Bearer {{secret:crm_api_token}}"
    );
    assert_eq!(saved["headers"]["X-Genesys-Event-Id"], "evt-9");
    assert_eq!(saved["headers"]["webhook-id"], "evt-9");
    let body: Value =
        serde_json::from_str(saved["body"].as_str().expect("a body")).expect("json body");
    assert_eq!(body["data"], json!({ "queueName": "support" }));
    assert_eq!(saved["missingSecrets"], json!([]));
    assert_eq!(unsaved["missingSecrets"], json!(["not_created_yet"]));
    assert!(!saved.to_string().contains(GUIDE_TOKEN) && !unsaved.to_string().contains(GUIDE_TOKEN));
    receiver
        .assert_stays_at(0, Duration::from_millis(300))
        .await;
    assert_eq!(
        app.count("events", &s_tenant(&s).await).await,
        0,
        "a preview publishes nothing"
    );
}

async fn s_tenant(s: &Session<'_>) -> String {
    let claims: Value = jsonwebtoken::dangerous::insecure_decode::<Value>(&s.token)
        .expect("decodes")
        .claims;
    claims["tenant"].as_str().expect("tenant").to_owned()
}

/// `secrets rekey` leaves no value under the old master key because another transaction held
/// its row at the time (a server writing that secret just as the keyring changed): its first
/// pass skips held rows, and its second waits for them and re-seals what they committed.
#[tokio::test]
async fn a_rekey_waits_for_a_secret_another_transaction_holds_and_reseals_it() {
    use ricochet_domain::TenantId;
    use ricochet_store::crypto::{Keyring, SharedKeyring};
    use ricochet_store::secrets;

    let app = TestApp::spawn().await;
    let tenant = TenantId(uuid::Uuid::now_v7());
    ricochet_store::tenants::create_tenant(&app.pool, tenant, "acme")
        .await
        .expect("a tenant");
    let (old, new) = (Keyring::generate_key(), Keyring::generate_key());
    let before = SharedKeyring::fixed(Keyring::parse(&old).expect("a key"));
    let sealed = before
        .seal(&secrets::aad(tenant, "crm_api_token"), b"the-crm-token")
        .expect("sealed");
    secrets::create_secret(&app.pool, tenant, "crm_api_token", "", &sealed)
        .await
        .expect("a secret under the old key");
    let after = SharedKeyring::fixed(Keyring::parse(&format!("{new},{old}")).expect("keys"));
    let current = after.get().current_id().to_owned();

    let mut holder = app.pool.begin().await.expect("a transaction");
    sqlx::query("SELECT 1 FROM secrets WHERE tenant_id = $1 FOR UPDATE")
        .bind(tenant.0)
        .execute(&mut *holder)
        .await
        .expect("the row held");
    let pool = app.pool.clone();
    let rekey =
        tokio::spawn(
            async move { secrets::rekey_all(&pool, &after, Duration::from_millis(50)).await },
        );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !rekey.is_finished(),
        "the rekey ended while the row under the old key was held"
    );
    holder.commit().await.expect("released");
    let (resealed, signing) = tokio::time::timeout(WAIT, rekey)
        .await
        .expect("the rekey ends once the row is released")
        .expect("joined")
        .expect("rekeyed");
    assert_eq!((resealed, signing), (1, 0));
    let key_id: String = sqlx::query_scalar("SELECT key_id FROM secrets WHERE tenant_id = $1")
        .bind(tenant.0)
        .fetch_one(&app.pool)
        .await
        .expect("the secret");
    assert_eq!(key_id, current, "sealed under the new master key");
}
