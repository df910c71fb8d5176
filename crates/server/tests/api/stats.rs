//! Delivery statistics computed from the attempts a real receiver answered.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, problem};
use crate::receiver::{Receiver, Reply};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_answering_in_50_and_150_ms_alternately_averages_near_100_ms_with_counts_by_status()
 {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    // Alternately a quick 200 and a slow 400 (not retried: dead-lettered at once).
    let turn = AtomicUsize::new(0);
    let receiver = Receiver::scripted(move |_, _| {
        if turn.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
            Reply {
                hold: Some(Duration::from_millis(50)),
                ..Reply::status(200)
            }
        } else {
            Reply {
                hold: Some(Duration::from_millis(150)),
                ..Reply::status(400)
            }
        }
    })
    .await;
    let id = s.integration("timed", &receiver.url, json!({})).await;
    s.bind(&id, &["order.created"]).await;
    let quiet = s.integration("quiet", &receiver.url, json!({})).await;

    for i in 0..10 {
        let (status, published) = s
            .publish(&json!({ "type": "order.created", "id": format!("evt-{i}"), "data": {} }))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        // One at a time, so the receiver's turns alternate cleanly.
        let delivery = published["deliveries"][0]["deliveryId"]
            .as_str()
            .expect("delivery");
        s.wait_delivery(delivery, WAIT, |d| {
            d["status"] == "succeeded" || d["status"] == "dead_lettered"
        })
        .await;
    }

    let stats = s
        .get_json(&format!("/api/v2/integrations/{id}/stats?window=1h"))
        .await;
    assert_eq!(stats["window"], "1h");
    assert_eq!(stats["attempts"], 10);
    assert_eq!(stats["succeeded"], 5);
    assert_eq!(stats["failed"], 5);
    assert_eq!(stats["successRate"], 0.5);
    assert_eq!(stats["deadLetters"], 5);
    assert_eq!(
        stats["byStatusCode"],
        json!([{ "statusCode": 200, "count": 5 }, { "statusCode": 400, "count": 5 }])
    );
    let avg = stats["responseTimeMs"]["avg"].as_f64().expect("an average");
    // Each attempt takes at least its hold; the rest is the machine's overhead.
    assert!((100.0..175.0).contains(&avg), "average {avg} ms");
    let p99 = stats["responseTimeMs"]["p99"].as_f64().expect("a p99");
    assert!(p99 >= 150.0, "p99 {p99} ms");
    let p50 = stats["responseTimeMs"]["p50"].as_f64().expect("a p50");
    assert!((50.0..210.0).contains(&p50), "p50 {p50} ms");
    assert!(stats["lastSuccessAt"].is_string());
    assert!(stats["lastFailureAt"].is_string());
    let buckets = stats["buckets"].as_array().expect("buckets");
    assert!(buckets.len() >= 12, "an hour in 5-minute buckets");
    let in_buckets: i64 = buckets
        .iter()
        .map(|b| b["attempts"].as_i64().expect("n"))
        .sum();
    assert_eq!(in_buckets, 10);

    let idle = s
        .get_json(&format!("/api/v2/integrations/{quiet}/stats?window=7d"))
        .await;
    assert_eq!(idle["attempts"], 0);
    assert_eq!(idle["successRate"], Value::Null);
    assert_eq!(idle["responseTimeMs"]["avg"], Value::Null);

    let tenant_wide = s.get_json("/api/v2/stats?window=24h").await;
    assert_eq!(tenant_wide["attempts"], 10);
    assert_eq!(tenant_wide["deadLetters"], 5);
    assert_eq!(
        tenant_wide["buckets"].as_array().expect("buckets").len(),
        25
    );
}

