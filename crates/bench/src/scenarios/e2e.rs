//! `e2e-1`, `e2e-1-half` and `e2e-10`: events published, delivered and received, measured from
//! the publish request to the receiver's read of the delivery.

use serde_json::{Map, Value, json};

use super::{Bench, QUICK_RETRY, Route, finish, flat_out, insert_cpu_per, result, tag};
use crate::publish::{self, PublishPlan};
use crate::receiver::Behaviour;

/// Events published in `e2e-1` and `e2e-10` (times --scale).
pub(super) const EVENTS: usize = 20_000;
/// The p99 publish-to-receipt target at half the flat-out rate.
const HALF_RATE_P99_TARGET_MS: f64 = 50.0;

/// What a measurement changes from the defaults (the protection variants do).
#[derive(Debug, Default)]
pub(super) struct Setup {
    /// More arguments for `ricochet serve`.
    pub(super) serve_args: Vec<String>,
    /// Merged into every integration's settings.
    pub(super) settings: Map<String, Value>,
}

/// `e2e-1` flat out, then `e2e-1-half` at half its deliveries/s.
pub(super) async fn run_one(
    bench: &Bench<'_>,
    run: u32,
) -> anyhow::Result<Vec<Map<String, Value>>> {
    let events = bench.cli.scaled(EVENTS, 200);
    let flat = measure(
        bench,
        "e2e-1",
        run,
        1,
        flat_out(events, &tag("e2e1")),
        &Setup::default(),
    )
    .await?;
    let rate = flat.get("rate").and_then(Value::as_f64).unwrap_or(0.0);
    anyhow::ensure!(rate > 0.0, "e2e-1 measured no deliveries: {flat:?}");
    let half_plan = PublishPlan {
        rate_per_s: Some(rate / 2.0),
        ..flat_out(events, &tag("e2e1h"))
    };
    let mut half = measure(bench, "e2e-1-half", run, 1, half_plan, &Setup::default()).await?;
    let p99 = half
        .get("latency_ms_p99")
        .and_then(Value::as_f64)
        .unwrap_or(f64::INFINITY);
    half.insert(
        "target_rate".into(),
        json!(crate::stats::round3(rate / 2.0)),
    );
    half.insert("p99_target_ms".into(), json!(HALF_RATE_P99_TARGET_MS));
    half.insert(
        "p99_target_met".into(),
        json!(p99 <= HALF_RATE_P99_TARGET_MS),
    );
    Ok(vec![flat, half])
}

/// `e2e-10`: every event fanned out to ten integrations.
pub(super) async fn run_ten(
    bench: &Bench<'_>,
    run: u32,
) -> anyhow::Result<Vec<Map<String, Value>>> {
    let events = bench.cli.scaled(EVENTS, 200);
    let plan = flat_out(events, &tag("e2e10"));
    let outcome = measure(bench, "e2e-10", run, 10, plan, &Setup::default()).await?;
    Ok(vec![outcome])
}

/// Publishes `plan` on a fresh Ricochet set up by `setup` and waits for every delivery: each
/// event reaches each of `routes` receiver paths once, through one integration per route and
/// event type (`routes` integrations, times the plan's lanes).
pub(super) async fn measure(
    bench: &Bench<'_>,
    name: &str,
    run: u32,
    routes: usize,
    plan: PublishPlan,
    setup: &Setup,
) -> anyhow::Result<Map<String, Value>> {
    let pace = plan
        .rate_per_s
        .map_or_else(|| "flat out".to_owned(), |rate| format!("at {rate:.0}/s"));
    let integrations = routes * plan.lanes.max(1);
    eprintln!(
        "{name} run {run}: {} events x {routes} deliveries each ({integrations} integrations), {pace}",
        plan.events
    );
    bench.receiver.reset(plan.events * routes);
    let instance = bench.instance_with(&setup.serve_args).await?;
    let mut outcome = result(name, run);
    let measured = async {
        let session = instance.tenant().await?;
        let event_types = plan.event_types();
        let event_types: Vec<&str> = event_types.iter().map(String::as_str).collect();
        let route = Route {
            behaviour: Behaviour::default(),
            retry: QUICK_RETRY,
            settings: &setup.settings,
        };
        bench
            .integrations_for(&session, &plan.tag, routes, route, &event_types)
            .await?;
        let window = instance.window();
        let published = publish::publish(&session, &plan).await;
        bench.wait_for(routes, &plan.tag, &published).await;
        outcome.extend(finish(window).await);
        let arrived = bench.arrived(routes, &plan.tag, &published).await;
        outcome.insert("rate".into(), json!(arrived.rate(published.started)));
        outcome.insert("rate_unit".into(), json!("deliveries/s"));
        outcome.insert("latency_of".into(), json!("latency_ms"));
        outcome.insert("integrations".into(), json!(integrations));
        insert_cpu_per(&mut outcome, "delivery", arrived.delivered);
        outcome.extend(arrived.fields());
        outcome.extend(published.fields());
        outcome.insert("receiver_unrouted".into(), json!(bench.receiver.unrouted()));
        anyhow::Ok(())
    }
    .await;
    let stopped = instance.stop(&mut outcome).await;
    measured?;
    stopped?;
    Ok(outcome)
}
