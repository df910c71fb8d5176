//! Who is using a data directory: an OS file lock held for the life of the process that runs
//! (and supervises) its embedded cluster, and the address its API listens on, so that a second
//! `serve` refuses to start and CLI commands know which server they are talking to.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;

const LOCK_FILE: &str = "ricochet.lock";
const LISTEN_FILE: &str = "listen.addr";

/// The exclusive lock on `<data_dir>/ricochet.lock`: released by the OS when the process ends,
/// however it ends (kill -9 included), so it never goes stale.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Who holds a data directory's lock, as they wrote it into the lock file.
#[derive(Debug, Clone)]
pub struct Holder {
    /// `<pid> <command>`, or empty if the holder has not written it yet.
    pub who: String,
}

impl DataDirLock {
    /// Takes the lock unless another process holds it (then says who). `command` names this
    /// process in the lock file (`serve`, `tenants create`, ...).
    pub fn try_acquire(data_dir: &Path, command: &str) -> anyhow::Result<Result<Self, Holder>> {
        fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let path = data_dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut who = String::new();
                file.read_to_string(&mut who).ok();
                let who = who.trim().to_owned();
                return Ok(Err(Holder { who }));
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("locking {}", path.display()));
            }
        }
        let note = format!("{} {command}\n", std::process::id());
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(note.as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(Ok(DataDirLock { _file: file }))
    }
}

impl Holder {
    /// `process 1234 (ricochet serve)`, or `another process` when it did not say.
    pub fn describe(&self) -> String {
        match self.who.split_once(' ') {
            Some((pid, command)) => format!("process {pid} (ricochet {command})"),
            None => "another process".to_owned(),
        }
    }
}

/// Records the address the API of this data directory listens on.
pub fn write_listen_addr(data_dir: &Path, addr: SocketAddr) -> anyhow::Result<()> {
    let path = data_dir.join(LISTEN_FILE);
    fs::write(&path, format!("{addr}\n")).with_context(|| format!("writing {}", path.display()))
}

/// Forgets the address at a clean stop.
pub fn remove_listen_addr(data_dir: &Path) {
    fs::remove_file(data_dir.join(LISTEN_FILE)).ok();
}

/// The base URL of the API last started on this data directory, if it wrote one. An
/// unspecified address (`0.0.0.0`, `::`) is shown as loopback, where it can be reached.
pub fn server_url(data_dir: &Path) -> Option<String> {
    let text = fs::read_to_string(data_dir.join(LISTEN_FILE)).ok()?;
    let mut addr: SocketAddr = text.trim().parse().ok()?;
    if addr.ip().is_unspecified() {
        let loopback = if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        };
        addr.set_ip(loopback);
    }
    Some(format!("http://{addr}"))
}

/// The embedded cluster's directory inside a data directory.
pub fn cluster_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("postgres")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_data_dir_is_refused_and_names_the_holder() {
        let dir = std::env::temp_dir().join(format!("ricochet-lock-{}", uuid::Uuid::now_v7()));
        let first = DataDirLock::try_acquire(&dir, "serve")
            .expect("lock file")
            .expect("free");
        let held = DataDirLock::try_acquire(&dir, "serve")
            .expect("lock file")
            .expect_err("held");
        assert_eq!(
            held.describe(),
            format!("process {} (ricochet serve)", std::process::id())
        );
        drop(first);
        assert!(
            DataDirLock::try_acquire(&dir, "migrate")
                .expect("lock file")
                .is_ok()
        );
        fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn an_unspecified_listen_address_is_shown_as_loopback() {
        let dir = std::env::temp_dir().join(format!("ricochet-addr-{}", uuid::Uuid::now_v7()));
        fs::create_dir_all(&dir).expect("dir");
        write_listen_addr(&dir, "0.0.0.0:9000".parse().expect("addr")).expect("written");
        assert_eq!(server_url(&dir).as_deref(), Some("http://127.0.0.1:9000"));
        fs::remove_dir_all(&dir).ok();
    }
}
