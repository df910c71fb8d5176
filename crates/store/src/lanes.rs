//! Delivery lanes: each integration's scheduling state (in-flight count, Retry-After pause)
//! and the health the worker keeps there (consecutive failures, last success and failure).

use chrono::{DateTime, Utc};
use ricochet_domain::{IntegrationId, TenantId};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::error::StoreResult;

/// A number of integration `i`'s stored settings, in SQL (numeric): the JSON value at `$path`
/// (an SQL expression such as `i.settings->'maxConcurrency'`) held within `$low` and `$high`,
/// the range a user can save (see `IntegrationSettings::validate`); NULL when it is missing or
/// not a number. Saved settings always fit; a value of the wrong type or beyond every limit
/// comes only from a database edit or a rollback past a version that wrote it, and a cast of
/// it would fail the whole statement, with every other integration's lanes in it.
macro_rules! setting_sql {
    ($path:literal, $low:literal, $high:literal) => {
        concat!(
            "(CASE WHEN jsonb_typeof(",
            $path,
            ") = 'number' THEN least(greatest((",
            $path,
            ")::numeric, ",
            $low,
            "), ",
            $high,
            ") END)"
        )
    };
}
pub(crate) use setting_sql;

/// Integration `i`'s `maxConcurrency`, in SQL (numeric): 10 when it sets none
/// (`DEFAULT_MAX_CONCURRENCY`), 1 to 256 (`MAX_MAX_CONCURRENCY`).
macro_rules! max_concurrency_sql {
    () => {
        concat!(
            "coalesce(",
            $crate::lanes::setting_sql!("i.settings->'maxConcurrency'", "1", "256"),
            ", 10)"
        )
    };
}
pub(crate) use max_concurrency_sql;

