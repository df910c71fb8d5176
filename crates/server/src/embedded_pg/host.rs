//! What the host machine offers the embedded cluster: its PostgreSQL binaries, the account that
//! may run them, and what its processes are.

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Account, EmbeddedError, Result, SERVICE_ACCOUNT, VERSIONED_ROOT, io_err};

/// Every path handed to a server binary lies under the cluster directory.
pub(super) fn utf8(path: &Path) -> &str {
    let text = path.to_str();
    text.expect("start() accepts only UTF-8 cluster directories")
}

pub(super) fn ignore_missing(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// The last 20 non-blank lines.
pub(super) fn tail(text: &[u8]) -> String {
    let text = String::from_utf8_lossy(text);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

pub(super) fn has_binaries(dir: &Path) -> bool {
    let executable = |m: fs::Metadata| m.is_file() && m.mode() & 0o111 != 0;
    let binaries = ["initdb", "pg_ctl", "postgres"];
    binaries
        .iter()
        .all(|b| fs::metadata(dir.join(b)).is_ok_and(executable))
}

/// The directory holding initdb, pg_ctl and postgres: the one matching an existing cluster's
/// major version (it can run no other), else the first on PATH, else the newest Debian-style one.
pub(super) fn find_binaries(data_dir: &Path) -> Option<PathBuf> {
    if let Ok(version) = fs::read_to_string(data_dir.join("PG_VERSION"))
        && let version = version.trim()
        && !version.is_empty()
        && version.chars().all(|c| c.is_ascii_digit() || c == '.')
        && let dir = Path::new(VERSIONED_ROOT).join(version).join("bin")
        && has_binaries(&dir)
    {
        return Some(dir);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut on_path = std::env::split_paths(&path).filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = on_path.find(|d| has_binaries(d)) {
        // Children run in the cluster directory, so a relative PATH entry must be anchored now.
        return std::path::absolute(&dir).ok();
    }
    let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir(VERSIONED_ROOT)
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version: Option<Vec<u32>> = name.split('.').map(|p| p.parse().ok()).collect();
            let dir = entry.path().join("bin");
            has_binaries(&dir).then_some((version?, dir))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

/// Whether the effective uid is 0; std exposes no `geteuid()`.
pub(super) fn is_root() -> Result<bool> {
    // "Uid:  real  effective  saved  fs"
    if let Ok(status) = fs::read_to_string("/proc/self/status")
        && let Some(ids) = status.lines().find_map(|l| l.strip_prefix("Uid:"))
        && let Some(euid) = ids.split_whitespace().nth(1)
    {
        return Ok(euid == "0");
    }
    let out = Command::new("id").arg("-u").output();
    let out = out.map_err(io_err("running `id -u`"))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim() == "0")
}

pub(super) fn service_account() -> Result<Account> {
    // getent also sees NSS sources (LDAP, sssd); /etc/passwd covers systems without it.
    let mut getent = Command::new("getent");
    let getent = getent
        .args(["passwd", SERVICE_ACCOUNT])
        .stderr(Stdio::null())
        .output();
    let entries = getent
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .or_else(|| fs::read_to_string("/etc/passwd").ok())
        .unwrap_or_default();
    let account = entries.lines().find_map(parse_passwd_line);
    account
        .filter(|a| a.uid != 0)
        .ok_or(EmbeddedError::NoUnprivilegedUser)
}

pub(super) fn parse_passwd_line(line: &str) -> Option<Account> {
    let mut fields = line.split(':');
    let name = fields.next().filter(|n| *n == SERVICE_ACCOUNT)?.to_owned();
    let uid = fields.nth(1)?.parse().ok()?;
    let gid = fields.next()?.parse().ok()?;
    Some(Account { name, uid, gid })
}

/// Search permission on `dir` for `acct` from mode bits alone (the child has no supplementary
/// groups, so only its primary group counts).
pub(super) fn searchable(dir: &Path, acct: &Account) -> bool {
    let Ok(meta) = fs::metadata(dir) else {
        return true;
    };
    let bit = match (meta.uid() == acct.uid, meta.gid() == acct.gid) {
        (true, _) => 0o100,
        (false, true) => 0o010,
        (false, false) => 0o001,
    };
    meta.mode() & bit != 0
}

/// Whether live process `pid` is not this cluster's postmaster. Dead PIDs are left alone: pg_ctl
/// and postgres detect those themselves.
pub(super) fn pid_is_foreign(pid: u32, data_dir: Option<&Path>) -> bool {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    let Ok(cmdline) = fs::read(proc.join("cmdline")) else {
        return false;
    };
    // A zombie's cmdline is empty and counts as foreign, rightly: it holds nothing any more.
    if !looks_like_postgres(&cmdline) {
        return true;
    }
    // A postmaster's working directory is its data directory: another cluster's is not ours.
    match (fs::read_link(proc.join("cwd")), data_dir) {
        (Ok(cwd), Some(data)) => cwd != data,
        _ => false,
    }
}

pub(super) fn looks_like_postgres(cmdline: &[u8]) -> bool {
    let cmdline = String::from_utf8_lossy(cmdline);
    cmdline.contains("postgres") || cmdline.contains("postmaster")
}

pub(super) fn postgres_running_in(data_dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let name = entry.file_name();
        let is_pid = name
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()));
        is_pid
            && fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd == data_dir)
            && fs::read(entry.path().join("cmdline")).is_ok_and(|c| looks_like_postgres(&c))
    })
}
