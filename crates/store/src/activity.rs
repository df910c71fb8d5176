//! Events and deliveries as resources: a tenant's events newest first, one event with its
//! deliveries, and deliveries filtered by state, integration and time.

use chrono::{DateTime, Utc};
use ricochet_domain::TenantId;
use serde_json::Value;
use sqlx::PgExecutor;
use sqlx::types::Json;
use uuid::Uuid;

use crate::Page;
use crate::deliveries::Delivery;
use crate::error::StoreResult;

/// A published event, as listed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    /// The client's (or a generated) id.
    pub id: String,
    /// Its type.
    pub event_type: String,
    /// When it happened, as the publisher said.
    pub occurred_at: DateTime<Utc>,
    /// When Ricochet accepted it.
    pub received_at: DateTime<Utc>,
    /// How many deliveries it made.
    pub delivery_count: i32,
}

/// Filters of the event list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only this type.
    pub event_type: Option<String>,
    /// Only ids starting with this.
    pub id_prefix: Option<String>,
    /// Received at or after.
    pub from: Option<DateTime<Utc>>,
    /// Received before.
    pub to: Option<DateTime<Utc>>,
}

/// Where the previous page of events ended: the last row's arrival and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventCursor {
    /// The last row's `received_at`.
    pub received_at: DateTime<Utc>,
    /// The last row's id.
    pub id: String,
}

/// A tenant's events, newest first, after `after`; `limit + 1` rows are read to tell whether
/// another page follows. Served by `events_listed_idx`.
pub async fn list_events(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    filter: &EventFilter,
    after: Option<&EventCursor>,
    limit: i64,
) -> StoreResult<(Vec<EventRow>, Option<EventCursor>)> {
    let mut rows: Vec<EventRow> = sqlx::query_as(
        "SELECT id, event_type, occurred_at, received_at, cardinality(delivery_ids) AS delivery_count
         FROM events
         -- received_at IS NOT NULL (always true) lets the listing use events_listed_idx, a
         -- partial index no lookup by key can pick over the primary key (see its migration).
         WHERE tenant_id = $1 AND received_at IS NOT NULL
           AND ($2::text IS NULL OR event_type = $2)
           AND ($3::text IS NULL OR starts_with(id, $3))
           AND ($4::timestamptz IS NULL OR received_at >= $4)
           AND ($5::timestamptz IS NULL OR received_at < $5)
           AND ($6::timestamptz IS NULL OR (received_at, id) < ($6, $7))
         ORDER BY received_at DESC, id DESC
         LIMIT $8",
    )
    .bind(tenant.0)
    .bind(&filter.event_type)
    .bind(&filter.id_prefix)
    .bind(filter.from)
    .bind(filter.to)
    .bind(after.map(|c| c.received_at))
    .bind(after.map(|c| c.id.as_str()))
    .bind(limit + 1)
    .fetch_all(db)
    .await?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more {
        rows.last().map(|r| EventCursor {
            received_at: r.received_at,
            id: r.id.clone(),
        })
    } else {
        None
    };
    Ok((rows, next))
}

/// One event with its data.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventDetail {
    /// Its id.
    pub id: String,
    /// Its type.
    pub event_type: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When Ricochet accepted it.
    pub received_at: DateTime<Utc>,
    /// Its data.
    pub data: Json<Value>,
    /// Its deliveries.
    pub delivery_ids: Vec<Uuid>,
    /// Its ordering key.
    pub ordering_key: Option<String>,
    /// The W3C `traceparent` of the span that published it (only when traces were exported).
    pub traceparent: Option<String>,
}

/// One event of `tenant`.
pub async fn get_event(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: &str,
) -> StoreResult<Option<EventDetail>> {
    let row = sqlx::query_as(
        "SELECT id, event_type, occurred_at, received_at, data, delivery_ids, ordering_key, traceparent
         FROM events WHERE tenant_id = $1 AND id = $2",
    )
    .bind(tenant.0)
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row)
}

macro_rules! delivery_columns {
    () => {
        "id, event_id, integration_id, status, attempt_count, next_attempt_at, last_status_code, reason,
         replay_count, created_at, updated_at, completed_at, ordering_key"
    };
}

/// The deliveries of `tenant` with these ids, oldest first.
pub async fn deliveries_by_id(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    ids: &[Uuid],
) -> StoreResult<Vec<Delivery>> {
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        delivery_columns!(),
        " FROM deliveries WHERE id = ANY($2) AND tenant_id = $1 ORDER BY id"
    ))
    .bind(tenant.0)
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(rows)
}

