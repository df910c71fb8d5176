//! Deliveries: the queue and the state machine. Workers claim due rows with a lease, record
//! each attempt in the transaction that moves the delivery on, and return expired leases.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use ricochet_domain::delivery::DeliveryStatus;
use ricochet_domain::integration::IntegrationSettings;
use ricochet_domain::{IntegrationId, TenantId};
use serde_json::Value;
use serde_json::value::RawValue;
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::error::StoreResult;
use crate::settings_cache::{Resolver, SettingsCache};

/// A delivery a worker has leased, with what it needs to make the attempt.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The delivery.
    pub id: Uuid,
    /// Its tenant.
    pub tenant_id: Uuid,
    /// Its event (shared by the event's deliveries handed over together).
    pub event_id: Arc<str>,
    /// Its integration.
    pub integration_id: Uuid,
    /// Attempts recorded so far (this one is number `attempt_count + 1`).
    pub attempt_count: i32,
    /// `attempt_count` when the current attempt series began (0, or where a replay started).
    pub series_base: i32,
    /// When the delivery was made (the stable `webhook-timestamp`).
    pub created_at: DateTime<Utc>,
    /// When this attempt is due (never started earlier).
    pub due_at: DateTime<Utc>,
    /// The lease's fencing token: the attempt is recorded only while the delivery still holds
    /// it (no other claim came after this one).
    pub lease_token: i64,
    /// When the lease ends; an attempt that cannot finish by then is not started.
    pub lease_expires_at: DateTime<Utc>,
    /// The integration's name.
    pub integration_name: Arc<str>,
    /// The integration's settings as of the claim (shared by every delivery claimed at that
    /// version: see [`crate::settings_cache`]).
    pub settings: Arc<IntegrationSettings>,
    /// The event's type.
    pub event_type: Arc<str>,
    /// When the event happened.
    pub occurred_at: DateTime<Utc>,
    /// The event's data, shared by the event's deliveries handed over together (not copied
    /// per delivery).
    pub data: Arc<Value>,
    /// The event's ordering key.
    pub ordering_key: Option<String>,
    /// The `traceparent` its publisher stored (traces exported), which the attempt continues.
    pub traceparent: Option<String>,
}

/// A row of the claim: a [`Claimed`] whose integration's name and settings are given only
/// when its version was not known to the claim.
#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: Uuid,
    tenant_id: Uuid,
    event_id: String,
    integration_id: Uuid,
    attempt_count: i32,
    series_base: i32,
    created_at: DateTime<Utc>,
    due_at: DateTime<Utc>,
    lease_token: i64,
    lease_expires_at: DateTime<Utc>,
    settings_version: i32,
    integration_name: Option<String>,
    settings: Option<crate::integrations::StoredSettings>,
    event_type: String,
    occurred_at: DateTime<Utc>,
    data: Json<Value>,
    ordering_key: Option<String>,
    traceparent: Option<String>,
}

use crate::lanes::{cap_sql, emission_sql, pace_base_sql, paced_starts_sql};

