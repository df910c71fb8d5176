//! The delivery log: `GET /api/v2/integrations/{integrationId}/logs` (attempts, newest first,
//! filtered) and `GET /api/v2/deliveries/{deliveryId}` (one delivery with its attempts).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use ricochet_domain::{IntegrationId, Permission};
use ricochet_store::attempts::{self as store, Attempt, LogFilter};
use ricochet_store::deliveries::{Delivery, get_delivery};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::AppState;
use crate::auth::TenantAuth;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Path, Query, parse_id};
use crate::pagination::{ListQuery, encode_cursor};
use crate::permit::{self, Authorized};

/// The request an attempt sent (secrets shown as their templates).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRequest {
    /// Method.
    pub method: String,
    /// URL.
    pub url: String,
    /// Headers, by name.
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub headers: Value,
}

/// What the receiver answered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptResponse {
    /// Status code.
    pub status_code: Option<i32>,
    /// Content type.
    pub content_type: Option<String>,
    /// The first 4 KiB of the body.
    pub body: Option<String>,
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptOut {
    /// Its id.
    pub id: Uuid,
    /// Its delivery.
    pub delivery_id: Uuid,
    /// The integration it went to.
    pub integration_id: IntegrationId,
    /// The event it carried.
    pub event_id: String,
    /// 1 for the first attempt of the delivery.
    pub attempt_number: i32,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How long it took, ms.
    pub duration_ms: i32,
    /// `succeeded` or `failed`.
    #[schema(value_type = AttemptOutcome, example = "failed")]
    pub outcome: String,
    /// The receiver's status code, if it answered.
    pub status_code: Option<i32>,
    /// Why it failed: `timeout`, `connect`, `dns`, `tls`, `body`, `request`, `status`,
    /// `blocked_target`, `auth` (the OAuth 2.0 token endpoint failed), `tls_config`
    /// (`settings.tls` cannot be used), ...
    #[schema(value_type = Option<ErrorKind>)]
    pub error_kind: Option<String>,
    /// Details of the failure.
    pub error_message: Option<String>,
    /// The request sent.
    pub request: AttemptRequest,
    /// The response received.
    pub response: AttemptResponse,
    /// A honoured `Retry-After`, ms.
    pub retry_after_ms: Option<i64>,
    /// Why a `Retry-After` was not honoured.
    pub retry_after_note: Option<String>,
    /// When the next attempt was scheduled, if one was.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl From<Attempt> for AttemptOut {
    fn from(a: Attempt) -> Self {
        AttemptOut {
            id: a.id,
            delivery_id: a.delivery_id,
            integration_id: IntegrationId(a.integration_id),
            event_id: a.event_id,
            attempt_number: a.attempt_number,
            started_at: a.started_at,
            duration_ms: a.duration_ms,
            outcome: a.outcome,
            status_code: a.status_code,
            error_kind: a.error_kind,
            error_message: a.error_message,
            request: AttemptRequest {
                method: a.request_method,
                url: a.request_url,
                headers: a.request_headers.0,
            },
            response: AttemptResponse {
                status_code: a.status_code,
                content_type: a.response_content_type,
                body: a.response_body,
            },
            retry_after_ms: a.retry_after_ms,
            retry_after_note: a.retry_after_note,
            next_attempt_at: a.next_attempt_at,
        }
    }
}

/// A page of attempts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptList {
    /// The attempts, newest first.
    pub data: Vec<AttemptOut>,
    /// Cursor of the next (older) page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Filters of the log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Only attempts answered with this status.
    pub status_code: Option<i32>,
    /// Only this class: `2xx`, `3xx`, `4xx` or `5xx`.
    #[param(value_type = Option<StatusClass>)]
    pub status_class: Option<String>,
    /// Only `succeeded` or `failed` attempts.
    #[param(value_type = Option<AttemptOutcome>)]
    pub outcome: Option<String>,
    /// Only attempts of this event.
    pub event_id: Option<String>,
    /// Started at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Started before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// Whether an attempt succeeded.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// The receiver answered 2xx.
    Succeeded,
    /// Anything else.
    Failed,
}

/// Why an attempt failed.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ErrorKind {
    /// No answer within the integration's `requestTimeout`.
    Timeout,
    /// The connection could not be made.
    Connect,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed.
    Tls,
    /// The response body could not be read.
    Body,
    /// The request could not be built or sent.
    Request,
    /// The receiver answered with a status that is not 2xx.
    Status,
    /// The target (or the OAuth 2.0 token endpoint) is not an address Ricochet may connect to.
    BlockedTarget,
    /// The receiver's credentials could not be had: the OAuth 2.0 token endpoint failed.
    Auth,
    /// The integration's `settings.tls` cannot be used (a missing secret, a PEM that is not a
    /// certificate or key).
    TlsConfig,
    /// Ricochet failed while making the attempt (a caught bug).
    InternalError,
    /// A secret the integration uses cannot be opened.
    SecretUnreadable,
    /// The integration's signing key cannot be opened.
    SigningKeyUnreadable,
}

/// A class of status codes.
#[derive(Debug, utoipa::ToSchema)]
pub enum StatusClass {
    /// 100 to 199.
    #[schema(rename = "1xx")]
    Informational,
    /// 200 to 299.
    #[schema(rename = "2xx")]
    Success,
    /// 300 to 399.
    #[schema(rename = "3xx")]
    Redirection,
    /// 400 to 499.
    #[schema(rename = "4xx")]
    ClientError,
    /// 500 to 599.
    #[schema(rename = "5xx")]
    ServerError,
}

