//! The console at `/ui`, end to end: Playwright (`tests/console/console.mjs`, playwright-core
//! from npm) drives Debian's headless chromium through the guide's story against the real
//! `ricochet` binary and a loopback receiver, and screenshots every page.
//!
//! Needs `node`, chromium and `npm ci` in `tests/console`; `.ci/run` provides all three. Without
//! them the test fails under `CI=true` and is skipped, loudly, elsewhere.

#[path = "binary/harness.rs"]
#[expect(
    dead_code,
    reason = "shared with the binary tests, which use all of it"
)]
mod harness;
#[path = "api/receiver.rs"]
#[expect(dead_code, reason = "shared with the api tests, which use all of it")]
mod receiver;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use harness::{DataDir, Server};
use receiver::{Receiver, Reply};

/// Settings of the server under test, beyond the harness's (which already lets deliveries
/// reach loopback receivers with `--allow-targets`).
const SERVER_ENV: &[(&str, &str)] = &[];

/// The whole browser scenario may take this long (it waits for real retries, about 3 s).
const SCENARIO_DEADLINE: Duration = Duration::from_secs(240);

/// Where chromium may be: `RICOCHET_CHROMIUM`, then Debian's real binary (the `chromium`
/// wrapper adds flags from /etc/chromium.d and a harmless warning), then the wrapper.
fn chromium() -> Option<PathBuf> {
    std::env::var_os("RICOCHET_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(["/usr/lib/chromium/chromium", "/usr/bin/chromium"].map(PathBuf::from))
        .find(|path| path.is_file())
}

fn console_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/console")
}

/// Node, chromium and the installed playwright-core, or why they are missing.
fn browser_tools() -> Result<PathBuf, String> {
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| format!("`node` cannot run ({e}); install Node.js 20+"))?;
    if !node.status.success() {
        return Err("`node --version` failed".into());
    }
    if !console_dir().join("node_modules/playwright-core").is_dir() {
        return Err(
            "playwright-core is not installed: run `npm ci` in crates/server/tests/console".into(),
        );
    }
    chromium().ok_or_else(|| "chromium is missing: `apt-get install chromium`".into())
}

/// Creates a tenant and an API client with the admin key; returns the client's id and secret.
async fn tenant_client(server: &Server, dir: &DataDir) -> (String, String) {
    let http = reqwest::Client::new();
    let admin = dir.admin_key();
    let response = http
        .post(format!("{}/api/v2/tenants", server.base))
        .bearer_auth(&admin)
        .json(&json!({"name": "acme"}))
        .send()
        .await
        .expect("create tenant");
    assert_eq!(response.status(), StatusCode::CREATED);
    let tenant: Value = response.json().await.expect("tenant json");
    let response = http
        .post(format!(
            "{}/api/v2/tenants/{}/clients",
            server.base,
            tenant["id"].as_str().expect("tenant id")
        ))
        .bearer_auth(&admin)
        .json(&json!({"name": "console"}))
        .send()
        .await
        .expect("create client");
    assert_eq!(response.status(), StatusCode::CREATED);
    let client: Value = response.json().await.expect("client json");
    (
        client["clientId"].as_str().expect("client id").to_owned(),
        client["clientSecret"]
            .as_str()
            .expect("client secret")
            .to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_takes_a_tenant_through_the_guide_in_headless_chromium() {
    let chromium = match browser_tools() {
        Ok(chromium) => chromium,
        Err(missing) if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("the console test cannot run in CI: {missing}")
        }
        Err(missing) => {
            eprintln!("SKIPPED the console test: {missing}");
            return;
        }
    };
    let dir = DataDir::new();
    // `/crm` fails twice then succeeds; `/dead` refuses once (a dead letter), then accepts.
    let receiver = Receiver::scripted(|hit, earlier| match hit.path.as_str() {
        "/crm" if earlier < 2 => Reply::status(503),
        "/dead" if earlier == 0 => Reply::status(400),
        _ => Reply::status(200),
    })
    .await;
    let server = Server::role(&dir, "serve", SERVER_ENV);
    let (client_id, client_secret) = tenant_client(&server, &dir).await;

    let mut scenario = tokio::process::Command::new("node");
    scenario
        .arg("console.mjs")
        .current_dir(console_dir())
        .env("RICOCHET_BASE", &server.base)
        .env("RECEIVER_URL", &receiver.url)
        .env("CLIENT_ID", client_id)
        .env("CLIENT_SECRET", client_secret)
        .env("ADMIN_KEY", dir.admin_key())
        .env("CHROMIUM", &chromium)
        .env("SCREENSHOT_DIR", console_dir().join("screenshots"))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let status = tokio::time::timeout(SCENARIO_DEADLINE, scenario.status())
        .await
        .expect("the browser scenario did not finish in time")
        .expect("running node");
    assert!(status.success(), "the browser scenario failed: {status}");

    // Two events reach `/crm` (three attempts each), one reaches `/dead` (two).
    let hits = receiver.wait_for(8, harness::DEADLINE).await;
    let count = |path: &str| hits.iter().filter(|hit| hit.path == path).count();
    assert_eq!(
        count("/crm"),
        6,
        "two failures and a success, for each event"
    );
    assert_eq!(count("/dead"), 2, "the refused attempt and the replay");
    let crm = hits
        .iter()
        .find(|hit| hit.path == "/crm")
        .expect("a request to /crm");
    assert_eq!(
        crm.header("authorization"),
        "Bearer first-token-value",
        "the secret made in the console reached the receiver"
    );
}
