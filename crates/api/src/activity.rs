//! Events and deliveries as resources: `GET /api/v2/events` (newest first, by type, time and
//! id prefix), `GET /api/v2/events/{eventId}` (with its deliveries and their states) and
//! `GET /api/v2/deliveries` (by state, integration, event and time).

use axum::Json;
use axum::extract::State;
use base64::Engine;
use chrono::{DateTime, Utc};
use ricochet_domain::event::{MAX_EVENT_ID_LEN, MAX_EVENT_TYPE_LEN};
use ricochet_domain::{IntegrationId, Permission};
use ricochet_store::activity::{self as store, DeliveryFilter, EventCursor, EventFilter};
use ricochet_store::deliveries::Delivery;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::AppState;
use crate::auth::TenantAuth;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Path, Query, parse_id};
use crate::pagination::{ListQuery, encode_cursor};
use crate::permit::{self, Authorized};

/// The states a delivery can be in.
pub const DELIVERY_STATUSES: [&str; 8] = [
    "pending",
    "in_flight",
    "succeeded",
    "dead_lettered",
    "paused",
    "cancelled",
    "purged",
    "blocked",
];

/// A published event, as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventSummary {
    /// Its id (the publisher's, or one Ricochet made).
    pub id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened, as the publisher said.
    pub occurred_at: DateTime<Utc>,
    /// When Ricochet accepted it.
    pub received_at: DateTime<Utc>,
    /// How many deliveries it made (one per bound, enabled integration).
    pub delivery_count: i32,
}

/// A page of events.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventList {
    /// The events, newest first (by `receivedAt`).
    pub data: Vec<EventSummary>,
    /// Cursor of the next (older) page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Filters of the event list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only events of this type (exact).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// Only events whose id starts with this.
    pub id_prefix: Option<String>,
    /// Received at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Received before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Rows per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// List the tenant's events, newest first.
#[utoipa::path(get, path = "/api/v2/events", tag = "events", security(("bearer" = ["log:view"])),
    params(EventQuery),
    responses(
        (status = 200, description = "A page of events", body = EventList),
        (status = 400, description = "A bad filter or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_events(
    Authorized { auth, .. }: Authorized<permit::LogView>,
    State(state): State<AppState>,
    Query(query): Query<EventQuery>,
) -> ApiResult<Json<EventList>> {
    let (limit, _) = ListQuery {
        limit: query.limit,
        cursor: None,
    }
    .resolve()?;
    check_len("type", query.event_type.as_deref(), MAX_EVENT_TYPE_LEN)?;
    check_len("idPrefix", query.id_prefix.as_deref(), MAX_EVENT_ID_LEN)?;
    let after = query
        .cursor
        .as_deref()
        .map(decode_event_cursor)
        .transpose()?;
    let filter = EventFilter {
        event_type: query.event_type,
        id_prefix: query.id_prefix,
        from: query.from,
        to: query.to,
    };
    let (rows, next) =
        store::list_events(&state.pool, auth.tenant, &filter, after.as_ref(), limit).await?;
    Ok(Json(EventList {
        data: rows
            .into_iter()
            .map(|r| EventSummary {
                id: r.id,
                event_type: r.event_type,
                occurred_at: r.occurred_at,
                received_at: r.received_at,
                delivery_count: r.delivery_count,
            })
            .collect(),
        next_cursor: next.as_ref().map(encode_event_cursor),
    }))
}

/// An event with its data and deliveries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventOut {
    /// Its id.
    pub id: String,
    /// Its type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it happened, as the publisher said.
    pub occurred_at: DateTime<Utc>,
    /// When Ricochet accepted it.
    pub received_at: DateTime<Utc>,
    /// Its data, as published.
    #[schema(value_type = Object)]
    pub data: Value,
    /// Its ordering key, if it was published with one.
    pub ordering_key: Option<String>,
    /// The W3C trace context of the span that published it, which its attempts continue (and
    /// forward to receivers): in the trace of the `traceparent` the publish request carried,
    /// or of a new one. Null unless Ricochet exports traces (`--otlp-endpoint`).
    #[schema(example = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")]
    pub traceparent: Option<String>,
    /// Its deliveries, one per integration it went to, and where each stands.
    pub deliveries: Vec<DeliverySummary>,
}

