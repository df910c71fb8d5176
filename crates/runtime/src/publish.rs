//! Publishing a batch of events in one statement, and handing its new deliveries over to the
//! worker of this process when it has room: which deliveries are written leased (within the
//! hand-over's room and the lane slots held, see [`crate::credits`]), and what is left to do
//! with the lanes after the answer ([`LaneWork`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use ricochet_domain::TenantId;
use ricochet_domain::event::matching_patterns;
use ricochet_store::deliveries::Claimed;
use ricochet_store::error::StoreResult;
use ricochet_store::events::{self, BatchEvent, DeliveryRef, HandOver, NewEvent, Published};
use ricochet_store::lanes::{self, Credit};
use ricochet_store::ordering;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::credits::{LaneWork, REFILL_TO};
use crate::handoff::Handoff;

/// Publishes one of Ricochet's own events (an alert such as `integration.message.failed`) into
/// `tenant`'s stream, where an alerting integration can be bound to it, inside the caller's
/// transaction: with no hand-over, so nothing is handed over before that commits. A repeated
/// `id` makes nothing new. Whether it made deliveries, so the caller wakes the workers.
pub async fn publish_own(
    conn: &mut PgConnection,
    tenant: TenantId,
    kind: &str,
    id: &str,
    data: &serde_json::Value,
) -> StoreResult<bool> {
    let patterns = matching_patterns(kind);
    let batch = [BatchEvent {
        tenant,
        event: NewEvent {
            id,
            kind,
            occurred_at: Utc::now(),
            data,
            ordering_key: None,
            traceparent: None,
        },
        patterns: &patterns,
    }];
    let (published, _) = publish_batch(conn, &batch, None).await?;
    Ok(published
        .iter()
        .any(|p| p.created && !p.deliveries.is_empty()))
}

