//! Retention: finished deliveries older than the retention go with their attempts and events;
//! dead letters, recent rows and other tenants' rows stay.

use std::time::{Duration, Instant};

use ricochet_delivery::retention::{self, RetentionConfig};
use serde_json::json;
use sqlx::PgPool;

use crate::harness::{Session, TestApp};
use crate::receiver::{Receiver, Reply};

const WAIT: Duration = Duration::from_secs(30);

/// Deliveries of `tenant` in `status`.
async fn deliveries(pool: &PgPool, tenant: &str, status: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM deliveries WHERE tenant_id = $1::uuid AND status = $2")
        .bind(tenant)
        .bind(status)
        .fetch_one(pool)
        .await
        .expect("count")
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Makes every row of `tenant` look `days` old.
async fn age(pool: &PgPool, tenant: &str, days: i32) {
    for sql in [
        "UPDATE deliveries SET created_at = now() - make_interval(days => $2),
                completed_at = now() - make_interval(days => $2)
         WHERE tenant_id = $1::uuid",
        "UPDATE attempts SET started_at = now() - make_interval(days => $2) WHERE tenant_id = $1::uuid",
        "UPDATE events SET received_at = now() - make_interval(days => $2) WHERE tenant_id = $1::uuid",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant)
            .bind(days)
            .execute(pool)
            .await
            .expect("ageing rows");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_old_finished_rows_and_keeps_dead_letters_recent_rows_and_other_tenants()
{
    let app = TestApp::spawn().await;
    let ok = Receiver::start().await;
    let refusing = Receiver::scripted(|_, _| Reply::status(400)).await;

    let old = app.tenant("old-co").await;
    let s = Session::new(&app, &old).await;
    let delivered = s.integration("delivered", &ok.url, json!({})).await;
    s.bind(&delivered, &["order.paid"]).await;
    let dead = s.integration("dead", &refusing.url, json!({})).await;
    s.bind(&dead, &["order.refused"]).await;
    for (kind, id) in [
        ("order.paid", "paid-1"),
        ("order.paid", "paid-2"),
        ("order.refused", "refused-1"),
        ("order.unbound", "unbound-1"),
    ] {
        let (status, _) = s
            .publish(&json!({ "type": kind, "id": id, "data": { "n": 1 } }))
            .await;
        assert_eq!(status, reqwest::StatusCode::ACCEPTED);
    }

    let recent = app.tenant("recent-co").await;
    let r = Session::new(&app, &recent).await;
    let recent_hook = r.integration("delivered", &ok.url, json!({})).await;
    r.bind(&recent_hook, &["order.paid"]).await;
    let (status, _) = r
        .publish(&json!({ "type": "order.paid", "id": "paid-1", "data": {} }))
        .await;
    assert_eq!(status, reqwest::StatusCode::ACCEPTED);

    let pool = &app.pool;
    wait_for("the deliveries to finish", async || {
        deliveries(pool, &old.id, "succeeded").await == 2
            && deliveries(pool, &old.id, "dead_lettered").await == 1
            && deliveries(pool, &recent.id, "succeeded").await == 1
    })
    .await;
    age(pool, &old.id, 40).await;

    let mut config = RetentionConfig::new(Duration::from_secs(30 * 86_400));
    config.every = Duration::from_millis(100);
    config.batch = 1;
    tokio::spawn(retention::run(pool.clone(), config, std::future::pending()));

    wait_for("retention to delete the old rows", async || {
        app.count("events", &old.id).await == 1
    })
    .await;
    assert_eq!(deliveries(pool, &old.id, "succeeded").await, 0);
    assert_eq!(
        deliveries(pool, &old.id, "dead_lettered").await,
        1,
        "a dead letter stays however old"
    );
    assert_eq!(
        app.count("attempts", &old.id).await,
        1,
        "only the dead letter's attempt stays"
    );
    let kept: Vec<String> = sqlx::query_scalar("SELECT id FROM events WHERE tenant_id = $1::uuid")
        .bind(&old.id)
        .fetch_all(pool)
        .await
        .expect("events");
    assert_eq!(kept, ["refused-1"], "the dead letter's event stays");
    let dead_letters = s.get_json("/api/v2/deadletters").await;
    assert_eq!(dead_letters["data"].as_array().map(Vec::len), Some(1));

    assert_eq!(deliveries(pool, &recent.id, "succeeded").await, 1);
    assert_eq!(app.count("attempts", &recent.id).await, 1);
    assert_eq!(app.count("events", &recent.id).await, 1);
}

#[tokio::test]
async fn a_large_event_payload_is_stored_lz4_compressed_when_the_server_has_lz4() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let big = "queue member update ".repeat(5_000);
    let (status, _) = s
        .publish(&json!({ "type": "order.paid", "id": "big-1", "data": { "note": big } }))
        .await;
    assert_eq!(status, reqwest::StatusCode::ACCEPTED);

    // Whether this server was built with lz4: setting it as the default fails otherwise.
    let mut conn = app.pool.acquire().await.expect("connection");
    let has_lz4 = sqlx::query("SET default_toast_compression = 'lz4'")
        .execute(&mut *conn)
        .await
        .is_ok();
    let method: Option<String> = sqlx::query_scalar(
        "SELECT pg_column_compression(data) FROM events WHERE tenant_id = $1::uuid AND id = 'big-1'",
    )
    .bind(&tenant.id)
    .fetch_one(&mut *conn)
    .await
    .expect("the event");
    let expected = if has_lz4 { "lz4" } else { "pglz" };
    assert_eq!(method.as_deref(), Some(expected));
}
