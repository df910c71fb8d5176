//! The attempt log: every attempt of every delivery, newest first.

use chrono::{DateTime, Utc};
use ricochet_domain::{IntegrationId, TenantId};
use serde_json::Value;
use sqlx::PgExecutor;
use sqlx::types::Json;
use uuid::Uuid;

use crate::Page;
use crate::error::StoreResult;

/// A recorded attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Attempt {
    /// Its id.
    pub id: Uuid,
    /// Its delivery.
    pub delivery_id: Uuid,
    /// The integration it went to.
    pub integration_id: Uuid,
    /// The event it carried.
    pub event_id: String,
    /// 1 for the first attempt of the delivery.
    pub attempt_number: i32,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How long it took.
    pub duration_ms: i32,
    /// `succeeded` or `failed`.
    pub outcome: String,
    /// The receiver's status, if it answered.
    pub status_code: Option<i32>,
    /// Why it failed without a (good) status.
    pub error_kind: Option<String>,
    /// Details of the failure.
    pub error_message: Option<String>,
    /// Method sent.
    pub request_method: String,
    /// URL sent, secrets as templates.
    pub request_url: String,
    /// Headers sent, secrets as templates.
    pub request_headers: Json<Value>,
    /// Content type of the response.
    pub response_content_type: Option<String>,
    /// The first 4 KiB of the response body.
    pub response_body: Option<String>,
    /// A honoured Retry-After, ms.
    pub retry_after_ms: Option<i64>,
    /// Why a Retry-After was ignored.
    pub retry_after_note: Option<String>,
    /// When the next attempt was scheduled, if one was.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

macro_rules! columns {
    () => {
        "id, delivery_id, integration_id, event_id, attempt_number, started_at, duration_ms, outcome, status_code,
         error_kind, error_message, request_method, request_url, request_headers, response_content_type,
         response_body, retry_after_ms, retry_after_note, next_attempt_at"
    };
}

/// Filters of the log.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// Only this status code.
    pub status_code: Option<i32>,
    /// Only this class: 2 for 2xx, ... 5 for 5xx.
    pub status_class: Option<i32>,
    /// Only `succeeded` or `failed`.
    pub outcome: Option<String>,
    /// Only this event.
    pub event_id: Option<String>,
    /// Started at or after.
    pub from: Option<DateTime<Utc>>,
    /// Started before.
    pub to: Option<DateTime<Utc>>,
}

/// An integration's attempts, newest first, before `before`.
pub async fn list_attempts(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    integration: IntegrationId,
    filter: &LogFilter,
    before: Option<Uuid>,
    limit: i64,
) -> StoreResult<Page<Attempt>> {
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM attempts
         WHERE tenant_id = $1 AND integration_id = $2
           AND ($3::int IS NULL OR status_code = $3)
           AND ($4::int IS NULL OR (status_code >= $4 * 100 AND status_code < $4 * 100 + 100))
           AND ($5::text IS NULL OR outcome = $5)
           AND ($6::text IS NULL OR event_id = $6)
           AND ($7::timestamptz IS NULL OR started_at >= $7)
           AND ($8::timestamptz IS NULL OR started_at < $8)
           AND ($9::uuid IS NULL OR id < $9)
         ORDER BY id DESC LIMIT $10"
    ))
    .bind(tenant.0)
    .bind(integration.0)
    .bind(filter.status_code)
    .bind(filter.status_class)
    .bind(&filter.outcome)
    .bind(&filter.event_id)
    .bind(filter.from)
    .bind(filter.to)
    .bind(before)
    .bind(limit + 1)
    .fetch_all(db)
    .await?;
    Ok(Page::from_rows(rows, limit, |a: &Attempt| a.id))
}

/// A delivery's attempts in order.
pub async fn attempts_of(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    delivery: Uuid,
) -> StoreResult<Vec<Attempt>> {
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM attempts WHERE tenant_id = $1 AND delivery_id = $2 ORDER BY attempt_number"
    ))
    .bind(tenant.0)
    .bind(delivery)
    .fetch_all(db)
    .await?;
    Ok(rows)
}
