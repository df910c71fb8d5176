//! What the Terraform cycle runs against: the real `ricochet` with a data directory of its own,
//! a receiver on loopback that records requests, and the real `terraform` with a throw-away
//! CLI configuration whose filesystem mirror holds only this provider.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

pub(crate) const DEADLINE: Duration = Duration::from_secs(60);
const PROVIDER_ADDRESS: &str = "registry.terraform.io/ricochet/ricochet";
const PROVIDER_VERSION: &str = "0.1.0";

/// `terraform` on PATH; `None` (with a loud message) on a developer's machine without it, a
/// failure under `CI=true`.
pub(crate) fn terraform_or_skip() -> Option<PathBuf> {
    let found = Command::new("terraform")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(PathBuf::from("terraform"));
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !ci,
        "terraform is not installed, and CI=true: the Terraform cycle must run in CI"
    );
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         SKIPPED: `terraform` is not on PATH, so the Terraform cycle did not run.\n\
         Install Terraform >= 1.11 to run it (CI=true makes this a failure).\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    );
    None
}

/// The `ricochet` binary that `cargo build`/`nextest --workspace` put next to this crate's.
pub(crate) fn ricochet_binary() -> PathBuf {
    let provider = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-ricochet"));
    let bin = provider
        .parent()
        .expect("the provider binary sits in the target profile directory")
        .join("ricochet");
    assert!(
        bin.exists(),
        "{} is missing: build it first (`cargo build -p ricochet-server`, or run the whole workspace's tests)",
        bin.display()
    );
    bin
}

/// A directory of its own, removed at the end (with a PostgreSQL cluster still running in it).
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(prefix: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("creating a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let pid_file = self.0.join("postgres/data/postmaster.pid");
        if let Some(pid) = std::fs::read_to_string(pid_file)
            .ok()
            .and_then(|s| s.lines().next().map(str::to_owned))
        {
            Command::new("kill")
                .args(["-KILL", pid.trim()])
                .status()
                .ok();
        }
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// A running `ricochet serve`, killed on drop.
pub(crate) struct Ricochet {
    child: Child,
    pub(crate) base: String,
    pub(crate) admin_key: String,
}

impl Ricochet {
    pub(crate) fn start(bin: &Path, data: &TempDir) -> Ricochet {
        let help = Command::new(bin)
            .args(["serve", "--help"])
            .output()
            .expect("ricochet serve --help");
        let mut command = Command::new(bin);
        command.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data-dir",
        ]);
        command.arg(&data.0);
        // Once outbound targets are checked, loopback (the receiver) must be opened.
        if String::from_utf8_lossy(&help.stdout).contains("--allow-targets") {
            command.args(["--allow-targets", "127.0.0.0/8,::1/128"]);
        }
        let mut child = command
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
            .expect("ricochet did not start listening in time");
        let admin_key = std::fs::read_to_string(data.0.join("admin.key"))
            .expect("the generated admin key")
            .trim()
            .to_owned();
        Ricochet {
            child,
            base: format!("http://{addr}"),
            admin_key,
        }
    }
}

impl Drop for Ricochet {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) headers: BTreeMap<String, String>,
}

