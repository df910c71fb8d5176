//! CPU time and resident memory of Ricochet and its PostgreSQL, read from /proc.
//!
//! Postgres CPU is the postmaster's own time, the time of children it has reaped (backends that
//! exited count there) and the time of its live children, so a window's delta covers backends
//! that came and went inside it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::task::JoinHandle;

use crate::pgwait::WaitSampler;

/// Clock ticks per second of /proc's CPU times.
fn clock_ticks_per_second() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .filter(|&ticks: &u64| ticks > 0)
            .unwrap_or(100)
    })
}

/// The fields of /proc/<pid>/stat after the command name.
struct Stat {
    state: char,
    parent: u32,
    /// utime + stime.
    own_ticks: u64,
    /// cutime + cstime: reaped children.
    children_ticks: u64,
}

fn read_stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state) of proc(5).
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    Some(Stat {
        state: fields.first()?.chars().next()?,
        parent: u32::try_from(field(4)?).ok()?,
        own_ticks: field(14)? + field(15)?,
        children_ticks: field(16)? + field(17)?,
    })
}

/// Whether `pid` is a process that has not exited (zombies count as exited).
pub(crate) fn is_alive(pid: u32) -> bool {
    read_stat(pid).is_some_and(|stat| stat.state != 'Z')
}

/// Every process whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| read_stat(pid).is_some_and(|stat| stat.parent == parent))
        .collect()
}

/// CPU ticks of `pid` and its reaped children.
fn process_ticks(pid: u32) -> u64 {
    read_stat(pid).map_or(0, |stat| stat.own_ticks + stat.children_ticks)
}

fn postgres_ticks(postmaster: u32) -> u64 {
    let Some(stat) = read_stat(postmaster) else {
        return 0;
    };
    let live_children: u64 = children_of(postmaster)
        .into_iter()
        .filter_map(read_stat)
        .map(|child| child.own_ticks)
        .sum();
    stat.own_ticks + stat.children_ticks + live_children
}

/// CPU seconds this process (and its reaped children) has used so far.
pub(crate) fn own_cpu_seconds() -> f64 {
    process_ticks(std::process::id()) as f64 / clock_ticks_per_second() as f64
}

/// `VmRSS` of `pid` in KiB.
fn resident_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The postmaster's pid: the first line of `<cluster data dir>/postmaster.pid`.
pub(crate) fn postmaster_pid(data_dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
}

/// A measured window: CPU deltas between its start and [`finish`](Self::finish), the highest
/// Ricochet RSS sampled meanwhile, and what PostgreSQL's backends waited on.
#[derive(Debug)]
pub(crate) struct Window {
    ricochet: u32,
    postmaster: Option<u32>,
    started: Instant,
    ricochet_ticks: u64,
    postgres_ticks: u64,
    bench_ticks: u64,
    max_rss_kib: Arc<AtomicU64>,
    sampler: JoinHandle<()>,
    waits: WaitSampler,
}

impl Window {
    /// Starts measuring Ricochet (`ricochet`) and the cluster under `postmaster`, listening in
    /// `socket_dir`.
    pub(crate) fn start(ricochet: u32, postmaster: Option<u32>, socket_dir: PathBuf) -> Window {
        let max_rss_kib = Arc::new(AtomicU64::new(resident_kib(ricochet).unwrap_or(0)));
        let sampled = max_rss_kib.clone();
        let sampler = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                if let Some(kib) = resident_kib(ricochet) {
                    sampled.fetch_max(kib, Ordering::Relaxed);
                }
            }
        });
        Window {
            ricochet,
            postmaster,
            started: Instant::now(),
            ricochet_ticks: process_ticks(ricochet),
            postgres_ticks: postmaster.map_or(0, postgres_ticks),
            bench_ticks: process_ticks(std::process::id()),
            max_rss_kib,
            sampler,
            waits: WaitSampler::start(socket_dir),
        }
    }

    /// Ends the window: `window_s`, `ricochet_cpu_s`, `postgres_cpu_s`, `bench_cpu_s`,
    /// `ricochet_rss_max_mb`,
    /// `pg_waits`.
    pub(crate) async fn finish(self) -> Map<String, Value> {
        let elapsed = self.started.elapsed().as_secs_f64();
        let ricochet_ticks = process_ticks(self.ricochet).saturating_sub(self.ricochet_ticks);
        let postgres_ticks = self
            .postmaster
            .map_or(0, postgres_ticks)
            .saturating_sub(self.postgres_ticks);
        // The bench's own cost, children (pgbench) included once reaped.
        let bench_ticks = process_ticks(std::process::id()).saturating_sub(self.bench_ticks);
        if let Some(kib) = resident_kib(self.ricochet) {
            self.max_rss_kib.fetch_max(kib, Ordering::Relaxed);
        }
        self.sampler.abort();
        let hz = clock_ticks_per_second() as f64;
        let max_rss_mb = self.max_rss_kib.load(Ordering::Relaxed) as f64 / 1024.0;
        let mut fields = Map::new();
        fields.insert("window_s".into(), json!(crate::stats::round3(elapsed)));
        fields.insert(
            "ricochet_cpu_s".into(),
            json!(crate::stats::round3(ricochet_ticks as f64 / hz)),
        );
        fields.insert(
            "postgres_cpu_s".into(),
            json!(crate::stats::round3(postgres_ticks as f64 / hz)),
        );
        fields.insert(
            "bench_cpu_s".into(),
            json!(crate::stats::round3(bench_ticks as f64 / hz)),
        );
        fields.insert(
            "ricochet_rss_max_mb".into(),
            json!(crate::stats::round3(max_rss_mb)),
        );
        fields.extend(self.waits.finish().await);
        fields
    }
}