/// For a CTE `$src` of moved deliveries with `integration_id`: how many left in_flight per lane,
/// with the lanes locked in id order (so statements that free lanes never wait in a cycle).
macro_rules! lane_free_sql {
    ($src:literal) => {
        concat!(
            "SELECT l.integration_id, c.n FROM delivery_lanes l
             JOIN (SELECT integration_id, count(*)::int AS n FROM ",
            $src,
            " GROUP BY integration_id) c
                 ON c.integration_id = l.integration_id
             ORDER BY l.integration_id FOR UPDATE OF l"
        )
    };
}

/// The claim statement ([`claim`]), for tests that check how it is planned. Its parameters: the
/// worker, the limit, the grace and the lookahead in milliseconds (text, then three bigints),
/// the fewest deliveries a tenant gets (bigint) and the pacing window in milliseconds (float8).
pub const CLAIM_SQL: &str = concat!(
        "WITH ready AS MATERIALIZED (
             -- Lanes with due work and room, each with its turn in its tenant (the lane served
             -- longest ago first) and when its tenant was last served.
             SELECT l.integration_id, i.tenant_id, l.served_at,
                 row_number() OVER (PARTITION BY i.tenant_id ORDER BY l.served_at, l.integration_id) AS turn,
                 max(l.served_at) OVER (PARTITION BY i.tenant_id) AS tenant_served_at
             FROM delivery_lanes l JOIN integrations i ON i.id = l.integration_id
             CROSS JOIN LATERAL (SELECT ", emission_sql!(), " AS ms) em
             WHERE l.in_flight < ", cap_sql!(), "
               AND (l.paused_until IS NULL OR l.paused_until <= now())
               AND (em.ms IS NULL OR l.tat IS NULL OR l.tat <= now() + make_interval(secs => $6 / 1000.0))
               AND EXISTS (SELECT 1 FROM deliveries d WHERE d.integration_id = l.integration_id
                   AND d.status = 'pending' AND d.next_attempt_at <= now()
                       + CASE WHEN em.ms IS NULL THEN make_interval(secs => $4 / 1000.0) ELSE interval '0' END)
         ), lane AS MATERIALIZED (
             -- Round robin over tenants, then over each tenant's lanes: every tenant's first
             -- turn (the tenant served longest ago first), then every tenant's second, and so
             -- on. The lanes are locked and their gates checked again.
             SELECT l.integration_id, r.tenant_id, ", cap_sql!(), " - l.in_flight AS room, em.ms AS emission_ms, l.tat,
                 -- Whether the worker knows the integration at its version (then its name and
                 -- settings are left out): looked up once a lane, by a scan in C of the array.
                 coalesce(i.version = ($8::int[])[array_position($7::uuid[], l.integration_id)], false) AS known
             FROM (SELECT integration_id, tenant_id FROM ready
                   ORDER BY turn, tenant_served_at, served_at LIMIT $2) r
             JOIN delivery_lanes l ON l.integration_id = r.integration_id
             JOIN integrations i ON i.id = l.integration_id
             CROSS JOIN LATERAL (SELECT ", emission_sql!(), " AS ms) em
             WHERE l.in_flight < ", cap_sql!(), "
               AND (l.paused_until IS NULL OR l.paused_until <= now())
             FOR UPDATE OF l SKIP LOCKED
         ), allow AS (
             -- The batch is shared equally among the tenants (at least $5 each), and a tenant's
             -- share equally among its lanes (at least one each). A rate-limited lane gets no
             -- more starts than fit in the pacing window from its next allowed start (tat) on,
             -- one emission interval apart.
             SELECT integration_id, tenant_id, emission_ms, known, ", pace_base_sql!("tat"), " AS base,
                 least(room, greatest(1, s.share / count(*) OVER (PARTITION BY tenant_id)),
                     CASE WHEN emission_ms IS NULL THEN room
                         ELSE ", paced_starts_sql!("tat", "emission_ms", "$6"), " END) AS n
             FROM lane CROSS JOIN (
                 SELECT greatest(least($5, $2), $2 / nullif(count(DISTINCT tenant_id), 0)) AS share FROM lane
             ) s
         ), picked AS (
             SELECT p.id, p.next_attempt_at, a.integration_id, a.emission_ms, a.base, a.known,
                 row_number() OVER (PARTITION BY a.integration_id ORDER BY p.next_attempt_at, p.id) - 1 AS rn,
                 row_number() OVER (PARTITION BY a.tenant_id ORDER BY p.next_attempt_at, p.id) AS turn
             FROM allow a CROSS JOIN LATERAL (
                 SELECT d.id, d.next_attempt_at FROM deliveries d
                 WHERE d.integration_id = a.integration_id AND d.status = 'pending'
                   AND d.next_attempt_at <= now()
                       + CASE WHEN a.emission_ms IS NULL THEN make_interval(secs => $4 / 1000.0) ELSE interval '0' END
                 ORDER BY d.next_attempt_at
                 LIMIT a.n
                 FOR UPDATE SKIP LOCKED
             ) p
         ), due AS MATERIALIZED (
             SELECT id, integration_id, emission_ms, turn, known,
                 CASE WHEN emission_ms IS NULL THEN next_attempt_at
                     ELSE base + make_interval(secs => rn * emission_ms / 1000.0) END AS start_at
             FROM picked
         ), claimed AS (
             UPDATE deliveries d
             SET status = 'in_flight', leased_by = $1, updated_at = now(), lease_token = d.lease_token + 1,
                 next_attempt_at = due.start_at,
                 lease_expires_at = greatest(now(), due.start_at)
                     + make_interval(secs => (coalesce(", crate::lanes::setting_sql!("i.settings->'requestTimeout'", "1", "300000"), ", 10000) + $3) / 1000.0)
             FROM due JOIN integrations i ON i.id = due.integration_id
             WHERE d.id = due.id
             RETURNING d.id, d.tenant_id, d.event_id, d.integration_id, d.attempt_count, d.series_base, d.created_at,
                       d.next_attempt_at AS due_at, d.lease_token, d.lease_expires_at, i.version AS settings_version,
                       CASE WHEN NOT due.known THEN i.name END AS integration_name,
                       CASE WHEN NOT due.known THEN i.settings END AS settings,
                       due.emission_ms, d.ordering_key, due.turn
         ), counted AS (
             -- The probe of an open circuit makes it half open: no other attempt until it ends.
             UPDATE delivery_lanes l SET in_flight = l.in_flight + c.n, served_at = clock_timestamp(), touched_at = now(),
                 tat = CASE WHEN c.emission_ms IS NULL THEN l.tat
                     ELSE c.last_start + make_interval(secs => c.emission_ms / 1000.0) END,
                 circuit = CASE WHEN l.circuit = 'open' THEN 'half_open' ELSE l.circuit END
             FROM (SELECT integration_id, count(*)::int AS n, max(due_at) AS last_start, max(emission_ms) AS emission_ms
                   FROM claimed GROUP BY integration_id) c
             WHERE l.integration_id = c.integration_id
         )
         -- Interleaved by tenant (each tenant's first, then each one's second...), so a tenant
         -- with many lanes does not fill the front of the worker's queue. Each event is looked
         -- up by its key, one by one (the LIMIT keeps the planner from turning the lookups into
         -- a join that scans every event, which it prefers while the table is small).
         SELECT c.*, e.event_type, e.occurred_at, e.data, e.traceparent
         FROM claimed c CROSS JOIN LATERAL (
             SELECT e.event_type, e.occurred_at, e.data, e.traceparent FROM events e
             WHERE e.tenant_id = c.tenant_id AND e.id = c.event_id LIMIT 1
         ) e
         ORDER BY c.turn, c.due_at",
);

