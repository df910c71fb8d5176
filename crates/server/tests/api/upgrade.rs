//! Upgrading an install: a database migrated only as far as an early version, holding that
//! version's data, is migrated to the current schema, and the server then runs on it.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{JWT_SECRET, Session, TestApp, empty_database};
use crate::receiver::Receiver;

/// The last migration of the first schema that delivered events (the delivery core, before
/// lanes, leases with fencing tokens, ordering keys, signing keys and the stats rollups).
const FIRST_SCHEMA: i64 = 20261123000004;

/// An install of the first schema holds a delivery in each state a user sees: one dead-lettered
/// after a failed attempt, one pending and due, one succeeded. After every later migration the
/// server reads them, delivers the pending one, and replays the dead letter.
#[tokio::test]
async fn an_install_of_the_first_schema_with_deliveries_upgrades_and_the_server_runs_on_it() {
    let pool = empty_database().await;
    ricochet_store::MIGRATOR
        .run_to(FIRST_SCHEMA, &pool)
        .await
        .expect("migrating to the first schema");
    let receiver = Receiver::start().await;
    let (tenant, integration) = (Uuid::now_v7(), Uuid::now_v7());
    let (dead, pending, done) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    // As the first schema's code wrote them.
    let settings = json!({
        "url": receiver.url,
        "httpMethod": "POST",
        "contentType": "application/json",
        "headers": {},
        "retryPolicy": {"maxRetries": 3, "retryDelay": 50, "multiplier": 2.0, "maxDelay": 1000},
        "requestTimeout": 5000
    });
    let setup = [
        sqlx::query("INSERT INTO tenants (id, name) VALUES ($1, 'upgraded')").bind(tenant),
        sqlx::query(
            "INSERT INTO integrations (id, tenant_id, name, kind, enabled, settings)
             VALUES ($1, $2, 'old-hook', 'webhook', true, $3)",
        )
        .bind(integration)
        .bind(tenant)
        .bind(&settings),
        sqlx::query(
            "INSERT INTO event_bindings (id, tenant_id, integration_id, event_type)
             VALUES ($1, $2, $3, 'order.created')",
        )
        .bind(Uuid::now_v7())
        .bind(tenant)
        .bind(integration),
        sqlx::query(
            "INSERT INTO events (tenant_id, id, event_type, occurred_at, data, delivery_ids)
             VALUES ($1, 'ev-dead', 'order.created', now(), '{\"n\": 1}', ARRAY[$2]::uuid[]),
                    ($1, 'ev-pending', 'order.created', now(), '{\"n\": 2}', ARRAY[$3]::uuid[]),
                    ($1, 'ev-done', 'order.created', now(), '{\"n\": 3}', ARRAY[$4]::uuid[])",
        )
        .bind(tenant)
        .bind(dead)
        .bind(pending)
        .bind(done),
        sqlx::query(
            "INSERT INTO deliveries (id, tenant_id, event_id, integration_id, status, attempt_count,
                 next_attempt_at, last_status_code, reason, completed_at)
             VALUES ($1, $4, 'ev-dead', $5, 'dead_lettered', 1, now(), 500, 'retries_exhausted', now()),
                    ($2, $4, 'ev-pending', $5, 'pending', 0, now() - interval '1 second', NULL, NULL, NULL),
                    ($3, $4, 'ev-done', $5, 'succeeded', 1, now(), 200, NULL, now())",
        )
        .bind(dead)
        .bind(pending)
        .bind(done)
        .bind(tenant)
        .bind(integration),
        sqlx::query(
            "INSERT INTO attempts (id, delivery_id, tenant_id, integration_id, event_id, attempt_number,
                 started_at, duration_ms, outcome, status_code, request_method, request_url, request_headers)
             VALUES ($1, $3, $5, $6, 'ev-dead', 1, now(), 12, 'failed', 500, 'POST', $7, '{}'),
                    ($2, $4, $5, $6, 'ev-done', 1, now(), 8, 'succeeded', 200, 'POST', $7, '{}')",
        )
        .bind(Uuid::now_v7())
        .bind(Uuid::now_v7())
        .bind(dead)
        .bind(done)
        .bind(tenant)
        .bind(integration)
        .bind(&receiver.url),
    ];
    for statement in setup {
        statement
            .execute(&pool)
            .await
            .expect("writing the first schema's data");
    }

    ricochet_store::MIGRATOR
        .run(&pool)
        .await
        .expect("migrating to the current schema");

    let app = TestApp::spawn_api_on(pool, JWT_SECRET).await;
    app.start_worker();
    let tenant = app
        .with_client(tenant.to_string(), "after the upgrade")
        .await;
    let s = Session::new(&app, &tenant).await;
    let get = async |path: String| -> Value {
        let response = s.req(Method::GET, &path).send().await.expect("request");
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.expect("json")
    };

    // The pending delivery goes out, to the receiver the old settings name.
    let hits = receiver.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(hits[0].header("webhook-id"), "ev-pending");

    let succeeded = get(format!("/api/v2/deliveries/{done}")).await;
    assert_eq!(succeeded["status"], "succeeded", "{succeeded}");
    assert_eq!(succeeded["attempts"][0]["statusCode"], 200, "{succeeded}");

    let queue = get("/api/v2/deadletters".to_owned()).await;
    let listed: Vec<&str> = queue["data"]
        .as_array()
        .expect("a page of dead letters")
        .iter()
        .filter_map(|d| d["deliveryId"].as_str())
        .collect();
    assert_eq!(listed, [dead.to_string().as_str()], "{queue}");
    assert_eq!(s.replay(&dead.to_string()).await, StatusCode::ACCEPTED);
    let hits = receiver.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(hits[1].header("webhook-id"), "ev-dead");
    let event = get("/api/v2/events/ev-done".to_owned()).await;
    assert_eq!(event["data"], json!({"n": 3}), "{event}");
}
