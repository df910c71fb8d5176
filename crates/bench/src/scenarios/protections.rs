//! `protections` and `protections-10`: `e2e-1` (or `e2e-10`) once per protection variant, each
//! on a fresh Ricochet, so what a protection costs is its row against `baseline`.
//!
//! Every run of the bench has the outbound guard on (the bench serves with `--allow-targets`
//! for loopback: that opens a range, it does not turn the check off) and the metrics recorder
//! installed (always, in `serve`). Ricochet has no unsigned mode, so signing's cost is read as
//! `signing-v1a` and `signing-both` against `baseline`, which signs `v1`.

use serde_json::{Map, Value, json};

use super::e2e::{self, EVENTS, Setup};
use super::{Bench, flat_out, result, tag};
use crate::publish::PublishPlan;

/// Integrations in `fanout-100`, whatever the fan-out of the base scenario.
const FANOUT_INTEGRATIONS: usize = 100;
/// The highest rate limit an integration accepts (`settings.rateLimit.requests`, per second),
/// far above what one integration reaches on one machine.
const UNREACHED_RATE_PER_S: u32 = 100_000;

/// One protection variant.
#[derive(Debug, Clone, Copy)]
enum Protection {
    /// As `e2e-1`/`e2e-10`: `v1` signatures, the guard, metrics without per-integration labels.
    Baseline,
    /// Ed25519 signatures instead of HMAC.
    SigningV1a,
    /// Both signatures on every request.
    SigningBoth,
    /// A rate limit on every integration, far above the rate reached.
    RateLimitUnreached,
    /// Attempt metrics labelled by tenant and integration (`--metrics-per-integration`).
    MetricsPerIntegration,
    /// The same deliveries spread over 100 integrations (lanes) instead of one per route.
    Fanout100,
}

impl Protection {
    const ALL: [Protection; 6] = [
        Protection::Baseline,
        Protection::SigningV1a,
        Protection::SigningBoth,
        Protection::RateLimitUnreached,
        Protection::MetricsPerIntegration,
        Protection::Fanout100,
    ];

    fn name(self) -> &'static str {
        match self {
            Protection::Baseline => "baseline",
            Protection::SigningV1a => "signing-v1a",
            Protection::SigningBoth => "signing-both",
            Protection::RateLimitUnreached => "rate-limit-unreached",
            Protection::MetricsPerIntegration => "metrics-per-integration",
            Protection::Fanout100 => "fanout-100",
        }
    }

    /// How Ricochet is served and its integrations are set.
    fn setup(self) -> Setup {
        let mut setup = Setup::default();
        match self {
            Protection::Baseline | Protection::Fanout100 => {}
            Protection::SigningV1a => {
                setup
                    .settings
                    .insert("signature".into(), json!({ "scheme": "v1a" }));
            }
            Protection::SigningBoth => {
                setup
                    .settings
                    .insert("signature".into(), json!({ "scheme": "both" }));
            }
            Protection::RateLimitUnreached => {
                setup.settings.insert(
                    "rateLimit".into(),
                    json!({ "requests": UNREACHED_RATE_PER_S, "per": "second" }),
                );
            }
            Protection::MetricsPerIntegration => {
                setup.serve_args.push("--metrics-per-integration".into());
            }
        }
        setup
    }

    /// Event types the events are spread over when each event reaches `routes` integrations.
    fn lanes(self, routes: usize) -> usize {
        match self {
            Protection::Fanout100 => (FANOUT_INTEGRATIONS / routes.max(1)).max(1),
            _ => 1,
        }
    }
}

/// Every variant of `e2e-{routes}` flat out; a variant that fails gives an error row and the
/// others still run.
pub(super) async fn run(
    bench: &Bench<'_>,
    run: u32,
    routes: usize,
) -> anyhow::Result<Vec<Map<String, Value>>> {
    let base = format!("e2e-{routes}");
    let events = bench.cli.scaled(EVENTS, 200);
    let mut rows = Vec::with_capacity(Protection::ALL.len());
    for protection in Protection::ALL {
        let name = format!("{base}/{}", protection.name());
        let plan = PublishPlan {
            lanes: protection.lanes(routes),
            ..flat_out(events, &tag(&format!("p{routes}-{}", protection.name())))
        };
        let measured = e2e::measure(bench, &name, run, routes, plan, &protection.setup()).await;
        let mut row = measured.unwrap_or_else(|e| {
            let mut failed = result(&name, run);
            failed.insert("error".into(), json!(format!("{e:#}")));
            failed
        });
        row.insert("protection".into(), json!(protection.name()));
        row.insert("protection_of".into(), json!(base));
        rows.push(row);
        bench.receiver.reset(0);
    }
    Ok(rows)
}
