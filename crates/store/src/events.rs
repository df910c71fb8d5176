//! Publishing: the event and one delivery per enabled integration bound to its type, written
//! by one statement; and the wake-up of the workers after the commit.

use chrono::{DateTime, Utc};
use ricochet_domain::TenantId;
use serde_json::Value;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::deliveries::Claimed;
use crate::error::StoreResult;
use crate::handoff::Handoff;
use ricochet_domain::integration::IntegrationSettings;

/// The channel workers LISTEN on; a notification means "there may be due work".
pub const WAKE_CHANNEL: &str = "ricochet_deliveries";

/// An event to publish.
#[derive(Debug)]
pub struct NewEvent<'a> {
    /// The client's (or a generated) id.
    pub id: &'a str,
    /// Its type.
    pub kind: &'a str,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Its data.
    pub data: &'a Value,
    /// Its ordering key: its deliveries to `perKey` integrations wait for the earlier ones
    /// with the same key.
    pub ordering_key: Option<&'a str>,
    /// The W3C `traceparent` of the span that published it (only when traces are exported),
    /// which its delivery attempts continue.
    pub traceparent: Option<&'a str>,
}

/// One delivery made for an event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRef {
    /// The delivery.
    pub id: Uuid,
    /// The integration it goes to.
    pub integration_id: Uuid,
}

/// What publishing did.
#[derive(Debug)]
pub struct Published {
    /// False when the tenant had already published this id: nothing new was made.
    pub created: bool,
    /// The deliveries of the event (the original ones for a repeat).
    pub deliveries: Vec<DeliveryRef>,
    /// How many of them were handed over to the worker of this process (which needs no
    /// wake-up for them).
    pub handed_over: usize,
}

/// Wakes the workers after commits, outside any transaction, folding wake-ups requested while
/// one is being sent into one NOTIFY. Should the process die between a commit and its wake-up,
/// the workers' fallback poll finds the work anyway.
#[derive(Debug, Clone)]
pub struct Waker {
    pending: std::sync::Arc<tokio::sync::Notify>,
}

impl Waker {
    /// Starts the task sending NOTIFYs on `pool`.
    pub fn spawn(pool: sqlx::PgPool) -> Waker {
        let pending = std::sync::Arc::new(tokio::sync::Notify::new());
        let requests = pending.clone();
        tokio::spawn(async move {
            loop {
                requests.notified().await;
                if let Err(e) = sqlx::query("SELECT pg_notify($1, '')")
                    .bind(WAKE_CHANNEL)
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(error = %e, "waking the workers failed; they find the work on their next poll");
                }
            }
        });
        Waker { pending }
    }

    /// Asks for a wake-up (cheap; never waits).
    pub fn wake(&self) {
        self.pending.notify_one();
    }
}

/// Tells every listening worker, when the transaction commits, that work may be due.
pub async fn wake_workers(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(WAKE_CHANNEL)
        .execute(conn)
        .await?;
    Ok(())
}

async fn deliveries_of(
    conn: &mut PgConnection,
    tenant: TenantId,
    event: &str,
) -> StoreResult<Vec<DeliveryRef>> {
    let rows = sqlx::query_as(
        "SELECT d.id, d.integration_id
         FROM events e CROSS JOIN LATERAL unnest(e.delivery_ids) AS u(id) JOIN deliveries d ON d.id = u.id
         WHERE e.tenant_id = $1 AND e.id = $2
         ORDER BY d.integration_id",
    )
    .bind(tenant.0)
    .bind(event)
    .fetch_all(conn)
    .await?;
    Ok(rows)
}

/// One event of a batch to publish, with the binding patterns that match its type.
#[derive(Debug)]
pub struct BatchEvent<'a> {
    /// Its tenant.
    pub tenant: TenantId,
    /// The event.
    pub event: NewEvent<'a>,
    /// The patterns matching its type (`matching_patterns`).
    pub patterns: &'a [String],
}

