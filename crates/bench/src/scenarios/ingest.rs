//! `ingest`: how fast the API accepts events, at 16 and 64 concurrent clients, with one
//! integration bound (its deliveries run meanwhile, as they would in production).

use serde_json::{Map, Value, json};

use super::{Bench, EVENT_TYPE, QUICK_RETRY, finish, flat_out, result, tag};
use crate::publish;
use crate::receiver::Behaviour;

const EVENTS: usize = 10_000;
const CONCURRENCIES: [usize; 2] = [16, 64];

/// Runs both concurrencies, each against a fresh Ricochet.
pub(super) async fn run(bench: &Bench<'_>, run: u32) -> anyhow::Result<Vec<Map<String, Value>>> {
    let events = bench.cli.scaled(EVENTS, 100);
    let mut results = Vec::new();
    for concurrency in CONCURRENCIES {
        let name = format!("ingest-c{concurrency}");
        eprintln!("{name} run {run}: publishing {events} events from {concurrency} clients");
        bench.receiver.reset(events);
        let instance = bench.instance().await?;
        let mut outcome = result(&name, run);
        let measured = async {
            let session = instance.tenant().await?;
            let tag = tag("ingest");
            bench
                .integrations(
                    &session,
                    &tag,
                    1,
                    Behaviour::default(),
                    QUICK_RETRY,
                    EVENT_TYPE,
                )
                .await?;
            let plan = publish::PublishPlan {
                concurrency,
                ..flat_out(events, &tag)
            };
            let window = instance.window();
            let published = publish::publish(&session, &plan).await;
            outcome.extend(finish(window).await);
            outcome.insert("rate".into(), json!(published.fields()["publish_rate"]));
            outcome.insert("rate_unit".into(), json!("events/s"));
            outcome.insert("latency_of".into(), json!("publish_ms"));
            outcome.insert("concurrency".into(), json!(concurrency));
            outcome.extend(published.fields());
            anyhow::Ok(())
        }
        .await;
        let stopped = instance.stop(&mut outcome).await;
        measured?;
        stopped?;
        results.push(outcome);
    }
    Ok(results)
}