/// Leases about `limit` deliveries due within `lookahead_ms` to `worker`, shared fairly among
/// the tenants and, within a tenant, among the integrations with due work: round robin over
/// tenants (the one served longest ago first), then over each tenant's lanes (the one served
/// longest ago first). Each tenant gets an equal share of the batch (at least `MIN_SHARE`),
/// split equally among its lanes (at least one each), never more than a lane's room under
/// `settings.maxConcurrency`; paused lanes get nothing. Within a lane, earliest first; the
/// rows come interleaved by tenant, so a tenant with many lanes does not fill the front of the
/// worker's queue. A lease lasts from the due time (or now, if later) for the integration's
/// request timeout plus `grace_ms`; one that expires (a killed worker) is returned to pending.
/// Claiming ahead lets a worker start each attempt at its time rather than a round trip after
/// it. One statement, which never waits for a lock (lanes and rows another claim holds are
/// skipped); a claim lost in a database crash only leaves its deliveries pending, so it may be
/// committed without waiting for the disk (the worker's lease pool does). Each integration's
/// name and settings are read once per version: those `settings` knows are left out of the rows.
pub async fn claim(
    db: impl PgExecutor<'_>,
    settings: &SettingsCache,
    worker: &str,
    limit: i64,
    grace_ms: i64,
    lookahead_ms: i64,
) -> StoreResult<Vec<Claimed>> {
    let known = settings.known();
    let rows: Vec<ClaimRow> = sqlx::query_as(CLAIM_SQL)
        .bind(worker)
        .bind(limit)
        .bind(grace_ms)
        .bind(lookahead_ms)
        .bind(MIN_SHARE)
        .bind(PACE_WINDOW_MS)
        .bind(&known.ids)
        .bind(&known.versions)
        .fetch_all(db)
        .await?;
    let mut resolver = Resolver::new(settings, known);
    let mut claimed = Vec::with_capacity(rows.len());
    // Deliveries not attempted, by integration (logged once each, after the rows).
    let mut unusable: Vec<(Uuid, usize)> = Vec::new();
    for row in rows {
        let Some(integration) = resolver.resolve(
            row.integration_id,
            row.settings_version,
            row.integration_name,
            row.settings,
        ) else {
            // Stored settings that no longer parse (the resolver logged them), or a version the
            // claim was given left out (a bug): not attempted. Its lease expires and it is
            // claimed again, until it is dead-lettered as worker_lost; the claim's other
            // deliveries go on.
            match unusable
                .iter_mut()
                .find(|(id, _)| *id == row.integration_id)
            {
                Some((_, n)) => *n += 1,
                None => unusable.push((row.integration_id, 1)),
            }
            continue;
        };
        claimed.push(Claimed {
            id: row.id,
            tenant_id: row.tenant_id,
            event_id: row.event_id.into(),
            integration_id: row.integration_id,
            attempt_count: row.attempt_count,
            series_base: row.series_base,
            created_at: row.created_at,
            due_at: row.due_at,
            lease_token: row.lease_token,
            lease_expires_at: row.lease_expires_at,
            integration_name: integration.name,
            settings: integration.settings,
            event_type: row.event_type.into(),
            occurred_at: row.occurred_at,
            data: Arc::new(row.data.0),
            ordering_key: row.ordering_key,
            traceparent: row.traceparent,
        });
    }
    for (integration, deliveries) in unusable {
        tracing::error!(%integration, deliveries, "claimed deliveries have no usable settings for their integration: not attempted, each runs again after its lease");
    }
    Ok(claimed)
}

