//! The bench's command line: what to run, against what, how big and how often.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, ValueEnum};

/// Ricochet's benchmark harness: starts a fresh Ricochet per scenario (or targets a running one),
/// drives it, and prints one JSON object per scenario and run, then a table.
#[derive(Debug, Parser)]
#[command(name = "ricochet-bench", version, about)]
pub(crate) struct Cli {
    /// The ricochet binary to start (default: `ricochet` next to this binary).
    #[arg(long)]
    pub(crate) ricochet: Option<PathBuf>,
    /// Target a running Ricochet at this base URL instead of starting one (scenarios that need its
    /// database or process statistics are skipped). Its worker must reach 127.0.0.1.
    #[arg(long, requires = "admin_key")]
    pub(crate) url: Option<String>,
    /// The platform admin key of the Ricochet given by --url.
    #[arg(long, env = "RICOCHET_BENCH_ADMIN_KEY", hide_env_values = true)]
    pub(crate) admin_key: Option<String>,
    /// Scenarios to run, comma-separated, in this order (`e2e-1` also runs `e2e-1-half`;
    /// `aged`, not run by default, also runs `aged-empty`; `protections` and `protections-10`,
    /// not run by default, run `e2e-1` and `e2e-10` once per protection variant).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "ingest,batch-publish,e2e-1,e2e-10,retry-timing,backlog,pgbench,stats,selftest"
    )]
    pub(crate) scenarios: Vec<Scenario>,
    /// Multiplies event counts and durations (0.05 for a quick smoke run).
    #[arg(long, default_value_t = 1.0)]
    pub(crate) scale: f64,
    /// Repeat each scenario this many times; the table shows every run and the median.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub(crate) runs: u32,
    /// Also write every JSON object (one per line) to this file.
    #[arg(long)]
    pub(crate) json_out: Option<PathBuf>,
    /// Extra argument for `ricochet serve` (repeatable), e.g. `--ricochet-arg=--worker-concurrency=128`.
    #[arg(long = "ricochet-arg", allow_hyphen_values = true)]
    pub(crate) ricochet_args: Vec<String>,
    /// Attempts the `stats` scenario stores (default 1,000,000 × --scale).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub(crate) stats_attempts: Option<u64>,
    /// Preload `pg_stat_statements` in Ricochet's embedded cluster and report each scenario's
    /// busiest statements (a profile run; the extension costs a few percent).
    #[arg(long)]
    pub(crate) profile_queries: bool,
}

/// One benchmark scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Scenario {
    /// Publish throughput and latency at 16 and 64 concurrent clients.
    Ingest,
    /// Events accepted into the database from 4 clients sending 100-event batches.
    BatchPublish,
    /// One integration, end to end, flat out and then at half that rate.
    #[value(name = "e2e-1")]
    E2eOne,
    /// Ten integrations per event, end to end.
    #[value(name = "e2e-10")]
    E2eTen,
    /// How late retries run against their schedule.
    RetryTiming,
    /// Fresh deliveries behind a million future ones.
    Backlog,
    /// `e2e-1` on a database already holding ten million attempts, against an empty one (not
    /// in the default list: loading the history takes minutes).
    Aged,
    /// pgbench against Ricochet's own cluster: the reference.
    Pgbench,
    /// The harness's own capacity.
    Selftest,
    /// The stats API over a million stored attempts of one integration.
    Stats,
    /// A quiet tenant's delivery latency at 10 events/s, alone and then behind another
    /// tenant's 5,000 deliveries to a receiver taking 3 s (not in the default list: the lead
    /// measures it on a quiet machine).
    NoisyNeighbour,
    /// `e2e-1` once per protection variant, each on a fresh Ricochet: the baseline, v1a and
    /// both signatures, a rate limit far above the rate reached, per-integration metrics, and
    /// the events spread over 100 integrations (not in the default list).
    Protections,
    /// `protections` on `e2e-10` (not in the default list).
    #[value(name = "protections-10")]
    ProtectionsTen,
}

impl Scenario {
    /// The name used on the command line and in reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Scenario::Ingest => "ingest",
            Scenario::BatchPublish => "batch-publish",
            Scenario::E2eOne => "e2e-1",
            Scenario::E2eTen => "e2e-10",
            Scenario::RetryTiming => "retry-timing",
            Scenario::Backlog => "backlog",
            Scenario::Aged => "aged",
            Scenario::Pgbench => "pgbench",
            Scenario::Selftest => "selftest",
            Scenario::Stats => "stats",
            Scenario::NoisyNeighbour => "noisy-neighbour",
            Scenario::Protections => "protections",
            Scenario::ProtectionsTen => "protections-10",
        }
    }

    /// Why the scenario cannot run against a Ricochet given by --url, if it cannot.
    pub(crate) fn needs_own_instance(self) -> Option<&'static str> {
        match self {
            Scenario::Backlog | Scenario::Aged => {
                Some("needs direct access to Ricochet's database")
            }
            Scenario::Pgbench => Some("needs Ricochet's embedded PostgreSQL cluster"),
            Scenario::Stats => Some("needs direct access to Ricochet's database"),
            Scenario::Protections | Scenario::ProtectionsTen => {
                Some("serves Ricochet with other flags per variant and reads its CPU")
            }
            _ => None,
        }
    }
}

impl Cli {
    /// Checks values clap cannot.
    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.scale.is_finite() && self.scale > 0.0,
            "--scale must be a positive number"
        );
        Ok(())
    }

    /// The arguments `ricochet serve` gets beyond the bench's own.
    pub(crate) fn serve_args(&self) -> Vec<String> {
        let mut args = self.ricochet_args.clone();
        if self.profile_queries {
            args.push("--pg-setting=shared_preload_libraries=pg_stat_statements".into());
            args.push("--pg-setting=pg_stat_statements.track_planning=on".into());
        }
        args
    }

    /// The ricochet binary to start.
    pub(crate) fn ricochet_binary(&self) -> anyhow::Result<PathBuf> {
        if let Some(path) = &self.ricochet {
            return Ok(path.clone());
        }
        let exe = std::env::current_exe().context("locating the bench binary")?;
        let dir = exe
            .parent()
            .context("the bench binary has no parent directory")?;
        Ok(dir.join("ricochet"))
    }

    /// `base × scale`, at least `min`.
    pub(crate) fn scaled(&self, base: usize, min: usize) -> usize {
        // Counts are far below 2^52 and the scale is positive: the casts are exact enough.
        let scaled = (base as f64 * self.scale).round() as usize;
        scaled.max(min)
    }
}
