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
    /// The delivery's id.
    pub id: Uuid,
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

/// A hand-over offered with a publish: the worker it goes to, its room, and the integrations'
/// settings it already knows.
#[derive(Debug, Clone, Copy)]
pub struct HandOver<'a> {
    /// How many deliveries may be written leased to the worker (the room reserved for them).
    pub room: usize,
    /// The worker they are leased to.
    pub worker: &'a str,
    /// Added to an integration's request timeout to make a lease.
    pub lease_grace_ms: i64,
    /// The settings known, left out of the statement's rows.
    pub settings: &'a SettingsCache,
    /// The lane slots this process holds for hand-overs, per integration (each at most once):
    /// a delivery is written leased only with one, which it then keeps, at the slot's start on
    /// a rate-limited lane. See `ricochet_runtime::credits`.
    pub credits: &'a [crate::lanes::Credit],
}

/// A route as [`write`] reads it: one integration a kind of event of the batch goes to; or,
/// in the statement's other rows, an event it created.
#[derive(sqlx::FromRow)]
struct Row {
    kind: Option<i32>,
    integration_id: Option<Uuid>,
    per_key: Option<bool>,
    version: Option<i32>,
    name: Option<String>,
    settings: Option<crate::integrations::StoredSettings>,
    tenant_id: Option<Uuid>,
    id: Option<String>,
    at: Option<DateTime<Utc>>,
    leased: Option<Vec<Uuid>>,
    starts: Option<Vec<DateTime<Utc>>>,
    open: Option<bool>,
    want_ids: Option<Vec<Uuid>>,
    want_counts: Option<Vec<i32>>,
}

