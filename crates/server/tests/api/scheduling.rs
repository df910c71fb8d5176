//! Fair scheduling and receiver protection through the real worker: a noisy integration's
//! backlog does not delay another tenant, nor do a tenant's many busy integrations;
//! `settings.maxConcurrency` caps attempts in flight, a Retry-After pauses the whole
//! integration, and the integration shows its health.

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, fields, problem};
use crate::receiver::{Receiver, Reply};

const WAIT: Duration = Duration::from_secs(60);

/// Publishes `n` events of `kind` with up to 16 requests at a time.
pub(crate) async fn publish_many(s: &Session<'_>, kind: &str, n: usize) {
    let accepted: Vec<StatusCode> = futures::stream::iter(0..n)
        .map(|i| async move {
            s.publish(&json!({ "type": kind, "data": { "i": i } }))
                .await
                .0
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(accepted.iter().all(|s| *s == StatusCode::ACCEPTED));
}

/// The most requests that arrived within any `window` (requests held longer than `window`
/// were all in flight together at the last one's arrival).
pub(crate) fn most_within(hits: &[crate::receiver::Hit], window: Duration) -> usize {
    let mut at: Vec<Instant> = hits.iter().map(|h| h.at).collect();
    at.sort();
    let mut most = 0;
    let mut first = 0;
    for (last, t) in at.iter().enumerate() {
        while t.duration_since(at[first]) >= window {
            first += 1;
        }
        most = most.max(last + 1 - first);
    }
    most
}

/// Publishes 20 events of `order.created` for `quiet`, 50 ms apart, and returns how long each
/// took from its publish to its arrival at `fast`, shortest first.
async fn quiet_latencies(quiet: &Session<'_>, fast: &Receiver) -> Vec<Duration> {
    let mut published = Vec::new();
    for i in 0..20 {
        published.push(Instant::now());
        let (status, _) = quiet
            .publish(&json!({ "type": "order.created", "data": { "n": i } }))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let hits = fast.wait_for(20, WAIT).await;
    let mut latencies: Vec<Duration> = hits
        .iter()
        .map(|h| {
            let n = usize::try_from(h.json()["data"]["n"].as_u64().expect("n")).expect("small");
            h.at.duration_since(published[n])
        })
        .collect();
    latencies.sort();
    latencies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_noisy_integrations_backlog_to_a_slow_receiver_does_not_delay_another_tenants_deliveries()
{
    let app = TestApp::spawn().await;
    let noisy = Session::new(&app, &app.tenant("noisy").await).await;
    let quiet = Session::new(&app, &app.tenant("quiet").await).await;
    let slow = Receiver::scripted(|_, _| Reply {
        hold: Some(Duration::from_secs(2)),
        ..Reply::status(200)
    })
    .await;
    let fast = Receiver::start().await;
    let backlog = noisy.integration("backlog", &slow.url, json!({})).await;
    noisy.bind(&backlog, &["order.created"]).await;
    let hook = quiet.integration("quiet", &fast.url, json!({})).await;
    quiet.bind(&hook, &["order.created"]).await;
    // More due deliveries than the worker has slots (32 in tests), all to a 2 s receiver.
    publish_many(&noisy, "order.created", 1000).await;
    slow.wait_for(10, WAIT).await;

    let latencies = quiet_latencies(&quiet, &fast).await;
    let worst = latencies[latencies.len() - 1];
    assert!(
        worst < Duration::from_millis(250),
        "the quiet tenant waited up to {worst:?} behind the backlog: {latencies:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_with_many_busy_integrations_does_not_take_the_worker_from_a_tenant_with_one() {
    let app = TestApp::spawn().await;
    let busy = Session::new(&app, &app.tenant("busy").await).await;
    let quiet = Session::new(&app, &app.tenant("quiet").await).await;
    let slow = Receiver::scripted(|_, _| Reply {
        hold: Some(Duration::from_secs(1)),
        ..Reply::status(200)
    })
    .await;
    let fast = Receiver::start().await;
    // Eight integrations of one tenant, room for 80 attempts together: more than the worker's
    // 32 slots, so every slot is busy and each freed one is shared out.
    for n in 0..8 {
        let id = busy
            .integration(&format!("busy-{n}"), &slow.url, json!({}))
            .await;
        busy.bind(&id, &["order.created"]).await;
    }
    let hook = quiet.integration("quiet", &fast.url, json!({})).await;
    quiet.bind(&hook, &["order.created"]).await;
    publish_many(&busy, "order.created", 60).await;
    slow.wait_for(32, WAIT).await;

    // Shared among the nine integrations alone, the quiet one would get a ninth of the freed
    // slots (about 3.5 a second for 20 a second published): its last delivery waited 10.6 s
    // when measured so. Shared between the two tenants first, it gets every other one. Every
    // slot is held for the receiver's second when the quiet tenant starts publishing, so its
    // first event waits for the first slot to free, up to that second: measured alone, the
    // worst waits were 0.92 to 0.95 s, all of them for that first wave, and a bound of 1 s
    // failed once under the full suite's load. Two seconds leaves room for a loaded machine and
    // is still five times below the unfair share.
    let latencies = quiet_latencies(&quiet, &fast).await;
    let worst = latencies[latencies.len() - 1];
    assert!(
        worst < Duration::from_secs(2),
        "the quiet tenant waited up to {worst:?} behind the busy one: {latencies:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrency_caps_the_attempts_in_flight_and_every_delivery_still_arrives() {
    let app = TestApp::spawn().await;
    // A second worker on the same database: the cap holds across workers.
    app.start_worker();
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::scripted(|_, _| Reply {
        hold: Some(Duration::from_millis(200)),
        ..Reply::status(200)
    })
    .await;
    let id = s
        .integration("capped", &receiver.url, json!({ "maxConcurrency": 3 }))
        .await;
    s.bind(&id, &["order.created"]).await;

    publish_many(&s, "order.created", 40).await;

    let hits = receiver.wait_for(40, WAIT).await;
    receiver
        .assert_stays_at(40, Duration::from_millis(500))
        .await;
    let most = most_within(&hits, Duration::from_millis(190));
    assert!(most <= 3, "{most} requests were in flight at once");
    let health = s.get_json(&format!("/api/v2/integrations/{id}")).await;
    assert_eq!(health["health"]["inFlight"], 0, "{health}");
}

#[tokio::test]
async fn max_concurrency_outside_1_to_256_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    for bad in [0, 257] {
        let response = s
            .create_integration(&json!({ "name": "capped", "settings": {
                "url": "https://example.com/hook", "maxConcurrency": bad } }))
            .await;
        let problem = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(fields(&problem), vec!["settings.maxConcurrency"]);
    }
    let created: Value = s
        .create_integration(
            &json!({ "name": "default", "settings": { "url": "https://example.com/hook" } }),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(created["settings"]["maxConcurrency"], 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_pauses_the_whole_integration_and_no_other() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    // The very first request is refused for 2 s; everything else succeeds.
    let limited = Receiver::scripted(|hit, earlier| {
        if earlier == 0 && hit.json()["data"]["n"] == 0 {
            Reply::retry_after(429, "2")
        } else {
            Reply::status(200)
        }
    })
    .await;
    let other = Receiver::start().await;
    let paused = s
        .integration(
            "limited",
            &limited.url,
            json!({ "retryPolicy": { "retryDelay": 20 } }),
        )
        .await;
    s.bind(&paused, &["order.created"]).await;
    let free = s.integration("other", &other.url, json!({})).await;
    s.bind(&free, &["invoice.paid"]).await;

    s.publish(&json!({ "type": "order.created", "data": { "n": 0 } }))
        .await;
    let refused_at = limited.wait_for(1, WAIT).await[0].at;
    // Once the 429 is recorded the integration shows the pause.
    let start = Instant::now();
    let health = loop {
        let got = s.get_json(&format!("/api/v2/integrations/{paused}")).await;
        if got["health"]["pause"].is_object() {
            break got["health"].clone();
        }
        assert!(start.elapsed() < WAIT, "no pause shown: {got}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(health["pause"]["reason"], "Retry-After on HTTP 429");
    assert_eq!(health["consecutiveFailures"], 1);
    assert!(health["lastFailureAt"].is_string());
    for n in 1..4 {
        s.publish(&json!({ "type": "order.created", "data": { "n": n } }))
            .await;
    }
    s.publish(&json!({ "type": "invoice.paid", "data": {} }))
        .await;

    // The other integration is served at once, while this one waits.
    let served = other.wait_for(1, WAIT).await[0].at;
    assert!(served.duration_since(refused_at) < Duration::from_millis(1500));
    let hits = limited.wait_for(5, WAIT).await;
    for hit in &hits[1..] {
        let after = hit.at.duration_since(refused_at);
        assert!(
            after >= Duration::from_millis(1950),
            "a delivery went {after:?} after the 429 asked for 2 s"
        );
    }
    let start = Instant::now();
    loop {
        let got = s.get_json(&format!("/api/v2/integrations/{paused}")).await;
        let h = &got["health"];
        if h["consecutiveFailures"] == 0 && h["inFlight"] == 0 {
            assert!(h["pause"].is_null(), "{h}");
            assert!(h["lastSuccessAt"].is_string(), "{h}");
            break;
        }
        assert!(start.elapsed() < WAIT, "health did not recover: {got}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
