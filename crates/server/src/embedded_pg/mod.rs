//! Embedded PostgreSQL: a private cluster from the machine's own binaries, on a Unix socket inside the data directory.
//!
//! Without `DATABASE_URL`, Ricochet runs its own cluster with the PostgreSQL server binaries
//! already installed on the machine (nothing is downloaded). Layout of the cluster directory:
//!
//! ```text
//! <cluster_dir>/            0700
//!   data/                   the cluster (initdb runs in data.initdb/, then renamed: data/ is complete)
//!   run/.s.PGSQL.5432       the only listener (no TCP); 0700 admits only its owner and root
//!   postgres.log            server log (moved to `postgres.log.1` past 16 MiB)
//!   start.lock              serialises start-up across processes
//! ```
//!
//! PostgreSQL refuses to run as root, so under root the server runs as the system `postgres`
//! account, which then owns the cluster directory and must be able to reach it.
//!
//! A cluster is reused across runs and shared between processes: the process that starts it owns
//! it and stops it with [`EmbeddedPostgres::stop_if_owned`]; later ones only connect. Nothing here
//! logs: errors carry the failing command's output and the tail of `postgres.log`.

use std::fs::{self, File, OpenOptions, Permissions, TryLockError};
use std::io;
use std::os::unix::fs::{PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

mod host;
use host::*;

const PORT: u16 = 5432;
const SUPERUSER: &str = "ricochet";
const SERVICE_ACCOUNT: &str = "postgres";
const VERSIONED_ROOT: &str = "/usr/lib/postgresql";
/// `sun_path` holds 108 bytes on Linux (104 on the BSDs); keep a margin.
const MAX_SOCKET_PATH: usize = 100;
const LOCK_TIMEOUT: Duration = Duration::from_secs(180);
const START_ATTEMPTS: u32 = 3;

/// How to find or create the cluster.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// Directory holding the cluster (e.g. `<data-dir>/postgres`). Created if missing.
    pub cluster_dir: PathBuf,
    /// Trade durability for speed (fsync=off, synchronous_commit=off, full_page_writes=off; initdb --no-sync). For test clusters only.
    pub ephemeral: bool,
    /// Extra `-c name=value` settings passed to postgres at start (e.g. max_connections).
    pub settings: Vec<(String, String)>,
}

/// A running embedded cluster, started by this process or found running.
///
/// Dropping it does not stop the server: call [`stop_if_owned`](Self::stop_if_owned) on shutdown.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    cluster_dir: PathBuf,
    data_dir: PathBuf,
    socket_dir: PathBuf,
    bin_dir: PathBuf,
    /// Who the server runs as when we are root; `None` runs it as ourselves.
    account: Option<Account>,
    owned: bool,
    /// How it was started, to start it again the same way.
    opts: EmbeddedOptions,
}

