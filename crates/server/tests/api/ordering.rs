//! Order per key through the real worker: an integration with `settings.ordering: perKey`
//! gets the deliveries of one ordering key one at a time, in publish order, through retries
//! and dead letters, while different keys, keyless events and other integrations run in
//! parallel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, fields, problem};
use crate::receiver::{Hit, Receiver, Reply};

const WAIT: Duration = Duration::from_secs(120);

/// The (key, seq) an event of these tests carries in its data.
fn key_seq(hit: &Hit) -> (String, u64) {
    let body = hit.json();
    let key = body["data"]["key"].as_str().unwrap_or_default().to_owned();
    let seq = body["data"]["seq"].as_u64().unwrap_or(u64::MAX);
    (key, seq)
}

/// Publishes `n` events with ordering key `key`, one after the other (each answered before the
/// next is sent, so their publish order is defined); returns their delivery ids in order.
async fn publish_in_order(s: &Session<'_>, kind: &str, key: &str, n: u64) -> Vec<String> {
    let mut ids = Vec::new();
    for seq in 0..n {
        let (status, body) = s
            .publish(
                &json!({ "type": kind, "orderingKey": key, "data": { "key": key, "seq": seq } }),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        if let Some(id) = body["deliveries"][0]["deliveryId"].as_str() {
            ids.push(id.to_owned());
        }
    }
    ids
}

/// The shortest time between two consecutive arrivals (sorted by arrival).
fn closest(hits: &[&Hit]) -> Option<Duration> {
    let mut at: Vec<_> = hits.iter().map(|h| h.at).collect();
    at.sort();
    at.windows(2).map(|w| w[1].duration_since(w[0])).min()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_keys_deliveries_arrive_in_publish_order_through_random_failures_while_keys_run_in_parallel()
 {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    const KEYS: u64 = 10;
    const PER_KEY: u64 = 100;
    let hold = Duration::from_millis(20);
    // Which arrivals were answered 2xx, in arrival order.
    let outcomes: Arc<Mutex<Vec<(String, u64, bool)>>> = Arc::default();
    let seen = outcomes.clone();
    let receiver = Receiver::scripted(move |hit, _| {
        let ok = !rand::random_bool(0.3);
        let (key, seq) = key_seq(hit);
        seen.lock().expect("outcomes").push((key, seq, ok));
        Reply {
            hold: Some(hold),
            ..Reply::status(if ok { 200 } else { 500 })
        }
    })
    .await;
    let policy =
        json!({ "retryPolicyType": "fixed", "retryDelay": 20, "maxRetries": 30, "jitter": false });
    let id = s
        .integration(
            "ordered",
            &receiver.url,
            json!({ "ordering": "perKey", "retryPolicy": policy }),
        )
        .await;
    s.bind(&id, &["conversation.message"]).await;

    let keys: Vec<String> = (0..KEYS).map(|k| format!("conversation-{k}")).collect();
    futures::future::join_all(
        keys.iter()
            .map(|key| publish_in_order(&s, "conversation.message", key, PER_KEY)),
    )
    .await;

    // Every event succeeded once at least.
    let total = usize::try_from(KEYS * PER_KEY).expect("small");
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let done: std::collections::HashSet<(String, u64)> = outcomes
            .lock()
            .expect("outcomes")
            .iter()
            .filter(|(_, _, ok)| *ok)
            .map(|(k, s, _)| (k.clone(), *s))
            .collect();
        if done.len() >= total {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of {total} events were delivered",
            done.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let outcomes = outcomes.lock().expect("outcomes").clone();
    let failures = outcomes.iter().filter(|(_, _, ok)| !ok).count();
    assert!(
        failures > 100,
        "the receiver failed only {failures} attempts"
    );
    // For each key, the first successful receipts are in publish order, and no attempt of a
    // key is sent before the one before it was recorded as succeeded.
    let mut next: HashMap<&str, u64> = HashMap::new();
    for (key, seq, ok) in &outcomes {
        let expected = next.entry(key.as_str()).or_insert(0);
        if *seq < *expected {
            // A repeat of a delivered event (at least once): allowed, never out of order.
            continue;
        }
        assert_eq!(
            *seq, *expected,
            "{key}: event {seq} was attempted while event {expected} was not yet delivered"
        );
        if *ok {
            *expected += 1;
        }
    }
    assert!(next.values().all(|n| *n == PER_KEY), "{next:?}");

    // One at a time within a key: its requests never overlap (each is held `hold`).
    let hits = receiver.hits();
    for key in &keys {
        let of_key: Vec<&Hit> = hits.iter().filter(|h| &key_seq(h).0 == key).collect();
        let gap = closest(&of_key).expect("several requests");
        assert!(
            gap >= hold,
            "{key}: two requests arrived {gap:?} apart, while one is held {hold:?}"
        );
    }
    // Keys progress in parallel: requests of different keys were in flight together.
    let together = closest(&hits.iter().collect::<Vec<_>>()).expect("requests");
    assert!(
        together < hold,
        "no two requests were ever in flight together (closest {together:?} apart)"
    );
    let first_half: std::collections::HashSet<String> = hits[..hits.len() / 2]
        .iter()
        .map(|h| key_seq(h).0)
        .collect();
    assert_eq!(
        first_half.len(),
        keys.len(),
        "some keys waited for others: {first_half:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_lettered_delivery_releases_the_next_of_its_key_and_its_alert_names_the_key() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    // The first event of the key always fails; the others succeed.
    let receiver =
        Receiver::scripted(|hit, _| Reply::status(if key_seq(hit).1 == 0 { 500 } else { 200 }))
            .await;
    let alerts = Receiver::start().await;
    let alert_id = s.integration("pager", &alerts.url, json!({})).await;
    s.bind(&alert_id, &["integration.message.failed"]).await;
    let policy =
        json!({ "retryPolicyType": "fixed", "retryDelay": 300, "maxRetries": 2, "jitter": false });
    let id = s
        .integration(
            "ordered",
            &receiver.url,
            json!({ "ordering": "perKey", "retryPolicy": policy }),
        )
        .await;
    s.bind(&id, &["conversation.message"]).await;

    let ids = publish_in_order(&s, "conversation.message", "conversation-7", 3).await;

    // While the first retries, the ones behind it wait, shown as blocked.
    let second = s.get_json(&format!("/api/v2/deliveries/{}", ids[1])).await;
    assert_eq!(second["status"], "blocked", "{second}");
    assert_eq!(second["orderingKey"], "conversation-7");
    let event = s
        .get_json(&format!(
            "/api/v2/events/{}",
            second["eventId"].as_str().expect("event")
        ))
        .await;
    assert_eq!(event["orderingKey"], "conversation-7");
    let blocked = s
        .get_json(&format!(
            "/api/v2/deliveries?status=blocked&integrationId={id}"
        ))
        .await;
    assert_eq!(
        blocked["data"].as_array().map(Vec::len),
        Some(2),
        "{blocked}"
    );

    let hits = receiver.wait_for(5, WAIT).await;
    let order: Vec<u64> = hits.iter().map(|h| key_seq(h).1).collect();
    assert_eq!(order, [0, 0, 0, 1, 2]);
    let dead = s
        .wait_delivery(&ids[0], WAIT, |d| d["status"] == "dead_lettered")
        .await;
    assert_eq!(dead["reason"], "retries_exhausted");
    for later in &ids[1..] {
        s.wait_delivery(later, WAIT, |d| d["status"] == "succeeded")
            .await;
    }
    let alert = alerts.wait_for(1, WAIT).await[0].json();
    assert_eq!(alert["data"]["deliveryId"], ids[0].as_str());
    assert_eq!(alert["data"]["orderingKey"], "conversation-7");

    // A replayed dead letter goes back in line: its key has nothing under way, so it runs.
    let replayed = s
        .req(
            reqwest::Method::POST,
            &format!("/api/v2/deadletters/{}/replay", ids[0]),
        )
        .send()
        .await
        .expect("request");
    assert!(replayed.status().is_success(), "{}", replayed.status());
    let hits = receiver.wait_for(6, WAIT).await;
    assert_eq!(key_seq(&hits[5]).1, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyless_events_and_integrations_without_ordering_are_not_held_back() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let hold = Duration::from_secs(1);
    let held = move |_: &Hit, _| Reply {
        hold: Some(hold),
        ..Reply::status(200)
    };
    let ordered = Receiver::scripted(held).await;
    let unordered = Receiver::scripted(held).await;
    let a = s
        .integration("ordered", &ordered.url, json!({ "ordering": "perKey" }))
        .await;
    let b = s.integration("unordered", &unordered.url, json!({})).await;
    s.bind(&a, &["conversation.message"]).await;
    s.bind(&b, &["conversation.message"]).await;

    publish_in_order(&s, "conversation.message", "conversation-1", 4).await;
    for seq in 0..4 {
        let (status, _) = s
            .publish(&json!({ "type": "conversation.message", "data": { "key": "", "seq": seq } }))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }

    let ordered_hits = ordered.wait_for(8, WAIT).await;
    let unordered_hits = unordered.wait_for(8, WAIT).await;
    let keyed: Vec<&Hit> = ordered_hits
        .iter()
        .filter(|h| key_seq(h).0 == "conversation-1")
        .collect();
    let keyless: Vec<&Hit> = ordered_hits
        .iter()
        .filter(|h| key_seq(h).0.is_empty())
        .collect();
    let keyed_order: Vec<u64> = keyed.iter().map(|h| key_seq(h).1).collect();
    assert_eq!(keyed_order, [0, 1, 2, 3]);
    assert!(closest(&keyed).expect("several") >= hold);
    // Keyless events to the same integration, and every event to an integration without
    // ordering, are all in flight together.
    let spread = |hits: &[&Hit]| {
        let at: Vec<_> = hits.iter().map(|h| h.at).collect();
        let (first, last) = (at.iter().min().copied(), at.iter().max().copied());
        first.zip(last).map(|(f, l)| l.duration_since(f))
    };
    assert!(
        spread(&keyless).expect("hits") < hold,
        "keyless events waited"
    );
    let unordered_keyed: Vec<&Hit> = unordered_hits
        .iter()
        .filter(|h| key_seq(h).0 == "conversation-1")
        .collect();
    assert!(
        spread(&unordered_keyed).expect("hits") < hold,
        "the integration without ordering held events of one key back"
    );
}

#[tokio::test]
async fn bad_ordering_keys_and_ordering_settings_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    for bad in [
        json!(""),
        json!("x".repeat(257)),
        json!("line\nbreak"),
        json!(7),
    ] {
        let (status, body) = s
            .publish(&json!({ "type": "conversation.message", "orderingKey": bad, "data": {} }))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(fields(&body), vec!["orderingKey"], "{body}");
    }
    let (status, _) = s
        .publish(
            &json!({ "type": "conversation.message", "orderingKey": "é".repeat(128), "data": {} }),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "256 bytes is the limit");
    assert_eq!(app.count("events", &tenant.id).await, 1);

    let response = s
        .create_integration(&json!({ "name": "ordered", "settings": {
            "url": "https://example.com/hook", "ordering": "sideways" } }))
        .await;
    let refused = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(fields(&refused), vec!["settings.ordering"]);

    let id = s
        .integration("ordered", "https://example.com/hook", json!({}))
        .await;
    let created = s.get_json(&format!("/api/v2/integrations/{id}")).await;
    assert_eq!(created["settings"]["ordering"], "none");
    let patched: Value = s
        .req(
            reqwest::Method::PATCH,
            &format!("/api/v2/integrations/{id}"),
        )
        .header("content-type", "application/merge-patch+json")
        .body(json!({ "settings": { "ordering": "perKey" } }).to_string())
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(patched["settings"]["ordering"], "perKey", "{patched}");
    let fetched = s.get_json(&format!("/api/v2/integrations/{id}")).await;
    assert_eq!(fetched["settings"]["ordering"], "perKey");
}

#[tokio::test]
async fn a_batch_publish_stores_each_events_ordering_key_and_refuses_a_bad_one_alone() {
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let response = s
        .req(reqwest::Method::POST, "/api/v2/events/batch")
        .json(&json!({ "events": [
            { "type": "conversation.message", "id": "b-1", "orderingKey": "conversation-3", "data": {} },
            { "type": "conversation.message", "id": "b-2", "orderingKey": "", "data": {} },
        ] }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["results"][0]["outcome"], "created", "{body}");
    assert_eq!(body["results"][1]["outcome"], "failed", "{body}");
    assert_eq!(fields(&body["results"][1]["problem"]), vec!["orderingKey"]);
    let event = s.get_json("/api/v2/events/b-1").await;
    assert_eq!(event["orderingKey"], "conversation-3");
}

/// One key's events published in one batch request are delivered in the batch's order,
/// although its 600 events are committed by several writers at once (the harness runs three
/// publishing writers, and an overflow writer joins once 64 or more events wait): a batch
/// holding a keyed event is committed only after the batches taken before it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_keys_events_published_in_one_batch_are_delivered_in_the_batchs_order() {
    const N: u64 = 600;
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    let id = s
        .integration("ordered", &receiver.url, json!({ "ordering": "perKey" }))
        .await;
    s.bind(&id, &["conversation.message"]).await;

    let key = "conversation-1";
    let events: Vec<Value> = (0..N)
        .map(|seq| {
            json!({ "type": "conversation.message", "orderingKey": key,
                    "data": { "key": key, "seq": seq } })
        })
        .collect();
    let (status, body) = s.publish_batch(&events).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["created"], N, "{}", body["failed"]);

    let hits = receiver
        .wait_for(usize::try_from(N).expect("small"), WAIT)
        .await;
    let order: Vec<u64> = hits.iter().map(|h| key_seq(h).1).collect();
    let out_of_place = order
        .iter()
        .enumerate()
        .find(|(place, seq)| u64::try_from(*place).ok() != Some(**seq));
    assert_eq!(
        out_of_place, None,
        "event (place, seq) arrived out of the batch's order"
    );
    assert_eq!(order.len(), usize::try_from(N).expect("small"));
}