/// How far ahead a claim (or a hand-over) gives a rate-limited lane its paced starts, in
/// milliseconds.
pub(crate) const PACE_WINDOW_MS: f64 = 1_000.0;

/// The fewest deliveries a claim gives a tenant with due work and room (the share grows when few
/// tenants have due work, so capacity is not wasted).
const MIN_SHARE: i64 = 4;

/// The reason of a delivery dead-lettered because its lease expired too often.
pub const WORKER_LOST: &str = "worker_lost";

/// A delivery whose lease expired, as [`reap_expired_leases`] left it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Reaped {
    /// The delivery.
    pub id: Uuid,
    /// `pending` again, or `dead_lettered` (reason [`WORKER_LOST`]).
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
    /// Its tenant.
    pub tenant_id: Uuid,
    /// Its event.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// Its integration.
    pub integration_id: Uuid,
    /// The integration's name.
    pub integration_name: String,
    /// Attempts recorded.
    pub attempt_count: i32,
    /// The last status a receiver answered.
    pub last_status_code: Option<i32>,
    /// Its event's ordering key.
    pub ordering_key: Option<String>,
}

/// Returns deliveries whose lease expired to pending, counting the lost lease; one whose
/// lease expired `max_lost` times without a recorded attempt in between is dead-lettered as
/// [`WORKER_LOST`] instead (the caller raises its alert in the same transaction).
pub async fn reap_expired_leases(
    conn: &mut PgConnection,
    max_lost: i32,
) -> StoreResult<Vec<Reaped>> {
    let rows = sqlx::query_as(concat!(
        "WITH expired AS (
             SELECT id FROM deliveries WHERE status = 'in_flight' AND lease_expires_at < now()
             ORDER BY lease_expires_at LIMIT 1000 FOR UPDATE SKIP LOCKED
         ), reaped AS (
             UPDATE deliveries d
             SET lost_leases = d.lost_leases + 1,
                 status = CASE WHEN d.lost_leases + 1 >= $1 THEN 'dead_lettered' ELSE 'pending' END,
                 reason = CASE WHEN d.lost_leases + 1 >= $1 THEN $2 ELSE d.reason END,
                 completed_at = CASE WHEN d.lost_leases + 1 >= $1 THEN now() END,
                 leased_by = NULL, lease_expires_at = NULL, updated_at = now()
             FROM expired WHERE d.id = expired.id
             RETURNING d.id, d.status, d.tenant_id, d.event_id, d.integration_id, d.attempt_count,
                 d.last_status_code, d.ordering_key
         ), freed AS (
             UPDATE delivery_lanes l SET in_flight = greatest(0, l.in_flight - f.n)
             FROM (",
        lane_free_sql!("reaped"),
        ") f WHERE l.integration_id = f.integration_id
         )
         SELECT r.*, e.event_type, i.name AS integration_name
         FROM reaped r
         JOIN events e ON e.tenant_id = r.tenant_id AND e.id = r.event_id
         JOIN integrations i ON i.id = r.integration_id",
    ))
    .bind(max_lost.max(1))
    .bind(WORKER_LOST)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows)
}

