//! Prometheus `/metrics`: parsed strictly, and its numbers match what a scenario did.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{PLAIN_FAILURES, Session, TestApp};
use crate::receiver::{Receiver, Reply};

/// Samples by metric name and its labels (sorted `k="v"` pairs joined by commas).
type Samples = BTreeMap<(String, String), f64>;

/// Parses the Prometheus text format strictly: every line is a `# HELP`, a `# TYPE` with a
/// known type, or `name{label="value",...} value` with a valid name and a number; anything
/// else fails the test.
fn parse(text: &str) -> Samples {
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            && !n.starts_with(|c: char| c.is_ascii_digit())
    };
    let mut samples = Samples::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kind, name, tail) = (parts.next(), parts.next(), parts.next());
            assert!(name.is_some_and(name_ok), "bad comment line: {line}");
            match kind {
                Some("HELP") => {}
                Some("TYPE") => assert!(
                    matches!(
                        tail,
                        Some("counter" | "gauge" | "histogram" | "summary" | "untyped")
                    ),
                    "bad TYPE line: {line}"
                ),
                _ => panic!("unknown comment line: {line}"),
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in: {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').expect("labels end with }");
                let mut pairs: Vec<String> = Vec::new();
                for pair in split_labels(body) {
                    let (k, v) = pair.split_once('=').expect("label is k=v");
                    assert!(name_ok(k), "bad label name in: {line}");
                    assert!(
                        v.len() >= 2 && v.starts_with('"') && v.ends_with('"'),
                        "label value not quoted in: {line}"
                    );
                    pairs.push(format!("{k}={v}"));
                }
                pairs.sort();
                (name, pairs.join(","))
            }
            None => (series, String::new()),
        };
        assert!(name_ok(name), "bad metric name in: {line}");
        samples.insert((name.to_owned(), labels), value);
    }
    samples
}