/// Publishes events (one, or many for group commit) in two statements and no transaction: the
/// integrations bound to each event's type, then one statement, atomic on its own, writing each
/// event with the list of its deliveries and one delivery per enabled, live integration bound
/// by one of its patterns. A repeated id, even one repeated within the batch (the first of the
/// batch wins), makes nothing new and returns the original deliveries. It does not wake the
/// workers: the caller does, after the commit, with a [`Waker`] (a NOTIFY inside the
/// transaction would hold a cluster-wide lock until the commit is flushed and serialize
/// concurrent commits), for the deliveries not handed over.
///
/// With a `handoff` whose worker has room, new deliveries are written already leased to it and
/// handed over once the statement has committed; so it must run outside a transaction.
pub async fn publish_batch(
    conn: &mut PgConnection,
    batch: &[BatchEvent<'_>],
    handoff: Option<&Handoff>,
) -> StoreResult<Vec<Published>> {
    let ords: Vec<i32> = (0..batch.len())
        .map(|i| i32::try_from(i).unwrap_or(i32::MAX))
        .collect();
    let (mut pattern_ords, mut patterns, mut pattern_tenants) =
        (Vec::new(), Vec::new(), Vec::new());
    for (ord, b) in ords.iter().zip(batch) {
        for pattern in b.patterns {
            pattern_ords.push(*ord);
            patterns.push(pattern.as_str());
            pattern_tenants.push(b.tenant.0);
        }
    }
    let offer = handoff.filter(|h| h.is_open());
    // The settings are read only when deliveries may be handed over (they carry them).
    let targets: Vec<Target> = sqlx::query_as(
        "SELECT DISTINCT ON (w.ord, b.integration_id) w.ord, b.integration_id,
                CASE WHEN $4 THEN i.name END AS name, CASE WHEN $4 THEN i.settings END AS settings,
                i.settings->>'ordering' = 'perKey' AS per_key
         FROM unnest($1::int[], $2::text[], $3::uuid[]) AS w(ord, pattern, tenant_id)
         JOIN event_bindings b ON b.tenant_id = w.tenant_id AND b.event_type = w.pattern
         JOIN integrations i ON i.id = b.integration_id AND i.enabled AND i.deleted_at IS NULL
         ORDER BY w.ord, b.integration_id",
    )
    .bind(&pattern_ords)
    .bind(&patterns)
    .bind(&pattern_tenants)
    .bind(offer.is_some())
    .fetch_all(&mut *conn)
    .await?;
    // Slots the worker keeps for the first deliveries; given back (those unused too) when the
    // reservation drops, after the hand-over or on an error.
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
                    .0
                    .request_timeout
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
    // The hand-over takes lane slots like a claim (within each integration's maxConcurrency
    // across every worker, none while it is paused), before the publish and apart from it:
    // the publish waits for the disk, and a lane locked through that would stall the lane.
    let mut wants: std::collections::HashMap<Uuid, i32> = std::collections::HashMap::new();
    for (t, lease) in targets.iter().zip(&lease_ms) {
        if lease.is_some() {
            *wants.entry(t.integration_id).or_default() += 1;
        }
    }
    let wants: Vec<(Uuid, i32)> = wants.into_iter().collect();
    let slots = crate::lanes::reserve(conn, &wants).await?;
    let (slot_ids, slot_counts): (Vec<Uuid>, Vec<i32>) =
        slots.iter().map(|(k, v)| (*k, *v)).unzip();
    let published = sqlx::query_as::<_, (Uuid, String, DateTime<Utc>, Vec<Uuid>)>(
        "WITH input AS (
             SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::jsonb[], $12::text[], $15::text[])
                 AS t(ord, tenant_id, id, event_type, occurred_at, data, traceparent, ordering_key)
         ), targets AS (
             SELECT * FROM unnest($7::int[], $8::uuid[], $9::uuid[], $10::bigint[], $16::text[])
                 AS t(ord, id, integration_id, lease_ms, blocked_key)
         ), created AS (
             INSERT INTO events (tenant_id, id, event_type, occurred_at, data, delivery_ids, traceparent, ordering_key)
             SELECT w.tenant_id, w.id, w.event_type, w.occurred_at, w.data, coalesce(g.ids, '{}'), w.traceparent, w.ordering_key
             FROM input w
             LEFT JOIN (SELECT ord, array_agg(id ORDER BY id) AS ids FROM targets GROUP BY ord) g ON g.ord = w.ord
             -- In key order (the first of a repeated id first): batches committed side by side
             -- take their row locks in the same order and cannot deadlock on a repeated id.
             ORDER BY w.tenant_id, w.id, w.ord
             ON CONFLICT (tenant_id, id) DO NOTHING
             RETURNING tenant_id, id, delivery_ids, ordering_key
         ), offered AS (
             SELECT t.*, c.tenant_id, c.id AS event_id, c.ordering_key,
                 row_number() OVER (PARTITION BY t.integration_id, t.lease_ms IS NULL ORDER BY t.id) AS rn
             FROM created c CROSS JOIN LATERAL unnest(c.delivery_ids) AS u(id) JOIN targets t ON t.id = u.id
         ), granted AS (
             SELECT * FROM unnest($13::uuid[], $14::int[]) AS t(integration_id, granted)
         ), made AS (
             -- A delivery handed over is written leased to the worker, as a claim would lease it.
             -- A keyed one of a perKey integration waits its turn (promoted after the commit).
             INSERT INTO deliveries (id, tenant_id, event_id, integration_id, status, leased_by, lease_expires_at, ordering_key)
             SELECT o.id, o.tenant_id, o.event_id, o.integration_id,
                 CASE WHEN o.leased THEN 'in_flight' WHEN o.blocked_key IS NOT NULL THEN 'blocked' ELSE 'pending' END,
                 CASE WHEN o.leased THEN $11::text END,
                 CASE WHEN o.leased THEN now() + make_interval(secs => o.lease_ms / 1000.0) END,
                 o.ordering_key
             FROM (SELECT o.*, o.lease_ms IS NOT NULL AND o.rn <= coalesce(g.granted, 0) AS leased
                   FROM offered o LEFT JOIN granted g ON g.integration_id = o.integration_id) o
             RETURNING id, status
         ), leased AS (
             SELECT coalesce(array_agg(id), '{}') AS ids FROM made WHERE status = 'in_flight'
         )
         SELECT tenant_id, id, now(), (SELECT ids FROM leased) FROM created",
    )
    .bind(&ords)
    .bind(batch.iter().map(|b| b.tenant.0).collect::<Vec<_>>())
    .bind(batch.iter().map(|b| b.event.id).collect::<Vec<_>>())
    .bind(batch.iter().map(|b| b.event.kind).collect::<Vec<_>>())
    .bind(batch.iter().map(|b| b.event.occurred_at).collect::<Vec<_>>())
    .bind(batch.iter().map(|b| Json(b.event.data)).collect::<Vec<_>>())
    .bind(targets.iter().map(|t| t.ord).collect::<Vec<_>>())
    .bind(&ids)
    .bind(targets.iter().map(|t| t.integration_id).collect::<Vec<_>>())
    .bind(&lease_ms)
    .bind(offer.map(Handoff::worker))
    .bind(batch.iter().map(|b| b.event.traceparent).collect::<Vec<_>>())
    .bind(&slot_ids)
    .bind(&slot_counts)
    .bind(batch.iter().map(|b| b.event.ordering_key).collect::<Vec<_>>())
    .bind(&keys)
    .fetch_all(&mut *conn)
    .await;
    // Slots not used (a repeated event, or a failed publish) go back to their lanes.
    let mut unused = slots;
    // The deliveries written leased: those the integration's in-flight cap had room for.
    let granted: std::collections::HashSet<Uuid> = match &published {
        Ok(created) => created
            .first()
            .map(|(_, _, _, ids)| ids.iter().copied().collect())
            .unwrap_or_default(),
        Err(_) => std::collections::HashSet::new(),
    };
    for (t, id) in targets.iter().zip(&ids) {
        if granted.contains(id)
            && let Some(n) = unused.get_mut(&t.integration_id)
        {
            *n -= 1;
        }
    }
    let unused: Vec<(Uuid, i32)> = unused.into_iter().filter(|(_, n)| *n > 0).collect();
    if let Err(e) = crate::lanes::give_back(conn, &unused).await {
        tracing::error!(error = %e, "giving back unused lane slots; the lane audit recounts them");
    }
    let created = published?;
    let made_at = created.first().map(|(_, _, at, _)| *at);
    let mut fresh: std::collections::HashSet<(Uuid, &str)> = created
        .iter()
        .map(|(t, id, _, _)| (*t, id.as_str()))
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
    if let Some(at) = made_at {
        reservation.handed = leased(batch, &mut results, targets, &ids, &granted, &lease_ms, at);
    }
    drop(reservation);
    // Committed: each key written blocked gets its head, unless it has one.
    // A failure leaves the keys to the sweep (the publish itself is committed).
    if let Err(e) = crate::ordering::promote(conn, &blocked).await {
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
    granted: &std::collections::HashSet<Uuid>,
    lease_ms: &[Option<i64>],
    at: DateTime<Utc>,
) -> Vec<Claimed> {
    let mut handed = Vec::new();
    for ((target, id), lease) in targets.into_iter().zip(ids).zip(lease_ms) {
        if !granted.contains(id) {
            continue;
        }
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
        handed.push(Claimed {
            id: *id,
            tenant_id: b.tenant.0,
            event_id: b.event.id.to_owned(),
            integration_id: target.integration_id,
            attempt_count: 0,
            series_base: 0,
            created_at: at,
            due_at: at,
            // The first lease (a claim increments the token).
            lease_token: 0,
            lease_expires_at: at + chrono::Duration::milliseconds(*lease),
            integration_name: name,
            settings,
            event_type: b.event.kind.to_owned(),
            occurred_at: b.event.occurred_at,
            data: Json(b.event.data.clone()),
            ordering_key: b.event.ordering_key.map(str::to_owned),
            traceparent: b.event.traceparent.map(str::to_owned),
        });
    }
    handed
}

/// An integration an event of the batch goes to.
#[derive(sqlx::FromRow)]
struct Target {
    ord: i32,
    integration_id: Uuid,
    /// Whether the integration keeps the order per key.
    per_key: Option<bool>,
    /// With `settings`, read when deliveries may be handed over.
    name: Option<String>,
    settings: Option<Json<IntegrationSettings>>,
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
        None => deliveries_of(conn, tenant, id).await,
    }
}
