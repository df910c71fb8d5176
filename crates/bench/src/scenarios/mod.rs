//! The scenarios, and what they share: a fresh Ricochet (or the one given by --url), a tenant
//! with integrations pointing at the receiver, measured windows and result objects.

mod aged;
mod backlog;
mod batch_publish;
mod e2e;
mod ingest;
mod noisy_neighbour;
mod pgbench;
mod protections;
mod retry_timing;
mod selftest;
mod stats;

pub(crate) use selftest::{REQUIRED_FACTOR, best_delivery_rate};

use std::time::Duration;

use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::api::{Api, FixedRetry, TenantSession};
use crate::arrivals::{self, Arrived, Expected};
use crate::cli::{Cli, Scenario};
use crate::procstat::Window;
use crate::publish::{PublishPlan, Published};
use crate::receiver::{Behaviour, Receiver};
use crate::ricochet::RicochetProcess;

/// The event type bench integrations are bound to.
const EVENT_TYPE: &str = "bench.event";
/// Retries that succeed well within a scenario, for integrations whose receiver never fails.
const QUICK_RETRY: FixedRetry = FixedRetry {
    delay_ms: 200,
    max_retries: 5,
};
/// Wait after the last expected delivery, to catch duplicates that follow close behind.
const DUPLICATE_GRACE: Duration = Duration::from_secs(1);

/// What every scenario uses.
#[derive(Debug)]
pub(crate) struct Bench<'a> {
    /// The command line.
    pub(crate) cli: &'a Cli,
    /// The receiver every integration posts to.
    pub(crate) receiver: &'a Receiver,
    /// The shared HTTP client.
    pub(crate) http: reqwest::Client,
}

/// The Ricochet a scenario runs against.
#[derive(Debug)]
pub(crate) struct Instance {
    process: Option<RicochetProcess>,
    api: Api,
    admin_key: String,
}

impl Instance {
    /// A new tenant with a token.
    async fn tenant(&self) -> anyhow::Result<TenantSession> {
        self.api.new_tenant(&self.admin_key).await
    }

    /// Starts measuring CPU and memory, when the process is ours.
    fn window(&self) -> Option<Window> {
        self.process
            .as_ref()
            .map(|p| Window::start(p.pid(), p.postmaster(), p.socket_dir()))
    }

    /// Stops Ricochet (when ours), adding what its log said to `result`.
    async fn stop(self, result: &mut Map<String, Value>) -> anyhow::Result<()> {
        match self.process {
            Some(process) => {
                result.extend(process.log_fields());
                process.stop().await
            }
            None => Ok(()),
        }
    }
}

/// How the integrations of a route are made.
#[derive(Clone, Copy)]
struct Route<'a> {
    /// What the receiver answers on the route.
    behaviour: Behaviour,
    /// The integrations' retry policy.
    retry: FixedRetry,
    /// Merged into the integrations' settings.
    settings: &'a Map<String, Value>,
}

