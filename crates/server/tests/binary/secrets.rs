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
async fn secrets_rekey_reseals_every_value_and_signing_key_so_the_old_master_key_can_be_dropped() {
    let dir = DataDir::new();
    let receiver = Receiver::start().await;
    let (server, api, integration) = guide_server(&dir, &receiver, "kept-across-keys").await;
    let publish = async |api: &Api| {
        let delivery = publish_guide_event(api).await;
        wait_succeeded(api, &delivery).await;
    };
    // A first delivery makes the integration's signing key, sealed with the first master key.
    publish(&api).await;
    let signing_secret = format!("/api/v2/integrations/{integration}/signing-secret");
    let key_before = api.get(&signing_secret).await["key"].clone();
    let keys_before = std::fs::read_to_string(dir.0.join("master.keys")).expect("keyring file");

    let output = rekey(&dir);
    assert!(
        output.contains("re-sealed 1 secret value(s) and 1 signing key(s)"),
        "{output}"
    );
    let keys_after = std::fs::read_to_string(dir.0.join("master.keys")).expect("keyring file");
    assert_eq!(
        keys_after.lines().count(),
        keys_before.lines().count() + 1,
        "a new key is put first, the old one kept"
    );
    publish(&api).await;

    // The operator drops the old master key and restarts: everything is readable without it.
    let (_server, api) = restart_with_only_the_newest_key(server, &dir, &api);
    publish(&api).await;
    let hits = receiver.hits();
    assert_eq!(hits.len(), 3, "one request per event");
    assert!(
        hits.iter()
            .all(|hit| hit.header("authorization") == "Bearer kept-across-keys"),
        "the secret value is read under every key"
    );
    assert_eq!(
        api.get(&signing_secret).await["key"],
        key_before,
        "re-sealing keeps the signing key itself: receivers notice nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_a_running_server_seals_after_a_rekey_opens_once_the_old_master_key_is_dropped() {
    let dir = DataDir::new();
    let receiver = Receiver::start().await;
    let (server, api, _) = guide_server(&dir, &receiver, "sealed-before-rekey").await;
    rekey(&dir);
    // The server has opened nothing sealed under the new key yet, so only the keyring file
    // tells it about that key: what it seals now must use it.
    let (status, body) = api
        .send(
            reqwest::Method::PUT,
            "/api/v2/secrets/crm_api_token",
            Some(json!({"value": "sealed-after-rekey"})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (_server, api) = restart_with_only_the_newest_key(server, &dir, &api);
    let delivery = publish_guide_event(&api).await;
    let start = std::time::Instant::now();
    let finished = loop {
        let d = api.get(&format!("/api/v2/deliveries/{delivery}")).await;
        if d["status"] != "pending" && d["status"] != "in_flight" {
            break d;
        }
        assert!(start.elapsed() < DEADLINE, "never finished: {d}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(finished["status"], "succeeded", "{finished}");
    let hits = receiver.hits();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].header("authorization"), "Bearer sealed-after-rekey");
}

/// A server following the guide: the `crm_api_token` secret holding `value`, and the guide's
/// integration posting to `receiver`; with the session and the integration's id.
async fn guide_server(dir: &DataDir, receiver: &Receiver, value: &str) -> (Server, Api, String) {
    let server = Server::start(dir);
    let api = Api::provision(&server, dir).await;
    let (status, _) = api
        .post(
            "/api/v2/secrets",
            json!({"name": "crm_api_token", "value": value}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let integration = guide_hook(&api, &receiver.url).await;
    (server, api, integration)
}

/// Runs `ricochet secrets rekey` on `dir` (beside its running server); its standard output.
fn rekey(dir: &DataDir) -> String {
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
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The operator stops `server`, keeps only the newest master key and starts again; the session
/// `api` on the new server.
fn restart_with_only_the_newest_key(server: Server, dir: &DataDir, api: &Api) -> (Server, Api) {
    assert!(server.terminate().success());
    let keys = std::fs::read_to_string(dir.0.join("master.keys")).expect("keyring file");
    let newest = keys.lines().next().expect("the new key");
    std::fs::write(dir.0.join("master.keys"), newest).expect("dropping the old key");
    let server = Server::start(dir);
    let api = Api {
        base: server.base.clone(),
        token: api.token.clone(),
        http: reqwest::Client::new(),
    };
    (server, api)
}

/// Publishes an event of the guide's type; its one delivery's id.
async fn publish_guide_event(api: &Api) -> String {
    let (_, published) = api
        .post(
            "/api/v2/events",
            json!({"type": "routing.queue.member.update", "data": {}}),
        )
        .await;
    published["deliveries"][0]["deliveryId"]
        .as_str()
        .expect("delivery")
        .to_owned()
}
