//! Output: one JSON line per result as it comes, then a table for people and the ratios that
//! matter (Ricochet against pgbench, the harness against Ricochet).

use std::io::Write;

use serde_json::{Map, Value};

use crate::scenarios::{REQUIRED_FACTOR, best_delivery_rate};

/// Writes `result` as one JSON line.
pub(crate) fn write_json_line(
    out: &mut impl Write,
    result: &Map<String, Value>,
) -> std::io::Result<()> {
    let line = serde_json::to_string(result).map_err(std::io::Error::other)?;
    writeln!(out, "{line}")?;
    out.flush()
}

fn text(result: &Map<String, Value>, key: &str) -> String {
    match result.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 => format!("{f:.1}"),
            _ => n.to_string(),
        },
        Some(other) => other.to_string(),
        None => "-".into(),
    }
}

/// Writes the table of every result (runs and medians), then the notes.
pub(crate) fn write_table(
    out: &mut impl Write,
    results: &[Map<String, Value>],
) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "{:<14} {:>6} {:>10} {:<13} {:<12} {:>8} {:>8} {:>8} {:>8} {:>5} {:>5} {:>8} {:>8} {:>9} {:>7}",
        "scenario",
        "run",
        "rate",
        "unit",
        "latency of",
        "p50",
        "p95",
        "p99",
        "max",
        "dup",
        "miss",
        "ric cpu",
        "pg cpu",
        "bench cpu",
        "rss MB"
    )?;
    for result in results {
        let scenario = text(result, "scenario");
        let run = text(result, "run");
        if let Some(reason) = result.get("skipped").or_else(|| result.get("error")) {
            let kind = if result.contains_key("skipped") {
                "skipped"
            } else {
                "error"
            };
            let reason = reason.as_str().unwrap_or_default();
            let reason: String = reason.chars().take(160).collect();
            writeln!(out, "{scenario:<14} {run:>6} {kind}: {reason}")?;
            continue;
        }
        let prefix = result
            .get("latency_of")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let latency = |name: &str| text(result, &format!("{prefix}_{name}"));
        writeln!(
            out,
            "{scenario:<14} {run:>6} {:>10} {:<13} {:<12} {:>8} {:>8} {:>8} {:>8} {:>5} {:>5} {:>8} {:>8} {:>9} {:>7}",
            text(result, "rate"),
            text(result, "rate_unit"),
            latency_label(prefix),
            latency("p50"),
            latency("p95"),
            latency("p99"),
            latency("max"),
            text(result, "duplicates"),
            text(result, "missing"),
            text(result, "ricochet_cpu_s"),
            text(result, "postgres_cpu_s"),
            text(result, "bench_cpu_s"),
            text(result, "ricochet_rss_max_mb"),
        )?;
    }
    writeln!(
        out,
        "(latencies in ms; cpu in seconds over the measured window)"
    )?;
    write_notes(out, results)
}

/// What the latency columns of a row measure, from its `latency_of` field prefix.
fn latency_label(prefix: &str) -> &'static str {
    match prefix {
        "latency_ms" => "receipt",
        "loaded_latency_ms" => "receipt, noisy",
        "publish_ms" => "publish",
        "lateness_ms" => "retry late",
        "request_ms" => "request",
        "stats_7d_ms" => "stats 7d",
        _ => "-",
    }
}

/// The summary row of `scenario`: its median when there is one, else its last run.
fn summary<'a>(
    results: &'a [Map<String, Value>],
    scenario: &str,
) -> Option<&'a Map<String, Value>> {
    let rows: Vec<&Map<String, Value>> = results
        .iter()
        .filter(|r| r.get("scenario").and_then(Value::as_str) == Some(scenario))
        .filter(|r| r.contains_key("rate") || r.contains_key("latency_of"))
        .collect();
    rows.iter()
        .find(|r| r.get("run").and_then(Value::as_str) == Some("median"))
        .or(rows.last())
        .copied()
}

fn figure(result: Option<&Map<String, Value>>, key: &str) -> Option<f64> {
    result?.get(key)?.as_f64()
}

/// The protection variants of each base scenario against its `baseline` row (medians when there
/// are several runs): what each protection costs in deliveries/s and CPU per delivery.
fn write_protections(out: &mut impl Write, results: &[Map<String, Value>]) -> std::io::Result<()> {
    for base in ["e2e-1", "e2e-10"] {
        let mut variants: Vec<&str> = Vec::new();
        for result in results {
            if result.get("protection_of").and_then(Value::as_str) == Some(base)
                && let Some(name) = result.get("scenario").and_then(Value::as_str)
                && !variants.contains(&name)
            {
                variants.push(name);
            }
        }
        if variants.is_empty() {
            continue;
        }
        let baseline = summary(results, &format!("{base}/baseline"));
        let cpu = |row: Option<&Map<String, Value>>| {
            Some(
                figure(row, "ricochet_cpu_us_per_delivery")?
                    + figure(row, "postgres_cpu_us_per_delivery")?,
            )
        };
        writeln!(
            out,
            "protections on {base}, against its baseline (v1 signing, the guard, metrics; signing cannot be off: its cost is v1a or both against v1):"
        )?;
        writeln!(
            out,
            "  {:<24} {:>12} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>8} {:>5} {:>5}",
            "variant",
            "deliveries/s",
            "vs base",
            "p50 ms",
            "p99 ms",
            "ric us/d",
            "pg us/d",
            "sum us/d",
            "vs base",
            "miss",
            "dup"
        )?;
        for name in variants {
            let label = name
                .strip_prefix(base)
                .unwrap_or(name)
                .trim_start_matches('/');
            let Some(row) = summary(results, name) else {
                writeln!(out, "  {label:<24} no result (see the table)")?;
                continue;
            };
            let rate = figure(Some(row), "rate");
            let rate_change = match (rate, figure(baseline, "rate")) {
                (Some(rate), Some(base_rate)) if base_rate > 0.0 => {
                    format!("{:+.1}%", 100.0 * (rate / base_rate - 1.0))
                }
                _ => "-".into(),
            };
            let cpu_change = match (cpu(Some(row)), cpu(baseline)) {
                (Some(own), Some(base_cpu)) => format!("{:+.1}", own - base_cpu),
                _ => "-".into(),
            };
            let number = |value: Option<f64>, decimals: usize| {
                value.map_or_else(|| "-".to_owned(), |v| format!("{v:.decimals$}"))
            };
            writeln!(
                out,
                "  {label:<24} {:>12} {rate_change:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {cpu_change:>8} {:>5} {:>5}",
                number(rate, 0),
                number(figure(Some(row), "latency_ms_p50"), 1),
                number(figure(Some(row), "latency_ms_p99"), 1),
                number(figure(Some(row), "ricochet_cpu_us_per_delivery"), 1),
                number(figure(Some(row), "postgres_cpu_us_per_delivery"), 1),
                number(cpu(Some(row)), 1),
                text(row, "missing"),
                text(row, "duplicates"),
            )?;
        }
    }
    Ok(())
}