/// The earliest time a worker has something to do: the next due pending delivery of a lane
/// with room (after its pause, if paused) or the next lease to expire. Lanes at their cap are
/// left out: the record that frees one wakes the workers.
pub async fn next_wake_at(db: impl PgExecutor<'_>) -> StoreResult<Option<DateTime<Utc>>> {
    let at = sqlx::query_scalar(concat!(
        "SELECT min(t) FROM (
             (SELECT greatest(d.next_attempt_at, l.paused_until,
                      CASE WHEN ", emission_sql!(), " IS NOT NULL THEN l.tat - make_interval(secs => $1 / 1000.0) END) AS t
              FROM delivery_lanes l JOIN integrations i ON i.id = l.integration_id
              CROSS JOIN LATERAL (SELECT next_attempt_at FROM deliveries d
                  WHERE d.integration_id = l.integration_id AND d.status = 'pending'
                  ORDER BY next_attempt_at LIMIT 1) d
              WHERE l.in_flight < ", cap_sql!(), ")
             UNION ALL
             (SELECT lease_expires_at FROM deliveries WHERE status = 'in_flight' ORDER BY lease_expires_at LIMIT 1)
         ) s",
    ))
    .bind(PACE_WINDOW_MS)
    .fetch_one(db)
    .await?;
    Ok(at)
}

/// Where a delivery goes after an attempt.
#[derive(Debug, Clone)]
pub enum Transition {
    /// Delivered.
    Succeeded,
    /// Another attempt at this time (paused instead if the integration is now disabled,
    /// cancelled if it was deleted).
    Retry(DateTime<Utc>),
    /// No further attempt, for this reason.
    DeadLetter(String),
}

/// One attempt as recorded in the log.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    /// The attempt's id (UUIDv7 of its start).
    pub id: Uuid,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How long it took.
    pub duration_ms: i32,
    /// The status the receiver answered, if any.
    pub status_code: Option<i32>,
    /// Why there is no (good) status: timeout, connect, dns, tls, body, request, status.
    pub error_kind: Option<String>,
    /// Details of the error, templates never resolved.
    pub error_message: Option<String>,
    /// Method sent.
    pub request_method: String,
    /// URL sent (secrets shown as their templates).
    pub request_url: String,
    /// Headers sent (secrets shown as their templates), as a JSON object: written as JSON when
    /// the attempt is made, never built as a map (see [`AttemptRecord::no_headers`]).
    pub request_headers: Box<RawValue>,
    /// Content type of the response.
    pub response_content_type: Option<String>,
    /// The first bytes of the response body.
    pub response_body: Option<String>,
    /// A honoured `Retry-After`, in milliseconds.
    pub retry_after_ms: Option<i64>,
    /// What was wrong with an ignored `Retry-After`.
    pub retry_after_note: Option<String>,
}

impl AttemptRecord {
    /// No headers: the empty JSON object.
    pub fn no_headers() -> Box<RawValue> {
        RawValue::from_string("{}".to_owned()).unwrap_or_else(|_| RawValue::NULL.to_owned())
    }
}

/// One finished attempt to record.
#[derive(Debug, Clone)]
pub struct Finished<'a> {
    /// Its delivery.
    pub delivery: Uuid,
    /// The fencing token of the lease it ran under.
    pub lease_token: i64,
    /// The attempt.
    pub attempt: &'a AttemptRecord,
    /// Where the delivery goes next.
    pub transition: &'a Transition,
}

