//! Tenants and API clients through the admin API.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{PLAIN_FAILURES, Session, TestApp, problem};

#[tokio::test]
async fn the_admin_creates_lists_gets_and_deletes_tenants() {
    let app = TestApp::spawn().await;
    let created = app
        .admin(Method::POST, "/api/v2/tenants")
        .json(&json!({"name": "acme"}))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.expect("json");
    let path = format!("/api/v2/tenants/{}", created["id"].as_str().expect("id"));

    let fetched: Value = app
        .admin(Method::GET, &path)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(fetched, created);
    let list: Value = app
        .admin(Method::GET, "/api/v2/tenants")
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(list["data"], json!([created]));

    assert_eq!(
        app.admin(Method::DELETE, &path)
            .send()
            .await
            .expect("delete")
            .status(),
        StatusCode::NO_CONTENT
    );
    problem(
        app.admin(Method::GET, &path).send().await.expect("get"),
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn a_tenant_name_is_unique() {
    let app = TestApp::spawn().await;
    app.tenant("acme").await;

    let again = app
        .admin(Method::POST, "/api/v2/tenants")
        .json(&json!({"name": "acme"}))
        .send()
        .await
        .expect("create");

    problem(again, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn the_admin_api_refuses_a_wrong_key() {
    let app = TestApp::spawn().await;

    let response = app
        .http
        .get(app.url("/api/v2/tenants"))
        .bearer_auth("not-the-admin-key")
        .send()
        .await
        .expect("list");

    problem(response, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_client_secret_is_shown_once_and_never_listed() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;

    let list = app
        .admin(
            Method::GET,
            &format!("/api/v2/tenants/{}/clients", tenant.id),
        )
        .send()
        .await
        .expect("list");
    let text = list.text().await.expect("body");

    assert!(text.contains(&tenant.client_id));
    assert!(
        !text.contains(&tenant.secret),
        "the secret must not be listed"
    );
    assert!(!text.contains("argon2"), "nor its hash");
}

#[tokio::test]
async fn a_deleted_tenants_token_reaches_nothing_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    assert_eq!(
        app.admin(Method::DELETE, &format!("/api/v2/tenants/{}", tenant.id))
            .send()
            .await
            .expect("delete")
            .status(),
        StatusCode::NO_CONTENT
    );

    let body =
        json!({ "name": "after-deletion", "settings": { "url": "https://example.com/hook" } });
    problem(s.create_integration(&body).await, StatusCode::UNAUTHORIZED).await;

    assert_eq!(app.count("integrations", &tenant.id).await, 0);
}

/// Deliveries and attempts keep no foreign keys (migration 0004): deleting a tenant removes
/// them explicitly, and only its own.
#[tokio::test]
async fn deleting_a_tenant_removes_its_events_deliveries_and_attempts_only() {
    let app = TestApp::spawn().await;
    let receiver = crate::receiver::Receiver::start().await;
    let (acme, globex) = (app.tenant("acme").await, app.tenant("globex").await);
    for tenant in [&acme, &globex] {
        let s = Session::new(&app, tenant).await;
        let hook = s.integration("hook", &receiver.url, json!({})).await;
        s.bind(&hook, &["order.created"]).await;
        for n in 0..3 {
            let (status, _) = s
                .publish(
                    &json!({ "type": "order.created", "id": format!("o-{n}"), "data": { "n": n } }),
                )
                .await;
            assert_eq!(status, StatusCode::ACCEPTED);
        }
    }
    receiver
        .wait_for(6, std::time::Duration::from_secs(10))
        .await;
    for table in ["events", "deliveries", "attempts"] {
        // Attempts are recorded just after the receiver answers.
        for _ in 0..100 {
            if app.count(table, &acme.id).await == 3 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(app.count(table, &acme.id).await, 3, "{table} before");
    }

    let deleted = app
        .admin(Method::DELETE, &format!("/api/v2/tenants/{}", acme.id))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    for table in ["events", "deliveries", "attempts", "integrations"] {
        assert_eq!(app.count(table, &acme.id).await, 0, "{table} of acme");
    }
    for table in ["events", "deliveries", "attempts", "integrations"] {
        let expected = if table == "integrations" { 1 } else { 3 };
        assert_eq!(
            app.count(table, &globex.id).await,
            expected,
            "{table} of globex"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_overview_shows_the_queue_every_tenant_and_the_integrations_failing_across_tenants()
 {
    use crate::receiver::{Receiver, Reply};

    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let a = Session::new(&app, &acme).await;
    let o = Session::new(&app, &other).await;
    let refusing = Receiver::scripted(|_, _| Reply::status(410)).await;
    let ok = Receiver::start().await;
    let broken = a
        .integration("broken", &refusing.url, PLAIN_FAILURES.clone())
        .await;
    a.bind(&broken, &["order.created"]).await;
    let healthy = o.integration("healthy", &ok.url, json!({})).await;
    o.bind(&healthy, &["order.created"]).await;
    for s in [&a, &o] {
        let (_, published) = s
            .publish(&json!({ "type": "order.created", "id": "o-1", "data": {} }))
            .await;
        let id = published["deliveries"][0]["deliveryId"]
            .as_str()
            .expect("a delivery");
        s.wait_delivery(id, std::time::Duration::from_secs(30), |d| {
            d["status"] == "succeeded" || d["status"] == "dead_lettered"
        })
        .await;
    }

    let response = app
        .admin(Method::GET, "/api/v2/admin/overview")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let overview: Value = response.json().await.expect("json");
    let failing = overview["failingIntegrations"].as_array().expect("failing");
    assert_eq!(failing.len(), 1, "{overview}");
    assert_eq!(failing[0]["integrationId"], broken.as_str());
    assert_eq!(failing[0]["tenantName"], "acme");
    assert_eq!(failing[0]["failed"], 1);
    assert_eq!(failing[0]["successRate"], 0.0);
    let tenants = overview["tenants"].as_array().expect("tenants");
    let dead_letters = |name: &str| {
        tenants
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| t["deadLetters"].clone())
    };
    assert_eq!(dead_letters("acme"), Some(json!(1)));
    assert_eq!(dead_letters("other"), Some(json!(0)));
    assert_eq!(overview["queue"]["due"], 0);
    assert!(overview["queue"]["lagSeconds"].is_number());

    let as_tenant = a
        .req(Method::GET, "/api/v2/admin/overview")
        .send()
        .await
        .expect("request");
    problem(as_tenant, StatusCode::FORBIDDEN).await;
}
