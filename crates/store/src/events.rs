//! Publishing: the event and one delivery per enabled integration bound to its type, written
//! by one statement. Planning which deliveries are handed over to a worker, and waking the
//! workers after the commit, is the caller's (`ricochet-runtime`).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use ricochet_domain::TenantId;
use ricochet_domain::integration::IntegrationSettings;
use serde_json::Value;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::error::StoreResult;
use crate::settings_cache::{Resolver, SettingsCache};

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

/// The deliveries of an event published before, in integration order.
pub async fn deliveries_of(
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

/// An integration an event of a batch goes to.
#[derive(Debug, Clone)]
pub struct Target {
    /// The event's place in the batch.
    pub ord: i32,
    /// The integration.
    pub integration_id: Uuid,
    /// Whether the integration keeps the order per key.
    pub per_key: Option<bool>,
    /// The integration's name, read with its settings.
    pub name: Option<Arc<str>>,
    /// The integration's settings, read only for a hand-over (a delivery handed over to a
    /// worker carries them), once per version (see [`crate::settings_cache`]).
    pub settings: Option<Arc<IntegrationSettings>>,
}

/// A hand-over's room, and the integrations' settings its worker already knows.
#[derive(Debug, Clone, Copy)]
pub struct HandOver<'a> {
    /// How many deliveries the worker has room for.
    pub room: usize,
    /// The settings known, left out of the route's rows.
    pub settings: &'a SettingsCache,
}

/// Where a batch goes ([`route`]), and the lane slots taken for its hand-over.
#[derive(Debug, Default)]
pub struct Routes {
    /// The enabled, live integrations each event goes to, in (event, integration) order.
    pub targets: Vec<Target>,
    /// The lane slots taken per integration for deliveries to be written leased; those not
    /// used must be given back with [`crate::lanes::give_back`].
    pub slots: HashMap<Uuid, Slots>,
}

/// The slots a lane granted a hand-over.
#[derive(Debug, Clone, Copy)]
pub struct Slots {
    /// How many deliveries may be written leased.
    pub granted: i32,
    /// On a rate-limited lane, the starts they get: the k-th leased delivery (from 0) starts
    /// at `base + k × emission_ms`.
    pub pacing: Option<Pacing>,
}

/// The starts a rate-limited lane gave a hand-over: one every `emission_ms` from `base` on.
#[derive(Debug, Clone, Copy)]
pub struct Pacing {
    /// The first start.
    pub base: DateTime<Utc>,
    /// The time between two starts, in milliseconds.
    pub emission_ms: f64,
}

/// A route as [`route`] reads it: one integration a kind of event of the batch goes to, with
/// the slots its lane granted the hand-over.
#[derive(sqlx::FromRow)]
struct Routed {
    kind: i32,
    integration_id: Uuid,
    per_key: Option<bool>,
    version: i32,
    name: Option<String>,
    settings: Option<crate::integrations::StoredSettings>,
    granted: Option<i32>,
    base: Option<DateTime<Utc>>,
    emission_ms: Option<f64>,
}

/// The kinds of event in a batch: each distinct (tenant, patterns), which route alike, and
/// each event's kind (an index into them). The route looks each kind up once, however many of
/// the batch's events share it (a batch is mostly of a few types).
fn kinds<'a>(batch: &'a [BatchEvent<'a>]) -> (Vec<(Uuid, &'a [String])>, Vec<usize>) {
    let mut index: HashMap<(Uuid, &[String]), usize> = HashMap::new();
    let mut kinds = Vec::new();
    let event_kinds = batch
        .iter()
        .map(|b| {
            *index.entry((b.tenant.0, b.patterns)).or_insert_with(|| {
                kinds.push((b.tenant.0, b.patterns));
                kinds.len() - 1
            })
        })
        .collect();
    (kinds, event_kinds)
}

/// A kind's index as a statement binds it (a batch has at most a few thousand).
fn bound(kind: usize) -> i32 {
    i32::try_from(kind).unwrap_or(i32::MAX)
}