/// A delivery moved on by [`record_attempts`].
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recorded {
    /// The delivery.
    pub id: Uuid,
    /// The number the attempt was recorded under.
    pub attempt_count: i32,
    /// Its tenant.
    pub tenant_id: Uuid,
    /// Its event.
    pub event_id: String,
    /// Its integration.
    pub integration_id: Uuid,
    /// Its state now: a retry lands as `pending`, or `paused`/`cancelled` if its integration
    /// was disabled or deleted meanwhile.
    pub status: String,
    /// Its ordering key (for an integration keeping the order per key, the caller promotes
    /// the next delivery of the key once this one is done).
    pub ordering_key: Option<String>,
}

/// Records a batch of attempts and moves their deliveries on, in one statement (atomic on its
/// own, so it needs no transaction), for those whose lease `worker` still holds with the same
/// fencing token (after a lost lease another claim owns the delivery, even if it is this
/// worker's own, and that result is dropped). Returns the deliveries
/// moved on; when any is `pending` again, the caller wakes the workers after the commit.
pub async fn record_attempts(
    conn: &mut PgConnection,
    worker: &str,
    finished: &[Finished<'_>],
) -> StoreResult<Vec<Recorded>> {
    let mut statuses = Vec::with_capacity(finished.len());
    let mut next_ats: Vec<Option<DateTime<Utc>>> = Vec::with_capacity(finished.len());
    let mut reasons: Vec<Option<&str>> = Vec::with_capacity(finished.len());
    for f in finished {
        let (status, next_at, reason) = match f.transition {
            Transition::Succeeded => (DeliveryStatus::Succeeded.as_str(), None, None),
            Transition::Retry(at) => (DeliveryStatus::Pending.as_str(), Some(*at), None),
            Transition::DeadLetter(reason) => (
                DeliveryStatus::DeadLettered.as_str(),
                None,
                Some(reason.as_str()),
            ),
        };
        statuses.push(status);
        next_ats.push(next_at);
        reasons.push(reason);
    }
    let column = |pick: &dyn Fn(&AttemptRecord) -> Option<&str>| {
        finished.iter().map(|f| pick(f.attempt)).collect::<Vec<_>>()
    };
    let moved: Vec<Recorded> = sqlx::query_as(
        "WITH input AS (
             SELECT * FROM unnest($2::uuid[], $3::text[], $4::timestamptz[], $5::int[], $6::text[],
                 $7::uuid[], $8::timestamptz[], $9::int[], $10::text[], $11::text[], $12::text[], $13::text[],
                 $14::jsonb[], $15::text[], $16::text[], $17::bigint[], $18::text[], $19::bigint[])
                 AS t(id, status, next_at, status_code, reason,
                      attempt_id, started_at, duration_ms, error_kind, error_message, request_method, request_url,
                      request_headers, response_content_type, response_body, retry_after_ms, retry_after_note,
                      lease_token)
         ), moved AS (
             UPDATE deliveries d
             SET status = CASE WHEN input.status = 'pending' THEN
                     (SELECT CASE WHEN i.deleted_at IS NOT NULL THEN 'cancelled' WHEN NOT i.enabled THEN 'paused' ELSE 'pending' END
                      FROM integrations i WHERE i.id = d.integration_id)
                     ELSE input.status END,
                 attempt_count = d.attempt_count + 1, lost_leases = 0,
                 next_attempt_at = COALESCE(input.next_at, d.next_attempt_at),
                 leased_by = NULL, lease_expires_at = NULL,
                 last_status_code = input.status_code, reason = input.reason, updated_at = now(),
                 completed_at = CASE WHEN input.status IN ('succeeded', 'dead_lettered') THEN now() END
             FROM input
             -- Only a delivery in flight has a lease holder. Deliberately no condition on
             -- status: it would let the planner pick the in-flight partial index from stale
             -- statistics and join every in-flight row with the input (measured at 20 ms a
             -- batch) rather than look each id up by primary key.
             WHERE d.id = input.id AND d.leased_by = $1 AND d.lease_token = input.lease_token
             RETURNING d.id, d.attempt_count, d.tenant_id, d.event_id, d.integration_id, d.status,
                 input.attempt_id, input.started_at, input.duration_ms, input.status AS outcome_status,
                 input.status_code, input.error_kind, input.error_message, input.request_method,
                 input.request_url, input.request_headers, input.response_content_type,
                 input.response_body, input.retry_after_ms, input.retry_after_note, input.next_at,
                 d.ordering_key
         ), logged AS (
             INSERT INTO attempts (id, delivery_id, tenant_id, integration_id, event_id, attempt_number, started_at,
                 duration_ms, outcome, status_code, error_kind, error_message, request_method, request_url,
                 request_headers, response_content_type, response_body, retry_after_ms, retry_after_note, next_attempt_at)
             SELECT m.attempt_id, m.id, m.tenant_id, m.integration_id, m.event_id, m.attempt_count, m.started_at,
                 m.duration_ms, CASE WHEN m.outcome_status = 'succeeded' THEN 'succeeded' ELSE 'failed' END, m.status_code,
                 m.error_kind, m.error_message, m.request_method, m.request_url, m.request_headers,
                 m.response_content_type, m.response_body, m.retry_after_ms, m.retry_after_note,
                 CASE WHEN m.outcome_status = 'pending' AND m.status = 'pending' THEN m.next_at END
             FROM moved m
         ), rolled AS (
             -- The stats rollups (see the rollups migrations): one row per integration, minute
             -- and status code of these attempts, with a histogram of their durations.
             INSERT INTO attempt_rollups (integration_id, period_start, status_code, attempts, succeeded,
                 duration_ms_sum, last_success_at, last_failure_at, buckets, counts)
             SELECT integration_id, minute, code, sum(n)::integer, sum(ok)::integer, sum(ms)::bigint, max(ls), max(lf),
                 CASE WHEN code = 0 THEN '{}' ELSE array_agg(bucket ORDER BY bucket) END,
                 CASE WHEN code = 0 THEN '{}' ELSE array_agg(n::integer ORDER BY bucket) END
             FROM (SELECT m.integration_id, date_bin('1 minute', m.started_at, 'epoch') AS minute,
                       coalesce(m.status_code, 0) AS code, attempt_duration_bucket(m.duration_ms) AS bucket,
                       count(*) AS n, count(*) FILTER (WHERE m.outcome_status = 'succeeded') AS ok,
                       sum(m.duration_ms) AS ms,
                       max(m.started_at) FILTER (WHERE m.outcome_status = 'succeeded') AS ls,
                       max(m.started_at) FILTER (WHERE m.outcome_status IS DISTINCT FROM 'succeeded') AS lf
                   FROM moved m GROUP BY 1, 2, 3, 4) b
             GROUP BY 1, 2, 3
         )
         SELECT m.id, m.attempt_count, m.tenant_id, m.event_id, m.integration_id, m.status, m.ordering_key
         FROM moved m",
    )
    .bind(worker)
    .bind(finished.iter().map(|f| f.delivery).collect::<Vec<_>>())
    .bind(&statuses)
    .bind(&next_ats)
    .bind(finished.iter().map(|f| f.attempt.status_code).collect::<Vec<_>>())
    .bind(&reasons)
    .bind(finished.iter().map(|f| f.attempt.id).collect::<Vec<_>>())
    .bind(finished.iter().map(|f| f.attempt.started_at).collect::<Vec<_>>())
    .bind(finished.iter().map(|f| f.attempt.duration_ms).collect::<Vec<_>>())
    .bind(column(&|a| a.error_kind.as_deref()))
    .bind(column(&|a| a.error_message.as_deref()))
    .bind(column(&|a| Some(a.request_method.as_str())))
    .bind(column(&|a| Some(a.request_url.as_str())))
    .bind(finished.iter().map(|f| Json(&f.attempt.request_headers)).collect::<Vec<_>>())
    .bind(column(&|a| a.response_content_type.as_deref()))
    .bind(column(&|a| a.response_body.as_deref()))
    .bind(finished.iter().map(|f| f.attempt.retry_after_ms).collect::<Vec<_>>())
    .bind(column(&|a| a.retry_after_note.as_deref()))
    .bind(finished.iter().map(|f| f.lease_token).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    Ok(moved)
}

/// A delivery as the API shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delivery {
    /// Its id.
    pub id: Uuid,
    /// Its event.
    pub event_id: String,
    /// Its integration.
    pub integration_id: Uuid,
    /// Its state.
    pub status: String,
    /// Attempts recorded.
    pub attempt_count: i32,
    /// When the next attempt is due (while pending).
    pub next_attempt_at: DateTime<Utc>,
    /// The last status code a receiver answered.
    pub last_status_code: Option<i32>,
    /// Why it was dead-lettered.
    pub reason: Option<String>,
    /// How often it was replayed from the dead-letter queue.
    pub replay_count: i32,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it succeeded or was dead-lettered.
    pub completed_at: Option<DateTime<Utc>>,
    /// Its event's ordering key.
    pub ordering_key: Option<String>,
}

