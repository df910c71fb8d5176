//! The in-flight cap of an integration holds across `ricochet worker` processes.

use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::*;
use crate::receiver::{Receiver, Reply};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrency_holds_across_two_worker_processes_and_every_delivery_arrives() {
    let dir = DataDir::new();
    let receiver = Receiver::scripted(|_, _| Reply {
        hold: Some(Duration::from_millis(200)),
        ..Reply::status(200)
    })
    .await;
    let api_only = Server::role(&dir, "api", &[]);
    let api = Api::provision(&api_only, &dir).await;
    api.hook(
        "capped",
        &receiver.url,
        "order.created",
        json!({ "maxConcurrency": 5 }),
    )
    .await;
    let _workers = [
        Server::role(&dir, "worker", &[]),
        Server::role(&dir, "worker", &[]),
    ];

    let api = &api;
    let accepted: Vec<StatusCode> = futures::stream::iter(0..100)
        .map(|i| async move {
            api.post(
                "/api/v2/events",
                json!({"type": "order.created", "id": format!("o-{i}"), "data": {"i": i}}),
            )
            .await
            .0
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(accepted.iter().all(|s| *s == StatusCode::ACCEPTED));

    let hits = receiver.wait_for(100, Duration::from_secs(120)).await;
    receiver
        .assert_stays_at(100, Duration::from_millis(500))
        .await;
    // Each request is held 200 ms: any requests that arrived within 190 ms of each other were
    // all in flight together.
    let mut at: Vec<Instant> = hits.iter().map(|h| h.at).collect();
    at.sort();
    let mut most = 0;
    let mut first = 0;
    for (last, t) in at.iter().enumerate() {
        while t.duration_since(at[first]) >= Duration::from_millis(190) {
            first += 1;
        }
        most = most.max(last + 1 - first);
    }
    assert!(
        most <= 5,
        "the receiver had {most} requests in flight at once"
    );
    let unique: std::collections::HashSet<&str> =
        hits.iter().map(|h| h.header("webhook-id")).collect();
    assert_eq!(unique.len(), 100, "every delivery arrives once");
}
