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
