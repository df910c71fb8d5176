//! `noisy-neighbour`: tenant Y publishes 10 events/s to a fast receiver, first alone (the
//! baseline), then while tenant X has 5,000 deliveries queued for a receiver that takes 3 s to
//! answer (X's integration keeps its default in-flight cap, 10). Y's publish-to-receipt
//! latency (`quiet_latency_ms_*`, `loaded_latency_ms_*`) shows whether X's backlog delays it.

use anyhow::Context;
use serde_json::{Map, Value, json};

use super::{Bench, EVENT_TYPE, QUICK_RETRY, finish, flat_out, result, tag};
use crate::publish::{self, PublishPlan};
use crate::receiver::Behaviour;

const NOISY_EVENTS: usize = 5_000;
const NOISY_EVENT_TYPE: &str = "bench.noisy";
/// How long X's receiver takes to answer.
const SLOW_MS: u32 = 3_000;
/// X's in-flight cap: the default of an integration.
const NOISY_MAX_CONCURRENCY: u32 = 10;
const QUIET_EVENTS: usize = 100;
const QUIET_RATE_PER_S: f64 = 10.0;

/// Runs the scenario on a fresh Ricochet (or the one given by --url).
pub(super) async fn run(bench: &Bench<'_>, run: u32) -> anyhow::Result<Vec<Map<String, Value>>> {
    let noisy = bench.cli.scaled(NOISY_EVENTS, 50);
    let quiet = bench.cli.scaled(QUIET_EVENTS, 10);
    eprintln!(
        "noisy-neighbour run {run}: {quiet} events at {QUIET_RATE_PER_S}/s alone, then behind {noisy} deliveries to a {SLOW_MS} ms receiver"
    );
    bench.receiver.reset(2 * quiet + noisy);
    let instance = bench.instance().await?;
    let mut outcome = result("noisy-neighbour", run);
    let measured = async {
        let quiet_tenant = instance.tenant().await?;
        let noisy_tenant = instance.tenant().await?;
        let tag = tag("noisy-neighbour");
        // Route 0: the quiet tenant's integration, the one the arrivals are matched against.
        bench
            .integrations(
                &quiet_tenant,
                &tag,
                1,
                Behaviour::default(),
                QUICK_RETRY,
                EVENT_TYPE,
            )
            .await?;
        let slow_path = format!("/{tag}/slow");
        bench.receiver.add_route(
            &slow_path,
            Behaviour {
                hold_ms: SLOW_MS,
                ..Behaviour::default()
            },
        );
        let slow = noisy_tenant
            .create_capped_integration(
                &bench.receiver.url(&slow_path),
                QUICK_RETRY,
                NOISY_MAX_CONCURRENCY,
            )
            .await?;
        noisy_tenant.bind(slow, &[NOISY_EVENT_TYPE]).await?;
        let paced = |tag: &str| PublishPlan {
            concurrency: 4,
            rate_per_s: Some(QUIET_RATE_PER_S),
            ..flat_out(quiet, tag)
        };

        // The baseline: the quiet tenant alone.
        let alone_tag = format!("{tag}-alone");
        let alone = publish::publish(&quiet_tenant, &paced(&alone_tag)).await;
        bench.wait_for(1, &alone_tag, &alone).await;
        let arrived = bench.arrived(1, &alone_tag, &alone).await;
        for (key, value) in arrived.fields() {
            outcome.insert(format!("quiet_{key}"), value);
        }

        // The noisy tenant's backlog, then the quiet tenant again.
        let noisy_tag = format!("{tag}-noisy");
        let backlog = publish::publish(
            &noisy_tenant,
            &PublishPlan {
                event_type: NOISY_EVENT_TYPE.into(),
                ..flat_out(noisy, &noisy_tag)
            },
        )
        .await;
        anyhow::ensure!(
            backlog.accepted == noisy,
            "publishing the noisy backlog failed: {:?}",
            backlog.first_error
        );
        outcome.insert("noisy_backlog".into(), json!(noisy));
        outcome.insert("noisy_receiver_ms".into(), json!(SLOW_MS));
        let window = instance.window();
        let loaded_tag = format!("{tag}-loaded");
        let loaded = publish::publish(&quiet_tenant, &paced(&loaded_tag)).await;
        bench.wait_for(1, &loaded_tag, &loaded).await;
        outcome.extend(finish(window).await);
        let arrived = bench.arrived(1, &loaded_tag, &loaded).await;
        for (key, value) in arrived.fields() {
            outcome.insert(format!("loaded_{key}"), value);
        }
        outcome.insert("latency_of".into(), json!("loaded_latency_ms"));
        outcome.extend(loaded.fields());
        anyhow::Ok(())
    }
    .await
    .context("noisy-neighbour");
    let stopped = instance.stop(&mut outcome).await;
    measured?;
    stopped?;
    Ok(vec![outcome])
}
