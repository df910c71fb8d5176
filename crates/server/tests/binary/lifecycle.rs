//! Lifecycle: start ready, stop on SIGTERM, reuse the data, recover after `kill -9`, the CLI.

use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::*;

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
async fn a_second_serve_on_one_data_directory_exits_with_one_clear_line_and_the_first_keeps_running()
 {
    let dir = DataDir::new();
    let first = Server::start(&dir);

    let second = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&dir.0)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .expect("running a second serve");

    assert!(!second.status.success(), "the second serve must not run");
    let stderr = String::from_utf8_lossy(&second.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    let expected = format!("is in use by process {} (ricochet serve)", first.child.id());
    assert!(lines[0].contains(&expected), "{stderr}");
    assert_eq!(
        get(format!("{}/readyz", first.base), None).await.status(),
        StatusCode::OK,
        "the first keeps running"
    );
}

#[tokio::test]
async fn tenants_create_says_it_starts_the_cluster_when_no_server_runs_and_names_the_running_servers_url()
 {
    let dir = DataDir::new();
    let create = |name: &str| {
        Command::new(BIN)
            .args(["tenants", "create", name, "--data-dir"])
            .arg(&dir.0)
            .env_remove("DATABASE_URL")
            .output()
            .expect("running tenants create")
    };

    let alone = create("first");
    assert!(
        alone.status.success(),
        "{}",
        String::from_utf8_lossy(&alone.stderr)
    );
    let stderr = String::from_utf8_lossy(&alone.stderr);
    let cluster = dir.0.join("postgres");
    assert!(
        stderr.contains("no Ricochet server is running")
            && stderr.contains(&format!(
                "starting its PostgreSQL cluster in {}",
                cluster.display()
            )),
        "{stderr}"
    );
    assert!(
        dir.postmaster_pid().is_none_or(|pid| !alive(pid)),
        "the command stops the cluster it started"
    );

    let server = Server::start(&dir);
    let joined = create("second");
    assert!(
        joined.status.success(),
        "{}",
        String::from_utf8_lossy(&joined.stderr)
    );
    let stdout = String::from_utf8_lossy(&joined.stdout);
    assert!(
        stdout.contains(&format!("{}/oauth/token", server.base)),
        "names the running server: {stdout}"
    );
    assert!(!stdout.contains(":8080"), "{stdout}");
    let stderr = String::from_utf8_lossy(&joined.stderr);
    assert!(
        stderr.contains(&format!("API at {}", server.base)),
        "{stderr}"
    );
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

#[tokio::test]
async fn a_worker_that_joined_takes_over_the_cluster_when_its_owner_dies_and_restarts_it() {
    let dir = DataDir::new();
    let owner = Server::role(&dir, "api", &[]);
    let worker = Server::role(&dir, "worker", &[]);
    let first_postmaster = dir.postmaster_pid().expect("the embedded cluster runs");

    owner.kill9();
    signal(first_postmaster, "-KILL");

    wait_until("the worker to start the cluster again", || {
        dir.postmaster_pid()
            .is_some_and(|pid| pid != first_postmaster && alive(pid))
    });
    let cli = Command::new(BIN)
        .args(["migrate", "--data-dir"])
        .arg(&dir.0)
        .env_remove("DATABASE_URL")
        .output()
        .expect("running migrate");
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let stderr = String::from_utf8_lossy(&cli.stderr);
    let holder = format!("process {} (ricochet worker)", worker.child.id());
    assert!(stderr.contains(&holder), "{stderr}");
}
