//! The shipped clients against the real server: `clients/python` and `clients/typescript` each
//! run their scenario (`clients/python-scenario/scenario.py`, `clients/typescript/scenario/`)
//! against `ricochet serve` on loopback with a data directory of its own, after a strict type
//! check (`mypy --strict`, `tsc --strict`). Under `CI=true` missing Python or Node tooling
//! fails the test; elsewhere the test says loudly that it is skipped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, mpsc};

use serde_json::Value;

use crate::harness::{Api, BIN, DEADLINE, DataDir, Server};

/// Arguments of `ricochet serve` for the scenarios, whose receivers listen on loopback. When
/// the outbound guard lands, allow loopback targets here (`--allow-targets ...`).
const SERVER_ARGS: &[&str] = &[];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Fails under `CI=true`, where the tooling must be there; otherwise says so and skips.
fn missing_tooling(what: &str) {
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("{what} is missing, and CI must run this test (.ci/run installs it)");
    }
    eprintln!("\n*** SKIPPED: {what} is missing; this test runs in CI (.ci/run installs it) ***\n");
}

fn serve(dir: &DataDir) -> Server {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(SERVER_ARGS)
        .args(["--log-format", "json", "--data-dir"])
        .arg(&dir.0)
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning ricochet serve");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    let log = Arc::new(Mutex::new(Vec::new()));
    let lines = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(event) = serde_json::from_str::<Value>(&line)
                && event["message"] == "API listening"
            {
                let _ = tx.send(event["addr"].as_str().unwrap_or_default().to_owned());
            }
            lines.lock().expect("log lock").push(line);
        }
    });
    let addr = rx
        .recv_timeout(DEADLINE)
        .expect("ricochet serve did not become ready in time");
    Server {
        child,
        base: format!("http://{addr}"),
        recorded: Arc::new(AtomicUsize::new(0)),
        log,
    }
}

fn scenario_env(command: &mut Command, server: &Server, dir: &DataDir) {
    command
        .env("RICOCHET_URL", &server.base)
        .env("RICOCHET_ADMIN_KEY", dir.admin_key())
        .env(
            "RICOCHET_GUIDE_INTEGRATION",
            repo().join("crates/server/tests/api/guide_integration.json"),
        );
}

/// Asserts that `what` exited 0, showing its output either way.
fn assert_ran(what: &str, output: &Output, server: Option<&Server>) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("--- {what}: stdout\n{stdout}\n--- {what}: stderr\n{stderr}");
    if !output.status.success() {
        if let Some(server) = server {
            let log = server.log.lock().expect("log lock");
            let tail = log.iter().rev().take(40).rev().cloned().collect::<Vec<_>>();
            eprintln!("--- server log (last lines)\n{}", tail.join("\n"));
        }
        panic!("{what} failed ({})", output.status);
    }
}

/// The Python of the venv `scripts/python-env` makes from `scripts/requirements.txt`.
fn python_env() -> Option<PathBuf> {
    let out = Command::new(repo().join("scripts/python-env"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_owned()))
}

const PYTHON_TOOLING: &str = "Python 3.11+ with scripts/requirements.txt (scripts/python-env)";

#[test]
fn the_python_client_passes_mypy_strict_and_its_scenario_against_the_real_server() {
    let Some(python) = python_env() else {
        return missing_tooling(PYTHON_TOOLING);
    };
    let scenario_dir = repo().join("clients/python-scenario");
    let client = repo().join("clients/python");
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mypy-cache");

    let mypy = Command::new(&python)
        .args(["-m", "mypy", "--strict", "scenario.py"])
        .current_dir(&scenario_dir)
        .env("PYTHONPATH", &client)
        .env("MYPY_CACHE_DIR", &cache)
        .output()
        .expect("running mypy");
    assert_ran("mypy --strict", &mypy, None);

    let dir = DataDir::new();
    let server = serve(&dir);
    let mut scenario = Command::new(&python);
    scenario
        .arg("scenario.py")
        .current_dir(&scenario_dir)
        .env("PYTHONPATH", &client);
    scenario_env(&mut scenario, &server, &dir);
    let output = scenario.output().expect("running the python scenario");
    assert_ran("python scenario", &output, Some(&server));
    assert!(String::from_utf8_lossy(&output.stdout).contains("python scenario passed"));
    server.terminate();
}

#[test]
fn the_typescript_client_passes_tsc_strict_and_its_scenario_against_the_real_server() {
    let project = repo().join("clients/typescript");
    if Command::new("node").arg("--version").output().is_err() {
        return missing_tooling("Node.js 20.19+");
    }
    if !project.join("node_modules/.bin/tsc").exists() {
        let npm = Command::new("npm")
            .args([
                "ci",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ])
            .current_dir(&project)
            .output();
        match npm {
            Ok(out) if out.status.success() => {}
            _ => return missing_tooling("npm with clients/typescript's packages (npm ci)"),
        }
    }

    let tsc = Command::new(project.join("node_modules/.bin/tsc"))
        .args(["-p", "tsconfig.json"])
        .current_dir(&project)
        .output()
        .expect("running tsc");
    assert_ran("tsc --strict", &tsc, None);

    let dir = DataDir::new();
    let server = serve(&dir);
    let mut scenario = Command::new("node");
    scenario
        .arg("dist/scenario/scenario.js")
        .current_dir(&project);
    scenario_env(&mut scenario, &server, &dir);
    let output = scenario.output().expect("running the typescript scenario");
    assert_ran("typescript scenario", &output, Some(&server));
    assert!(String::from_utf8_lossy(&output.stdout).contains("typescript scenario passed"));
    server.terminate();
}

/// schemathesis generates requests from the served document (its examples, its boundaries and
/// random data) with a tenant's token: every status the server answers must be declared for
/// its operation, and none may be a 5xx.
#[tokio::test]
async fn a_bounded_schemathesis_run_finds_no_undeclared_status_and_no_server_error() {
    let Some(python) = python_env() else {
        return missing_tooling(PYTHON_TOOLING);
    };
    let dir = DataDir::new();
    let server = serve(&dir);
    let api = Api::provision(&server, &dir).await;
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("schemathesis");
    std::fs::create_dir_all(&work).expect("a work dir for schemathesis");
    let output = Command::new(python.with_file_name("st"))
        .args(["run", &format!("{}/openapi.json", server.base)])
        .args(["--header", &format!("Authorization: Bearer {}", api.token)])
        .args(["--checks", "not_a_server_error,status_code_conformance"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", "5", "--workers", "1", "--seed", "1"])
        .current_dir(&work)
        .output()
        .expect("running schemathesis");
    assert_ran("schemathesis", &output, Some(&server));
    server.terminate();
}