/// Splits `a="x",b="y,z"` at the commas outside quotes.
fn split_labels(body: &str) -> Vec<&str> {
    let (mut parts, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < body.len() {
        parts.push(&body[start..]);
    }
    parts
}

/// The sum of every series of `name` whose labels contain all of `with`.
fn sum(samples: &Samples, name: &str, with: &[&str]) -> f64 {
    samples
        .iter()
        .filter(|((n, labels), _)| n == name && with.iter().all(|w| labels.contains(w)))
        .map(|(_, v)| v)
        .sum()
}

async fn scrape(app: &TestApp) -> Samples {
    let response = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain"))
    );
    parse(&response.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_was_published_delivered_and_dead_lettered_and_the_lag_returns_to_zero()
{
    ricochet_api::metrics::install();
    let app = TestApp::spawn().await;
    let sampler =
        ricochet_server::observe::spawn_sampler(app.pool.clone(), Duration::from_millis(100));
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let ok = Receiver::start().await;
    let refusing = Receiver::scripted(|_, _| Reply::status(410)).await;
    let ok_id = s.integration("ok", &ok.url, json!({})).await;
    s.bind(&ok_id, &["order.created"]).await;
    let refusing_id = s
        .integration("refusing", &refusing.url, PLAIN_FAILURES.clone())
        .await;
    s.bind(&refusing_id, &["order.created"]).await;

    const N: usize = 4;
    for i in 0..N {
        let (status, _) = s
            .publish(&json!({ "type": "order.created", "id": format!("evt-{i}"), "data": {} }))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }

    let start = Instant::now();
    let samples = loop {
        let samples = scrape(&app).await;
        let attempts = sum(&samples, "ricochet_attempts_total", &[]);
        let due = sum(&samples, "ricochet_queue_depth", &["state=\"due\""]);
        let in_flight = sum(&samples, "ricochet_queue_depth", &["state=\"in_flight\""]);
        let lag = sum(&samples, "ricochet_queue_lag_seconds", &[]);
        if attempts >= (2 * N) as f64
            && due == 0.0
            && in_flight == 0.0
            && lag == 0.0
            && samples.contains_key(&("ricochet_queue_lag_seconds".into(), String::new()))
        {
            break samples;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the scenario did not settle: {samples:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    sampler.abort();

    let n = N as f64;
    assert_eq!(sum(&samples, "ricochet_events_published_total", &[]), n);
    assert_eq!(
        sum(&samples, "ricochet_deliveries_created_total", &[]),
        2.0 * n
    );
    assert_eq!(
        sum(
            &samples,
            "ricochet_attempts_total",
            &["outcome=\"succeeded\"", "status_class=\"2xx\""]
        ),
        n
    );
    assert_eq!(
        sum(
            &samples,
            "ricochet_attempts_total",
            &["outcome=\"failed\"", "status_class=\"4xx\""]
        ),
        n
    );
    assert_eq!(
        sum(
            &samples,
            "ricochet_deliveries_finished_total",
            &["outcome=\"succeeded\""]
        ),
        n
    );
    assert_eq!(
        sum(
            &samples,
            "ricochet_dead_letters_total",
            &["reason=\"non_retryable_status\""]
        ),
        n
    );
    assert_eq!(
        sum(&samples, "ricochet_attempt_duration_seconds_count", &[]),
        2.0 * n
    );
    assert_eq!(
        sum(
            &samples,
            "ricochet_http_requests_total",
            &[
                "route=\"/api/v2/events\"",
                "method=\"POST\"",
                "status=\"202\""
            ]
        ),
        n
    );
    assert!(
        sum(
            &samples,
            "ricochet_http_request_duration_seconds_count",
            &[]
        ) >= n
    );
    assert!(sum(&samples, "ricochet_publish_batch_size_count", &[]) >= 1.0);
    assert!(sum(&samples, "ricochet_record_batch_size_count", &[]) >= 1.0);
    assert!(sum(&samples, "ricochet_db_pool_connections", &[]) >= 1.0);
    // Bounded labels: no delivery, event, tenant or integration appears in any series.
    for (name, labels) in samples.keys() {
        assert!(
            !labels.contains(&ok_id) && !labels.contains(&tenant.id) && !labels.contains("evt-"),
            "{name}{{{labels}}} carries an unbounded label"
        );
    }
}

/// Scrapes until `done` holds for the samples (the sampler runs every 100 ms), and returns them.
async fn scrape_until(app: &TestApp, what: &str, done: impl Fn(&Samples) -> bool) -> Samples {
    let start = Instant::now();
    loop {
        let samples = scrape(app).await;
        if done(&samples) {
            return samples;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{what} never showed: {samples:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of the one series `name{label}` (a missing series fails the test).
fn one(samples: &Samples, name: &str, label: &str) -> f64 {
    samples
        .get(&(name.to_owned(), label.to_owned()))
        .copied()
        .unwrap_or_else(|| panic!("no {name}{{{label}}} in {samples:?}"))
}

async fn publish_n(s: &Session<'_>, kind: &str, n: usize, key: Option<&str>) {
    for i in 0..n {
        let mut event = json!({ "type": kind, "data": { "i": i } });
        if let Some(key) = key {
            event["orderingKey"] = json!(key);
        }
        let (status, body) = s.publish(&event).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_circuit_shows_in_the_circuit_gauge_with_the_deliveries_it_holds_back() {
    ricochet_api::metrics::install();
    let app = TestApp::spawn().await;
    let sampler =
        ricochet_server::observe::spawn_sampler(app.pool.clone(), Duration::from_millis(100));
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let down = Receiver::scripted(|_, _| Reply::status(500)).await;
    let up = Receiver::start().await;
    let down_id = s
        .integration(
            "down",
            &down.url,
            json!({
                "retryPolicy": { "retryPolicyType": "fixed", "retryDelay": 20, "maxRetries": 5, "jitter": false },
                // Open after two failures, and stay open for the rest of the test.
                "circuitBreaker": { "failureThreshold": 2, "coolDown": 600000, "maxCoolDown": 600000 }
            }),
        )
        .await;
    s.bind(&down_id, &["order.created"]).await;
    s.integration("up", &up.url, json!({})).await;
    let off = s.integration("off", &up.url, json!({})).await;
    let response = s
        .req(
            reqwest::Method::PATCH,
            &format!("/api/v2/integrations/{off}"),
        )
        .header("content-type", "application/merge-patch+json")
        .body(json!({ "enabled": false }).to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);

    publish_n(&s, "order.created", 5, None).await;

    // Two failures opened the circuit; all five wait behind it, still due. (The queue depth and the
    // held-back counts are sampled by two statements: a sample may fall between the two
    // retries coming due.)
    let samples = scrape_until(&app, "the open circuit", |samples| {
        sum(samples, "ricochet_circuits", &["state=\"open\""]) == 1.0
            && sum(samples, "ricochet_queue_held_back", &["reason=\"circuit\""]) == 5.0
            && sum(samples, "ricochet_queue_depth", &["state=\"due\""]) == 5.0
    })
    .await;
    sampler.abort();
    let circuit = |state: &str| one(&samples, "ricochet_circuits", &format!("state=\"{state}\""));
    assert_eq!(circuit("closed"), 1.0, "only `up` (`off` is disabled)");
    assert_eq!(circuit("half_open"), 0.0);
    assert_eq!(one(&samples, "ricochet_integrations_disabled", ""), 1.0);
    assert_eq!(
        one(&samples, "ricochet_integrations_paused", ""),
        0.0,
        "an open circuit's cool-down is not a Retry-After pause"
    );
    for reason in ["paused", "concurrency", "rate_limit"] {
        let label = format!("reason=\"{reason}\"");
        assert_eq!(one(&samples, "ricochet_queue_held_back", &label), 0.0);
    }
    // However many were under way when it opened, nothing more goes while it is open.
    let sent = down.hits().len();
    assert!(sent >= 2, "{sent} sent");
    down.assert_stays_at(sent, Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_held_back_by_a_retry_after_pause_a_concurrency_cap_and_a_rate_limit_are_gauged_by_reason()
 {
    ricochet_api::metrics::install();
    let app = TestApp::spawn().await;
    let sampler =
        ricochet_server::observe::spawn_sampler(app.pool.clone(), Duration::from_millis(100));
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let throttling = Receiver::scripted(|_, _| Reply::retry_after(429, "600")).await;
    let slow = Receiver::scripted(|_, _| Reply {
        hold: Some(Duration::from_secs(60)),
        ..Reply::status(200)
    })
    .await;
    let ok = Receiver::start().await;
    for (name, url, settings) in [
        (
            "throttling",
            &throttling.url,
            json!({ "maxConcurrency": 1 }),
        ),
        (
            "slow",
            &slow.url,
            json!({ "maxConcurrency": 1, "requestTimeout": 120000 }),
        ),
        (
            "limited",
            &ok.url,
            json!({ "rateLimit": { "requests": 1, "per": "minute" } }),
        ),
    ] {
        let id = s.integration(name, url, settings).await;
        s.bind(&id, &[&format!("{name}.event")]).await;
        publish_n(&s, &format!("{name}.event"), 3, None).await;
    }

    // Each sent one and holds the other two back.
    let samples = scrape_until(&app, "two held back for each reason", |samples| {
        ["paused", "concurrency", "rate_limit"]
            .iter()
            .all(|reason| {
                sum(
                    samples,
                    "ricochet_queue_held_back",
                    &[&format!("reason=\"{reason}\"")],
                ) == 2.0
            })
    })
    .await;
    sampler.abort();
    assert_eq!(one(&samples, "ricochet_integrations_paused", ""), 1.0);
    assert_eq!(
        one(&samples, "ricochet_queue_held_back", "reason=\"circuit\""),
        0.0
    );
    assert_eq!(one(&samples, "ricochet_circuits", "state=\"closed\""), 3.0);
    assert_eq!(
        (throttling.hits().len(), slow.hits().len(), ok.hits().len()),
        (1, 1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_a_rate_limit_paced_are_counted_with_how_long_they_waited() {
    ricochet_api::metrics::install();
    let app = TestApp::spawn().await;
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let receiver = Receiver::start().await;
    s.order_hook(
        "limited",
        &receiver.url,
        json!({ "rateLimit": { "requests": 10, "per": "second" } }),
    )
    .await;

    crate::scheduling::publish_many(&s, "order.created", 10).await;

    receiver.wait_for(10, Duration::from_secs(30)).await;
    let samples = scrape(&app).await;
    // Ten starts 100 ms apart: all but the first claimed of each claim are held for their turn.
    let waits = sum(&samples, "ricochet_rate_limit_waits_total", &[]);
    assert!((5.0..=10.0).contains(&waits), "{waits} waits");
    assert_eq!(
        sum(&samples, "ricochet_rate_limit_wait_seconds_count", &[]),
        waits
    );
    let waited = sum(&samples, "ricochet_rate_limit_wait_seconds_sum", &[]);
    assert!(waited > 0.0 && waited < 10.0, "{waited} s waited in all");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_waiting_behind_an_earlier_one_of_their_ordering_key_are_counted_as_blocked() {
    ricochet_api::metrics::install();
    let app = TestApp::spawn().await;
    let sampler =
        ricochet_server::observe::spawn_sampler(app.pool.clone(), Duration::from_millis(100));
    let s = Session::new(&app, &app.tenant("acme").await).await;
    let failing = Receiver::scripted(|_, _| Reply::status(500)).await;
    let id = s
        .integration(
            "ordered",
            &failing.url,
            json!({
                "ordering": "perKey",
                "retryPolicy": { "retryPolicyType": "fixed", "retryDelay": 600000, "maxRetries": 3, "jitter": false }
            }),
        )
        .await;
    s.bind(&id, &["conversation.message"]).await;

    publish_n(&s, "conversation.message", 3, Some("conversation-7")).await;

    // The first failed and waits for its retry; the two behind it are blocked. (The sampler
    // may have counted the queue before the last publish committed: the first can fail and be
    // scheduled before the third event is published, so the two blocked are waited for too.)
    let samples = scrape_until(
        &app,
        "the first attempt, with two blocked behind it",
        |samples| {
            sum(samples, "ricochet_attempts_total", &[]) == 1.0
                && sum(samples, "ricochet_queue_depth", &["state=\"scheduled\""]) == 1.0
                && sum(samples, "ricochet_queue_depth", &["state=\"blocked\""]) == 2.0
        },
    )
    .await;
    sampler.abort();
    assert_eq!(one(&samples, "ricochet_queue_depth", "state=\"due\""), 0.0);
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
}

#[test]
fn the_strict_parser_refuses_what_prometheus_would_refuse() {
    for bad in [
        "metric",
        "metric{a=b} 1",
        "9metric 1",
        "# TYPE m widget",
        "m 1x",
    ] {
        assert!(
            std::panic::catch_unwind(|| parse(bad)).is_err(),
            "{bad} should be refused"
        );
    }
    let good = parse("# HELP m help text\n# TYPE m counter\nm{b=\"2\",a=\"x,y\"} 3\n");
    assert_eq!(good[&("m".into(), "a=\"x,y\",b=\"2\"".into())], 3.0);
}