/// Why the embedded cluster could not be started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or under /usr/lib/postgresql/*/bin: install PostgreSQL (e.g. `apt-get install postgresql`) or set DATABASE_URL to use an existing server"
    )]
    NoBinaries,
    #[error(
        "running as root, but there is no unprivileged `postgres` account to run PostgreSQL as (it refuses to run as root): install PostgreSQL's server package (e.g. `apt-get install postgresql`), which creates it, or set DATABASE_URL"
    )]
    NoUnprivilegedUser,
    #[error(
        "the `{user}` account that runs PostgreSQL cannot enter {dir} (no search permission): use a --data-dir it can reach (e.g. under /var/lib) or set DATABASE_URL"
    )]
    NotTraversable { dir: PathBuf, user: String },
    #[error(
        "Unix socket path {path} is {len} bytes, over the {MAX_SOCKET_PATH}-byte limit: use a shorter --data-dir",
        len = .path.as_os_str().len()
    )]
    SocketPathTooLong { path: PathBuf },
    /// pg_ctl pastes paths into a `/bin/sh` command line, inside double quotes.
    #[error(
        "unsupported cluster directory {path}: it must be UTF-8 without `\"`, `$`, `` ` ``, `\\` or newlines (pg_ctl passes it through a shell): use another --data-dir"
    )]
    UnsupportedPath { path: PathBuf },
    #[error("timed out after {}s waiting for the start-up lock {path} held by another process", LOCK_TIMEOUT.as_secs())]
    LockTimeout { path: PathBuf },
    #[error(
        "PostgreSQL on {data_dir} is running but not on the socket {socket} (started by something else?): stop it (`pg_ctl stop -D {data_dir}`) and retry"
    )]
    SocketMissing { data_dir: PathBuf, socket: PathBuf },
    /// `output` is the tail of the command's output and of `postgres.log`.
    #[error("{what} failed ({status}):\n{output}")]
    Command {
        what: String,
        status: String,
        output: String,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

type Result<T, E = EmbeddedError> = std::result::Result<T, E>;

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> EmbeddedError {
    let context = context.into();
    move |source| EmbeddedError::Io { context, source }
}

#[derive(Debug, Clone)]
struct Account {
    name: String,
    uid: u32,
    gid: u32,
}

impl EmbeddedPostgres {
    /// Ensure the cluster is initialised and running.
    ///
    /// If it is already running (started by another process, e.g. a running `ricochet serve`),
    /// connect to it and do not own it. Otherwise run initdb when needed, start it, wait until it
    /// accepts connections, and own it ([`stop_if_owned`](Self::stop_if_owned) stops it).
    /// Concurrent callers, in any process, are serialised by an exclusive lock on
    /// `<cluster_dir>/start.lock`, held only during check, init and start.
    pub fn start(opts: EmbeddedOptions) -> Result<Self> {
        let cluster_dir = std::path::absolute(&opts.cluster_dir)
            .map_err(io_err(format!("resolving {}", opts.cluster_dir.display())))?;
        let forbidden = ['"', '$', '`', '\\', '\n'];
        if cluster_dir.to_str().is_none_or(|s| s.contains(forbidden)) {
            return Err(EmbeddedError::UnsupportedPath { path: cluster_dir });
        }
        let socket_dir = cluster_dir.join("run");
        let socket = socket_dir.join(format!(".s.PGSQL.{PORT}"));
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(EmbeddedError::SocketPathTooLong { path: socket });
        }
        let data_dir = cluster_dir.join("data");
        let bin_dir = find_binaries(&data_dir).ok_or(EmbeddedError::NoBinaries)?;
        let account = is_root()?.then(service_account).transpose()?;
        let mut pg = Self {
            cluster_dir,
            data_dir,
            socket_dir,
            bin_dir,
            account,
            owned: false,
            opts,
        };

        pg.prepare_cluster_dir()?;
        let _lock = pg.lock()?;
        pg.ensure_running()?;
        Ok(pg)
    }

    /// Whether the postmaster named in `postmaster.pid` is alive. Cheap (no process is
    /// started), for a supervisor to ask every second; `false` also when the file is gone.
    pub fn postmaster_alive(&self) -> bool {
        let pid = fs::read_to_string(self.data_dir.join("postmaster.pid"))
            .ok()
            .and_then(|text| {
                text.lines()
                    .next()
                    .and_then(|l| l.trim().parse::<u32>().ok())
            });
        pid.is_some_and(|pid| {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat"));
            // "pid (comm) state ...": a zombie has exited.
            stat.is_ok_and(|stat| {
                stat.rsplit(')')
                    .next()
                    .and_then(|rest| rest.split_whitespace().next())
                    != Some("Z")
            }) && !pid_is_foreign(pid, fs::canonicalize(&self.data_dir).ok().as_deref())
        })
    }

    /// Starts the cluster again, on the same data directory and socket, if it is not running
    /// (its postmaster was killed, say); returns whether it did. This process then owns it.
    pub fn restart_if_stopped(&mut self) -> Result<bool> {
        let _lock = self.lock()?;
        if self.is_running()? {
            return Ok(false);
        }
        self.ensure_running()?;
        Ok(true)
    }

    /// Directory holding the Unix socket (to pass to sqlx `PgConnectOptions::socket`).
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// Port number in the socket file name `.s.PGSQL.<port>`; there is no TCP listener.
    pub fn port(&self) -> u16 {
        PORT
    }

    /// The superuser role created by initdb; local socket connections need no password.
    pub fn user(&self) -> &str {
        SUPERUSER
    }

    /// Whether this process started the cluster.
    pub fn owned(&self) -> bool {
        self.owned
    }

    /// Stop the cluster (`pg_ctl stop -m fast -w`) if this process started it; otherwise do nothing.
    pub fn stop_if_owned(&self) -> Result<()> {
        if self.owned { self.stop() } else { Ok(()) }
    }

    /// Stop the cluster whether or not we own it. No error if it is not running.
    pub fn stop(&self) -> Result<()> {
        if !self.is_running()? {
            return Ok(());
        }
        let (status, output) = self.pg_ctl("stop", &["-m", "fast", "-w", "-t", "60"])?;
        // Another process may have stopped it between our check and our stop.
        if status.success() || !self.is_running()? {
            return Ok(());
        }
        Err(self.failure("pg_ctl stop", &status, &output))
    }

    fn log_path(&self) -> PathBuf {
        self.cluster_dir.join("postgres.log")
    }

    fn prepare_cluster_dir(&self) -> Result<()> {
        // Checked before creating anything, so a bad --data-dir leaves no litter behind...
        self.check_traversable()?;
        fs::create_dir_all(&self.cluster_dir)
            .map_err(io_err(format!("creating {}", self.cluster_dir.display())))?;
        self.own_dir(&self.cluster_dir)?;
        // ...and again once the whole path exists: directories just created follow our umask.
        self.check_traversable()
    }

    /// Gives `dir` to the server's account, private, as initdb and postgres insist.
    fn own_dir(&self, dir: &Path) -> Result<()> {
        fs::set_permissions(dir, Permissions::from_mode(0o700))
            .map_err(io_err(format!("setting mode 0700 on {}", dir.display())))?;
        if let Some(acct) = &self.account {
            let context = format!("giving {} to `{}`", dir.display(), acct.name);
            chown(dir, Some(acct.uid), Some(acct.gid)).map_err(io_err(context))?;
        }
        Ok(())
    }

    /// Under root, fails with [`EmbeddedError::NotTraversable`] unless the service account can
    /// enter the cluster directory (or its deepest existing ancestor). The kernel is asked, by
    /// starting a child there as that account, so ACLs count; mode bits only name the culprit.
    fn check_traversable(&self) -> Result<()> {
        let Some(acct) = &self.account else {
            return Ok(());
        };
        let mut ancestors = self.cluster_dir.ancestors();
        let existing = ancestors.find(|p| p.exists()).unwrap_or(Path::new("/"));
        let Err(source) = self.command("postgres", existing).arg("--version").output() else {
            return Ok(());
        };
        let canonical = fs::canonicalize(existing).unwrap_or_else(|_| existing.to_path_buf());
        let mut chain: Vec<&Path> = canonical.ancestors().collect();
        chain.reverse();
        let user = acct.name.clone();
        match chain.into_iter().find(|dir| !searchable(dir, acct)) {
            Some(dir) => Err(EmbeddedError::NotTraversable {
                dir: dir.into(),
                user,
            }),
            None => {
                let context = format!("running postgres as `{user}` in {}", existing.display());
                Err(io_err(context)(source))
            }
        }
    }

    fn lock(&self) -> Result<File> {
        let path = self.cluster_dir.join("start.lock");
        let mut options = OpenOptions::new();
        let file = options.create(true).write(true).truncate(false).open(&path);
        let file = file.map_err(io_err(format!("opening {}", path.display())))?;
        // Bounded, so a wedged holder produces an error instead of a hang.
        let deadline = Instant::now() + LOCK_TIMEOUT;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    sleep(Duration::from_millis(100));
                }
                Err(TryLockError::WouldBlock) => return Err(EmbeddedError::LockTimeout { path }),
                Err(TryLockError::Error(e)) => {
                    return Err(io_err(format!("locking {}", path.display()))(e));
                }
            }
        }
    }

    fn ensure_running(&mut self) -> Result<()> {
        let opts = self.opts.clone();
        self.clear_stale_lock_files()?;
        if self.is_running()? {
            return self.wait_ready(Duration::from_secs(5));
        }
        if !self.data_dir.join("PG_VERSION").exists() {
            self.initdb(opts.ephemeral)?;
        }
        fs::create_dir_all(&self.socket_dir)
            .map_err(io_err(format!("creating {}", self.socket_dir.display())))?;
        self.own_dir(&self.socket_dir)?;
        let log = self.log_path();
        if fs::metadata(&log).is_ok_and(|m| m.len() > 16 << 20) {
            let rotated = fs::rename(&log, log.with_extension("log.1"));
            rotated.map_err(io_err(format!("rotating {}", log.display())))?;
        }

        let options = self.start_options(opts);
        let args = ["-w", "-t", "60", "-l", utf8(&log), "-o", &options];
        for attempt in 1..=START_ATTEMPTS {
            // After a crash, children of the killed postmaster keep its shared memory attached
            // for a moment and a new postmaster refuses to start until they are gone.
            self.wait_for_orphans(Duration::from_secs(10));
            self.clear_stale_lock_files()?;
            let (status, output) = self.pg_ctl("start", &args)?;
            // pg_ctl gives up after -t, but the server may still have come up.
            if status.success() || self.is_running()? {
                break;
            }
            if attempt == START_ATTEMPTS {
                return Err(self.failure("pg_ctl start", &status, &output));
            }
            sleep(Duration::from_millis(500));
        }
        self.wait_ready(Duration::from_secs(30))?;
        self.owned = true;
        Ok(())
    }

    fn initdb(&self, ephemeral: bool) -> Result<()> {
        // initdb into a scratch directory and rename it: `data/` then exists only once complete,
        // and an interrupted run (leftover scratch or PG_VERSION-less `data/`) is simply redone.
        let scratch = self.cluster_dir.join("data.initdb");
        for dir in [&self.data_dir, &scratch] {
            ignore_missing(fs::remove_dir_all(dir))
                .map_err(io_err(format!("removing incomplete {}", dir.display())))?;
        }
        let mut args = vec!["-D", utf8(&scratch), "-U", SUPERUSER];
        args.extend(["--auth=trust", "-E", "UTF8", "--locale=C"]);
        if ephemeral {
            args.push("--no-sync");
        }
        let (status, output) = self.run("initdb", &args)?;
        if !status.success() {
            return Err(self.failure("initdb", &status, &output));
        }
        let (from, to) = (scratch.display(), self.data_dir.display());
        let context = format!("renaming {from} to {to}");
        fs::rename(&scratch, &self.data_dir).map_err(io_err(context))
    }

    /// The `-o` string for pg_ctl, which hands it to `/bin/sh`: each `name=value` is
    /// single-quoted for the shell.
    fn start_options(&self, opts: EmbeddedOptions) -> String {
        // Always the current run/ (the cluster may have moved). The setting is a list:
        // double-quoting the entry keeps commas and spaces.
        let socket_dirs = format!("\"{}\"", self.socket_dir.display());
        let mut settings = vec![
            ("listen_addresses".to_owned(), String::new()),
            ("unix_socket_directories".to_owned(), socket_dirs),
            ("port".to_owned(), PORT.to_string()),
        ];
        if opts.ephemeral {
            for name in ["fsync", "synchronous_commit", "full_page_writes"] {
                settings.push((name.to_owned(), "off".to_owned()));
            }
        }
        settings.extend(opts.settings);
        let quote = |s: String| format!("'{}'", s.replace('\'', r"'\''"));
        let args = settings
            .into_iter()
            .map(|(k, v)| format!("-c {}", quote(format!("{k}={v}"))));
        args.collect::<Vec<_>>().join(" ")
    }

    /// `pg_ctl status`: 0 running, 3 not running, 4 no (usable) data directory.
    fn is_running(&self) -> Result<bool> {
        let (status, output) = self.pg_ctl("status", &[])?;
        match status.code() {
            Some(0) => Ok(true),
            Some(3 | 4) => Ok(false),
            _ => Err(self.failure("pg_ctl status", &status, &output)),
        }
    }

    fn wait_ready(&self, timeout: Duration) -> Result<()> {
        let socket = self.socket_dir.join(format!(".s.PGSQL.{PORT}"));
        let deadline = Instant::now() + timeout;
        loop {
            let running = self.is_running()?;
            if running && socket.exists() {
                return Ok(());
            }
            if Instant::now() >= deadline && running {
                let data_dir = self.data_dir.clone();
                return Err(EmbeddedError::SocketMissing { data_dir, socket });
            }
            if Instant::now() >= deadline {
                return Err(self.failure("PostgreSQL start", &"not running after start", b""));
            }
            sleep(Duration::from_millis(100));
        }
    }

    /// Removes lock files naming a live process that is not this cluster's postmaster (its PID was
    /// reused after a crash: pg_ctl would report "running" while postgres refuses to start), or
    /// naming no PID at all.
    fn clear_stale_lock_files(&self) -> Result<()> {
        let data = fs::canonicalize(&self.data_dir).ok();
        let socket_lock = self.socket_dir.join(format!(".s.PGSQL.{PORT}.lock"));
        for file in [self.data_dir.join("postmaster.pid"), socket_lock] {
            let Ok(text) = fs::read_to_string(&file) else {
                continue;
            };
            let stale = match text.lines().next().and_then(|l| l.trim().parse().ok()) {
                Some(pid) => pid_is_foreign(pid, data.as_deref()),
                // Empty or garbled (a crash mid-write): pg_ctl and postgres refuse to go on. Only a
                // postmaster starting right now may leave it so, and only for a moment.
                None => fs::metadata(&file)
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > Duration::from_secs(5))),
            };
            if stale {
                ignore_missing(fs::remove_file(&file))
                    .map_err(io_err(format!("removing stale {}", file.display())))?;
            }
        }
        Ok(())
    }

    /// Waits (bounded) until no postgres process runs inside our data directory.
    fn wait_for_orphans(&self, timeout: Duration) {
        let Ok(data) = fs::canonicalize(&self.data_dir) else {
            return;
        };
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline && postgres_running_in(&data) {
            sleep(Duration::from_millis(200));
        }
    }

    fn pg_ctl(&self, action: &str, extra: &[&str]) -> Result<(ExitStatus, Vec<u8>)> {
        let args = [&[action, "-D", utf8(&self.data_dir)], extra].concat();
        self.run("pg_ctl", &args)
    }

    /// Runs a server binary in the cluster directory; returns its status and combined output.
    fn run(&self, program: &str, args: &[&str]) -> Result<(ExitStatus, Vec<u8>)> {
        let out = self.command(program, &self.cluster_dir).args(args).output();
        let context = format!("running {}", self.bin_dir.join(program).display());
        let out = out.map_err(io_err(context))?;
        Ok((out.status, [out.stdout, out.stderr].concat()))
    }

    /// A server binary run in `cwd`. Under root it runs as the service account (std then also
    /// drops root's supplementary groups), with a home directory that account can use.
    fn command(&self, program: &str, cwd: &Path) -> Command {
        let mut cmd = Command::new(self.bin_dir.join(program));
        cmd.current_dir(cwd)
            .env("HOME", &self.cluster_dir)
            .stdin(Stdio::null());
        if let Some(acct) = &self.account {
            cmd.uid(acct.uid).gid(acct.gid);
        }
        cmd
    }

    /// An [`EmbeddedError::Command`] with the tails of the command's output and of the server log.
    fn failure(&self, what: &str, status: &dyn std::fmt::Display, output: &[u8]) -> EmbeddedError {
        let mut output = tail(output);
        if let Ok(log) = fs::read(self.log_path()) {
            let log_name = self.log_path().display().to_string();
            output.push_str(&format!("\n--- end of {log_name} ---\n{}", tail(&log)));
        }
        let (what, status) = (what.to_owned(), status.to_string());
        EmbeddedError::Command {
            what,
            status,
            output,
        }
    }
}
