//! Secrets through the binary: never shown, re-sealed while the server runs.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::*;
use crate::receiver::{Receiver, Reply};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_value_appears_in_no_response_error_attempt_log_or_server_log_line() {
    let dir = DataDir::new();
    let (first, second) = ("first-value-7c1d93e0", "second-value-b84f2a61");
    let receiver =
        Receiver::scripted(|_, earlier| Reply::status(if earlier == 0 { 503 } else { 200 })).await;
    let server = Server::role(&dir, "serve", &[("RICOCHET_LOG", "debug")]);
    let api = Api::provision(&server, &dir).await;
    let mut bodies = Vec::new();
    let mut call = async |method: reqwest::Method,
                          path: &str,
                          body: Option<Value>,
                          headers: &[(&str, &str)]| {
        let (status, text) = api.send(method, path, body, headers).await;
        bodies.push(text.clone());
        (status, text)
    };
    use reqwest::Method;

    assert_eq!(
        call(
            Method::POST,
            "/api/v2/secrets",
            Some(json!({"name": "crm_api_token", "value": first})),
            &[]
        )
        .await
        .0,
        StatusCode::CREATED
    );
    call(Method::GET, "/api/v2/secrets/crm_api_token", None, &[]).await;
    call(Method::GET, "/api/v2/secrets", None, &[]).await;
    assert_eq!(
        call(
            Method::POST,
            "/api/v2/secrets",
            Some(json!({"name": "crm_api_token", "value": first})),
            &[]
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        call(
            Method::PUT,
            "/api/v2/secrets/crm_api_token",
            Some(json!({"value": second})),
            &[("if-match", "\"9\"")]
        )
        .await
        .0,
        StatusCode::PRECONDITION_FAILED
    );
    assert_eq!(
        call(
            Method::PUT,
            "/api/v2/secrets/crm_api_token",
            Some(json!({"value": format!("{first}\n")})),
            &[]
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let hook = guide_hook(&api, &receiver.url).await;
    let (_, published) = call(
        Method::POST,
        "/api/v2/events",
        Some(json!({"type": "routing.queue.member.update", "data": {}})),
        &[],
    )
    .await;
    let published: Value = serde_json::from_str(&published).expect("json");
    receiver.wait_for(1, DEADLINE).await;
    assert_eq!(
        call(
            Method::PUT,
            "/api/v2/secrets/crm_api_token",
            Some(json!({"value": second})),
            &[]
        )
        .await
        .0,
        StatusCode::OK
    );
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("delivery")
        .to_owned();
    wait_succeeded(&api, &delivery).await;
    call(
        Method::GET,
        &format!("/api/v2/deliveries/{delivery}"),
        None,
        &[],
    )
    .await;
    call(
        Method::GET,
        &format!("/api/v2/integrations/{hook}/logs"),
        None,
        &[],
    )
    .await;
    call(
        Method::GET,
        &format!("/api/v2/integrations/{hook}"),
        None,
        &[],
    )
    .await;
    call(
        Method::POST,
        &format!("/api/v2/integrations/{hook}/preview"),
        Some(json!({"type": "routing.queue.member.update", "data": {}})),
        &[],
    )
    .await;
    let log = server.log.clone();
    assert!(server.terminate().success());

    let hits = receiver.hits();
    assert_eq!(
        hits[0].header("authorization"),
        format!("Bearer {first}"),
        "the value goes on the wire"
    );
    assert_eq!(
        hits[1].header("authorization"),
        format!("Bearer {second}"),
        "the rotated value is used next"
    );
    let log = log.lock().expect("log lock").clone();
    assert!(log.len() > 10, "the server logged");
    for value in [first, second] {
        assert!(
            bodies.iter().all(|b| !b.contains(value)),
            "{value} leaked into a response"
        );
        assert!(
            log.iter().all(|line| !line.contains(value)),
            "{value} leaked into the server log"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_rekey_reseals_every_value_while_the_server_runs_and_they_stay_readable() {
    let dir = DataDir::new();
    let receiver = Receiver::start().await;
    let server = Server::start(&dir);
    let api = Api::provision(&server, &dir).await;
    let (status, _) = api
        .post(
            "/api/v2/secrets",
            json!({"name": "crm_api_token", "value": "kept-across-keys"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    guide_hook(&api, &receiver.url).await;
    let keys_before = std::fs::read_to_string(dir.0.join("master.keys")).expect("keyring file");

    let output = Command::new(BIN)
        .args(["secrets", "rekey", "--data-dir"])
        .arg(&dir.0)
        .env_remove("DATABASE_URL")
        .output()
        .expect("running rekey");

    assert!(
        output.status.success(),
        "rekey failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("re-sealed 1 secret value"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let keys_after = std::fs::read_to_string(dir.0.join("master.keys")).expect("keyring file");
    assert_eq!(
        keys_after.lines().count(),
        keys_before.lines().count() + 1,
        "a new key is put first, the old one kept"
    );
    let (_, published) = api
        .post(
            "/api/v2/events",
            json!({"type": "routing.queue.member.update", "data": {}}),
        )
        .await;
    let delivery = published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("delivery")
        .to_owned();
    wait_succeeded(&api, &delivery).await;
    assert_eq!(
        receiver.hits()[0].header("authorization"),
        "Bearer kept-across-keys"
    );
}
