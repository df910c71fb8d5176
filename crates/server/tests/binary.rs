//! The real `ricochet` binary with its embedded PostgreSQL: it comes up ready with no
//! DATABASE_URL, stops cleanly on SIGTERM, reuses its data, recovers after `kill -9`, and its
//! CLI hands a new user working credentials.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

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
}

impl Server {
    fn start(dir: &DataDir) -> Server {
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--log-format",
                "json",
                "--data-dir",
            ])
            .arg(&dir.0)
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning ricochet");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(event) = serde_json::from_str::<Value>(&line)
                    && event["message"] == "API listening"
                {
                    let _ = tx.send(event["addr"].as_str().unwrap_or_default().to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(DEADLINE)
            .expect("ricochet serve did not start listening in time");
        Server {
            child,
            base: format!("http://{addr}"),
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