/// One delivery of `tenant`.
pub async fn get_delivery(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: Uuid,
) -> StoreResult<Option<Delivery>> {
    let row = sqlx::query_as(
        "SELECT id, event_id, integration_id, status, attempt_count, next_attempt_at, last_status_code, reason,
                replay_count, created_at, updated_at, completed_at, ordering_key
         FROM deliveries WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.0)
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

/// Parks an integration's pending deliveries (it was disabled) or resumes its parked ones (it
/// was enabled), in the caller's transaction.
pub async fn set_integration_paused(
    conn: &mut PgConnection,
    tenant: TenantId,
    integration: IntegrationId,
    paused: bool,
) -> StoreResult<u64> {
    // The statuses are written out, not bound: a partial index (deliveries_lane_due_idx for
    // pending rows, deliveries_paused_idx for paused ones) is usable only when the statement
    // names its status.
    let statement = if paused {
        "UPDATE deliveries SET status = 'paused', updated_at = now()
         WHERE tenant_id = $1 AND integration_id = $2 AND status = 'pending'"
    } else {
        "UPDATE deliveries SET status = 'pending', updated_at = now()
         WHERE tenant_id = $1 AND integration_id = $2 AND status = 'paused'"
    };
    let done = sqlx::query(statement)
        .bind(tenant.0)
        .bind(integration.0)
        .execute(&mut *conn)
        .await?;
    if !paused && done.rows_affected() > 0 {
        crate::wake::wake_workers(&mut *conn).await?;
    }
    Ok(done.rows_affected())
}

/// Cancels an integration's deliveries that wait (it was deleted), blocked ones too. Attempts in flight finish
/// and are recorded, then stop.
pub async fn cancel_for_integration(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    integration: IntegrationId,
) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE deliveries SET status = 'cancelled', updated_at = now(), completed_at = now()
         WHERE tenant_id = $1 AND integration_id = $2 AND status IN ('pending', 'paused', 'blocked')",
    )
    .bind(tenant.0)
    .bind(integration.0)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Returns deliveries a worker had claimed but will not start to pending. Each is given as