/// Where a delivery stands.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// An attempt is under way.
    InFlight,
    /// A receiver answered 2xx.
    Succeeded,
    /// No further attempt will be made, until replayed.
    DeadLettered,
    /// Held while its integration is disabled.
    Paused,
    /// Its integration was deleted before it succeeded.
    Cancelled,
    /// Removed from the dead-letter queue.
    Purged,
    /// Waiting for an earlier delivery with the same ordering key (an integration with
    /// `settings.ordering: perKey`).
    Blocked,
}

impl LogQuery {
    fn filter(&self) -> ApiResult<LogFilter> {
        let status_class = match self.status_class.as_deref() {
            None => None,
            Some(class @ ("1xx" | "2xx" | "3xx" | "4xx" | "5xx")) => class[..1].parse().ok(),
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "query parameter `statusClass` must be 2xx, 3xx, 4xx or 5xx, got `{other}`"
                )));
            }
        };
        if let Some(outcome) = self.outcome.as_deref()
            && !matches!(outcome, "succeeded" | "failed")
        {
            return Err(ApiError::BadRequest(format!(
                "query parameter `outcome` must be succeeded or failed, got `{outcome}`"
            )));
        }
        Ok(LogFilter {
            status_code: self.status_code,
            status_class,
            outcome: self.outcome.clone(),
            event_id: self.event_id.clone(),
            from: self.from,
            to: self.to,
        })
    }
}

/// An integration's attempts, newest first. The log of a deleted integration stays readable.
#[utoipa::path(get, path = "/api/v2/integrations/{integrationId}/logs", tag = "logs",
    security(("bearer" = ["log:view"])), params(("integrationId" = String, Path, format = Uuid), LogQuery),
    responses(
        (status = 200, body = AttemptList),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_logs(
    Authorized { auth, .. }: Authorized<permit::LogView>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<LogQuery>,
) -> ApiResult<Json<AttemptList>> {
    let integration: IntegrationId = parse_id("integrationId", &id)?;
    let filter = query.filter()?;
    let (limit, before) = ListQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .resolve()?;
    if !ricochet_store::integrations::integration_ever_existed(
        &state.pool,
        auth.tenant,
        integration,
    )
    .await?
    {
        return Err(ApiError::NotFound("integration"));
    }
    let page = store::list_attempts(
        &state.pool,
        auth.tenant,
        integration,
        &filter,
        before,
        limit,
    )
    .await?;
    Ok(Json(AttemptList {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_after.map(encode_cursor),
    }))
}

/// A delivery with every attempt.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryOut {
    /// Its id.
    pub id: Uuid,
    /// Its event.
    pub event_id: String,
    /// Its integration.
    pub integration_id: IntegrationId,
    /// `pending`, `in_flight`, `succeeded`, `dead_lettered`, `paused`, `cancelled`, `purged`
    /// or `blocked` (waiting for an earlier delivery with the same ordering key).
    #[schema(value_type = DeliveryStatus, example = "succeeded")]
    pub status: String,
    /// Attempts made.
    pub attempt_count: i32,
    /// When the next attempt is due, while one is.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last status code a receiver answered.
    pub last_status_code: Option<i32>,
    /// Why it was dead-lettered: `retries_exhausted`, `non_retryable_status:<code>` (e.g.
    /// `non_retryable_status:401`), `timeout` (a timeout that does not retry),
    /// `payload_too_large`, `missing_secret:<name>` (a template names a deleted secret),
    /// `invalid_header:<name>` (a rendered header value is not a valid header) or
    /// `template:<detail>`.
    pub reason: Option<String>,
    /// Times it was replayed from the dead-letter queue.
    pub replay_count: i32,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it succeeded or was dead-lettered.
    pub completed_at: Option<DateTime<Utc>>,
    /// Its event's ordering key, if any.
    pub ordering_key: Option<String>,
    /// Its attempts, first to last.
    pub attempts: Vec<AttemptOut>,
}

impl DeliveryOut {
    /// The delivery with its attempts.
    pub fn new(d: Delivery, attempts: Vec<Attempt>) -> Self {
        DeliveryOut {
            id: d.id,
            event_id: d.event_id,
            integration_id: IntegrationId(d.integration_id),
            next_attempt_at: (d.status == "pending").then_some(d.next_attempt_at),
            status: d.status,
            attempt_count: d.attempt_count,
            last_status_code: d.last_status_code,
            reason: d.reason,
            replay_count: d.replay_count,
            created_at: d.created_at,
            updated_at: d.updated_at,
            completed_at: d.completed_at,
            ordering_key: d.ordering_key,
            attempts: attempts.into_iter().map(Into::into).collect(),
        }
    }
}

/// A delivery and its attempts.
#[utoipa::path(get, path = "/api/v2/deliveries/{deliveryId}", tag = "logs",
    security(("bearer" = ["log:view"])), params(("deliveryId" = String, Path, format = Uuid)),
    responses((status = 200, body = DeliveryOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_delivery_with_attempts(
    auth: TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<DeliveryOut>> {
    auth.require(Permission::LogView)?;
    let id: Uuid = parse_id("deliveryId", &id)?;
    let delivery = get_delivery(&state.pool, auth.tenant, id)
        .await?
        .ok_or(ApiError::NotFound("delivery"))?;
    let attempts = store::attempts_of(&state.pool, auth.tenant, id).await?;
    Ok(Json(DeliveryOut::new(delivery, attempts)))
}
