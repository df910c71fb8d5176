//! `ricochet-bench`: Ricochet's benchmark harness.
//!
//! Each scenario starts a fresh Ricochet (its own data directory and PostgreSQL under /tmp,
//! removed afterwards), points integrations at the bench's own hyper receiver, drives the API,
//! and prints one JSON object per scenario and run; a table and the key ratios follow. Run it
//! through `scripts/bench`, which builds both binaries in release first.

mod api;
mod arrivals;
mod cli;
mod pgstatements;
mod pgwait;
mod procstat;
mod publish;
mod receiver;
mod report;
mod ricochet;
mod scenarios;
mod stats;

use std::io::Write;

use anyhow::Context;
use clap::Parser;
use serde_json::{Map, Value};

use crate::cli::Cli;
use crate::receiver::Receiver;
use crate::scenarios::Bench;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.validate()?;
    let receiver = Receiver::start().await?;
    let bench = Bench {
        cli: &cli,
        receiver: &receiver,
        http: api::http_client()?,
    };
    let mut stdout = std::io::stdout();
    let mut results: Vec<Map<String, Value>> = Vec::new();
    let mut medians = Vec::new();
    let all_runs = async {
        for &scenario in &cli.scenarios {
            let first_of_scenario = results.len();
            for run in 1..=cli.runs {
                for result in scenarios::run(&bench, scenario, run, &results).await {
                    report::write_json_line(&mut stdout, &result).context("writing to stdout")?;
                    results.push(result);
                }
            }
            if cli.runs > 1 {
                medians.extend(medians_of(&results[first_of_scenario..]));
            }
        }
        anyhow::Ok(())
    };
    // On Ctrl-C, dropping the scenario in progress stops its Ricochet and removes its data
    // directory; the results so far are still reported.
    tokio::select! {
        finished = all_runs => finished?,
        _ = tokio::signal::ctrl_c() => eprintln!("interrupted: reporting the results so far"),
    }
    for median in &medians {
        report::write_json_line(&mut stdout, median).context("writing to stdout")?;
    }
    results.extend(medians);
    let mut ordered = results.clone();
    // Each scenario's runs, then its median, together in the table.
    ordered.sort_by_key(|r| scenario_rank(&results, r));
    report::write_table(&mut stdout, &ordered).context("writing to stdout")?;
    if let Some(path) = &cli.json_out {
        let mut file = std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        );
        for result in &results {
            report::write_json_line(&mut file, result)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        file.flush()
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// `len` (at most 18) random hex digits: the random tail of a UUIDv7.
pub(crate) fn unique_suffix(len: usize) -> String {
    let hex = uuid::Uuid::now_v7().simple().to_string();
    hex[hex.len() - len.min(18)..].to_owned()
}

/// One median object per scenario name among `runs` that ran (not skipped, not failed).
fn medians_of(runs: &[Map<String, Value>]) -> Vec<Map<String, Value>> {
    let mut names: Vec<&str> = Vec::new();
    for run in runs {
        if let Some(name) = run.get("scenario").and_then(Value::as_str)
            && !names.contains(&name)
        {
            names.push(name);
        }
    }
    names
        .into_iter()
        .filter_map(|name| {
            let of_name: Vec<&Map<String, Value>> = runs
                .iter()
                .filter(|r| r.get("scenario").and_then(Value::as_str) == Some(name))
                .filter(|r| !r.contains_key("error") && !r.contains_key("skipped"))
                .collect();
            (of_name.len() > 1).then(|| stats::median_object(&of_name))
        })
        .collect()
}

/// Where the first result of `result`'s scenario stands in `results`.
fn scenario_rank(results: &[Map<String, Value>], result: &Map<String, Value>) -> usize {
    let name = result.get("scenario");
    results
        .iter()
        .position(|r| r.get("scenario") == name)
        .unwrap_or(usize::MAX)
}
