//! A Ricochet process the bench starts: a fresh data directory under /tmp, stderr drained (and
//! its warnings counted) for the process's whole life, SIGTERM on stop, the directory removed.

use std::collections::VecDeque;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr, Command};
use tokio::sync::oneshot;

use crate::procstat;

const START_TIMEOUT: Duration = Duration::from_secs(180);
const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// Log lines kept to explain a failed start.
const TAIL_LINES: usize = 40;
/// Warning and error lines kept for the report.
const SAMPLE_LINES: usize = 3;

/// What Ricochet's stderr said so far.
#[derive(Debug, Default)]
struct LogDigest {
    lines: u64,
    warnings: u64,
    errors: u64,
    samples: Vec<String>,
    tail: VecDeque<String>,
}

/// A running `ricochet serve` with its own embedded PostgreSQL.
#[derive(Debug)]
pub(crate) struct RicochetProcess {
    child: Child,
    pid: u32,
    data_dir: PathBuf,
    postmaster: Option<u32>,
    base_url: String,
    admin_key: String,
    log: Arc<Mutex<LogDigest>>,
    stopped: bool,
}

impl RicochetProcess {
    /// Starts `binary serve` on a fresh data directory and waits until its API listens.
    pub(crate) async fn start(binary: &Path, extra_args: &[String]) -> anyhow::Result<Self> {
        anyhow::ensure!(
            binary.is_file(),
            "{} not found: build it (`cargo build --release -p ricochet-server`) or pass --ricochet",
            binary.display()
        );
        let data_dir = fresh_data_dir()?;
        let mut command = Command::new(binary);
        command
            .args(["--log-format", "json", "--data-dir"])
            .arg(&data_dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            // The benchmark's receivers run on loopback.
            .args(["--allow-targets", "127.0.0.0/8,::1/128"])
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // Our own environment must not reconfigure the instance under test.
        for (name, _) in std::env::vars_os() {
            let name_text = name.to_string_lossy();
            if name_text.starts_with("RICOCHET_") || name_text == "DATABASE_URL" {
                command.env_remove(&name);
            }
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&data_dir);
                return Err(e).with_context(|| format!("starting {}", binary.display()));
            }
        };
        let pid = child.id().context("ricochet exited at once")?;
        let stderr = child.stderr.take().context("ricochet's stderr")?;
        let log = Arc::new(Mutex::new(LogDigest::default()));
        let (addr_tx, addr_rx) = oneshot::channel();
        tokio::spawn(drain_stderr(stderr, log.clone(), addr_tx));
        let mut process = RicochetProcess {
            child,
            pid,
            data_dir,
            postmaster: None,
            base_url: String::new(),
            admin_key: String::new(),
            log,
            stopped: false,
        };
        let addr = match tokio::time::timeout(START_TIMEOUT, addr_rx).await {
            Ok(Ok(addr)) => addr,
            Ok(Err(_)) => bail!("ricochet exited before listening:\n{}", process.log_tail()),
            Err(_) => bail!(
                "ricochet did not listen within {START_TIMEOUT:?}:\n{}",
                process.log_tail()
            ),
        };
        process.base_url = format!("http://{addr}");
        process.admin_key = std::fs::read_to_string(process.data_dir.join("admin.key"))
            .context("reading admin.key")?
            .trim()
            .to_owned();
        process.postmaster = procstat::postmaster_pid(&process.cluster_data_dir());
        Ok(process)
    }

    /// The API's base URL, e.g. `http://127.0.0.1:41234`.
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The platform admin key.
    pub(crate) fn admin_key(&self) -> &str {
        &self.admin_key
    }

    /// Ricochet's pid.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// The postmaster's pid, when its pid file was readable.
    pub(crate) fn postmaster(&self) -> Option<u32> {
        self.postmaster
    }

    /// The directory holding the cluster's Unix socket (port 5432).
    pub(crate) fn socket_dir(&self) -> PathBuf {
        self.data_dir.join("postgres").join("run")
    }

    fn cluster_data_dir(&self) -> PathBuf {
        self.data_dir.join("postgres").join("data")
    }

    /// `ricochet_log_lines`, `ricochet_log_warnings`, `ricochet_log_errors` and a few samples.
    pub(crate) fn log_fields(&self) -> Map<String, Value> {
        let log = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut fields = Map::new();
        fields.insert("ricochet_log_lines".into(), json!(log.lines));
        fields.insert("ricochet_log_warnings".into(), json!(log.warnings));
        fields.insert("ricochet_log_errors".into(), json!(log.errors));
        if !log.samples.is_empty() {
            fields.insert("ricochet_log_samples".into(), json!(log.samples));
        }
        fields
    }

    fn log_tail(&self) -> String {
        let log = self
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        log.tail.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// Sends SIGTERM, waits for Ricochet and its PostgreSQL to exit, removes the data directory.
    pub(crate) async fn stop(mut self) -> anyhow::Result<()> {
        self.stopped = true;
        signal(self.pid, "TERM");
        let exited = tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await;
        let clean = matches!(exited, Ok(Ok(status)) if status.success());
        if exited.is_err() {
            signal(self.pid, "KILL");
            let _ = self.child.wait().await;
        }
        let postgres_gone = self.wait_for_postgres(STOP_TIMEOUT).await;
        let removed = std::fs::remove_dir_all(&self.data_dir);
        anyhow::ensure!(
            clean,
            "ricochet did not stop cleanly ({exited:?}):\n{}",
            self.log_tail()
        );
        anyhow::ensure!(postgres_gone, "ricochet's PostgreSQL did not stop");
        removed.with_context(|| format!("removing {}", self.data_dir.display()))
    }

    /// Waits for the postmaster to exit; past `timeout`, shuts it down immediately (SIGQUIT).
    async fn wait_for_postgres(&self, timeout: Duration) -> bool {
        let Some(postmaster) = self.postmaster else {
            return true;
        };
        let deadline = Instant::now() + timeout;
        while procstat::is_alive(postmaster) {
            if Instant::now() > deadline {
                signal(postmaster, "QUIT");
                tokio::time::sleep(Duration::from_secs(2)).await;
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        true
    }
}

impl Drop for RicochetProcess {
    /// The error path (a scenario failed before `stop`): stop both processes, blocking, so
    /// nothing is left behind.
    fn drop(&mut self) {
        if self.stopped {
            return;
        }
        signal(self.pid, "TERM");
        let deadline = Instant::now() + STOP_TIMEOUT;
        while !matches!(self.child.try_wait(), Ok(Some(_))) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if let Some(postmaster) = self.postmaster {
            while procstat::is_alive(postmaster) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            if procstat::is_alive(postmaster) {
                signal(postmaster, "QUIT");
            }
        }
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// `kill -<name> <pid>` (unsafe code is forbidden, so no libc).
fn signal(pid: u32, name: &str) {
    let _ = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A new empty directory under /tmp (short, so the socket path fits; reachable by `postgres`).
fn fresh_data_dir() -> anyhow::Result<PathBuf> {
    let dir = PathBuf::from(format!("/tmp/ricochet-bench-{}", crate::unique_suffix(12)));
    std::fs::DirBuilder::new()
        .mode(0o755)
        .create(&dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

async fn drain_stderr(
    stderr: ChildStderr,
    log: Arc<Mutex<LogDigest>>,
    addr_tx: oneshot::Sender<String>,
) {
    let mut addr_tx = Some(addr_tx);
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if addr_tx.is_some() && line.contains("API listening") {
            let addr = serde_json::from_str::<Value>(&line)
                .ok()
                .and_then(|v| v.get("addr").and_then(Value::as_str).map(str::to_owned));
            if let (Some(addr), Some(tx)) = (addr, addr_tx.take()) {
                let _ = tx.send(addr);
            }
        }
        let mut log = log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        log.lines += 1;
        let is_error = line.contains("\"level\":\"ERROR\"");
        let is_warning = line.contains("\"level\":\"WARN\"");
        log.errors += u64::from(is_error);
        log.warnings += u64::from(is_warning);
        if (is_error || is_warning) && log.samples.len() < SAMPLE_LINES {
            log.samples.push(line.chars().take(400).collect());
        }
        if log.tail.len() == TAIL_LINES {
            log.tail.pop_front();
        }
        log.tail.push_back(line);
    }
}