/// Publishes events (one, or many for group commit) in one statement, atomic on its own
/// ([`events::write`]): each event with the list of its deliveries, and one delivery per
/// enabled, live integration bound by one of its patterns. A repeated id makes nothing new and
/// returns the original deliveries. It does not wake the workers: the caller does, after the
/// commit, with a [`crate::wake::Waker`] (a NOTIFY inside the transaction would hold a
/// cluster-wide lock until the commit is flushed and serialize concurrent commits), for the
/// deliveries not handed over.
///
/// With a `handoff` whose worker has room, new deliveries are written already leased to it, as
/// many per integration as the lane slots its publishers hold ([`crate::credits`]), and handed
/// over once the statement has committed; so it must run outside a transaction. The lane work
/// returned (slots to take for the next batches, slots to give back) is the caller's, after
/// answering its callers. Without a hand-over it may run inside the caller's transaction.
pub async fn publish_batch(
    conn: &mut PgConnection,
    batch: &[BatchEvent<'_>],
    handoff: Option<&Handoff>,
) -> StoreResult<(Vec<Published>, LaneWork)> {
    // A worker that closed its hand-over to claim due work opens it again within a claim's
    // few milliseconds; a delivery written pending meanwhile would wake it to claim again, and
    // under load the claims would go on one after another.
    let offer = match handoff {
        Some(h) if h.open_within(OPEN_WAIT).await => Some(h),
        _ => None,
    };
    // Room for the batch's deliveries, reserved now: what is not used goes back once they are
    // handed over (or on an error).
    let mut reservation = Reservation {
        handoff: offer,
        reserved: offer.map_or(0, |h| h.reserve(batch.len().saturating_mul(h.fan_out()))),
        handed: Vec::new(),
    };
    let now = Instant::now();
    let (lent, late) = match offer {
        Some(h) if reservation.reserved > 0 => lend(conn, h, batch, now).await?,
        _ => (Vec::new(), Vec::new()),
    };
    let hand_over = offer.map(|h| HandOver {
        room: reservation.reserved,
        worker: h.worker(),
        lease_grace_ms: h.lease_grace_ms(),
        settings: h.settings(),
        credits: &lent,
    });
    let written = match events::write(conn, batch, hand_over).await {
        Ok(written) => written,
        Err(e) => {
            // Nothing was written: the slots lent are held again (those whose starts passed go
            // back with the next sweep).
            if let Some(h) = offer {
                h.credits().restore(&lent);
                h.credits().stray(&late);
            }
            return Err(e);
        }
    };
    // The slots spent: one per delivery written leased.
    let work = match offer {
        Some(h) => {
            let leased: HashSet<Uuid> = written.leased.iter().map(|(id, _)| *id).collect();
            let mut spent: HashMap<Uuid, i32> = HashMap::new();
            for t in written.targets.iter().filter(|t| leased.contains(&t.id)) {
                *spent.entry(t.integration_id).or_default() += 1;
            }
            let mut work = h
                .credits()
                .settle(now, &lent, &spent, &written.open, &written.wanted);
            work.give_back.extend(late);
            work
        }
        None => LaneWork::default(),
    };
    let targets = written.targets;
    let mut per_event = vec![0usize; batch.len()];
    for t in &targets {
        if let Some(n) = per_event.get_mut(usize::try_from(t.ord).unwrap_or(usize::MAX)) {
            *n += 1;
        }
    }
    if let Some(h) = offer {
        h.set_fan_out(per_event.iter().copied().max().unwrap_or(1));
    }
    // Every event's would-be deliveries, in (event, integration) order; only those of the
    // events actually created were written.
    let mut planned: Vec<Vec<DeliveryRef>> =
        per_event.iter().map(|n| Vec::with_capacity(*n)).collect();
    for t in &targets {
        if let Some(list) = planned.get_mut(usize::try_from(t.ord).unwrap_or(usize::MAX)) {
            list.push(DeliveryRef {
                id: t.id,
                integration_id: t.integration_id,
            });
        }
    }
    let mut fresh: HashSet<(Uuid, &str)> = written
        .created
        .iter()
        .map(|(t, id)| (*t, id.as_str()))
        .collect();
    // The first of the batch with a new (tenant, id) created it; every other one is a repeat.
    let mut results: Vec<Published> = batch
        .iter()
        .zip(planned)
        .map(|(b, deliveries)| {
            let created = fresh.remove(&(b.tenant.0, b.event.id));
            Published {
                created,
                deliveries: if created { deliveries } else { Vec::new() },
                handed_over: 0,
            }
        })
        .collect();
    // The keys written blocked (a keyed event created, to a perKey integration).
    let blocked: Vec<(Uuid, &str)> = targets
        .iter()
        .filter(|t| t.per_key.unwrap_or(false))
        .filter_map(|t| {
            let ord = usize::try_from(t.ord).unwrap_or(usize::MAX);
            let created = results.get(ord).is_some_and(|r| r.created);
            batch
                .get(ord)
                .and_then(|b| b.event.ordering_key)
                .filter(|_| created)
                .map(|k| (t.integration_id, k))
        })
        .collect();
    // Committed (the statement stands alone): the leased deliveries go to the worker, with
    // the room not used.
    if let (Some(at), Some(h)) = (written.at, offer) {
        reservation.handed = leased(batch, &mut results, targets, &written.leased, h, at);
    }
    drop(reservation);
    // Committed: each key written blocked gets its head, unless it has one.
    // A failure leaves the keys to the sweep (the publish itself is committed).
    if let Err(e) = ordering::promote(conn, &blocked).await {
        tracing::error!(error = %e, "promoting the deliveries just published; the sweep promotes them");
    }
    for i in 0..batch.len() {
        if !results[i].created {
            let b = &batch[i];
            match repeat_deliveries(conn, b.tenant, b.event.id, batch, &results, i).await {
                Ok(deliveries) => results[i].deliveries = deliveries,
                Err(e) => {
                    // The lane work is not the caller's any more: it would be lost with the
                    // refill it holds under way.
                    if let Some(h) = offer {
                        h.credits().abandon(&work);
                    }
                    return Err(e);
                }
            }
        }
    }
    Ok((results, work))
}

/// The deliveries written leased (`leased`: those of created events, each with its start), as
/// the worker will take them, in id order; each is counted in its event's `handed_over`.
fn leased(
    batch: &[BatchEvent<'_>],
    results: &mut [Published],
    targets: Vec<events::Target>,
    leased: &[(Uuid, DateTime<Utc>)],
    handoff: &Handoff,
    at: DateTime<Utc>,
) -> Vec<Claimed> {
    let leased: HashMap<Uuid, DateTime<Utc>> = leased.iter().copied().collect();
    let mut handed = Vec::with_capacity(leased.len());
    // What the deliveries of one event share: its id, type and data, copied once per event
    // rather than once per delivery (the targets come in event order).
    let mut shared: Option<(i32, Shared)> = None;
    for target in targets {
        let Some(&start) = leased.get(&target.id) else {
            continue;
        };
        let ord = usize::try_from(target.ord).unwrap_or(usize::MAX);
        let (Some(b), Some(result)) = (batch.get(ord), results.get_mut(ord)) else {
            continue;
        };
        // A lease is only written with the settings read (see `events::write`).
        let (true, Some(settings), Some(name)) = (result.created, target.settings, target.name)
        else {
            continue;
        };
        result.handed_over += 1;
        let event = match &shared {
            Some((ord, event)) if *ord == target.ord => event.clone(),
            _ => {
                let event = Shared {
                    id: b.event.id.into(),
                    kind: b.event.kind.into(),
                    data: Arc::new(b.event.data.clone()),
                };
                shared = Some((target.ord, event.clone()));
                event
            }
        };
        // As the statement wrote it.
        let lease = settings
            .request_timeout_ms()
            .saturating_add(handoff.lease_grace_ms());
        handed.push(Claimed {
            id: target.id,
            tenant_id: b.tenant.0,
            event_id: event.id,
            integration_id: target.integration_id,
            attempt_count: 0,
            series_base: 0,
            created_at: at,
            // Now, or later on a rate-limited lane (the worker spaces those starts out).
            due_at: start,
            // The first lease (a claim increments the token).
            lease_token: 0,
            lease_expires_at: start.max(at) + chrono::Duration::milliseconds(lease),
            integration_name: name,
            settings,
            event_type: event.kind,
            occurred_at: b.event.occurred_at,
            data: event.data,
            ordering_key: b.event.ordering_key.map(str::to_owned),
            traceparent: b.event.traceparent.map(str::to_owned),
        });
    }
    handed.sort_unstable_by_key(|c| c.id);
    handed
}

/// An event's parts that its deliveries handed over share.
#[derive(Clone)]
struct Shared {
    id: Arc<str>,
    kind: Arc<str>,
    data: Arc<serde_json::Value>,
}

/// How long a publish waits for a worker that is claiming to open its hand-over again.
const OPEN_WAIT: std::time::Duration = std::time::Duration::from_millis(3);

/// How long a publish holding no lane slot waits for the refill under way before it takes
/// slots itself.
const REFILL_WAIT: std::time::Duration = std::time::Duration::from_millis(20);

/// The lane slots a publish offering a hand-over may spend ([`crate::Credits::lend`]), and
/// those whose starts have passed (to give back). When it holds fewer than the last batch
/// wanted of some lane and a refill is under way, it waits for the refill (a delivery without a
/// slot is written pending and claimed, which costs more than the wait). Holding none and no
/// refill under way, it takes them for this batch first, so that the first publish in a while
/// hands its deliveries over too; not while its lanes have just refused slots.
async fn lend(
    conn: &mut PgConnection,
    handoff: &Handoff,
    batch: &[BatchEvent<'_>],
    now: Instant,
) -> StoreResult<(Vec<Credit>, Vec<(Uuid, i32)>)> {
    let credits = handoff.credits();
    if credits.short()
        && let Some(done) = credits.refill_under_way()
    {
        let _ = tokio::time::timeout(REFILL_WAIT, done).await;
    }
    let (lent, late) = credits.lend(now, Utc::now(), batch.len());
    if !lent.is_empty() || credits.refill_under_way().is_some() || credits.dry(now) {
        return Ok((lent, late));
    }
    match lanes::take_credits_for(conn, batch, REFILL_TO).await {
        Ok(granted) => Ok((credits.lend_taken(now, &granted), late)),
        // Published without a hand-over (its deliveries are claimed), unless the database is
        // out of reach, which the publish itself answers.
        Err(e) if !e.is_unavailable() => {
            tracing::warn!(error = %e, "taking lane slots for a hand-over failed; the deliveries are claimed");
            Ok((Vec::new(), late))
        }
        Err(e) => {
            credits.stray(&late);
            Err(e)
        }
    }
}

/// Room reserved in a hand-over; dropping it hands over `handed` and gives back the rest.
struct Reservation<'a> {
    handoff: Option<&'a Handoff>,
    reserved: usize,
    handed: Vec<Claimed>,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if let Some(handoff) = self.handoff {
            handoff.hand_over(self.reserved, std::mem::take(&mut self.handed));
        }
    }
}

/// The deliveries of an event published before: made earlier in this batch, or stored.
async fn repeat_deliveries(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: &str,
    batch: &[BatchEvent<'_>],
    results: &[Published],
    upto: usize,
) -> StoreResult<Vec<DeliveryRef>> {
    let original = batch[..upto]
        .iter()
        .zip(results)
        .position(|(b, r)| r.created && b.tenant == tenant && b.event.id == id);
    match original {
        Some(first) => Ok(results[first].deliveries.clone()),
        None => events::deliveries_of(conn, tenant, id).await,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Utc;
    use ricochet_domain::TenantId;
    use ricochet_domain::integration::IntegrationSettings;
    use ricochet_store::events::{BatchEvent, NewEvent, Published, Target};
    use serde_json::json;
    use uuid::Uuid;

    use super::leased;

    #[test]
    fn deliveries_handed_over_share_their_event_rather_than_copy_it() {
        let settings = Arc::new(
            serde_json::from_value::<IntegrationSettings>(json!({ "url": "http://127.0.0.1:9/" }))
                .expect("minimal settings parse"),
        );
        let (first, second) = (json!({"n": 1, "nested": {"a": [1, 2]}}), json!({"n": 2}));
        let patterns = vec!["*".to_owned()];
        let event = |id, data| BatchEvent {
            tenant: TenantId(Uuid::nil()),
            event: NewEvent {
                id,
                kind: "order.created",
                occurred_at: Utc::now(),
                data,
                ordering_key: None,
                traceparent: None,
            },
            patterns: &patterns,
        };
        let batch = [event("e-1", &first), event("e-2", &second)];
        // Three integrations for the first event, two for the second, in event order.
        let targets: Vec<Target> = [0, 0, 0, 1, 1]
            .into_iter()
            .map(|ord| Target {
                ord,
                id: Uuid::now_v7(),
                integration_id: Uuid::now_v7(),
                per_key: Some(false),
                name: Some("hook".into()),
                settings: Some(settings.clone()),
            })
            .collect();
        let ids: Vec<(Uuid, chrono::DateTime<Utc>)> =
            targets.iter().map(|t| (t.id, Utc::now())).collect();
        let now = Utc::now();
        let handoff = crate::handoff::Handoff::new("worker", 16, 1_000);
        let mut results: Vec<Published> = (0..2)
            .map(|_| Published {
                created: true,
                deliveries: Vec::new(),
                handed_over: 0,
            })
            .collect();
        let handed = leased(&batch, &mut results, targets, &ids, &handoff, now);
        assert_eq!(handed.len(), 5);
        assert_eq!(
            results.iter().map(|r| r.handed_over).collect::<Vec<_>>(),
            [3, 2]
        );
        let (a, b) = handed.split_at(3);
        for group in [a, b] {
            for claimed in &group[1..] {
                assert!(Arc::ptr_eq(&claimed.data, &group[0].data));
                assert!(Arc::ptr_eq(&claimed.event_id, &group[0].event_id));
                assert!(Arc::ptr_eq(&claimed.event_type, &group[0].event_type));
            }
        }
        assert!(!Arc::ptr_eq(&a[0].data, &b[0].data));
        assert_eq!((&*a[0].event_id, &*a[0].data), ("e-1", &first));
        assert_eq!((&*b[0].event_id, &*b[0].data), ("e-2", &second));
    }
}