/// In one statement: the enabled, live integrations each event of `batch` goes to (bound by
/// one of its patterns), in (event, integration) order; and, for a hand-over with room for
/// `hand_over.room` deliveries, their names and settings (a delivery handed over carries them;
/// each integration's read once per version, as `hand_over.settings` keeps them) and
/// slots on their lanes, as a claim takes them ([`crate::deliveries::claim`]): within each
/// integration's `maxConcurrency` across every worker, none while it is paused or its circuit
/// is not closed, and on a rate-limited lane only the starts its pacing window holds, spaced
/// by the rate ([`Slots::pacing`]; the lane's next allowed start moves past them). The first
/// `hand_over` targets may be handed over, but not a keyed delivery to a `perKey` integration
/// (it waits its turn). The slots are taken in a commit of their own that does not wait for
/// the disk (the publish that follows does), so no lane stays locked through a flush: see
/// `no_flush_sql`. Without a hand-over it takes no slots, and leaves the commit of a
/// transaction it runs in as it was.
///
/// Events of one tenant and type route alike: the bindings are looked up, and rows returned,
/// once per kind ([`kinds`]), not once per event.
pub async fn route(
    conn: &mut PgConnection,
    batch: &[BatchEvent<'_>],
    hand_over: Option<HandOver<'_>>,
) -> StoreResult<Routes> {
    let (kinds, event_kinds) = kinds(batch);
    let (mut pattern_kinds, mut patterns, mut pattern_tenants) =
        (Vec::new(), Vec::new(), Vec::new());
    for (kind, (tenant, kind_patterns)) in kinds.iter().enumerate() {
        for pattern in kind_patterns.iter() {
            pattern_kinds.push(bound(kind));
            patterns.push(pattern.as_str());
            pattern_tenants.push(*tenant);
        }
    }
    let keyed: Vec<bool> = batch
        .iter()
        .map(|b| b.event.ordering_key.is_some())
        .collect();
    let room = hand_over.map_or(0, |h| i64::try_from(h.room).unwrap_or(i64::MAX));
    let known = hand_over.map(|h| h.settings.known()).unwrap_or_default();
    let rows: Vec<Routed> = sqlx::query_as(concat!(
        "WITH routes AS MATERIALIZED (
             -- A hand-over reads the names and settings of integrations at versions it does not
             -- know.
             SELECT DISTINCT ON (w.kind, b.integration_id) w.kind, b.integration_id, i.version,
                 CASE WHEN $4 AND k.id IS NULL THEN i.name END AS name,
                 CASE WHEN $4 AND k.id IS NULL THEN i.settings END AS settings,
                 i.settings->>'ordering' = 'perKey' AS per_key
             FROM unnest($1::int[], $2::text[], $3::uuid[]) AS w(kind, pattern, tenant_id)
             JOIN event_bindings b ON b.tenant_id = w.tenant_id AND b.event_type = w.pattern
             JOIN integrations i ON i.id = b.integration_id AND i.enabled AND i.deleted_at IS NULL
             LEFT JOIN unnest($8::uuid[], $9::int[]) AS k(id, version) ON k.id = i.id AND k.version = i.version
             ORDER BY w.kind, b.integration_id
         ), want AS (
             -- The batch's targets in (event, integration) order: the first $5 may be handed over.
             SELECT integration_id, count(*)::int AS n
             FROM (SELECT r.integration_id, r.per_key, e.keyed,
                       row_number() OVER (ORDER BY e.ord, r.integration_id) AS place
                   FROM unnest($10::int[], $6::bool[]) WITH ORDINALITY AS e(kind, keyed, ord)
                   JOIN routes r ON r.kind = e.kind AND $5 > 0) r
             WHERE r.place <= $5 AND NOT (r.keyed AND coalesce(r.per_key, false))
             GROUP BY integration_id
         ), locked AS MATERIALIZED (
             -- In id order, like every statement that waits for lanes: none waits in a cycle.
             -- A lane whose circuit is not closed lets only its probe through (claimed): it
             -- takes no hand-over. A rate-limited one takes as many starts as fit in the
             -- pacing window from its next allowed start (tat) on, as the claim gives them.
             SELECT l.integration_id, em.ms AS emission_ms, ",
        crate::lanes::pace_base_sql!("l.tat"),
        " AS base,
                 CASE WHEN l.paused_until > now() OR l.circuit <> 'closed' THEN 0
                     ELSE least(w.n, greatest(0, ",
        crate::lanes::cap_sql!(),
        " - l.in_flight),
                         CASE WHEN em.ms IS NULL THEN w.n
                             ELSE ",
        crate::lanes::paced_starts_sql!("l.tat", "em.ms", "$7"),
        " END) END AS granted
             FROM delivery_lanes l JOIN want w ON w.integration_id = l.integration_id
             JOIN integrations i ON i.id = l.integration_id
             CROSS JOIN LATERAL (SELECT ",
        crate::lanes::emission_sql!(),
        " AS ms) em, ",
        // Only with a hand-over (which runs on its own, outside any transaction): without one
        // the route may run inside a caller's transaction, such as a dead letter's recording
        // with its alert, whose commit must wait for the disk.
        crate::lanes::no_flush_sql!("$4"),
        "
             ORDER BY l.integration_id FOR UPDATE OF l
         ), reserved AS (
             UPDATE delivery_lanes l SET in_flight = l.in_flight + k.granted, touched_at = now(),
                 tat = CASE WHEN k.emission_ms IS NULL THEN l.tat
                     ELSE k.base + make_interval(secs => k.granted * k.emission_ms / 1000.0) END
             FROM locked k WHERE l.integration_id = k.integration_id AND k.granted > 0
             RETURNING l.integration_id, k.granted, k.base, k.emission_ms
         )
         SELECT r.kind, r.integration_id, r.version, r.name, r.settings, r.per_key, s.granted, s.base, s.emission_ms
         FROM routes r LEFT JOIN reserved s ON s.integration_id = r.integration_id
         ORDER BY r.kind, r.integration_id",
    ))
    .bind(&pattern_kinds)
    .bind(&patterns)
    .bind(&pattern_tenants)
    .bind(hand_over.is_some())
    .bind(room)
    .bind(&keyed)
    .bind(crate::deliveries::PACE_WINDOW_MS)
    .bind(&known.ids)
    .bind(&known.versions)
    .bind(event_kinds.iter().copied().map(bound).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    let mut routes = Routes::default();
    let mut resolver = hand_over.map(|h| Resolver::new(h.settings, known));
    // Each kind's routes, in integration order (the rows come by kind, then integration), as
    // targets whose event place is set for each event of the kind.
    let mut by_kind: Vec<Vec<Target>> = kinds.iter().map(|_| Vec::new()).collect();
    for row in rows {
        // Slots are granted per integration: every row of one carries them.
        if let Some(granted) = row.granted {
            let pacing = row
                .base
                .zip(row.emission_ms)
                .map(|(base, emission_ms)| Pacing { base, emission_ms });
            routes
                .slots
                .entry(row.integration_id)
                .or_insert(Slots { granted, pacing });
        }
        // Without them a delivery is not handed over, only written pending.
        let integration = resolver
            .as_mut()
            .and_then(|r| r.resolve(row.integration_id, row.version, row.name, row.settings));
        let (name, settings) = integration.map(|v| (v.name, v.settings)).unzip();
        if let Some(list) = usize::try_from(row.kind)
            .ok()
            .and_then(|kind| by_kind.get_mut(kind))
        {
            list.push(Target {
                ord: 0,
                integration_id: row.integration_id,
                per_key: row.per_key,
                name,
                settings,
            });
        }
    }
    // Every event's kind indexes `kinds`, which `by_kind` follows one for one.
    routes
        .targets
        .reserve_exact(event_kinds.iter().map(|&k| by_kind[k].len()).sum());
    for (ord, &kind) in ords(batch).into_iter().zip(&event_kinds) {
        routes
            .targets
            .extend(by_kind[kind].iter().map(|t| Target { ord, ..t.clone() }));
    }
    Ok(routes)
}

/// Each event's place in a batch.
fn ords(batch: &[BatchEvent<'_>]) -> Vec<i32> {
    (0..batch.len())
        .map(|i| i32::try_from(i).unwrap_or(i32::MAX))
        .collect()
}

/// The deliveries to write with a batch: one per target, in the targets' order.
#[derive(Debug)]
pub struct Planned<'a> {
    /// Where the events go ([`route`]).
    pub targets: &'a [Target],
    /// The id of each target's delivery.
    pub ids: &'a [Uuid],
    /// For each delivery that may be written leased to `worker`: its lease, in ms.
    pub lease_ms: &'a [Option<i64>],
    /// For each delivery that waits its turn on an ordering key (written `blocked`): the key.
    pub blocked_keys: &'a [Option<&'a str>],
    /// The worker leased deliveries go to.
    pub worker: Option<&'a str>,
    /// Lane slots reserved per integration ([`Routes::slots`]): at most that many of its
    /// deliveries that may be leased are, at the starts of a rate-limited one.
    pub slots: &'a HashMap<Uuid, Slots>,
}

/// What publishing a batch wrote.
#[derive(Debug)]
pub struct Written {
    /// The events created, as (tenant, id); the batch's others were published before.
    pub created: Vec<(Uuid, String)>,
    /// When they were, if any was.
    pub at: Option<DateTime<Utc>>,
    /// The deliveries written leased, each with when it starts (now, or the start its
    /// integration's rate limit gave it).
    pub leased: HashMap<Uuid, DateTime<Utc>>,
}

/// Writes, in one statement atomic on its own, each event of `batch` with the list of its
/// deliveries, and the deliveries `planned` of the events created. A repeated id, even one
/// repeated within the batch (the first of the batch wins), makes nothing new. A delivery is
/// written leased (`in_flight`) when it has a lease and its integration a reserved slot left,
/// `blocked` when it waits its turn on a key, `pending` otherwise.
pub async fn write(
    conn: &mut PgConnection,
    batch: &[BatchEvent<'_>],
    planned: &Planned<'_>,
) -> StoreResult<Written> {
    let ords = ords(batch);
    let slot_ids: Vec<Uuid> = planned.slots.keys().copied().collect();
    let slots: Vec<&Slots> = planned.slots.values().collect();
    let rows = sqlx::query_as::<_, (Uuid, String, DateTime<Utc>, Vec<Uuid>, Vec<DateTime<Utc>>)>(
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
             SELECT * FROM unnest($13::uuid[], $14::int[], $17::timestamptz[], $18::float8[])
                 AS t(integration_id, granted, base, emission_ms)
         ), made AS (
             -- A delivery handed over is written leased to the worker, as a claim would lease it:
             -- one of a rate-limited integration at the start its lane gave it (the k-th one k
             -- gaps after the first). A keyed one of a perKey integration waits its turn
             -- (promoted after the commit).
             INSERT INTO deliveries (id, tenant_id, event_id, integration_id, status, leased_by, next_attempt_at, lease_expires_at, ordering_key)
             SELECT o.id, o.tenant_id, o.event_id, o.integration_id,
                 CASE WHEN o.leased THEN 'in_flight' WHEN o.blocked_key IS NOT NULL THEN 'blocked' ELSE 'pending' END,
                 CASE WHEN o.leased THEN $11::text END,
                 o.start_at,
                 CASE WHEN o.leased THEN greatest(now(), o.start_at) + make_interval(secs => o.lease_ms / 1000.0) END,
                 o.ordering_key
             FROM (SELECT o.*, l.leased,
                       CASE WHEN l.leased AND g.emission_ms IS NOT NULL
                           THEN g.base + make_interval(secs => (o.rn - 1) * g.emission_ms / 1000.0)
                           ELSE now() END AS start_at
                   FROM offered o LEFT JOIN granted g ON g.integration_id = o.integration_id
                   CROSS JOIN LATERAL (SELECT o.lease_ms IS NOT NULL AND o.rn <= coalesce(g.granted, 0) AS leased) l) o
             RETURNING id, status, next_attempt_at
         ), leased AS (
             SELECT coalesce(array_agg(id), '{}') AS ids, coalesce(array_agg(next_attempt_at), '{}') AS starts
             FROM made WHERE status = 'in_flight'
         )
         SELECT tenant_id, id, now(), (SELECT ids FROM leased), (SELECT starts FROM leased) FROM created",
    )
    .bind(&ords)
    .bind(batch.iter().map(|b| b.tenant.0).collect::<Vec<_>>())
    .bind(batch.iter().map(|b| b.event.id).collect::<Vec<_>>())
    .bind(batch.iter().map(|b| b.event.kind).collect::<Vec<_>>())
    .bind(batch.iter().map(|b| b.event.occurred_at).collect::<Vec<_>>())
    .bind(batch.iter().map(|b| Json(b.event.data)).collect::<Vec<_>>())
    .bind(planned.targets.iter().map(|t| t.ord).collect::<Vec<_>>())
    .bind(planned.ids)
    .bind(planned.targets.iter().map(|t| t.integration_id).collect::<Vec<_>>())
    .bind(planned.lease_ms)
    .bind(planned.worker)
    .bind(batch.iter().map(|b| b.event.traceparent).collect::<Vec<_>>())
    .bind(&slot_ids)
    .bind(slots.iter().map(|s| s.granted).collect::<Vec<_>>())
    .bind(batch.iter().map(|b| b.event.ordering_key).collect::<Vec<_>>())
    .bind(planned.blocked_keys)
    .bind(slots.iter().map(|s| s.pacing.map(|p| p.base)).collect::<Vec<_>>())
    .bind(slots.iter().map(|s| s.pacing.map(|p| p.emission_ms)).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    let at = rows.first().map(|(_, _, at, _, _)| *at);
    let leased = rows
        .first()
        .map(|(_, _, _, ids, starts)| ids.iter().copied().zip(starts.iter().copied()).collect())
        .unwrap_or_default();
    Ok(Written {
        created: rows.into_iter().map(|(t, id, _, _, _)| (t, id)).collect(),
        at,
        leased,
    })
}
