//! Publishing a batch of events, and handing its new deliveries over to the worker of this
//! process when it has room: which deliveries are written leased (lane slots reserved, within
//! the hand-over's room), the statements in their order, the give-back of what was not used.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ricochet_domain::TenantId;
use ricochet_domain::event::matching_patterns;
use ricochet_store::deliveries::Claimed;
use ricochet_store::error::StoreResult;
use ricochet_store::events::{
    self, BatchEvent, DeliveryRef, HandOver, NewEvent, Planned, Published, Target,
};
use ricochet_store::{lanes, ordering};
use sqlx::PgConnection;
use uuid::Uuid;

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
    let published = publish_batch(conn, &batch, None).await?;
    Ok(published
        .iter()
        .any(|p| p.created && !p.deliveries.is_empty()))
}

/// Publishes events (one, or many for group commit) in two statements and no transaction:
/// the integrations bound to each event's type (with lane slots for a hand-over, see
/// [`events::route`]), then one statement, atomic on its own, writing
/// each event with the list of its deliveries and one delivery per enabled, live integration
/// bound by one of its patterns (see [`events::write`]). A repeated id makes nothing new and
/// returns the original deliveries. It does not wake the workers: the caller does, after the
/// commit, with a [`crate::wake::Waker`] (a NOTIFY inside the transaction would hold a
/// cluster-wide lock until the commit is flushed and serialize concurrent commits), for the
/// deliveries not handed over.
///
/// With a `handoff` whose worker has room, new deliveries are written already leased to it and
/// handed over once the statement has committed; so it must run outside a transaction.
pub async fn publish_batch(
    conn: &mut PgConnection,
    batch: &[BatchEvent<'_>],
    handoff: Option<&Handoff>,
) -> StoreResult<Vec<Published>> {
    let offer = handoff.filter(|h| h.is_open());
    // Where the events go and, when deliveries may be handed over, their settings (they carry
    // them) and lane slots for the first of them, as many as the worker has room for now.
    let hand_over = offer.map(|h| HandOver {
        room: h.room(),
        settings: h.settings(),
    });
    let routes = events::route(conn, batch, hand_over).await?;
    let targets = routes.targets;
    // Slots the worker keeps for the first deliveries; given back (those unused too) when the
    // reservation drops, after the hand-over or on an error. Its room may have changed since
    // the lane slots were taken: a delivery with a lease and no slot is written pending, and a
    // slot without a delivery is given back.
    let mut reservation = Reservation {
        handoff: offer,
        reserved: offer.map_or(0, |h| h.reserve(targets.len())),
        handed: Vec::new(),
    };
    let ids: Vec<Uuid> = targets.iter().map(|_| Uuid::now_v7()).collect();
    // A keyed delivery to a `perKey` integration waits its turn (written `blocked`, then
    // promoted): it is never handed over.
    let keys: Vec<Option<&str>> = targets
        .iter()
        .map(|t| {
            let ord = usize::try_from(t.ord).unwrap_or(usize::MAX);
            batch
                .get(ord)
                .and_then(|b| b.event.ordering_key)
                .filter(|_| t.per_key.unwrap_or(false))
        })
        .collect();
    let lease_ms: Vec<Option<i64>> = targets
        .iter()
        .zip(&keys)
        .enumerate()
        .map(|(i, (t, key))| match (&t.settings, offer) {
            (Some(settings), Some(h)) if i < reservation.reserved && key.is_none() => Some(
                settings
                    .request_timeout_ms()
                    .saturating_add(h.lease_grace_ms()),
            ),
            _ => None,
        })
        .collect();
    // Every event's would-be deliveries, in (event, integration) order; only those of the
    // events actually created are written.
    let mut planned: Vec<Vec<DeliveryRef>> = vec![Vec::new(); batch.len()];
    for (t, id) in targets.iter().zip(&ids) {
        if let Some(list) = planned.get_mut(usize::try_from(t.ord).unwrap_or(usize::MAX)) {
            list.push(DeliveryRef {
                id: *id,
                integration_id: t.integration_id,
            });
        }
    }
    let slots = routes.slots;
    let mut written = events::write(
        conn,
        batch,
        &Planned {
            targets: &targets,
            ids: &ids,
            lease_ms: &lease_ms,
            blocked_keys: &keys,
            worker: offer.map(Handoff::worker),
            slots: &slots,
        },
    )
    .await;
    // Slots not used (a repeated event, or a failed publish) go back to their lanes. A
    // rate-limited lane's next allowed start stays where the route moved it: the unused starts
    // are lost, which can only slow the lane, never exceed its rate.
    let mut unused: HashMap<Uuid, i32> = slots.iter().map(|(id, s)| (*id, s.granted)).collect();
    // The deliveries written leased (those the integration's lane had slots for), each with its
    // start.
    let granted: HashMap<Uuid, DateTime<Utc>> = written
        .as_mut()
        .map(|w| std::mem::take(&mut w.leased))
        .unwrap_or_default();
    for (t, id) in targets.iter().zip(&ids) {
        if granted.contains_key(id)
            && let Some(n) = unused.get_mut(&t.integration_id)
        {
            *n -= 1;
        }
    }
    let unused: Vec<(Uuid, i32)> = unused.into_iter().filter(|(_, n)| *n > 0).collect();
    if let Err(e) = lanes::give_back(conn, &unused).await {
        tracing::error!(error = %e, "giving back unused lane slots; the lane audit recounts them");
    }
    let written = written?;
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
    // The keys written blocked (those of events created).
    let blocked: Vec<(Uuid, &str)> = targets
        .iter()
        .zip(&keys)
        .filter_map(|(t, key)| {
            let ord = usize::try_from(t.ord).unwrap_or(usize::MAX);
            let created = results.get(ord).is_some_and(|r| r.created);
            key.filter(|_| created).map(|k| (t.integration_id, k))
        })
        .collect();
    // Committed (the statement stands alone): the leased deliveries go to the worker.
    if let Some(at) = written.at {
        reservation.handed = leased(batch, &mut results, targets, &ids, &granted, &lease_ms, at);
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
            results[i].deliveries =
                repeat_deliveries(conn, b.tenant, b.event.id, batch, &results, i).await?;
        }
    }
    Ok(results)
}