/// An HTTP receiver on loopback answering 200 to everything and recording each request.
pub(crate) struct Receiver {
    pub(crate) url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub(crate) fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the receiver");
        let url = format!(
            "http://{}/v1/genesys-events",
            listener.local_addr().expect("receiver address")
        );
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                if let Some(request) = read_request(stream) {
                    sink.lock().expect("receiver lock").push(request);
                }
            }
        });
        Receiver { url, received }
    }

    /// Waits for a request whose `authorization` header is `expected`.
    pub(crate) fn wait_for_authorization(&self, expected: &str) -> Received {
        let start = Instant::now();
        loop {
            if let Some(found) = self
                .received
                .lock()
                .expect("receiver lock")
                .iter()
                .find(|r| r.headers.get("authorization").map(String::as_str) == Some(expected))
            {
                return found.clone();
            }
            assert!(
                start.elapsed() < DEADLINE,
                "no delivery carried `authorization: {expected}` in time"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn read_request(mut stream: TcpStream) -> Option<Received> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut headers = BTreeMap::new();
    let mut line = String::new();
    reader.read_line(&mut line).ok()?; // request line
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    stream
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        .ok()?;
    Some(Received { headers })
}

/// A Terraform working directory holding a copy of `examples/terraform`, with the provider
/// installed from a filesystem mirror through a CLI configuration of its own.
pub(crate) struct Workspace {
    pub(crate) dir: TempDir,
    terraform: PathBuf,
    env: Vec<(String, String)>,
}

impl Workspace {
    pub(crate) fn new(terraform: PathBuf, env: &[(&str, &str)]) -> Workspace {
        let dir = TempDir::new("ricochet-tf");
        let work = dir.0.join("work");
        std::fs::create_dir_all(&work).expect("work dir");
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/terraform");
        for entry in std::fs::read_dir(&example).expect("examples/terraform") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "tf") {
                std::fs::copy(&path, work.join(path.file_name().expect("file name")))
                    .expect("copying the example");
            }
        }
        let platform = format!("{}_{}", std::env::consts::OS, go_arch());
        let mirror = dir.0.join("mirror");
        let package = mirror
            .join(PROVIDER_ADDRESS)
            .join(PROVIDER_VERSION)
            .join(platform);
        std::fs::create_dir_all(&package).expect("mirror dir");
        install_provider(&package.join(format!("terraform-provider-ricochet_v{PROVIDER_VERSION}")));
        let cli_config = dir.0.join("terraform.rc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{PROVIDER_ADDRESS}\"]\n  }}\n}}\n",
                mirror.display()
            ),
        )
        .expect("writing the CLI configuration");
        let mut all = vec![
            (
                "TF_CLI_CONFIG_FILE".to_owned(),
                cli_config.display().to_string(),
            ),
            ("TF_IN_AUTOMATION".to_owned(), "1".to_owned()),
            ("TF_INPUT".to_owned(), "0".to_owned()),
            ("CHECKPOINT_DISABLE".to_owned(), "1".to_owned()),
        ];
        all.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        Workspace {
            dir,
            terraform,
            env: all,
        }
    }

    pub(crate) fn work(&self) -> PathBuf {
        self.dir.0.join("work")
    }

    pub(crate) fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// Runs `terraform ARGS` in the working directory.
    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let mut all: Vec<&str> = args.to_vec();
        if matches!(
            args.first(),
            Some(&("init" | "plan" | "apply" | "destroy" | "import" | "output" | "show"))
        ) {
            all.insert(1, "-no-color");
        }
        Command::new(&self.terraform)
            .args(&all)
            .current_dir(self.work())
            .env_remove("TF_LOG")
            .env_remove("RUST_BACKTRACE")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .expect("running terraform")
    }

    /// Runs `terraform ARGS` and asserts its exit code.
    pub(crate) fn expect(&self, code: i32, args: &[&str]) -> String {
        let output = self.run(args);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(code),
            "terraform {args:?} exited {:?}, expected {code}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            output.status.code()
        );
        stdout
    }

    /// `terraform output -raw NAME`.
    pub(crate) fn output(&self, name: &str) -> String {
        self.expect(0, &["output", "-raw", name])
    }
}

/// Copies the provider into the mirror, without its debug information when `strip` is at
/// hand: Terraform hashes the package at every command, and a debug build is ~120 MB.
fn install_provider(to: &Path) {
    let from = env!("CARGO_BIN_EXE_terraform-provider-ricochet");
    let stripped = Command::new("strip")
        .args(["--strip-debug", "-o"])
        .arg(to)
        .arg(from)
        .status()
        .is_ok_and(|s| s.success());
    if !stripped {
        std::fs::copy(from, to).expect("copying the provider into the mirror");
    }
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}