/// The figures of a stats answer (not its bounds, which move with the clock), with the
/// attempts of its buckets summed.
fn figures(stats: &Value) -> Value {
    let keys = [
        "attempts",
        "succeeded",
        "failed",
        "successRate",
        "deadLetters",
        "byStatusCode",
        "responseTimeMs",
        "lastSuccessAt",
        "lastFailureAt",
    ];
    let mut figures: serde_json::Map<String, Value> = keys
        .iter()
        .map(|k| ((*k).to_owned(), stats[*k].clone()))
        .collect();
    let in_buckets: i64 = stats["buckets"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| b["attempts"].as_i64().expect("n"))
        .sum();
    figures.insert("inBuckets".into(), json!(in_buckets));
    Value::Object(figures)
}

async fn rollup_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM attempt_rollups")
        .fetch_one(&app.pool)
        .await
        .expect("counting rollups")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compacting_the_rollups_into_minutes_and_hours_changes_no_figure() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    // 200, 400 (dead-lettered at once), 200, ...
    let turn = AtomicUsize::new(0);
    let receiver = Receiver::scripted(move |_, _| {
        Reply::status(if turn.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
            200
        } else {
            400
        })
    })
    .await;
    let id = s.integration("counted", &receiver.url, json!({})).await;
    s.bind(&id, &["order.created"]).await;
    for i in 0..12 {
        let (status, _) = s
            .publish(&json!({ "type": "order.created", "id": format!("evt-{i}"), "data": {} }))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    receiver.wait_for(12, WAIT).await;
    let path = |window: &str| format!("/api/v2/integrations/{id}/stats?window={window}");
    let start = std::time::Instant::now();
    let (hour, day) = loop {
        let hour = s.get_json(&path("1h")).await;
        // The stats' queries run side by side, each in its own snapshot: the dead-letter count
        // can trail the attempts by a record that lands between them.
        if hour["attempts"] == 12 && hour["deadLetters"] == 6 {
            break (hour, s.get_json(&path("24h")).await);
        }
        assert!(start.elapsed() < WAIT, "not all recorded: {hour}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(day["attempts"], 12);
    let before = rollup_rows(&app).await;

    // Two minutes on: each finished minute's rows are merged into one per status code.
    let now = chrono::Utc::now();
    ricochet_store::stats::compact_rollups(&app.pool, now + chrono::Duration::minutes(2))
        .await
        .expect("compacting");
    let minutes = rollup_rows(&app).await;
    assert!(minutes <= 2 * 2, "{minutes} rows (from {before})");
    assert_eq!(figures(&s.get_json(&path("1h")).await), figures(&hour));
    assert_eq!(figures(&s.get_json(&path("24h")).await), figures(&day));

    // Three hours on: the minutes are merged into their hour.
    ricochet_store::stats::compact_rollups(&app.pool, now + chrono::Duration::hours(3))
        .await
        .expect("compacting");
    let hours = rollup_rows(&app).await;
    assert!(hours <= minutes && hours <= 2 * 2, "{hours} rows");
    assert_eq!(figures(&s.get_json(&path("24h")).await), figures(&day));

    // Nine days on: gone.
    ricochet_store::stats::compact_rollups(&app.pool, now + chrono::Duration::days(9))
        .await
        .expect("compacting");
    assert_eq!(rollup_rows(&app).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_of_another_tenants_integration_are_404_and_a_bad_window_is_400() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let a = Session::new(&app, &acme).await;
    let o = Session::new(&app, &other).await;
    let id = a.integration("mine", "http://127.0.0.1:9", json!({})).await;

    let response = o
        .req(Method::GET, &format!("/api/v2/integrations/{id}/stats"))
        .send()
        .await
        .expect("request");
    problem(response, StatusCode::NOT_FOUND).await;
    let response = a
        .req(
            Method::GET,
            &format!("/api/v2/integrations/{id}/stats?window=2h"),
        )
        .send()
        .await
        .expect("request");
    let body = problem(response, StatusCode::BAD_REQUEST).await;
    assert!(body.to_string().contains("window"));
    assert_eq!(
        a.get_json(&format!("/api/v2/integrations/{id}/stats"))
            .await["window"],
        "24h"
    );
}