/// (id, lease token) and released only under that lease: a stale claim never releases a newer
/// one of the same worker (which would let the delivery be claimed and sent twice).
pub async fn release(
    conn: &mut PgConnection,
    worker: &str,
    leases: &[(Uuid, i64)],
) -> StoreResult<u64> {
    let (ids, tokens): (Vec<Uuid>, Vec<i64>) = leases.iter().copied().unzip();
    let released: i64 = sqlx::query_scalar(concat!(
        "WITH released AS (
             UPDATE deliveries d SET status = 'pending', leased_by = NULL, lease_expires_at = NULL, updated_at = now()
             FROM unnest($1::uuid[], $3::bigint[]) AS l(id, lease_token)
             WHERE d.id = l.id AND d.lease_token = l.lease_token AND d.leased_by = $2
               AND d.status = 'in_flight'
             RETURNING d.integration_id
         ), freed AS (
             UPDATE delivery_lanes l SET in_flight = greatest(0, l.in_flight - f.n)
             FROM (", lane_free_sql!("released"), ") f WHERE l.integration_id = f.integration_id
         )
         SELECT count(*) FROM released",
    ))
    .bind(ids)
    .bind(worker)
    .bind(tokens)
    .fetch_one(&mut *conn)
    .await?;
    let released = u64::try_from(released).unwrap_or(0);
    if released > 0 {
        crate::wake::wake_workers(&mut *conn).await?;
    }
    Ok(released)
}