/// The in-flight cap in force on lane `l` of integration `i`, in SQL: settings.maxConcurrency
/// scaled by the lane's rate factor (at least 1), and 1 while the circuit is not closed (the
/// probe).
macro_rules! cap_sql {
    () => {
        concat!(
            "(CASE WHEN l.circuit <> 'closed' THEN 1
              ELSE greatest(1, floor(",
            $crate::lanes::max_concurrency_sql!(),
            " * l.rate_factor))::int END)"
        )
    };
}
pub(crate) use cap_sql;

/// The configured rate limit of integration `i`, in requests per second, in SQL; NULL without one.
macro_rules! configured_rate_sql {
    () => {
        concat!(
            "(",
            $crate::lanes::setting_sql!("i.settings->'rateLimit'->'requests'", "1", "100000"),
            " / CASE i.settings->'rateLimit'->>'per' WHEN 'second' THEN 1 WHEN 'minute' THEN 60 END)::float8"
        )
    };
}

pub(crate) use configured_rate_sql;

/// The time between two starts on lane `l` of integration `i`, in milliseconds, in SQL: under
/// the lower of its configured rate limit and the rate learned from its receiver; NULL without
/// either.
macro_rules! emission_sql {
    () => {
        concat!(
            "greatest(1000.0 / nullif(",
            $crate::lanes::configured_rate_sql!(),
            ", 0), 1000.0 / l.learned_rate)::float8"
        )
    };
}
pub(crate) use emission_sql;

/// The first start a rate-limited lane may give now, in SQL, from its next allowed start
/// (`$tat`, an SQL expression): that start, or now if it has passed.
macro_rules! pace_base_sql {
    ($tat:literal) => {
        concat!("greatest(now(), coalesce(", $tat, ", now()))")
    };
}
pub(crate) use pace_base_sql;

/// How many starts a rate-limited lane may give within the pacing window, in SQL: one every
/// `$ms` milliseconds from [`pace_base_sql`] (of `$tat`) up to now plus `$window` milliseconds
/// (`$tat`, `$ms` and `$window` are SQL expressions). The claim and the publisher's hand-over
/// both pace a lane by it, and move its next allowed start past the starts they take.
macro_rules! paced_starts_sql {
    ($tat:literal, $ms:literal, $window:literal) => {
        concat!(
            "greatest(0, 1 + floor(extract(epoch FROM now() + make_interval(secs => ",
            $window,
            " / 1000.0) - ",
            $crate::lanes::pace_base_sql!($tat),
            ") * 1000.0 / ",
            $ms,
            "))::int"
        )
    };
}
pub(crate) use paced_starts_sql;

/// Makes the statement's transaction commit without waiting for the disk, in SQL (a `FROM`
/// item): lane counts are not worth a flush, and a lane lock held through one would make every
/// statement of the integration wait in line for the disk. See the lanes migration for why a
/// count lost in a crash is safe.
macro_rules! no_flush_sql {
    () => {
        "(SELECT set_config('synchronous_commit', 'off', true)) AS no_flush"
    };
}

/// An integration's delivery health, as the worker last recorded it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Health {
    /// Attempts in flight now (claimed, handed over or running), across every worker.
    pub in_flight: i32,
    /// Until when no attempt starts (a receiver's Retry-After), while that is in the future.
    pub paused_until: Option<DateTime<Utc>>,
    /// Why it is paused, while it is.
    pub pause_reason: Option<String>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    /// When the last successful attempt started.
    pub last_success_at: Option<DateTime<Utc>>,
    /// When the last failed attempt started.
    pub last_failure_at: Option<DateTime<Utc>>,
    /// Since when every attempt has failed.
    pub failing_since: Option<DateTime<Utc>>,
    /// The circuit: `closed`, `open` or `half_open`.
    pub circuit: String,
    /// The in-flight cap in force.
    pub effective_max_concurrency: i32,
    /// The rate limit in force, per second (none without a rate limit).
    pub effective_rate_per_second: Option<f64>,
}

/// The health of `tenant`'s live integration `id`.
pub async fn get_health(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: IntegrationId,
) -> StoreResult<Option<Health>> {
    let row = sqlx::query_as(concat!(
        "SELECT l.in_flight,
                CASE WHEN l.paused_until > now() THEN l.paused_until END AS paused_until,
                CASE WHEN l.paused_until > now() THEN l.pause_reason END AS pause_reason,
                l.consecutive_failures, l.last_success_at, l.last_failure_at, l.failing_since, l.circuit,
                ", cap_sql!(), " AS effective_max_concurrency,
                1000.0 / ", emission_sql!(), " AS effective_rate_per_second
         FROM delivery_lanes l JOIN integrations i ON i.id = l.integration_id
         WHERE i.tenant_id = $1 AND i.id = $2 AND i.deleted_at IS NULL",
    ))
    .bind(tenant.0)
    .bind(id.0)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

/// Lane slots held for the hand-overs of one integration ([`take_credits`]), or lent to a
/// publish ([`crate::events::HandOver::credits`]).
#[derive(Debug, Clone, Copy, PartialEq, sqlx::FromRow)]
pub struct Credit {
    /// The integration.
    pub integration_id: Uuid,
    /// How many slots.
    pub n: i32,
    /// On a lane that paces its starts (a rate limit, configured or learned): the first slot's
    /// start; the k-th (from 0) starts `k × emission_ms` later.
    pub base: Option<DateTime<Utc>>,
    /// On such a lane, the time between two starts, in milliseconds.
    pub emission_ms: Option<f64>,
}

/// The end of a statement taking lane slots for hand-overs (see [`take_credits`]), after a
/// `want` CTE of (integration_id, n), with the pacing window in milliseconds at `$window` (a
/// placeholder): it selects the [`Credit`]s of the lanes that granted some.
macro_rules! take_slots_sql {
    ($window:literal) => {
        concat!(
            "locked AS MATERIALIZED (
             -- In id order, like every statement that waits for lanes: none waits in a cycle.
             -- A rate-limited lane grants as many starts as fit in the pacing window from its
             -- next allowed start (tat) on, as the claim gives them.
             SELECT l.integration_id, em.ms AS emission_ms, ",
            pace_base_sql!("l.tat"),
            " AS base,
                 CASE WHEN l.paused_until > now() OR l.circuit <> 'closed' OR NOT i.enabled
                         OR i.deleted_at IS NOT NULL THEN 0
                     ELSE least(w.n, greatest(0, ",
            cap_sql!(),
            " - l.in_flight),
                         CASE WHEN em.ms IS NULL THEN w.n
                             ELSE ",
            paced_starts_sql!("l.tat", "em.ms", $window),
            " END) END AS granted
             FROM delivery_lanes l JOIN want w ON w.integration_id = l.integration_id
             JOIN integrations i ON i.id = l.integration_id
             CROSS JOIN LATERAL (SELECT ",
            emission_sql!(),
            " AS ms) em, ",
            no_flush_sql!(),
            "
             ORDER BY l.integration_id FOR UPDATE OF l
         ), taken AS (
             UPDATE delivery_lanes l SET in_flight = l.in_flight + k.granted, touched_at = now(),
                 tat = CASE WHEN k.emission_ms IS NULL THEN l.tat
                     ELSE k.base + make_interval(secs => k.granted * k.emission_ms / 1000.0) END
             FROM locked k WHERE l.integration_id = k.integration_id AND k.granted > 0
             RETURNING l.integration_id, k.granted AS n,
                 CASE WHEN k.emission_ms IS NOT NULL THEN k.base END AS base, k.emission_ms
         )
         SELECT integration_id, n, base, emission_ms FROM taken"
        )
    };
}

/// Takes lane slots for the hand-overs of this process's publishes (integration, slots
/// wanted): within each integration's `maxConcurrency` across every worker, none while it is
/// paused, disabled or its circuit is not closed, and on a rate-limited lane (configured or
/// learned) only the starts its pacing window holds, spaced by the rate, as a claim takes them
/// ([`crate::deliveries::claim`]; the lane's next allowed start moves past them). Returns the
/// slots granted per integration, which the lane counts as in flight until they are spent on
/// deliveries written leased ([`crate::events::write`]) or given back ([`give_back`]).
/// Commits without waiting for the disk, like every lane count (see `no_flush_sql`): slots
/// taken and then lost to a crash only hold deliveries back until the lane audit recounts the
/// lane, which it does once nothing has touched it for a while; a process gives back slots it
/// has not spent well within that.
pub async fn take_credits(
    conn: &mut PgConnection,
    wanted: &[(Uuid, i32)],
) -> StoreResult<Vec<Credit>> {
    let wanted: Vec<(Uuid, i32)> = wanted.iter().copied().filter(|(_, n)| *n > 0).collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let (ids, counts): (Vec<Uuid>, Vec<i32>) = wanted.into_iter().unzip();
    let granted = sqlx::query_as(concat!(
        "WITH want AS (
             SELECT integration_id, sum(n)::int AS n FROM unnest($1::uuid[], $2::int[]) AS t(integration_id, n)
             GROUP BY integration_id
         ), ",
        take_slots_sql!("$3")
    ))
    .bind(&ids)
    .bind(&counts)
    .bind(crate::deliveries::PACE_WINDOW_MS)
    .fetch_all(&mut *conn)
    .await?;
    Ok(granted)
}

/// Takes lane slots, as [`take_credits`] does, for the integrations a batch about to be
/// published goes to: `per_event` for each of its events bound to one (a process that holds
/// none yet, so that its first publish hands its deliveries over too). One more round trip
/// before the publish, paid only when the process holds no slots at all.
pub async fn take_credits_for(
    conn: &mut PgConnection,
    batch: &[crate::events::BatchEvent<'_>],
    per_event: i32,
) -> StoreResult<Vec<Credit>> {
    let (kinds, event_kinds) = crate::events::kinds(batch);
    let mut events_of_kind = vec![0i32; kinds.len()];
    for kind in event_kinds {
        events_of_kind[kind] = events_of_kind[kind].saturating_add(per_event);
    }
    let (pattern_kinds, patterns, tenants) = crate::events::patterns_of(&kinds);
    let granted = sqlx::query_as(concat!(
        "WITH routes AS (
             SELECT DISTINCT w.kind, b.integration_id
             FROM unnest($1::int[], $2::text[], $3::uuid[]) AS w(kind, pattern, tenant_id)
             JOIN event_bindings b ON b.tenant_id = w.tenant_id AND b.event_type = w.pattern
         ), want AS (
             SELECT r.integration_id, least(sum(k.n), 100000)::int AS n
             FROM routes r JOIN unnest($4::int[]) WITH ORDINALITY AS k(n, kind) ON k.kind = r.kind + 1
             GROUP BY r.integration_id
         ), ",
        take_slots_sql!("$5")
    ))
    .bind(&pattern_kinds)
    .bind(&patterns)
    .bind(&tenants)
    .bind(&events_of_kind)
    .bind(crate::deliveries::PACE_WINDOW_MS)
    .fetch_all(&mut *conn)
    .await?;
    Ok(granted)
}

/// Gives back lane slots taken by [`take_credits`] and not spent (integration, slots).
pub async fn give_back(conn: &mut PgConnection, slots: &[(Uuid, i32)]) -> StoreResult<()> {
    let slots: Vec<(Uuid, i32)> = slots.iter().copied().filter(|(_, n)| *n > 0).collect();
    if slots.is_empty() {
        return Ok(());
    }
    let (ids, counts): (Vec<Uuid>, Vec<i32>) = slots.into_iter().unzip();
    sqlx::query(concat!(
        "WITH back AS (
             SELECT integration_id, sum(n)::int AS n FROM unnest($1::uuid[], $2::int[]) AS t(integration_id, n)
             GROUP BY integration_id
         ), locked AS MATERIALIZED (
             SELECT l.integration_id, b.n FROM delivery_lanes l JOIN back b ON b.integration_id = l.integration_id, ",
        no_flush_sql!(),
        "
             ORDER BY l.integration_id FOR UPDATE OF l
         )
         UPDATE delivery_lanes l SET in_flight = greatest(0, l.in_flight - k.n), touched_at = now()
         FROM locked k WHERE l.integration_id = k.integration_id",
    ))
    .bind(&ids)
    .bind(&counts)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One recorded attempt, as its lane counts it.
#[derive(Debug, Clone, Copy)]
pub struct Settled {
    /// Its integration.
    pub integration_id: Uuid,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Whether it succeeded.
    pub ok: bool,
    /// The receiver's status code, if it answered.
    pub status_code: Option<i32>,
    /// The receiver's Retry-After, in milliseconds (capped where it is parsed).
    pub retry_after_ms: Option<i64>,
}

/// What a [`settle`] changed on one lane that the caller acts on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LaneChange {
    /// The integration.
    pub integration_id: Uuid,
    /// It was at its in-flight cap before (its due deliveries may go now: wake the workers).
    pub was_full: bool,
    /// Its circuit opened (publish `integration.circuit.opened`).
    pub opened: bool,
    /// Its circuit closed (publish `integration.circuit.closed`).
    pub closed: bool,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    /// The cool-down of the circuit that opened, in milliseconds.
    pub cool_down_ms: Option<i64>,
    /// It has failed without a success for longer than its `autoDisableAfter`: disable it.
    pub failing_too_long: bool,
}

/// After attempts' records committed: gives their slots back to their lanes and keeps the
/// integrations' health and protection state: consecutive failures, last success and
/// failure, a pause on a 429 or 503 with Retry-After (which never shrinks), the circuit
/// breaker (opened at the threshold of consecutive failures, re-opened for twice as long by a
/// failed probe, closed by a success), the rate factor (halved by a 429 without Retry-After at
/// most once a second, raised by a tenth by each batch with successes), the rate learned from
/// the receiver (see the learned-rate migration: a slow start when the circuit closes, half
/// the rate the receiver got when 429s repeat, 8% more each second it keeps up), and since when
/// it fails. Returns the lanes whose change the caller acts on (woken, opened, closed, failing
/// too long).
pub async fn settle(conn: &mut PgConnection, attempts: &[Settled]) -> StoreResult<Vec<LaneChange>> {
    if attempts.is_empty() {
        return Ok(Vec::new());
    }
    let changes: Vec<LaneChange> = sqlx::query_as(concat!(
        "WITH input AS (
             SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::bool[], $4::int[], $5::bigint[])
                 AS t(integration_id, started_at, ok, status_code, retry_after_ms)
         ), outcome AS (
             SELECT integration_id, started_at, ok, status_code, retry_after_ms,
                 max(started_at) FILTER (WHERE ok) OVER (PARTITION BY integration_id) AS last_ok_at
             FROM input
         ), health AS (
             SELECT integration_id, count(*)::int AS n, max(last_ok_at) AS last_ok_at,
                 max(started_at) FILTER (WHERE NOT ok) AS last_fail_at,
                 (count(*) FILTER (WHERE NOT ok AND (last_ok_at IS NULL OR started_at > last_ok_at)))::int AS fails_after,
                 min(started_at) FILTER (WHERE NOT ok AND (last_ok_at IS NULL OR started_at > last_ok_at)) AS first_fail_after,
                 max(retry_after_ms) FILTER (WHERE status_code IN (429, 503)) AS pause_ms,
                 max(status_code) FILTER (WHERE status_code IN (429, 503) AND retry_after_ms IS NOT NULL) AS pause_code,
                 bool_or(status_code = 429 AND retry_after_ms IS NULL) AS throttled
             FROM outcome GROUP BY integration_id
         ), locked AS MATERIALIZED (
             -- In id order, like every statement that waits for lanes: none waits in a cycle.
             SELECT l.integration_id, l.in_flight >= ", cap_sql!(), " AS was_full, l.circuit AS old_circuit,
                 l.circuit_opens, l.consecutive_failures AS old_failures, l.failing_since AS old_failing_since,
                 l.learned_rate AS old_learned, l.learned_at AS old_learned_at, l.rate_cut_at AS old_rate_cut_at,
                 l.window_at IS NULL OR l.window_at <= now() - interval '1 second' AS new_window,
                 CASE WHEN l.window_at > now() - interval '1 second' THEN l.last_window_n
                     WHEN l.window_at > now() - interval '2 seconds' THEN l.window_n ELSE 0 END AS prev_n,
                 CASE WHEN l.window_at > now() - interval '1 second' THEN l.window_n ELSE 0 END AS cur_n,
                 ", configured_rate_sql!(), " AS configured_rate,
                 ", max_concurrency_sql!(), "::float8 AS slow_start_rate,
                 coalesce(", setting_sql!("i.settings->'circuitBreaker'->'failureThreshold'", "1", "10000"), ", 10)::int AS threshold,
                 coalesce(", setting_sql!("i.settings->'circuitBreaker'->'coolDown'", "10", "3600000"), ", 30000)::bigint AS cool_down,
                 coalesce(", setting_sql!("i.settings->'circuitBreaker'->'maxCoolDown'", "10", "86400000"), ", 600000)::bigint AS max_cool_down,
                 coalesce(", setting_sql!("i.settings->'autoDisableAfter'", "1000", "31536000000"), ", 432000000)::bigint AS disable_after
             FROM delivery_lanes l JOIN integrations i ON i.id = l.integration_id, ", no_flush_sql!(), "
             WHERE l.integration_id IN (SELECT integration_id FROM health)
             ORDER BY l.integration_id FOR UPDATE OF l
         ), counted AS (
             SELECT k.*, h.n, h.last_ok_at, h.last_fail_at, h.fails_after, h.pause_ms, h.pause_code, h.throttled,
                 CASE WHEN h.last_ok_at IS NOT NULL THEN h.fails_after ELSE k.old_failures + h.fails_after END AS failures,
                 CASE WHEN h.last_ok_at IS NOT NULL THEN h.first_fail_after
                     ELSE coalesce(k.old_failing_since, h.first_fail_after) END AS failing_since
             FROM locked k JOIN health h ON h.integration_id = k.integration_id
         ), decided AS (
             SELECT c.*,
                 (c.old_circuit = 'half_open' AND c.fails_after > 0)
                     OR (c.old_circuit = 'closed' AND c.failures >= c.threshold) AS opened
             FROM counted c
         ), next AS (
             SELECT d.*,
                 NOT d.opened AND d.old_circuit <> 'closed' AND d.last_ok_at IS NOT NULL AS closed,
                 CASE WHEN d.opened THEN least(d.max_cool_down,
                     d.cool_down * power(2, least(d.circuit_opens, 30))::bigint) END AS cool_down_ms,
                 -- The rate the receiver is getting: the last whole window, or this one if more.
                 greatest(d.prev_n, d.cur_n + d.n) AS observed
             FROM decided d
         ), learned AS (
             SELECT x.*,
                 CASE
                     -- Slow start: a receiver back from an outage gets maxConcurrency a second.
                     WHEN x.closed THEN 1
                     -- 429s without Retry-After that repeat (a rate was learned already, or the
                     -- rate factor was cut lately): half what the receiver was getting, at most
                     -- once a second (like the rate factor's cut).
                     WHEN x.throttled AND (x.old_rate_cut_at IS NULL OR x.old_rate_cut_at < now() - interval '1 second')
                         AND (x.old_learned IS NOT NULL OR x.old_rate_cut_at > now() - interval '3 seconds') THEN 2
                     -- The receiver kept up while the learned rate held deliveries back: raise it.
                     WHEN NOT x.throttled AND x.last_ok_at IS NOT NULL AND x.old_learned IS NOT NULL
                         AND (x.old_learned_at IS NULL OR x.old_learned_at < now() - interval '1 second')
                         AND x.prev_n >= floor(0.8 * x.old_learned) THEN 3
                 END AS step
             FROM next x
         )
         UPDATE delivery_lanes l
         SET in_flight = greatest(0, l.in_flight - x.n), touched_at = now(),
             consecutive_failures = x.failures,
             last_success_at = greatest(l.last_success_at, x.last_ok_at),
             last_failure_at = greatest(l.last_failure_at, x.last_fail_at),
             failing_since = x.failing_since,
             circuit = CASE WHEN x.opened THEN 'open' WHEN x.closed THEN 'closed' ELSE l.circuit END,
             circuit_opens = CASE WHEN x.opened THEN l.circuit_opens + 1 WHEN x.closed THEN 0 ELSE l.circuit_opens END,
             pause_reason = CASE
                 WHEN x.opened THEN 'circuit open after ' || x.failures || ' consecutive failures'
                 WHEN x.pause_code IS NOT NULL
                     AND (l.paused_until IS NULL OR l.paused_until < now() + make_interval(secs => x.pause_ms / 1000.0))
                 THEN 'Retry-After on HTTP ' || x.pause_code
                 ELSE l.pause_reason END,
             paused_until = greatest(l.paused_until,
                 CASE WHEN x.opened THEN now() + make_interval(secs => x.cool_down_ms / 1000.0) END,
                 CASE WHEN x.pause_code IS NOT NULL THEN now() + make_interval(secs => x.pause_ms / 1000.0) END),
             rate_factor = CASE
                 WHEN x.throttled AND (l.rate_cut_at IS NULL OR l.rate_cut_at < now() - interval '1 second')
                     THEN greatest(1.0 / 64, l.rate_factor / 2)
                 WHEN x.throttled THEN l.rate_factor
                 WHEN x.last_ok_at IS NOT NULL THEN least(1.0, l.rate_factor * 1.1)
                 ELSE l.rate_factor END,
             rate_cut_at = CASE
                 WHEN x.throttled AND (l.rate_cut_at IS NULL OR l.rate_cut_at < now() - interval '1 second')
                     THEN now() ELSE l.rate_cut_at END,
             learned_rate = CASE x.step
                 WHEN 1 THEN least(coalesce(l.learned_rate, x.slow_start_rate), x.slow_start_rate)
                 WHEN 2 THEN greatest(1.0, least(coalesce(l.learned_rate, x.observed), x.observed) / 2.0)
                 WHEN 3 THEN CASE WHEN l.learned_rate * 1.08 >= x.configured_rate THEN NULL
                     ELSE l.learned_rate * 1.08 END
                 ELSE l.learned_rate END,
             learned_at = CASE WHEN x.step IS NOT NULL THEN now() ELSE l.learned_at END,
             window_at = CASE WHEN x.new_window THEN now() ELSE l.window_at END,
             window_n = x.cur_n + x.n,
             last_window_n = x.prev_n
         FROM learned x
         WHERE l.integration_id = x.integration_id
         RETURNING l.integration_id, x.was_full, x.opened, x.closed, x.failures AS consecutive_failures,
             x.cool_down_ms, coalesce(x.failing_since < now() - make_interval(secs => x.disable_after / 1000.0), false)
                 AS failing_too_long",
    ))
    .bind(attempts.iter().map(|a| a.integration_id).collect::<Vec<_>>())
    .bind(attempts.iter().map(|a| a.started_at).collect::<Vec<_>>())
    .bind(attempts.iter().map(|a| a.ok).collect::<Vec<_>>())
    .bind(attempts.iter().map(|a| a.status_code).collect::<Vec<_>>())
    .bind(attempts.iter().map(|a| a.retry_after_ms).collect::<Vec<_>>())
    .fetch_all(&mut *conn)
    .await?;
    Ok(changes
        .into_iter()
        .filter(|c| c.was_full || c.opened || c.closed || c.failing_too_long)
        .collect())
}

/// Clears an integration's protection state when it is enabled again: its circuit closes,
/// its failures, pause and rate factor are forgotten, so its waiting deliveries go at once.
pub async fn reset(conn: &mut PgConnection, integration: IntegrationId) -> StoreResult<()> {
    sqlx::query(
        "UPDATE delivery_lanes SET circuit = 'closed', circuit_opens = 0, consecutive_failures = 0,
             failing_since = NULL, paused_until = NULL, pause_reason = NULL, rate_factor = 1, rate_cut_at = NULL,
             learned_rate = NULL, learned_at = NULL,
             touched_at = now()
         WHERE integration_id = $1",
    )
    .bind(integration.0)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Recounts lanes whose count was left alone for `quiet` (see the lanes migration); returns
/// how many were wrong.
pub async fn audit(db: impl PgExecutor<'_>, quiet: std::time::Duration) -> StoreResult<i32> {
    let fixed: i32 = sqlx::query_scalar("SELECT delivery_lanes_audit(make_interval(secs => $1))")
        .bind(quiet.as_secs_f64())
        .fetch_one(db)
        .await?;
    Ok(fixed)
}

/// The protection state of every live integration, across tenants, for the metrics sampler.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct Protection {
    /// Enabled integrations whose circuit is closed.
    pub closed: i64,
    /// Enabled integrations whose circuit is open (cooling down, or waiting for its probe).
    pub open: i64,
    /// Enabled integrations whose circuit is half open (its probe is under way).
    pub half_open: i64,
    /// Disabled integrations (by a user, a `410 Gone` or `autoDisableAfter`).
    pub disabled: i64,
    /// Enabled integrations with a closed circuit paused by a receiver's Retry-After.
    pub paused: i64,
    /// Due deliveries held back because their integration's circuit is not closed.
    pub held_circuit: i64,
    /// Due deliveries held back by a receiver's Retry-After pause.
    pub held_paused: i64,
    /// Due deliveries held back because their integration is at its in-flight cap.
    pub held_concurrency: i64,
    /// Due deliveries held back by their integration's rate limit.
    pub held_rate_limit: i64,
}

/// Counts the live integrations by circuit and pause, and the due deliveries each gate holds
/// back (one reason per delivery, the first that applies: circuit, pause, cap, rate limit).
/// One pass over the lanes and one over the due pending rows (`deliveries_lane_due_idx`), like the
/// queue depth: meant for the periodic sampler, not for requests.
pub async fn protection(db: impl PgExecutor<'_>) -> StoreResult<Protection> {
    let row = sqlx::query_as(concat!(
        "WITH lane AS MATERIALIZED (
             SELECT l.integration_id, i.enabled, l.circuit, l.paused_until > now() AS paused,
                 CASE WHEN NOT i.enabled THEN NULL
                      WHEN l.circuit <> 'closed' THEN 'circuit'
                      WHEN l.paused_until > now() THEN 'paused'
                      WHEN l.in_flight >= ",
        cap_sql!(),
        " THEN 'concurrency'
                      WHEN l.tat > now() AND ",
        emission_sql!(),
        " IS NOT NULL THEN 'rate_limit'
                 END AS gate
             FROM delivery_lanes l JOIN integrations i ON i.id = l.integration_id
             WHERE i.deleted_at IS NULL
         ), held AS (
             SELECT g.gate, count(*) AS n
             FROM deliveries d JOIN lane g ON g.integration_id = d.integration_id
             WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND g.gate IS NOT NULL
             GROUP BY g.gate
         )
         SELECT
             count(*) FILTER (WHERE enabled AND circuit = 'closed') AS closed,
             count(*) FILTER (WHERE enabled AND circuit = 'open') AS open,
             count(*) FILTER (WHERE enabled AND circuit = 'half_open') AS half_open,
             count(*) FILTER (WHERE NOT enabled) AS disabled,
             count(*) FILTER (WHERE enabled AND circuit = 'closed' AND paused) AS paused,
             coalesce((SELECT n FROM held WHERE gate = 'circuit'), 0) AS held_circuit,
             coalesce((SELECT n FROM held WHERE gate = 'paused'), 0) AS held_paused,
             coalesce((SELECT n FROM held WHERE gate = 'concurrency'), 0) AS held_concurrency,
             coalesce((SELECT n FROM held WHERE gate = 'rate_limit'), 0) AS held_rate_limit
         FROM lane",
    ))
    .fetch_one(db)
    .await?;
    Ok(row)
}

#[cfg(test)]
mod tests {
    use ricochet_domain::integration::{
        DEFAULT_MAX_CONCURRENCY, DEFAULT_REQUEST_TIMEOUT_MS, MAX_MAX_CONCURRENCY,
        MAX_REQUEST_TIMEOUT_MS,
    };

    /// The SQL reads a stored number within the bounds, and with the default, that saving
    /// checks and the worker uses: a change to one is a change to the other.
    #[test]
    fn the_sql_bounds_stored_numbers_as_saving_does() {
        assert!(
            max_concurrency_sql!().ends_with(&format!(
                "::numeric, 1), {MAX_MAX_CONCURRENCY}) END), {DEFAULT_MAX_CONCURRENCY})"
            )),
            "{}",
            max_concurrency_sql!()
        );
        assert!(
            crate::deliveries::CLAIM_SQL.contains(&format!(
                "(i.settings->'requestTimeout')::numeric, 1), {MAX_REQUEST_TIMEOUT_MS}) END), {DEFAULT_REQUEST_TIMEOUT_MS})"
            )),
            "the claim's lease"
        );
    }
}
