//! The real `ricochet` binary with its embedded PostgreSQL: it comes up ready with no
//! DATABASE_URL, stops cleanly on SIGTERM, reuses its data, recovers after `kill -9`, and its
//! CLI hands a new user working credentials.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

use receiver::{Receiver, Reply};

#[path = "api/receiver.rs"]
#[expect(dead_code, reason = "shared with the api tests, which use all of it")]
mod receiver;

const BIN: &str = env!("CARGO_BIN_EXE_ricochet");
const DEADLINE: Duration = Duration::from_secs(60);

/// A data directory of its own, removed (with any cluster still running in it) at the end.
struct DataDir(PathBuf);

impl DataDir {
    fn new() -> DataDir {
        let dir =
            std::env::temp_dir().join(format!("ricochet-bin-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("creating the data dir");
        DataDir(dir)
    }

    fn postmaster_pid(&self) -> Option<u32> {
        let pid_file = self.0.join("postgres/data/postmaster.pid");
        std::fs::read_to_string(pid_file)
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    fn admin_key(&self) -> String {
        std::fs::read_to_string(self.0.join("admin.key"))
            .expect("the generated admin key")
            .trim()
            .to_owned()
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if let Some(pid) = self.postmaster_pid() {
            signal(pid, "-KILL");
        }
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// A running `ricochet serve`.
struct Server {
    child: Child,
    base: String,
    /// Attempts this process recorded, counted from its log.
    recorded: Arc<AtomicUsize>,
    /// Every line it logged.
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(dir: &DataDir) -> Server {
        Self::role(dir, "serve", &[])
    }

    /// Starts `ricochet <role>` and waits until it is ready: listening (API roles) or
    /// running its worker (`worker`).
    fn role(dir: &DataDir, role: &str, env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(BIN);
        command.arg(role);
        if role != "worker" {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        let mut child = command
            .args(["--log-format", "json", "--data-dir"])
            .arg(&dir.0)
            .env_remove("DATABASE_URL")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning ricochet");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        let ready_message = if role == "worker" {
            "delivery worker started"
        } else {
            "API listening"
        };
        let recorded = Arc::new(AtomicUsize::new(0));
        let counter = recorded.clone();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().expect("log lock").push(line.clone());
                if let Ok(event) = serde_json::from_str::<Value>(&line) {
                    if event["message"] == ready_message {
                        let _ = tx.send(event["addr"].as_str().unwrap_or_default().to_owned());
                    } else if event["message"] == "attempt recorded" {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
        let addr = rx
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|_| panic!("ricochet {role} did not become ready in time"));
        Server {
            child,
            base: format!("http://{addr}"),
            recorded,
            log,
        }
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        signal(self.child.id(), "-TERM");
        wait_until("ricochet to exit after SIGTERM", || {
            self.child.try_wait().ok().flatten().is_some()
        });
        self.child.wait().expect("exit status")
    }

    fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().ok();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

fn signal(pid: u32, sig: &str) {
    Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .ok();
}

fn alive(pid: u32) -> bool {
    // A zombie (state Z) has exited; only its parent has not reaped it yet.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            != Some("Z")
    })
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn get(url: String, bearer: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request")
}

async fn create_tenant(server: &Server, dir: &DataDir, name: &str) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v2/tenants", server.base))
        .bearer_auth(dir.admin_key())
        .json(&json!({ "name": name }))
        .send()
        .await
        .expect("create tenant");
    assert_eq!(response.status(), StatusCode::CREATED);
}

async fn tenant_names(server: &Server, dir: &DataDir) -> Vec<String> {
    let list: Value = get(
        format!("{}/api/v2/tenants", server.base),
        Some(&dir.admin_key()),
    )
    .await
    .json()
    .await
    .expect("json");
    list["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn serve_without_database_url_comes_up_ready_and_sigterm_stops_it_and_its_postgres() {
    let dir = DataDir::new();
    let server = Server::start(&dir);

    assert_eq!(
        get(format!("{}/readyz", server.base), None).await.status(),
        StatusCode::OK
    );
    let postgres = dir
        .postmaster_pid()
        .expect("the embedded cluster is running");
    assert!(alive(postgres));

    let status = server.terminate();

    assert!(status.success(), "ricochet exited with {status}");
    wait_until("the embedded PostgreSQL to stop", || !alive(postgres));
}

#[tokio::test]
async fn a_second_start_reuses_the_data() {
    let dir = DataDir::new();
    let first = Server::start(&dir);
    create_tenant(&first, &dir, "acme").await;
    assert!(first.terminate().success());

    let second = Server::start(&dir);

    assert_eq!(tenant_names(&second, &dir).await, vec!["acme".to_owned()]);
}

#[tokio::test]
async fn a_start_after_kill_9_of_ricochet_and_its_postgres_recovers() {
    let dir = DataDir::new();
    let first = Server::start(&dir);
    create_tenant(&first, &dir, "acme").await;
    let postgres = dir
        .postmaster_pid()
        .expect("the embedded cluster is running");
    first.kill9();
    signal(postgres, "-KILL");
    wait_until("the killed PostgreSQL to exit", || !alive(postgres));

    let second = Server::start(&dir);

    assert_eq!(
        get(format!("{}/readyz", second.base), None).await.status(),
        StatusCode::OK
    );
    assert_eq!(tenant_names(&second, &dir).await, vec!["acme".to_owned()]);
}

#[tokio::test]
async fn tenants_create_prints_credentials_that_get_a_token_from_the_running_server() {
    let dir = DataDir::new();
    let server = Server::start(&dir);

    let output = Command::new(BIN)
        .args(["tenants", "create", "acme", "--json", "--data-dir"])
        .arg(&dir.0)
        .env_remove("DATABASE_URL")
        .output()
        .expect("running tenants create");

    assert!(
        output.status.success(),
        "tenants create failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let created: Value =
        serde_json::from_slice(&output.stdout).expect("--json prints one JSON object");
    let (id, secret) = (
        created["clientId"].as_str().expect("clientId"),
        created["clientSecret"].as_str().expect("clientSecret"),
    );
    let token = reqwest::Client::new()
        .post(format!("{}/oauth/token", server.base))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token");
    assert_eq!(token.status(), StatusCode::OK);
    assert!(
        dir.postmaster_pid().is_some_and(alive),
        "the CLI must leave the server's cluster running"
    );
}

#[test]
fn a_cluster_dir_postgres_cannot_enter_is_one_clear_error() {
    let locked = DataDir::new();
    let status = Command::new("chmod")
        .arg("700")
        .arg(&locked.0)
        .status()
        .expect("chmod");
    assert!(status.success());
    if Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout != b"0\n")
    {
        // Only root hands the cluster to the `postgres` account; other users own their dir.
        return;
    }

    let output = Command::new(BIN)
        .args(["migrate", "--data-dir"])
        .arg(locked.0.join("inner"))
        .env_remove("DATABASE_URL")
        .output()
        .expect("running migrate");

    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot enter") && stderr.contains(&*locked.0.to_string_lossy()),
        "{stderr}"
    );
}

/// A tenant's token and helpers to set it up through a running server's API.
struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    /// Creates a tenant and a client with the admin key, and gets a token.
    async fn provision(server: &Server, dir: &DataDir) -> Api {
        let http = reqwest::Client::new();
        let admin = dir.admin_key();
        let tenant: Value = http
            .post(format!("{}/api/v2/tenants", server.base))
            .bearer_auth(&admin)
            .json(&json!({"name": "acme"}))
            .send()
            .await
            .expect("tenant")
            .json()
            .await
            .expect("json");
        let client: Value = http
            .post(format!(
                "{}/api/v2/tenants/{}/clients",
                server.base,
                tenant["id"].as_str().expect("id")
            ))
            .bearer_auth(&admin)
            .json(&json!({"name": "tests"}))
            .send()
            .await
            .expect("client")
            .json()
            .await
            .expect("json");
        let token: Value = http
            .post(format!("{}/oauth/token", server.base))
            .basic_auth(
                client["clientId"].as_str().expect("id"),
                client["clientSecret"].as_str(),
            )
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("json");
        Api {
            base: server.base.clone(),
            token: token["access_token"].as_str().expect("token").to_owned(),
            http,
        }
    }

    /// Sends a request and returns the status and the raw body.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("request");
        (response.status(), response.text().await.unwrap_or_default())
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .expect("request");
        (
            response.status(),
            response.json().await.unwrap_or(Value::Null),
        )
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    }

    /// An integration posting to `url`, bound to `event`; returns its id.
    async fn hook(&self, name: &str, url: &str, event: &str, settings: Value) -> String {
        let mut body = json!({"name": name, "settings": {"url": url}});
        if let (Some(target), Value::Object(extra)) = (body["settings"].as_object_mut(), settings) {
            target.extend(extra);
        }
        let (status, created) = self.post("/api/v2/integrations", body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().expect("id").to_owned();
        let (status, _) = self
            .post(
                &format!("/api/v2/integrations/{id}/eventbindings"),
                json!({"events": [event]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        id
    }
}

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

/// The guide's integration on `url`, bound to its event type.
async fn guide_hook(api: &Api, url: &str) -> String {
    let headers = json!({ "headers": { "Authorization": "Bearer {{secret:crm_api_token}}", "X-Genesys-Event-Id": "{{eventId}}" }, "retryPolicy": { "retryDelay": 50 } });
    api.hook(
        "CRM-Sync-Webhook-Resilient",
        url,
        "routing.queue.member.update",
        headers,
    )
    .await
}

async fn wait_succeeded(api: &Api, delivery: &str) -> Value {
    let start = Instant::now();
    loop {
        let d = api.get(&format!("/api/v2/deliveries/{delivery}")).await;
        if d["status"] == "succeeded" {
            return d;
        }
        assert!(start.elapsed() < DEADLINE, "not delivered: {d}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

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