fn write_notes(out: &mut impl Write, results: &[Map<String, Value>]) -> std::io::Result<()> {
    writeln!(out)?;
    let pgbench = figure(summary(results, "pgbench"), "rate");
    for scenario in ["e2e-1", "e2e-10"] {
        if let (Some(rate), Some(tps)) = (figure(summary(results, scenario), "rate"), pgbench) {
            writeln!(
                out,
                "{scenario} deliveries/s / pgbench tps = {rate:.0} / {tps:.0} = {:.3}",
                rate / tps
            )?;
        }
    }
    let half = summary(results, "e2e-1-half");
    if let (Some(p99), Some(target)) = (
        figure(half, "latency_ms_p99"),
        figure(half, "p99_target_ms"),
    ) {
        let verdict = if p99 <= target { "met" } else { "MISSED" };
        writeln!(
            out,
            "e2e-1-half p99 {p99:.1} ms (target <= {target:.0} ms): {verdict}"
        )?;
    }
    write_protections(out, results)?;
    let selftest = figure(summary(results, "selftest"), "rate");
    let best = best_delivery_rate(results);
    match (selftest, best) {
        (Some(harness), Some(best)) => {
            let factor = harness / best;
            let verdict = if factor >= REQUIRED_FACTOR {
                "ok"
            } else {
                "TOO CLOSE: the harness may be the limit"
            };
            writeln!(
                out,
                "harness {harness:.0} req/s vs best {best:.0} deliveries/s: {factor:.1}x (need >= {REQUIRED_FACTOR}x): {verdict}"
            )?;
        }
        (Some(harness), None) => writeln!(
            out,
            "harness {harness:.0} req/s (no deliveries/s measured to compare)"
        )?,
        _ => {}
    }
    for result in results {
        // A median row carries its first run's waits: not worth repeating.
        let median = result.get("run").and_then(Value::as_str) == Some("median");
        if let Some(Value::Object(waits)) = result.get("pg_waits")
            && !waits.is_empty()
            && !median
        {
            let busiest: Vec<String> = waits
                .iter()
                .map(|(event, n)| format!("{event} {n}"))
                .collect();
            writeln!(
                out,
                "{} run {}: postgres active backends by wait event: {}",
                text(result, "scenario"),
                text(result, "run"),
                busiest.join(", ")
            )?;
        }
        if let Some(Value::Object(locks)) = result.get("pg_lock_waits")
            && !locks.is_empty()
            && !median
        {
            writeln!(
                out,
                "{} run {}: lock waits (waiting statement <- blocking statements, active backends):",
                text(result, "scenario"),
                text(result, "run"),
            )?;
            for (pair, n) in locks {
                writeln!(out, "  {n}  {pair}")?;
            }
        }
    }
    for result in results {
        let Some(Value::Array(statements)) = result.get("pg_statements") else {
            continue;
        };
        writeln!(
            out,
            "{} run {}: busiest statements (ms total, calls, ms mean, share of statement time, WAL KiB, plans, ms planning):",
            text(result, "scenario"),
            text(result, "run"),
        )?;
        for statement in statements.iter().filter_map(Value::as_object) {
            writeln!(
                out,
                "  {:>10.0} {:>8} {:>8.3} {:>5.1}% {:>9.0} {:>8} {:>8.0}  {}",
                figure(Some(statement), "total_ms").unwrap_or(0.0),
                figure(Some(statement), "calls").unwrap_or(0.0),
                figure(Some(statement), "mean_ms").unwrap_or(0.0),
                100.0 * figure(Some(statement), "share").unwrap_or(0.0),
                figure(Some(statement), "wal_kb").unwrap_or(0.0),
                figure(Some(statement), "plans").unwrap_or(0.0),
                figure(Some(statement), "plan_ms").unwrap_or(0.0),
                text(statement, "query"),
            )?;
        }
    }
    for result in results {
        let errors = figure(Some(result), "ricochet_log_errors").unwrap_or(0.0);
        let warnings = figure(Some(result), "ricochet_log_warnings").unwrap_or(0.0);
        if errors + warnings > 0.0 {
            writeln!(
                out,
                "{} run {}: ricochet logged {errors} errors, {warnings} warnings, e.g. {}",
                text(result, "scenario"),
                text(result, "run"),
                result
                    .get("ricochet_log_samples")
                    .map(Value::to_string)
                    .unwrap_or_default()
            )?;
        }
    }
    Ok(())
}
