//! `pgbench`: the reference. pgbench's simple-update transactions against the same embedded
//! cluster Ricochet runs on, so deliveries/s can be read as a fraction of what the database
//! does with no Ricochet in the way.

use std::path::{Path, PathBuf};
use std::process::Output;

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};
use tokio::process::Command;

use super::backlog::connect;
use super::{Bench, finish, result};

/// Created by `CREATE DATABASE pgbench` below.
const DATABASE: &str = "pgbench";
const INIT_SCALE: &str = "10";
const CLIENTS: u32 = 8;
const THREADS: u32 = 2;
const SECONDS: f64 = 30.0;
const MIN_SECONDS: u64 = 5;

/// Runs the scenario on a fresh Ricochet's cluster.
pub(super) async fn run(bench: &Bench<'_>, run: u32) -> anyhow::Result<Vec<Map<String, Value>>> {
    let program = find_pgbench()
        .context("pgbench not found (install postgresql-contrib or put it on PATH)")?;
    // Scaled, but long enough to mean something; the float holds small whole seconds exactly.
    let seconds = ((SECONDS * bench.cli.scale).round() as u64).max(MIN_SECONDS);
    eprintln!("pgbench run {run}: -c {CLIENTS} -j {THREADS} -T {seconds} -b simple-update");
    let instance = bench.instance().await?;
    let process = instance
        .process
        .as_ref()
        .context("the pgbench scenario needs its own Ricochet")?;
    let mut outcome = result("pgbench", run);
    let measured = async {
        let pool = connect(&process.socket_dir()).await?;
        sqlx::query("CREATE DATABASE pgbench")
            .execute(&pool)
            .await
            .context("creating the pgbench database")?;
        pool.close().await;
        let socket_dir = process.socket_dir();
        let init = pgbench(&program, &socket_dir, &["-i", "-q", "-s", INIT_SCALE]).await?;
        check(&init, "pgbench -i")?;
        let window = instance.window();
        let (clients, threads, duration) = (
            CLIENTS.to_string(),
            THREADS.to_string(),
            seconds.to_string(),
        );
        let bench_run = pgbench(
            &program,
            &socket_dir,
            &[
                "-c",
                &clients,
                "-j",
                &threads,
                "-T",
                &duration,
                "-b",
                "simple-update",
            ],
        )
        .await?;
        outcome.extend(finish(window).await);
        check(&bench_run, "pgbench")?;
        let report = String::from_utf8_lossy(&bench_run.stdout);
        let tps = figure_after(&report, "tps = ").context("pgbench printed no `tps = `")?;
        outcome.insert("rate".into(), json!(crate::stats::round3(tps)));
        outcome.insert("rate_unit".into(), json!("tps"));
        if let Some(latency) = figure_after(&report, "latency average = ") {
            outcome.insert("latency_average_ms".into(), json!(latency));
        }
        outcome.insert("clients".into(), json!(CLIENTS));
        outcome.insert("duration_s".into(), json!(seconds));
        anyhow::Ok(())
    }
    .await;
    let stopped = instance.stop(&mut outcome).await;
    measured?;
    stopped?;
    Ok(vec![outcome])
}

/// `/usr/lib/postgresql/<version>/bin/pgbench` (newest first), else `pgbench` on PATH.
fn find_pgbench() -> Option<PathBuf> {
    let preferred = Path::new("/usr/lib/postgresql/15/bin/pgbench");
    if preferred.is_file() {
        return Some(preferred.to_path_buf());
    }
    let mut versioned: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.path().join("bin/pgbench")))
        .filter(|path| path.is_file())
        .collect();
    versioned.sort();
    versioned.pop().or_else(|| {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("pgbench"))
                .find(|candidate| candidate.is_file())
        })
    })
}

async fn pgbench(program: &Path, socket_dir: &Path, args: &[&str]) -> anyhow::Result<Output> {
    Command::new(program)
        .arg("-h")
        .arg(socket_dir)
        .args(["-p", "5432", "-U", "ricochet"])
        .args(args)
        .arg(DATABASE)
        .env_remove("PGPASSWORD")
        .env_remove("PGSERVICE")
        .output()
        .await
        .with_context(|| format!("running {}", program.display()))
}

fn check(output: &Output, what: &str) -> anyhow::Result<()> {
    if !output.status.success() {
        bail!(
            "{what} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
                .chars()
                .take(600)
                .collect::<String>()
        );
    }
    Ok(())
}

/// The number right after `label` in pgbench's report.
fn figure_after(report: &str, label: &str) -> Option<f64> {
    let start = report.find(label)? + label.len();
    report[start..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tps_line_of_a_pgbench_report_is_read() {
        let report = "latency average = 1.234 ms\ninitial connection time = 3.2 ms\ntps = 6480.123456 (without initial connection time)\n";
        assert_eq!(figure_after(report, "tps = "), Some(6480.123456));
        assert_eq!(figure_after(report, "latency average = "), Some(1.234));
    }
}
