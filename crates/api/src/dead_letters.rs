//! The dead-letter queue: `GET /api/v2/deadletters`, `POST .../{deliveryId}/replay`,
//! `POST /api/v2/deadletters/replay` (bulk, by filter) and `DELETE .../{deliveryId}` (purge).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use ricochet_domain::{IntegrationId, Permission};
use ricochet_store::dead_letters::{self as store, DeadLetterFilter, ReplayOutcome};
use ricochet_store::deliveries::Delivery;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AppState;
use crate::auth::TenantAuth;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{JsonBody, Path, Query, parse_id};
use crate::pagination::{ListQuery, encode_cursor};
use crate::permit::{self, Authorized};

/// Most dead letters one bulk replay takes.
pub const MAX_BULK_REPLAY: i64 = 10_000;

/// A dead-lettered delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterOut {
    /// The delivery (see `GET /api/v2/deliveries/{deliveryId}` for its attempts).
    pub delivery_id: Uuid,
    /// Its event.
    pub event_id: String,
    /// Its integration.
    pub integration_id: IntegrationId,
    /// Why no further attempt is made: `retries_exhausted`, `non_retryable_status:<code>` (e.g.
    /// `non_retryable_status:401`), `timeout` (a timeout that does not retry),
    /// `payload_too_large`, `missing_secret:<name>` (a template names a deleted secret),
    /// `invalid_header:<name>` (a rendered header value is not a valid header) or
    /// `template:<detail>`.
    #[schema(example = "retries_exhausted")]
    pub reason: Option<String>,
    /// The status code of the last attempt, if the receiver answered.
    pub last_status_code: Option<i32>,
    /// Attempts made, over every replay.
    pub attempt_count: i32,
    /// Times it was replayed before.
    pub replay_count: i32,
    /// When it was dead-lettered.
    pub dead_lettered_at: Option<DateTime<Utc>>,
    /// When the delivery was made.
    pub created_at: DateTime<Utc>,
    /// Its event's ordering key, if any. Replaying a keyed delivery of an integration with
    /// `settings.ordering: perKey` puts it back in line: it goes next, once the delivery of
    /// its key under way (if any) is done, before the later ones of its key still waiting.
    pub ordering_key: Option<String>,
}

impl From<Delivery> for DeadLetterOut {
    fn from(d: Delivery) -> Self {
        DeadLetterOut {
            delivery_id: d.id,
            event_id: d.event_id,
            integration_id: IntegrationId(d.integration_id),
            reason: d.reason,
            last_status_code: d.last_status_code,
            attempt_count: d.attempt_count,
            replay_count: d.replay_count,
            dead_lettered_at: d.completed_at,
            created_at: d.created_at,
            ordering_key: d.ordering_key,
        }
    }
}

/// A page of dead letters.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterList {
    /// The dead letters, newest first.
    pub data: Vec<DeadLetterOut>,
    /// Cursor of the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Which dead letters to take.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterQuery {
    /// Only this integration's.
    pub integration_id: Option<Uuid>,
    /// Only reasons starting with this (`non_retryable_status` takes every status).
    pub reason: Option<String>,
    /// Only those whose last attempt got this status.
    pub status_code: Option<i32>,
    /// Dead-lettered at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Dead-lettered before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Rows per page, 1 to 200 (default 50); for a bulk replay, how many to replay at most
    /// (1 to 10000, default 1000).
    #[param(minimum = 1, maximum = 10_000)]
    #[schema(minimum = 1, maximum = 10_000)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page (lists only).
    #[param(ignore)]
    #[schema(ignore)]
    pub cursor: Option<String>,
}

impl DeadLetterQuery {
    fn filter(&self) -> DeadLetterFilter {
        DeadLetterFilter {
            integration_id: self.integration_id,
            reason: self.reason.clone(),
            status_code: self.status_code,
            from: self.from,
            to: self.to,
        }
    }
}

