//! Every attempt ends recorded and no delivery loops: unreadable secrets, binary answers, rows
//! the database refuses, and records made under a lease that no longer holds.

use std::time::Duration;

use reqwest::StatusCode;
use ricochet_store::settings_cache::SettingsCache;
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, guide_integration};
use crate::receiver::{Receiver, Reply};

const WAIT: Duration = Duration::from_secs(60);

/// The guide's integration on `receiver`, bound to `order.created`; returns its id.
async fn guide_on(s: &Session<'_>, receiver: &Receiver) -> String {
    let mut body = guide_integration();
    body["settings"]["url"] = json!(receiver.url);
    let created = s.create_integration(&body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    s.bind(&id, &["order.created"]).await;
    id
}

#[tokio::test]
async fn a_secret_sealed_under_an_unknown_master_key_dead_letters_at_once_as_secret_unreadable() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let receiver = Receiver::start().await;
    guide_on(&s, &receiver).await;
    // As if the keyring that sealed it were lost (a container recreated without its volume).
    sqlx::query("UPDATE secrets SET key_id = '00deadbeef00cafe' WHERE name = 'crm_api_token'")
        .execute(&app.pool)
        .await
        .expect("re-keying the row");

    let (status, published) = s
        .publish(&json!({ "type": "order.created", "id": "o-1", "data": {} }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("delivery");

    let dead = s
        .wait_delivery(delivery, WAIT, |d| d["status"] == "dead_lettered")
        .await;
    assert_eq!(dead["reason"], "secret_unreadable:crm_api_token");
    assert_eq!(dead["attemptCount"], 1);
    assert_eq!(dead["attempts"][0]["errorKind"], "secret_unreadable");
    let message = dead["attempts"][0]["errorMessage"].as_str().unwrap_or("");
    assert!(message.contains("00deadbeef00cafe"), "{message}");
    // The alert like any dead letter, and nothing sent or run again.
    let alerts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'integration.message.failed'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("count");
    assert_eq!(alerts, 1);
    receiver
        .assert_stays_at(0, Duration::from_millis(1_500))
        .await;
    let again = s.get_json(&format!("/api/v2/deliveries/{delivery}")).await;
    assert_eq!(again["attemptCount"], 1);
}

#[tokio::test]
async fn a_binary_answer_with_nul_is_recorded_and_its_batch_mates_are_recorded_once() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let binary = Receiver::scripted(|_, _| Reply {
        body: Some(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe ok"),
        ..Reply::status(200)
    })
    .await;
    let plain = Receiver::start().await;
    // One event to the binary receiver and four others: their attempts finish together and
    // are recorded in the same batches.
    let short = json!({ "requestTimeout": 1000 });
    let binary_hook = s.integration("binary", &binary.url, short.clone()).await;
    s.bind(&binary_hook, &["order.created"]).await;
    for i in 0..4 {
        let id = s
            .integration(&format!("plain-{i}"), &plain.url, short.clone())
            .await;
        s.bind(&id, &["order.created"]).await;
    }

    let (status, published) = s
        .publish(&json!({ "type": "order.created", "id": "o-1", "data": {} }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let deliveries: Vec<String> = published["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| d["deliveryId"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(deliveries.len(), 5);

    for id in &deliveries {
        let done = s
            .wait_delivery(id, WAIT, |d| d["status"] == "succeeded")
            .await;
        assert_eq!(done["attemptCount"], 1, "{done}");
        if done["integrationId"] == binary_hook.as_str() {
            assert_eq!(
                done["attempts"][0]["response"]["body"],
                "\\x89PNG\r\n\u{1a}\n\\x00\\x00\\x00\rIHDR\\xff\\xfe ok"
            );
        } else {
            assert_eq!(done["attempts"][0]["response"]["body"], "receiver says hi");
        }
    }
    // Beyond the leases (1 s timeout + 0.5 s grace): nothing was sent again.
    binary.assert_stays_at(1, Duration::from_secs(2)).await;
    assert_eq!(plain.hits().len(), 4);
}

#[tokio::test]
async fn a_release_or_record_made_under_an_expired_lease_changes_nothing_even_for_the_same_worker()
{
    use ricochet_runtime::Handoff;
    use ricochet_store::deliveries::{self, Finished, Transition};
    use std::sync::Arc;

    // The API alone: nothing claims but this test, as worker `w`.
    let never_open = Arc::new(Handoff::new("nobody", 8, 0));
    let app = TestApp::spawn_api_handing_to(never_open).await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let id = s
        .integration(
            "hook",
            "http://127.0.0.1:9/",
            json!({ "requestTimeout": 1 }),
        )
        .await;
    s.bind(&id, &["order.created"]).await;
    let (status, _) = s
        .publish(&json!({ "type": "order.created", "id": "o-1", "data": {} }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let first = deliveries::claim(&app.pool, &SettingsCache::default(), "w", 1, 0, 0)
        .await
        .expect("claim")
        .pop()
        .expect("the delivery");
    // Its lease (1 ms) expires; the reaper returns it and `w` claims it again.
    let start = std::time::Instant::now();
    loop {
        let mut conn = app.pool.acquire().await.expect("connection");
        let reaped = deliveries::reap_expired_leases(&mut conn, 3)
            .await
            .expect("reap");
        if !reaped.is_empty() {
            assert_eq!(
                reaped[0].status,
                ricochet_domain::delivery::DeliveryStatus::Pending
            );
            break;
        }
        assert!(start.elapsed() < WAIT, "the lease never expired");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = deliveries::claim(&app.pool, &SettingsCache::default(), "w", 1, 60_000, 0)
        .await
        .expect("claim")
        .pop()
        .expect("the delivery again");
    assert_eq!(second.id, first.id);
    assert!(second.lease_token > first.lease_token);

    // Giving back the first claim (a worker that will not start it) leaves the second alone:
    // released, it could be claimed and sent a second time beside the second claim's attempt.
    let mut conn = app.pool.acquire().await.expect("connection");
    let stale = deliveries::release(&mut conn, "w", &[(first.id, first.lease_token)])
        .await
        .expect("the statement runs");
    assert_eq!(stale, 0, "the first lease released the second");
    drop(conn);
    let shown = s
        .get_json(&format!("/api/v2/deliveries/{}", first.id))
        .await;
    assert_eq!(shown["status"], "in_flight");

    let record = |claimed: &deliveries::Claimed| deliveries::AttemptRecord {
        id: uuid::Uuid::now_v7(),
        started_at: chrono::Utc::now(),
        duration_ms: 1,
        status_code: Some(200),
        error_kind: None,
        error_message: None,
        request_method: "POST".into(),
        request_url: claimed.settings.url.clone(),
        request_headers: deliveries::AttemptRecord::no_headers(),
        response_content_type: None,
        response_body: None,
        retry_after_ms: None,
        retry_after_note: None,
    };
    let (late, current) = (record(&first), record(&second));
    let mut conn = app.pool.acquire().await.expect("connection");
    let zombie = deliveries::record_attempts(
        &mut conn,
        "w",
        &[Finished {
            delivery: first.id,
            lease_token: first.lease_token,
            attempt: &late,
            transition: &Transition::Succeeded,
        }],
    )
    .await
    .expect("the statement runs");
    assert!(zombie.is_empty(), "the first lease's record was taken");
    let held = deliveries::record_attempts(
        &mut conn,
        "w",
        &[Finished {
            delivery: second.id,
            lease_token: second.lease_token,
            attempt: &current,
            transition: &Transition::Succeeded,
        }],
    )
    .await
    .expect("the statement runs");
    assert_eq!(held.len(), 1);

    let shown = s
        .get_json(&format!("/api/v2/deliveries/{}", first.id))
        .await;
    assert_eq!(shown["status"], "succeeded");
    assert_eq!(shown["attemptCount"], 1);
    assert_eq!(shown["attempts"][0]["id"], current.id.to_string());
}

#[tokio::test]
async fn an_attempt_the_database_refuses_is_recorded_without_its_details_and_its_batch_mates_once()
{
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    // This database refuses to store any attempt whose answer mentions "poison", as it would a
    // row it cannot store for any other reason.
    for statement in [
        "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.response_body LIKE '%poison%' THEN RAISE EXCEPTION 'refusing this row'; END IF;
             RETURN NEW;
         END $$",
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON attempts
         FOR EACH ROW EXECUTE FUNCTION refuse_poison()",
    ] {
        sqlx::query(statement)
            .execute(&app.pool)
            .await
            .expect("installing the trigger");
    }
    let poisoned = Receiver::scripted(|_, _| Reply {
        body: Some(b"poison"),
        ..Reply::status(200)
    })
    .await;
    let plain = Receiver::start().await;
    let short = json!({ "requestTimeout": 1000 });
    let poisoned_hook = s
        .integration("poisoned", &poisoned.url, short.clone())
        .await;
    s.bind(&poisoned_hook, &["order.created"]).await;
    for i in 0..4 {
        let id = s
            .integration(&format!("plain-{i}"), &plain.url, short.clone())
            .await;
        s.bind(&id, &["order.created"]).await;
    }

    let (_, published) = s
        .publish(&json!({ "type": "order.created", "id": "o-1", "data": {} }))
        .await;

    let deliveries = published["deliveries"].as_array().expect("deliveries");
    assert_eq!(deliveries.len(), 5);
    for d in deliveries {
        let id = d["deliveryId"].as_str().expect("id");
        let done = s
            .wait_delivery(id, WAIT, |d| d["status"] == "succeeded")
            .await;
        assert_eq!(done["attemptCount"], 1, "{done}");
        let attempt = &done["attempts"][0];
        if done["integrationId"] == poisoned_hook.as_str() {
            assert_eq!(attempt["response"]["body"], Value::Null);
            assert_eq!(
                attempt["errorMessage"],
                "the details of this attempt could not be stored"
            );
        } else {
            assert_eq!(attempt["response"]["body"], "receiver says hi");
        }
    }
    // Beyond the leases (1 s timeout + 0.5 s grace): nothing was sent again.
    poisoned.assert_stays_at(1, Duration::from_secs(2)).await;
    assert_eq!(plain.hits().len(), 4);
}

/// A dead letter's alert is published inside the recording transaction (no hand-over). Its
/// route must not turn off `synchronous_commit` for that transaction: the record of the dead
/// letter, and the alert, are durable when their commit returns.
#[tokio::test]
async fn publishing_inside_a_transaction_without_a_hand_over_keeps_its_commit_durable() {
    use crate::harness::order_created;
    use ricochet_domain::TenantId;
    use ricochet_domain::event::matching_patterns;

    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let receiver = Receiver::start().await;
    guide_on(&s, &receiver).await;
    let tenant_id = TenantId(tenant.id.parse().expect("a tenant id"));

    let data = json!({ "n": 1 });
    let patterns = matching_patterns("order.created");
    let batch = [order_created(
        tenant_id,
        "inside-a-transaction",
        &data,
        &patterns,
    )];
    let mut tx = app.pool.begin().await.expect("a transaction");
    // The test cluster runs with it off (for speed): the transaction asks for it, as a
    // production cluster's default gives it.
    sqlx::query("SET LOCAL synchronous_commit TO on")
        .execute(&mut *tx)
        .await
        .expect("set");
    let (published, _) = ricochet_runtime::publish::publish_batch(&mut tx, &batch, None)
        .await
        .expect("published");
    assert_eq!(published.len(), 1);
    assert_eq!(
        published[0].deliveries.len(),
        1,
        "routed to the integration"
    );
    let setting: String = sqlx::query_scalar("SELECT current_setting('synchronous_commit')")
        .fetch_one(&mut *tx)
        .await
        .expect("the setting");
    tx.rollback().await.expect("rolled back");
    assert_eq!(
        setting, "on",
        "the transaction's commit would not wait for the disk"
    );
}