/// Filters of the delivery list.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// Only in this state.
    pub status: Option<String>,
    /// Only to this integration.
    pub integration_id: Option<Uuid>,
    /// Only of this event.
    pub event_id: Option<String>,
    /// Made at or after.
    pub from: Option<DateTime<Utc>>,
    /// Made before.
    pub to: Option<DateTime<Utc>>,
}

/// The delivery list's statement, with `$of_event` as its condition on the event.
macro_rules! list_deliveries_sql {
    ($of_event:literal) => {
        concat!(
            "SELECT ",
            delivery_columns!(),
            " FROM deliveries
             WHERE tenant_id = $1 ",
            $of_event,
            " AND ($2::text IS NULL OR status = $2)
               AND ($3::uuid IS NULL OR integration_id = $3)
               AND ($4::text IS NULL OR event_id = $4)
               AND ($5::uuid IS NULL OR id >= $5)
               AND ($6::uuid IS NULL OR id < $6)
             ORDER BY id DESC LIMIT $7"
        )
    };
}

/// The delivery list ([`list_deliveries`]) without an event filter.
const LIST_DELIVERIES_SQL: &str = list_deliveries_sql!("");

/// The delivery list ([`list_deliveries`]) of one event, for tests that check how it is
/// planned: the event's deliveries are looked up by key from the event's list of them, rather
/// than found by walking the tenant's deliveries back to the event. Its parameters: tenant,
/// status, integration, event, from and before bounds on the id, limit.
pub const LIST_DELIVERIES_OF_EVENT_SQL: &str = list_deliveries_sql!(
    "AND id = ANY (coalesce((SELECT e.delivery_ids FROM events e WHERE e.tenant_id = $1 AND e.id = $4), '{}'))"
);

/// A tenant's deliveries, newest first, before `before`.
///
/// Delivery ids are UUIDv7 made when the event was published, so `from`/`to` are turned into
/// bounds on the id and the query walks the primary key backwards from `to` (or the newest) to
/// `from`: no index on `deliveries` is added for it (every index there costs each of a
/// delivery's three non-HOT writes). `created_at` is the same instant to within a transaction.
/// Filtered by event, it looks up the event's deliveries (listed on the event) by key.
pub async fn list_deliveries(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    filter: &DeliveryFilter,
    before: Option<Uuid>,
    limit: i64,
) -> StoreResult<Page<Delivery>> {
    let upper = match (before, filter.to.map(v7_floor)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let sql = if filter.event_id.is_some() {
        LIST_DELIVERIES_OF_EVENT_SQL
    } else {
        LIST_DELIVERIES_SQL
    };
    let rows = sqlx::query_as(sql)
        .bind(tenant.0)
        .bind(&filter.status)
        .bind(filter.integration_id)
        .bind(&filter.event_id)
        .bind(filter.from.map(v7_floor))
        .bind(upper)
        .bind(limit + 1)
        .fetch_all(db)
        .await?;
    Ok(Page::from_rows(rows, limit, |d: &Delivery| d.id))
}

/// The smallest UUIDv7 of the millisecond `at` (every id made at or after `at` sorts at or
/// after it; every id made before sorts before it).
pub fn v7_floor(at: DateTime<Utc>) -> Uuid {
    let ms = u64::try_from(at.timestamp_millis()).unwrap_or(0) & 0xFFFF_FFFF_FFFF;
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    bytes[6] = 0x70;
    bytes[8] = 0x80;
    Uuid::from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_v7_floor_of_a_millisecond_sorts_between_ids_made_before_and_after_it() {
        let at = DateTime::from_timestamp_millis(1_780_000_000_123).expect("a valid time");
        let floor = v7_floor(at);
        let ts = |ms: u64| {
            uuid::Timestamp::from_unix(uuid::NoContext, ms / 1000, ((ms % 1000) * 1_000_000) as u32)
        };
        let before = Uuid::new_v7(ts(1_780_000_000_122));
        let same = Uuid::new_v7(ts(1_780_000_000_123));
        let after = Uuid::new_v7(ts(1_780_000_000_124));
        assert!(before < floor);
        assert!(floor <= same);
        assert!(same < after);
        assert_eq!(floor.get_version_num(), 7);
    }
}
