//! Delivery across crashes and worker processes.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::*;
use crate::receiver::{Receiver, Reply};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_accepted_before_a_kill_9_is_delivered_after_the_restart() {
    let dir = DataDir::new();
    let receiver = Receiver::start().await;
    // The API role alone: nothing can deliver before the kill.
    let api_only = Server::role(&dir, "api", &[]);
    let api = Api::provision(&api_only, &dir).await;
    api.hook("hook", &receiver.url, "order.created", json!({}))
        .await;

    let (status, _) = api
        .post(
            "/api/v2/events",
            json!({"type": "order.created", "id": "o-1", "data": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    api_only.kill9();

    let _serve = Server::start(&dir);

    let hits = receiver.wait_for(1, DEADLINE).await;
    assert_eq!(hits[0].header("webhook-id"), "o-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_cut_off_by_a_kill_9_runs_again_after_its_lease_and_completes() {
    let dir = DataDir::new();
    // The first request is held open until long after the kill; later ones succeed.
    let receiver = Receiver::scripted(|_, earlier| Reply {
        status: 200,
        retry_after: None,
        hold: (earlier == 0).then_some(Duration::from_secs(60)),
        body: None,
    })
    .await;
    let short_lease = [("RICOCHET_LEASE_GRACE_MS", "500")];
    let first = Server::role(&dir, "serve", &short_lease);
    let api = Api::provision(&first, &dir).await;
    api.hook(
        "hook",
        &receiver.url,
        "order.created",
        json!({"requestTimeout": 1000}),
    )
    .await;
    let (_, published) = api
        .post(
            "/api/v2/events",
            json!({"type": "order.created", "id": "o-1", "data": {}}),
        )
        .await;
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("delivery")
        .to_owned();
    receiver.wait_for(1, DEADLINE).await;

    first.kill9();
    let second = Server::role(&dir, "serve", &short_lease);
    let api = Api {
        base: second.base.clone(),
        ..api
    };

    let hits = receiver.wait_for(2, DEADLINE).await;
    assert_eq!(
        hits[1].header("webhook-id"),
        "o-1",
        "the same event, so the receiver can drop the duplicate"
    );
    assert_eq!(
        hits[1].header("x-ricochet-attempt"),
        "1",
        "the cut-off attempt was never recorded"
    );
    let start = Instant::now();
    loop {
        let d = api.get(&format!("/api/v2/deliveries/{delivery}")).await;
        if d["status"] == "succeeded" {
            assert_eq!(d["attemptCount"], 1);
            break;
        }
        assert!(start.elapsed() < DEADLINE, "not delivered: {d}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_on_one_database_attempt_each_delivery_exactly_once() {
    let dir = DataDir::new();
    let receiver = Receiver::start().await;
    let api_only = Server::role(&dir, "api", &[]);
    let api = Api::provision(&api_only, &dir).await;
    for n in 0..5 {
        api.hook(
            &format!("hook-{n}"),
            &format!("{}/hook-{n}", receiver.url),
            "order.created",
            json!({}),
        )
        .await;
    }
    // Each recorded attempt is a debug line of its worker's log, counted per process.
    let logged = [("RICOCHET_LOG", "info,ricochet_delivery=debug")];
    let workers = [
        Server::role(&dir, "worker", &logged),
        Server::role(&dir, "worker", &logged),
    ];

    let api = &api;
    let accepted: Vec<StatusCode> = futures::stream::iter(0..1000)
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

    let hits = receiver.wait_for(5000, Duration::from_secs(120)).await;
    let unique: std::collections::HashSet<(String, String)> = hits
        .iter()
        .map(|h| (h.path.clone(), h.header("webhook-id").to_owned()))
        .collect();
    assert_eq!(unique.len(), 5000, "every delivery arrives");
    receiver
        .assert_stays_at(5000, Duration::from_millis(1000))
        .await;
    let per_worker: Vec<usize> = workers
        .iter()
        .map(|w| w.recorded.load(Ordering::Relaxed))
        .collect();
    assert_eq!(
        per_worker.iter().sum::<usize>(),
        5000,
        "each delivery recorded once: {per_worker:?}"
    );
    assert!(
        per_worker.iter().all(|n| *n > 0),
        "both workers took part: {per_worker:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_whose_worker_is_killed_three_times_is_dead_lettered_as_worker_lost() {
    let dir = DataDir::new();
    // Every attempt hangs until the worker making it is killed.
    let receiver = Receiver::scripted(|_, _| Reply {
        hold: Some(Duration::from_secs(120)),
        ..Reply::status(200)
    })
    .await;
    let alerts = Receiver::start().await;
    let api_only = Server::role(&dir, "api", &[]);
    let api = Api::provision(&api_only, &dir).await;
    api.hook(
        "poison",
        &receiver.url,
        "order.created",
        json!({"requestTimeout": 3000}),
    )
    .await;
    api.hook(
        "alerts",
        &alerts.url,
        "integration.message.failed",
        json!({}),
    )
    .await;
    let (_, published) = api
        .post(
            "/api/v2/events",
            json!({"type": "order.created", "id": "o-1", "data": {}}),
        )
        .await;
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("delivery")
        .to_owned();

    let short_lease = [("RICOCHET_LEASE_GRACE_MS", "300")];
    for killed in 1..=3 {
        let worker = Server::role(&dir, "worker", &short_lease);
        receiver.wait_for(killed, DEADLINE).await;
        worker.kill9();
    }
    // The next worker finds the third lease expired, and ends the delivery.
    let _survivor = Server::role(&dir, "worker", &short_lease);

    let start = Instant::now();
    let dead = loop {
        let d = api.get(&format!("/api/v2/deliveries/{delivery}")).await;
        if d["status"] == "dead_lettered" {
            break d;
        }
        assert!(start.elapsed() < DEADLINE, "not dead-lettered: {d}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(dead["reason"], "worker_lost");
    assert_eq!(dead["attemptCount"], 0, "no attempt was ever recorded");
    let alert = alerts.wait_for(1, DEADLINE).await[0].json();
    assert_eq!(alert["data"]["deliveryId"], delivery.as_str());
    assert_eq!(alert["data"]["reason"], "worker_lost");
    // Dead-lettered, not looping: the survivor never starts it.
    receiver.assert_stays_at(3, Duration::from_secs(4)).await;
}

/// The `API listening` line a server logged: it says whether new deliveries are handed over.
fn listening_line(server: &Server) -> serde_json::Value {
    server
        .log
        .lock()
        .expect("log lock")
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|event| event["message"] == "API listening")
        .expect("the server logged that it listens")
}

/// `--handoff false` (here `RICOCHET_HANDOFF=false`): no new delivery goes straight from the
/// publisher to the worker; the worker claims each one from the database, and each arrives
/// once. `serve` hands them over by default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_hand_over_off_every_new_delivery_is_claimed_and_arrives_once() {
    let default_dir = DataDir::new();
    let default_serve = Server::start(&default_dir);
    assert_eq!(
        listening_line(&default_serve)["handoff"],
        true,
        "serve hands new deliveries over by default"
    );
    default_serve.terminate();

    let dir = DataDir::new();
    let receiver = Receiver::start().await;
    let server = Server::role(&dir, "serve", &[("RICOCHET_HANDOFF", "false")]);
    assert_eq!(listening_line(&server)["handoff"], false);
    let api = Api::provision(&server, &dir).await;
    api.hook("hook", &receiver.url, "order.created", json!({}))
        .await;
    let events = 20;
    for n in 0..events {
        let (status, _) = api
            .post(
                "/api/v2/events",
                json!({"type": "order.created", "id": format!("o-{n}"), "data": {}}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }

    let hits = receiver.wait_for(events, DEADLINE).await;
    let ids: std::collections::BTreeSet<&str> =
        hits.iter().map(|hit| hit.header("webhook-id")).collect();
    assert_eq!(ids.len(), events, "each event arrives: {ids:?}");
    receiver
        .assert_stays_at(events, Duration::from_millis(300))
        .await;
}