/// The kinds of event in a batch: each distinct (tenant, patterns), which route alike, and
/// each event's kind (an index into them). The statement looks each kind up once, however
/// many of the batch's events share it (a batch is mostly of a few types).
pub(crate) fn kinds<'a>(batch: &'a [BatchEvent<'a>]) -> (Vec<(Uuid, &'a [String])>, Vec<usize>) {
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

/// Each kind's binding patterns, as a statement binds them: (kind, pattern, tenant) arrays.
pub(crate) fn patterns_of<'a>(
    kinds: &[(Uuid, &'a [String])],
) -> (Vec<i32>, Vec<&'a str>, Vec<Uuid>) {
    let (mut pattern_kinds, mut patterns, mut tenants) = (Vec::new(), Vec::new(), Vec::new());
    for (kind, (tenant, kind_patterns)) in kinds.iter().enumerate() {
        for pattern in kind_patterns.iter() {
            pattern_kinds.push(bound(kind));
            patterns.push(pattern.as_str());
            tenants.push(*tenant);
        }
    }
    (pattern_kinds, patterns, tenants)
}

/// A kind's index as a statement binds it (a batch has at most a few thousand).
fn bound(kind: usize) -> i32 {
    i32::try_from(kind).unwrap_or(i32::MAX)
}

/// Each event's place in a batch.
fn ords(batch: &[BatchEvent<'_>]) -> Vec<i32> {
    (0..batch.len())
        .map(|i| i32::try_from(i).unwrap_or(i32::MAX))
        .collect()
}

/// The ids of a batch's deliveries: `base` plus the delivery's place (from 1) in (event,
/// integration) order. `base` is a version 7 UUID (time-ordered, so a key's deliveries are
/// ordered as their batches were written) with its 32 random low bits cleared, so the places
/// of any batch fit below the next base.
#[derive(Debug, Clone, Copy)]
pub struct IdBase(u128);

impl IdBase {
    /// A new base, after every earlier one of this process.
    #[must_use]
    pub fn now() -> Self {
        IdBase(Uuid::now_v7().as_u128() & !u128::from(u32::MAX))
    }

    /// The id of the delivery at `place` (from 1).
    fn id(self, place: usize) -> Uuid {
        Uuid::from_u128(self.0 | u128::from(u32::try_from(place).unwrap_or(u32::MAX)))
    }

    /// The base as the statement binds it: its high and low 64 bits.
    fn halves(self) -> (i64, i64) {
        // Bit-for-bit reinterpretations: the statement reassembles the bytes.
        let high = i64::from_be_bytes(((self.0 >> 64) as u64).to_be_bytes());
        let low = i64::from_be_bytes((self.0 as u64).to_be_bytes());
        (high, low)
    }
}

/// What publishing a batch wrote.
#[derive(Debug, Default)]
pub struct Written {
    /// The enabled, live integrations each event goes to, in (event, integration) order, each
    /// with the id of its delivery (written only for the events created).
    pub targets: Vec<Target>,
    /// The events created, as (tenant, id); the batch's others were published before.
    pub created: Vec<(Uuid, String)>,
    /// When they were, if any was.
    pub at: Option<DateTime<Utc>>,
    /// The deliveries written leased to the hand-over's worker, in id order, each with a lane
    /// slot of [`HandOver::credits`], and when each starts (when it was written, or the start
    /// its rate-limited lane gave its slot).
    pub leased: Vec<(Uuid, DateTime<Utc>)>,
    /// With a hand-over, whether each integration of the batch could take one now (its lane
    /// looked open: closed circuit, no pause, within its cap).
    pub open: HashMap<Uuid, bool>,
    /// With a hand-over, how many deliveries of the events created each integration could have
    /// taken leased with slots enough (those written leased included).
    pub wanted: Vec<(Uuid, i32)>,
}

/// Publishes, in one statement atomic on its own, each event of `batch` with the list of its
/// deliveries, and one delivery per enabled, live integration bound by one of its patterns
/// (looked up once per kind of event, see [`kinds`]) for each event created. A repeated id,
/// even one repeated within the batch (the first of the batch wins), makes nothing new.
///
/// A delivery is written `blocked` when it is keyed and its integration keeps the order per
/// key (it waits its turn, promoted after the commit), `pending` otherwise; except, with a
/// `hand_over`, those among the first `hand_over.room` of the batch to integrations whose lane
/// looks open (closed circuit, no pause, within its in-flight cap; read without a lock) and
/// for which the hand-over holds lane slots (its `credits`, taken before by
/// [`crate::lanes::take_credits`]): up to that many per integration are written leased to its
/// worker (`in_flight`, with a lease of the integration's request timeout plus the grace),
/// each keeping one slot, and on a rate-limited lane starting at the slot's start (slots held
/// without starts are not spent on a lane that paces them now). So the publish touches no
/// lane, and no lane is locked through its flush. A hand-over reads the names and settings of the integrations at versions
/// it does not know (a delivery handed over carries them).
///
/// The statement takes no lock a caller's transaction would keep: it may run inside one
/// (such as a dead letter's recording with its alert, without a hand-over).
pub async fn write(
    conn: &mut PgConnection,
    batch: &[BatchEvent<'_>],
    hand_over: Option<HandOver<'_>>,
) -> StoreResult<Written> {
    let (kinds, event_kinds) = kinds(batch);
    let (pattern_kinds, patterns, pattern_tenants) = patterns_of(&kinds);
    let room = hand_over.map_or(0, |h| i64::try_from(h.room).unwrap_or(i64::MAX));
    let known = hand_over.map(|h| h.settings.known()).unwrap_or_default();
    let credits = hand_over.map_or(&[][..], |h| h.credits);
    let base = IdBase::now();
    let (base_high, base_low) = base.halves();
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "WITH input AS (
             SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::jsonb[], $7::text[], $8::text[], $9::int[])
                 AS t(ord, tenant_id, id, event_type, occurred_at, data, traceparent, ordering_key, kind)
         ), routes AS MATERIALIZED (
             -- Each kind's integrations. A hand-over reads the names and settings of those at
             -- versions it does not know, and whether each lane looks open to it now.
             SELECT DISTINCT ON (w.kind, b.integration_id) w.kind, b.integration_id, i.version,
                 CASE WHEN $13 > 0 AND k.id IS NULL THEN i.name END AS name,
                 CASE WHEN $13 > 0 AND k.id IS NULL THEN i.settings END AS settings,
                 i.settings->>'ordering' = 'perKey' AS per_key,
                 -- The lane's count holds the slots the hand-over has: within the cap, they may
                 -- be spent; on a lane that paces its starts, only those given a start.
                 coalesce($13 > 0 AND l.circuit = 'closed' AND (l.paused_until IS NULL OR l.paused_until <= now())
                     AND l.in_flight <= ",
        crate::lanes::cap_sql!(),
        ", false) AS open,
                 CASE WHEN c.emission_ms IS NULL AND ",
        crate::lanes::emission_sql!(),
        " IS NOT NULL THEN 0 ELSE coalesce(c.n, 0) END AS credit, c.base, c.emission_ms,
                 (coalesce(",
        crate::lanes::setting_sql!("i.settings->'requestTimeout'", "1", "300000"),
        ", 10000) + $15)::bigint AS lease_ms
             FROM unnest($10::int[], $11::text[], $12::uuid[]) AS w(kind, pattern, tenant_id)
             JOIN event_bindings b ON b.tenant_id = w.tenant_id AND b.event_type = w.pattern
             JOIN integrations i ON i.id = b.integration_id AND i.enabled AND i.deleted_at IS NULL
             LEFT JOIN delivery_lanes l ON $13 > 0 AND l.integration_id = i.id
             LEFT JOIN unnest($16::uuid[], $17::int[]) AS k(id, version) ON k.id = i.id AND k.version = i.version
             LEFT JOIN unnest($20::uuid[], $21::int[], $22::timestamptz[], $23::float8[]) AS c(id, n, base, emission_ms)
                 ON c.id = i.id
             ORDER BY w.kind, b.integration_id
         ), targets AS (
             -- In (event, integration) order, each delivery's id is the base plus its place.
             SELECT w.ord, r.integration_id, r.open, r.credit, r.base, r.emission_ms, r.lease_ms,
                 coalesce(r.per_key, false) AND w.ordering_key IS NOT NULL AS blocked,
                 encode(int8send($18::bigint) || int8send($19::bigint + row_number() OVER (ORDER BY w.ord, r.integration_id)), 'hex')::uuid AS id,
                 row_number() OVER (ORDER BY w.ord, r.integration_id) AS place
             FROM input w JOIN routes r ON r.kind = w.kind
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
         ), leasable AS (
             -- The created events' deliveries the hand-over may take, numbered per integration:
             -- as many as it holds slots for are written leased, the k-th (from 1) of a rate-limited
             -- lane at its slots' base plus k - 1 gaps.
             SELECT t.id, t.integration_id, t.credit, t.base, t.emission_ms,
                 row_number() OVER (PARTITION BY t.integration_id ORDER BY t.id) AS rn
             FROM created c CROSS JOIN LATERAL unnest(c.delivery_ids) AS u(id) JOIN targets t ON t.id = u.id
             WHERE t.place <= $13 AND t.open AND NOT t.blocked
         ), wanted AS (
             SELECT coalesce(array_agg(integration_id), '{}') AS ids, coalesce(array_agg(n), '{}') AS counts
             FROM (SELECT integration_id, count(*)::int AS n FROM leasable GROUP BY integration_id) g
         ), made AS (
             -- A delivery handed over is written leased to the worker, as a claim would lease it;
             -- a keyed one of a perKey integration waits its turn (promoted after the commit).
             INSERT INTO deliveries (id, tenant_id, event_id, integration_id, status, leased_by, next_attempt_at, lease_expires_at, ordering_key)
             SELECT t.id, c.tenant_id, c.id, t.integration_id,
                 CASE WHEN l.leased THEN 'in_flight' WHEN t.blocked THEN 'blocked' ELSE 'pending' END,
                 CASE WHEN l.leased THEN $14::text END,
                 l.start_at,
                 CASE WHEN l.leased THEN greatest(now(), l.start_at) + make_interval(secs => t.lease_ms / 1000.0) END,
                 c.ordering_key
             FROM created c CROSS JOIN LATERAL unnest(c.delivery_ids) AS u(id) JOIN targets t ON t.id = u.id
             LEFT JOIN leasable s ON s.id = t.id
             CROSS JOIN LATERAL (SELECT coalesce(s.rn <= s.credit, false) AS leased,
                 CASE WHEN s.rn <= s.credit AND s.emission_ms IS NOT NULL
                     THEN s.base + make_interval(secs => (s.rn - 1) * s.emission_ms / 1000.0)
                     ELSE now() END AS start_at) l
             RETURNING id, status, next_attempt_at
         )
         SELECT r.kind, r.integration_id, r.per_key, r.version, r.name, r.settings,
             NULL::uuid AS tenant_id, NULL::text AS id, NULL::timestamptz AS at, NULL::uuid[] AS leased,
             NULL::timestamptz[] AS starts, r.open, NULL::uuid[] AS want_ids, NULL::int[] AS want_counts
         FROM routes r
         UNION ALL
         SELECT NULL, NULL, NULL, NULL, NULL, NULL, c.tenant_id, c.id, now(),
             (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM made WHERE status = 'in_flight'),
             (SELECT coalesce(array_agg(next_attempt_at ORDER BY id), '{}') FROM made WHERE status = 'in_flight'),
             NULL, (SELECT ids FROM wanted), (SELECT counts FROM wanted)
         FROM created c",
    ))
    .bind(ords(batch))
    .bind(batch.iter().map(|b| b.tenant.0).collect::<Vec<_>>())
    .bind(batch.iter().map(|b| b.event.id).collect::<Vec<_>>())
    .bind(batch.iter().map(|b| b.event.kind).collect::<Vec<_>>())
    .bind(batch.iter().map(|b| b.event.occurred_at).collect::<Vec<_>>())
    .bind(batch.iter().map(|b| Json(b.event.data)).collect::<Vec<_>>())
    .bind(batch.iter().map(|b| b.event.traceparent).collect::<Vec<_>>())
    .bind(batch.iter().map(|b| b.event.ordering_key).collect::<Vec<_>>())
    .bind(event_kinds.iter().copied().map(bound).collect::<Vec<_>>())
    .bind(&pattern_kinds)
    .bind(&patterns)
    .bind(&pattern_tenants)
    .bind(room)
    .bind(hand_over.map(|h| h.worker))
    .bind(hand_over.map_or(0, |h| h.lease_grace_ms))
    .bind(&known.ids)
    .bind(&known.versions)
    .bind(base_high)
    .bind(base_low)
    .bind(credits.iter().map(|c| c.integration_id).collect::<Vec<_>>())
    .bind(credits.iter().map(|c| c.n).collect::<Vec<_>>())
    .bind(credits.iter().map(|c| c.base).collect::<Vec<_>>())
    .bind(credits.iter().map(|c| c.emission_ms).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    let mut written = Written::default();
    let mut resolver = hand_over.map(|h| Resolver::new(h.settings, known));
    // Each kind's routes, in integration order (the rows come by kind, then integration), as
    // targets whose event place and id are set for each event of the kind.
    let mut by_kind: Vec<Vec<Target>> = kinds.iter().map(|_| Vec::new()).collect();
    for row in rows {
        let (Some(kind), Some(integration_id), Some(version)) =
            (row.kind, row.integration_id, row.version)
        else {
            // An event created.
            if let (Some(tenant), Some(id)) = (row.tenant_id, row.id) {
                written.created.push((tenant, id));
            }
            written.at = written.at.or(row.at);
            if let (Some(leased), Some(starts)) = (row.leased, row.starts)
                && written.leased.is_empty()
            {
                written.leased = leased.into_iter().zip(starts).collect();
            }
            if let (Some(ids), Some(counts)) = (row.want_ids, row.want_counts)
                && written.wanted.is_empty()
            {
                written.wanted = ids.into_iter().zip(counts).collect();
            }
            continue;
        };
        if hand_over.is_some() {
            written
                .open
                .insert(integration_id, row.open.unwrap_or(false));
        }
        // Without them a delivery is not handed over (a stored setting that does not parse).
        let integration = resolver
            .as_mut()
            .and_then(|r| r.resolve(integration_id, version, row.name, row.settings));
        let (name, settings) = integration.map(|v| (v.name, v.settings)).unzip();
        if let Some(list) = usize::try_from(kind)
            .ok()
            .and_then(|kind| by_kind.get_mut(kind))
        {
            list.push(Target {
                ord: 0,
                id: Uuid::nil(),
                integration_id,
                per_key: row.per_key,
                name,
                settings,
            });
        }
    }
    // Every event's kind indexes `kinds`, which `by_kind` follows one for one; the places
    // count from 1 in (event, integration) order, as the statement numbered them.
    written
        .targets
        .reserve_exact(event_kinds.iter().map(|&k| by_kind[k].len()).sum());
    for (ord, &kind) in ords(batch).into_iter().zip(&event_kinds) {
        for t in &by_kind[kind] {
            let id = base.id(written.targets.len() + 1);
            written.targets.push(Target {
                ord,
                id,
                ..t.clone()
            });
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::IdBase;

    #[test]
    fn delivery_ids_follow_their_place_and_every_later_base() {
        let first = IdBase::now();
        let (a, b) = (first.id(1), first.id(2));
        assert!(a < b);
        assert_eq!(a.get_version_num(), 7);
        let next = IdBase::now();
        // A later batch's ids come after every id of an earlier one, however large it was.
        assert!(next.id(1) > first.id(u32::MAX as usize));
        // The statement reassembles the halves into the same bytes.
        let (high, low) = first.halves();
        let mut bytes = high.to_be_bytes().to_vec();
        bytes.extend((low + 1).to_be_bytes());
        assert_eq!(uuid::Uuid::from_slice(&bytes).expect("16 bytes"), a);
    }
}
