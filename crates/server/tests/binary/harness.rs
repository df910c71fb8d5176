//! The harness of the binary tests: a data directory of its own, the real `ricochet` in one of
//! its roles, and a tenant's API session.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_ricochet");
pub(crate) const DEADLINE: Duration = Duration::from_secs(60);

/// A data directory of its own, removed (with any cluster still running in it) at the end.
pub(crate) struct DataDir(pub(crate) PathBuf);

impl DataDir {
    pub(crate) fn new() -> DataDir {
        let dir =
            std::env::temp_dir().join(format!("ricochet-bin-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("creating the data dir");
        DataDir(dir)
    }

    pub(crate) fn postmaster_pid(&self) -> Option<u32> {
        let pid_file = self.0.join("postgres/data/postmaster.pid");
        std::fs::read_to_string(pid_file)
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    pub(crate) fn admin_key(&self) -> String {
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
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
    /// Attempts this process recorded, counted from its log.
    pub(crate) recorded: Arc<AtomicUsize>,
    /// Every line it logged.
    pub(crate) log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub(crate) fn start(dir: &DataDir) -> Server {
        Self::role(dir, "serve", &[])
    }

    /// Starts `ricochet <role>` and waits until it is ready: listening (API roles) or
    /// running its worker (`worker`).
    pub(crate) fn role(dir: &DataDir, role: &str, env: &[(&str, &str)]) -> Server {
        let mut command = Command::new(BIN);
        command.arg(role);
        if role != "worker" {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        let mut child = command
            .args(["--log-format", "json", "--data-dir"])
            .arg(&dir.0)
            // Receivers run on loopback.
            .args(["--allow-targets", "127.0.0.0/8,::1/128"])
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

    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        signal(self.child.id(), "-TERM");
        wait_until("ricochet to exit after SIGTERM", || {
            self.child.try_wait().ok().flatten().is_some()
        });
        self.child.wait().expect("exit status")
    }

    pub(crate) fn kill9(mut self) {
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

pub(crate) fn signal(pid: u32, sig: &str) {
    Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .ok();
}

pub(crate) fn alive(pid: u32) -> bool {
    // A zombie (state Z) has exited; only its parent has not reaped it yet.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            != Some("Z")
    })
}

pub(crate) fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) async fn get(url: String, bearer: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request")
}

pub(crate) async fn create_tenant(server: &Server, dir: &DataDir, name: &str) {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v2/tenants", server.base))
        .bearer_auth(dir.admin_key())
        .json(&json!({ "name": name }))
        .send()
        .await
        .expect("create tenant");
    assert_eq!(response.status(), StatusCode::CREATED);
}

pub(crate) async fn tenant_names(server: &Server, dir: &DataDir) -> Vec<String> {
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

/// A tenant's token and helpers to set it up through a running server's API.
pub(crate) struct Api {
    pub(crate) base: String,
    pub(crate) token: String,
    pub(crate) http: reqwest::Client,
}

impl Api {
    /// Creates a tenant and a client with the admin key, and gets a token.
    pub(crate) async fn provision(server: &Server, dir: &DataDir) -> Api {
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
    pub(crate) async fn send(
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

    pub(crate) async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
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

    pub(crate) async fn get(&self, path: &str) -> Value {
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
    pub(crate) async fn hook(&self, name: &str, url: &str, event: &str, settings: Value) -> String {
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

/// The guide's integration on `url`, bound to its event type.
pub(crate) async fn guide_hook(api: &Api, url: &str) -> String {
    let headers = json!({ "headers": { "Authorization": "Bearer {{secret:crm_api_token}}", "X-Genesys-Event-Id": "{{eventId}}" }, "retryPolicy": { "retryDelay": 50 } });
    api.hook(
        "CRM-Sync-Webhook-Resilient",
        url,
        "routing.queue.member.update",
        headers,
    )
    .await
}

pub(crate) async fn wait_succeeded(api: &Api, delivery: &str) -> Value {
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