/// One event, with its deliveries and their states.
#[utoipa::path(get, path = "/api/v2/events/{eventId}", tag = "events", security(("bearer" = ["log:view"])),
    params(("eventId" = String, Path, description = "The event's id")),
    responses(
        (status = 200, description = "The event", body = EventOut),
        (status = 404, description = "No such event of this tenant", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_event(
    auth: TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<EventOut>> {
    event_by_id(auth, state, id).await
}

/// `GET /api/v2/events/batch`: the event whose id is `batch`, which the static path of
/// `POST /api/v2/events/batch` would otherwise hide from `GET /api/v2/events/{eventId}`.
pub async fn get_event_named_batch(
    auth: TenantAuth,
    State(state): State<AppState>,
) -> ApiResult<Json<EventOut>> {
    event_by_id(auth, state, "batch".to_owned()).await
}

async fn event_by_id(auth: TenantAuth, state: AppState, id: String) -> ApiResult<Json<EventOut>> {
    auth.require(Permission::LogView)?;
    if id.len() > MAX_EVENT_ID_LEN {
        return Err(ApiError::NotFound("event"));
    }
    let event = store::get_event(&state.pool, auth.tenant, &id)
        .await?
        .ok_or(ApiError::NotFound("event"))?;
    let deliveries = store::deliveries_by_id(&state.pool, auth.tenant, &event.delivery_ids).await?;
    Ok(Json(EventOut {
        id: event.id,
        event_type: event.event_type,
        occurred_at: event.occurred_at,
        received_at: event.received_at,
        data: event.data.0,
        ordering_key: event.ordering_key,
        traceparent: event.traceparent,
        deliveries: deliveries.into_iter().map(Into::into).collect(),
    }))
}

/// A delivery without its attempts (`GET /api/v2/deliveries/{deliveryId}` has them).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliverySummary {
    /// Its id.
    pub id: Uuid,
    /// Its event.
    pub event_id: String,
    /// Its integration.
    pub integration_id: IntegrationId,
    /// `pending`, `in_flight`, `succeeded`, `dead_lettered`, `paused`, `cancelled`, `purged`
    /// or `blocked` (waiting for an earlier delivery with the same ordering key).
    #[schema(example = "succeeded")]
    pub status: String,
    /// Attempts made.
    pub attempt_count: i32,
    /// When the next attempt is due, while one is.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last status code a receiver answered.
    pub last_status_code: Option<i32>,
    /// Why it was dead-lettered.
    pub reason: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it succeeded or was dead-lettered.
    pub completed_at: Option<DateTime<Utc>>,
    /// Its event's ordering key, if any.
    pub ordering_key: Option<String>,
}

impl From<Delivery> for DeliverySummary {
    fn from(d: Delivery) -> Self {
        DeliverySummary {
            id: d.id,
            event_id: d.event_id,
            integration_id: IntegrationId(d.integration_id),
            next_attempt_at: (d.status == "pending").then_some(d.next_attempt_at),
            status: d.status,
            attempt_count: d.attempt_count,
            last_status_code: d.last_status_code,
            reason: d.reason,
            created_at: d.created_at,
            updated_at: d.updated_at,
            completed_at: d.completed_at,
            ordering_key: d.ordering_key,
        }
    }
}

/// A page of deliveries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryList {
    /// The deliveries, newest first.
    pub data: Vec<DeliverySummary>,
    /// Cursor of the next (older) page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Filters of the delivery list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Only in this state: `pending`, `in_flight`, `succeeded`, `dead_lettered`, `paused`,
    /// `cancelled` or `purged`.
    pub status: Option<String>,
    /// Only to this integration.
    pub integration_id: Option<String>,
    /// Only of this event.
    pub event_id: Option<String>,
    /// Made (published) at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Made before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Rows per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// List the tenant's deliveries, newest first.
#[utoipa::path(get, path = "/api/v2/deliveries", tag = "logs", security(("bearer" = ["log:view"])),
    params(DeliveryQuery),
    responses(
        (status = 200, description = "A page of deliveries", body = DeliveryList),
        (status = 400, description = "A bad filter or cursor", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_deliveries(
    Authorized { auth, .. }: Authorized<permit::LogView>,
    State(state): State<AppState>,
    Query(query): Query<DeliveryQuery>,
) -> ApiResult<Json<DeliveryList>> {
    let (limit, before) = ListQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .resolve()?;
    if let Some(status) = query.status.as_deref()
        && !DELIVERY_STATUSES.contains(&status)
    {
        return Err(ApiError::BadRequest(format!(
            "query parameter `status` must be one of {}, got `{status}`",
            DELIVERY_STATUSES.join(", ")
        )));
    }
    check_len("eventId", query.event_id.as_deref(), MAX_EVENT_ID_LEN)?;
    let integration_id = query
        .integration_id
        .as_deref()
        .map(|raw| parse_id::<Uuid>("integrationId", raw))
        .transpose()?;
    let filter = DeliveryFilter {
        status: query.status,
        integration_id,
        event_id: query.event_id,
        from: query.from,
        to: query.to,
    };
    let page = store::list_deliveries(&state.pool, auth.tenant, &filter, before, limit).await?;
    Ok(Json(DeliveryList {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_after.map(encode_cursor),
    }))
}

fn check_len(name: &str, value: Option<&str>, max: usize) -> ApiResult<()> {
    match value {
        Some(v) if v.len() > max => Err(ApiError::BadRequest(format!(
            "query parameter `{name}` is longer than {max} bytes"
        ))),
        _ => Ok(()),
    }
}

fn encode_event_cursor(cursor: &EventCursor) -> String {
    let raw = format!("{}|{}", cursor.received_at.timestamp_micros(), cursor.id);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_event_cursor(cursor: &str) -> ApiResult<EventCursor> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|raw| {
            let (micros, id) = raw.split_once('|')?;
            let received_at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
            Some(EventCursor {
                received_at,
                id: id.to_owned(),
            })
        })
        .ok_or_else(|| {
            ApiError::BadRequest(
                "query parameter `cursor` is not a cursor this API returned".into(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_cursor_survives_a_round_trip_even_with_a_bar_in_the_id() {
        let cursor = EventCursor {
            received_at: DateTime::from_timestamp_micros(1_780_000_000_123_456).expect("time"),
            id: "evt|7".into(),
        };
        let decoded = decode_event_cursor(&encode_event_cursor(&cursor)).expect("decodes");
        assert_eq!(decoded, cursor);
    }

    #[test]
    fn a_foreign_event_cursor_is_refused() {
        assert!(decode_event_cursor("not-a-cursor").is_err());
    }
}