impl Bench<'_> {
    /// A fresh Ricochet, or the one given by --url.
    async fn instance(&self) -> anyhow::Result<Instance> {
        self.instance_with(&[]).await
    }

    /// A fresh Ricochet served with `extra_args` too, or the one given by --url (which takes
    /// none).
    async fn instance_with(&self, extra_args: &[String]) -> anyhow::Result<Instance> {
        if let (Some(url), Some(admin_key)) = (&self.cli.url, &self.cli.admin_key) {
            anyhow::ensure!(
                extra_args.is_empty(),
                "the Ricochet given by --url cannot be served with {extra_args:?}"
            );
            return Ok(Instance {
                process: None,
                api: Api::new(self.http.clone(), url),
                admin_key: admin_key.clone(),
            });
        }
        let binary = self.cli.ricochet_binary()?;
        let mut args = self.cli.serve_args();
        args.extend_from_slice(extra_args);
        let process = RicochetProcess::start(&binary, &args).await?;
        Ok(Instance {
            api: Api::new(self.http.clone(), process.base_url()),
            admin_key: process.admin_key().to_owned(),
            process: Some(process),
        })
    }

    /// A receiver path unique to this scenario run.
    fn path(tag: &str, name: &str) -> String {
        format!("/{tag}/{name}")
    }

    /// Registers `routes` receiver paths with `behaviour` and one integration bound to
    /// `event_type` for each; route ids are `0..routes`.
    async fn integrations(
        &self,
        session: &TenantSession,
        tag: &str,
        routes: usize,
        behaviour: Behaviour,
        retry: FixedRetry,
        event_type: &str,
    ) -> anyhow::Result<Vec<Uuid>> {
        let route = Route {
            behaviour,
            retry,
            settings: &Map::new(),
        };
        self.integrations_for(session, tag, routes, route, &[event_type])
            .await
    }

    /// Registers `routes` receiver paths (route ids `0..routes`) and, on each, one integration
    /// per event type of `event_types`, bound to that type, made as `route` says: every event
    /// reaches every route once.
    async fn integrations_for(
        &self,
        session: &TenantSession,
        tag: &str,
        routes: usize,
        route: Route<'_>,
        event_types: &[&str],
    ) -> anyhow::Result<Vec<Uuid>> {
        let mut ids = Vec::with_capacity(routes * event_types.len());
        for n in 0..routes {
            let path = Self::path(tag, &format!("i{n}"));
            self.receiver.add_route(&path, route.behaviour);
            let url = self.receiver.url(&path);
            for event_type in event_types {
                let id = session
                    .create_integration_with(&url, route.retry, route.settings)
                    .await?;
                session.bind(id, &[event_type]).await?;
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// Waits until every delivery of `published` (to routes `0..routes`) has arrived, or the
    /// deliveries stall, or a deadline proportional to their number passes.
    async fn wait_for(&self, routes: usize, tag: &str, published: &Published) {
        let expected = Expected {
            routes,
            tag,
            published,
        };
        let cap = Duration::from_secs(120) + Duration::from_millis(10 * expected.count() as u64);
        arrivals::wait_for_all(self.receiver, expected, cap).await;
    }

    /// After a grace period for late duplicates, matches the arrivals to `published`.
    async fn arrived(&self, routes: usize, tag: &str, published: &Published) -> Arrived {
        tokio::time::sleep(DUPLICATE_GRACE).await;
        let expected = Expected {
            routes,
            tag,
            published,
        };
        self.receiver
            .with_arrivals(|all| Arrived::analyse(all, expected))
    }
}

/// A unique tag for one scenario run (paths and event ids carry it).
fn tag(name: &str) -> String {
    format!("{name}-{}", crate::unique_suffix(8))
}

/// A result object with its scenario name and run number.
fn result(scenario: &str, run: u32) -> Map<String, Value> {
    let mut result = Map::new();
    result.insert("scenario".into(), json!(scenario));
    result.insert("run".into(), json!(run));
    result
}

/// The window's figures, or a note that there are none.
async fn finish(window: Option<Window>) -> Map<String, Value> {
    match window {
        Some(window) => window.finish().await,
        None => {
            let mut note = Map::new();
            note.insert(
                "process_stats".into(),
                json!("unavailable: Ricochet was given by --url"),
            );
            note
        }
    }
}

/// Adds `ricochet_cpu_us_per_{unit}` and `postgres_cpu_us_per_{unit}`: the window's CPU
/// divided by `count` (when the window measured CPU and `count` is not 0).
fn insert_cpu_per(outcome: &mut Map<String, Value>, unit: &str, count: usize) {
    for side in ["ricochet", "postgres"] {
        if let Some(seconds) = outcome
            .get(&format!("{side}_cpu_s"))
            .and_then(Value::as_f64)
            && count > 0
        {
            let micros = seconds * 1e6 / count as f64;
            outcome.insert(
                format!("{side}_cpu_us_per_{unit}"),
                json!(crate::stats::round3(micros)),
            );
        }
    }
}

/// A flat-out publish plan with 16 clients.
fn flat_out(events: usize, tag: &str) -> PublishPlan {
    PublishPlan {
        events,
        concurrency: 16,
        rate_per_s: None,
        event_type: EVENT_TYPE.into(),
        lanes: 1,
        tag: tag.into(),
    }
}

/// Runs `scenario` once; `earlier` holds the results so far (the self-test compares with them).
pub(crate) async fn run(
    bench: &Bench<'_>,
    scenario: Scenario,
    run: u32,
    earlier: &[Map<String, Value>],
) -> Vec<Map<String, Value>> {
    if bench.cli.url.is_some()
        && let Some(reason) = scenario.needs_own_instance()
    {
        let mut skipped = result(scenario.name(), run);
        skipped.insert("skipped".into(), json!(reason));
        return vec![skipped];
    }
    bench.receiver.reset(0);
    let outcome = match scenario {
        Scenario::Ingest => ingest::run(bench, run).await,
        Scenario::BatchPublish => batch_publish::run(bench, run).await,
        Scenario::E2eOne => e2e::run_one(bench, run).await,
        Scenario::E2eTen => e2e::run_ten(bench, run).await,
        Scenario::RetryTiming => retry_timing::run(bench, run).await,
        Scenario::Backlog => backlog::run(bench, run).await,
        Scenario::Aged => aged::run(bench, run).await,
        Scenario::Pgbench => pgbench::run(bench, run).await,
        Scenario::Selftest => selftest::run(bench, run, earlier).await,
        Scenario::Stats => stats::run(bench, run).await,
        Scenario::NoisyNeighbour => noisy_neighbour::run(bench, run).await,
        Scenario::Protections => protections::run(bench, run, 1).await,
        Scenario::ProtectionsTen => protections::run(bench, run, 10).await,
    };
    bench.receiver.reset(0);
    outcome.unwrap_or_else(|e| {
        let mut failed = result(scenario.name(), run);
        failed.insert("error".into(), json!(format!("{e:#}")));
        vec![failed]
    })
}