/// List dead letters, newest first.
#[utoipa::path(get, path = "/api/v2/deadletters", tag = "dead letters", security(("bearer" = ["log:view"])),
    params(DeadLetterQuery, ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page")),
    responses((status = 200, body = DeadLetterList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_dead_letters(
    Authorized { auth, .. }: Authorized<permit::LogView>,
    State(state): State<AppState>,
    Query(query): Query<DeadLetterQuery>,
) -> ApiResult<Json<DeadLetterList>> {
    let (limit, before) = ListQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .resolve()?;
    let page =
        store::list_dead_letters(&state.pool, auth.tenant, &query.filter(), before, limit).await?;
    Ok(Json(DeadLetterList {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_after.map(encode_cursor),
    }))
}

/// The state of a replayed delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplayedOut {
    /// The delivery.
    pub delivery_id: Uuid,
    /// `pending` (or `paused` while its integration is disabled).
    pub status: String,
}

/// Replay one dead letter: a new attempt series starts now; earlier attempts stay in the log.
#[utoipa::path(post, path = "/api/v2/deadletters/{deliveryId}/replay", tag = "dead letters",
    security(("bearer" = ["deadletter:edit"])), params(("deliveryId" = String, Path, format = Uuid)),
    responses(
        (status = 202, body = ReplayedOut),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not dead-lettered", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn replay_dead_letter(
    auth: TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<ReplayedOut>)> {
    auth.require(Permission::DeadletterEdit)?;
    let id: Uuid = parse_id("deliveryId", &id)?;
    let mut tx = state.pool.begin().await?;
    let outcome = store::replay_one(&mut tx, auth.tenant, id).await?;
    tx.commit().await?;
    match outcome {
        ReplayOutcome::Replayed => {
            let delivery = ricochet_store::deliveries::get_delivery(&state.pool, auth.tenant, id)
                .await?
                .ok_or(ApiError::NotFound("delivery"))?;
            Ok((
                StatusCode::ACCEPTED,
                Json(ReplayedOut {
                    delivery_id: id,
                    status: delivery.status,
                }),
            ))
        }
        ReplayOutcome::NotFound => Err(ApiError::NotFound("delivery")),
        ReplayOutcome::NotDeadLettered(status) => Err(ApiError::Conflict(format!(
            "the delivery is not dead-lettered (it is {status})"
        ))),
    }
}

/// How many dead letters a bulk replay took.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkReplayedOut {
    /// Dead letters replayed.
    pub replayed: u64,
    /// Whether more matching dead letters may remain (the limit was reached).
    pub more: bool,
}

/// Replay every dead letter matching the filters (all of the tenant's when none is given).
/// Only dead-lettered deliveries change, so replaying the same set twice delivers nothing twice.
#[utoipa::path(post, path = "/api/v2/deadletters/replay", tag = "dead letters",
    security(("bearer" = ["deadletter:edit"])), request_body = DeadLetterQuery,
    responses((status = 202, body = BulkReplayedOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn replay_dead_letters(
    Authorized { auth, .. }: Authorized<permit::DeadletterEdit>,
    State(state): State<AppState>,
    JsonBody(query): JsonBody<DeadLetterQuery>,
) -> ApiResult<(StatusCode, Json<BulkReplayedOut>)> {
    let limit = query.limit.unwrap_or(1_000);
    if !(1..=MAX_BULK_REPLAY).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and {MAX_BULK_REPLAY}"),
        ));
    }
    if query.cursor.is_some() {
        return Err(ApiError::invalid("cursor", "a bulk replay takes no cursor"));
    }
    let mut tx = state.pool.begin().await?;
    let replayed = store::replay_matching(&mut tx, auth.tenant, &query.filter(), limit).await?;
    tx.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(BulkReplayedOut {
            replayed,
            more: replayed == limit.unsigned_abs(),
        }),
    ))
}

/// Purge a dead letter: it leaves the queue and is never attempted again; its attempts stay in
/// the log.
#[utoipa::path(delete, path = "/api/v2/deadletters/{deliveryId}", tag = "dead letters",
    security(("bearer" = ["deadletter:edit"])), params(("deliveryId" = String, Path, format = Uuid)),
    responses(
        (status = 204, description = "Purged"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not dead-lettered", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn purge_dead_letter(
    auth: TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(Permission::DeadletterEdit)?;
    let id: Uuid = parse_id("deliveryId", &id)?;
    if store::purge(&state.pool, auth.tenant, id).await? {
        return Ok(StatusCode::NO_CONTENT);
    }
    match ricochet_store::deliveries::get_delivery(&state.pool, auth.tenant, id).await? {
        Some(d) => Err(ApiError::Conflict(format!(
            "the delivery is not dead-lettered (it is {})",
            d.status
        ))),
        None => Err(ApiError::NotFound("delivery")),
    }
}