/// The deliveries written leased (those of created events with a lease), as the worker takes
/// them; each is counted in its event's `handed_over`.
fn leased(
    batch: &[BatchEvent<'_>],
    results: &mut [Published],
    targets: Vec<Target>,
    ids: &[Uuid],
    granted: &HashMap<Uuid, DateTime<Utc>>,
    lease_ms: &[Option<i64>],
    at: DateTime<Utc>,
) -> Vec<Claimed> {
    let mut handed = Vec::new();
    // What the deliveries of one event share: its id, type and data, copied once per event
    // rather than once per delivery (the targets come in event order).
    let mut shared: Option<(i32, Shared)> = None;
    for ((target, id), lease) in targets.into_iter().zip(ids).zip(lease_ms) {
        let Some(&start) = granted.get(id) else {
            continue;
        };
        let ord = usize::try_from(target.ord).unwrap_or(usize::MAX);
        let (Some(lease), Some(b), Some(result)) = (lease, batch.get(ord), results.get_mut(ord))
        else {
            continue;
        };
        // A lease is only given with the settings read (see `publish_batch`).
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
        handed.push(Claimed {
            id: *id,
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
            lease_expires_at: start.max(at) + chrono::Duration::milliseconds(*lease),
            integration_name: name,
            settings,
            event_type: event.kind,
            occurred_at: b.event.occurred_at,
            data: event.data,
            ordering_key: b.event.ordering_key.map(str::to_owned),
            traceparent: b.event.traceparent.map(str::to_owned),
        });
    }
    handed
}

/// An event's parts that its deliveries handed over share.
#[derive(Clone)]
struct Shared {
    id: Arc<str>,
    kind: Arc<str>,
    data: Arc<serde_json::Value>,
}

/// Slots reserved in a hand-over; dropping it hands over `handed` and gives back the rest.
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
    use std::collections::HashMap;
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
                integration_id: Uuid::now_v7(),
                per_key: Some(false),
                name: Some("hook".into()),
                settings: Some(settings.clone()),
            })
            .collect();
        let ids: Vec<Uuid> = targets.iter().map(|_| Uuid::now_v7()).collect();
        let now = Utc::now();
        let granted: HashMap<Uuid, _> = ids.iter().map(|id| (*id, now)).collect();
        let lease_ms = vec![Some(1_000_i64); ids.len()];
        let mut results: Vec<Published> = (0..2)
            .map(|_| Published {
                created: true,
                deliveries: Vec::new(),
                handed_over: 0,
            })
            .collect();
        let handed = leased(
            &batch,
            &mut results,
            targets,
            &ids,
            &granted,
            &lease_ms,
            now,
        );
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
