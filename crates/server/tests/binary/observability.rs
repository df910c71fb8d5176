//! What an operator sees of the real binary: one JSON `info` line per dead letter with its
//! fields, and `/metrics` on a private port.

use std::time::Instant;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::*;
use crate::receiver::{Receiver, Reply};

fn json_lines(server: &Server) -> Vec<Value> {
    let log = server.log.lock().expect("log lock").clone();
    log.iter()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {line}"))
        })
        .collect()
}

fn dead_letter_lines(server: &Server) -> Vec<Value> {
    json_lines(server)
        .into_iter()
        .filter(|l| l["message"] == "delivery dead-lettered")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_logs_exactly_one_json_info_line_with_its_tenant_integration_event_delivery_status_and_reason()
 {
    let dir = DataDir::new();
    let receiver = Receiver::scripted(|_, _| Reply::status(400)).await;
    let server = Server::start(&dir);
    let api = Api::provision(&server, &dir).await;
    let hook = api
        .hook("refusing", &receiver.url, "order.created", json!({}))
        .await;
    let (status, published) = api
        .post(
            "/api/v2/events",
            json!({"type": "order.created", "id": "o-1", "data": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("a delivery")
        .to_owned();
    let start = Instant::now();
    while api.get(&format!("/api/v2/deliveries/{delivery}")).await["status"] != "dead_lettered" {
        assert!(start.elapsed() < DEADLINE, "not dead-lettered in time");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    wait_until("the dead-letter log line", || {
        !dead_letter_lines(&server).is_empty()
    });
    assert_eq!(api.get("/api/v2/events/o-1").await["id"], "o-1");

    // Stopping flushes whatever else it had to say; still exactly one line.
    let log = server.log.clone();
    assert!(server.terminate().success());
    let lines: Vec<Value> = log
        .lock()
        .expect("log lock")
        .iter()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    let dead: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "delivery dead-lettered")
        .collect();
    assert_eq!(dead.len(), 1, "{dead:?}");
    let line = dead[0];
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["integration"], hook.as_str());
    assert_eq!(line["event"], "o-1");
    assert_eq!(line["delivery"], delivery.as_str());
    assert_eq!(line["status"], 400);
    assert_eq!(line["reason"], "non_retryable_status:400");
    assert!(
        line["tenant"]
            .as_str()
            .is_some_and(|t| uuid::Uuid::parse_str(t).is_ok())
    );
    assert!(
        lines.iter().all(|l| !l.to_string().contains("\u{1b}[")),
        "no colour codes when stderr is not a terminal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_listen_serves_metrics_on_a_private_port_and_not_on_the_api() {
    let dir = DataDir::new();
    let server = Server::role(
        &dir,
        "serve",
        &[
            ("RICOCHET_METRICS_LISTEN", "127.0.0.1:0"),
            ("RICOCHET_METRICS_SAMPLE_MS", "100"),
        ],
    );
    let mut addr = String::new();
    wait_until("the metrics listener", || {
        addr = json_lines(&server)
            .iter()
            .find(|l| l["message"] == "metrics listening")
            .and_then(|l| l["addr"].as_str().map(str::to_owned))
            .unwrap_or_default();
        !addr.is_empty()
    });
    let start = Instant::now();
    loop {
        let response = get(format!("http://{addr}/metrics"), None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let text = response.text().await.expect("body");
        if text.contains("ricochet_queue_lag_seconds") {
            assert!(text.contains("# TYPE ricochet_queue_depth gauge"));
            break;
        }
        assert!(start.elapsed() < DEADLINE, "no queue sample: {text}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let on_api = get(format!("{}/metrics", server.base), None).await;
    assert_eq!(on_api.status(), StatusCode::NOT_FOUND);
}

fn ricochet(dir: &DataDir, args: &[&str]) -> std::process::Output {
    std::process::Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(&dir.0)
        .env_remove("DATABASE_URL")
        .output()
        .expect("running ricochet")
}

fn json_stdout(dir: &DataDir, args: &[&str]) -> Value {
    let output = ricochet(dir, args);
    assert!(
        output.status.success(),
        "ricochet {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the output is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_commands_show_tenants_integration_health_and_the_failing_integrations() {
    let dir = DataDir::new();
    let refusing = Receiver::scripted(|_, _| Reply::status(410)).await;
    let ok = Receiver::start().await;
    let server = Server::start(&dir);
    let api = Api::provision(&server, &dir).await;
    let broken = api
        .hook(
            "broken",
            &refusing.url,
            "order.created",
            json!({ "circuitBreaker": { "failureThreshold": 10000 }, "disableOnGone": false }),
        )
        .await;
    api.hook("healthy", &ok.url, "order.created", json!({}))
        .await;
    let (status, published) = api
        .post(
            "/api/v2/events",
            json!({"type": "order.created", "id": "o-1", "data": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    for d in published["deliveries"].as_array().expect("deliveries") {
        let id = d["deliveryId"].as_str().expect("id");
        let start = Instant::now();
        loop {
            let state = api.get(&format!("/api/v2/deliveries/{id}")).await["status"].clone();
            if state == "succeeded" || state == "dead_lettered" {
                break;
            }
            assert!(start.elapsed() < DEADLINE, "not finished in time");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    let tenants = json_stdout(&dir, &["tenants", "list", "--json"]);
    assert_eq!(tenants[0]["name"], "acme");
    assert_eq!(tenants[0]["integrations"], 2);
    assert_eq!(tenants[0]["deadLetters"], 1);

    let shown = json_stdout(&dir, &["tenants", "show", "acme", "--json"]);
    let integrations = shown["integrations"].as_array().expect("integrations");
    assert_eq!(integrations.len(), 2);
    let of = |name: &str| {
        integrations
            .iter()
            .find(|i| i["name"] == name)
            .expect("listed")
            .clone()
    };
    assert_eq!(of("broken")["failing"], true);
    assert_eq!(of("broken")["failed"], 1);
    assert_eq!(of("healthy")["failing"], false);
    assert_eq!(of("healthy")["successRate"], 1.0);

    let status = json_stdout(&dir, &["status", "--json"]);
    let failing = status["failingIntegrations"].as_array().expect("failing");
    assert_eq!(failing.len(), 1);
    assert_eq!(failing[0]["integrationId"], broken.as_str());
    assert_eq!(failing[0]["tenantName"], "acme");
    assert_eq!(status["queue"]["due"], 0);

    let text = ricochet(&dir, &["status"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("failing integrations (last 60 min): 1"),
        "{text}"
    );
    assert!(text.contains("acme / broken"), "{text}");

    let missing = ricochet(&dir, &["tenants", "show", "nobody"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no tenant named `nobody`"));
}
