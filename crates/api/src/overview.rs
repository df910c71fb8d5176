//! The platform operator's overview across tenants (`GET /api/v2/admin/overview`, admin key):
//! the queue's depth and lag, every tenant with its counts, and the integrations failing now.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Duration, Utc};
use ricochet_store::overview::{self as store, IntegrationHealth, TenantSummary};
use ricochet_store::stats::{QueueDepth, queue_depth};
use serde::Serialize;
use uuid::Uuid;

use crate::AppState;
use crate::auth::AdminAuth;
use crate::error::{ApiResult, Problem};

/// The window the health of integrations is judged over.
pub const HEALTH_WINDOW_MINUTES: i64 = 60;

/// How much work waits, across every tenant.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueOut {
    /// Pending deliveries due now.
    pub due: i64,
    /// Pending deliveries scheduled later (retries, mostly).
    pub scheduled: i64,
    /// Deliveries a worker holds.
    pub in_flight: i64,
    /// Deliveries parked while their integration is disabled.
    pub paused: i64,
    /// Deliveries waiting behind an earlier one of their ordering key (`perKey` ordering).
    pub blocked: i64,
    /// Age of the oldest due delivery, seconds (0 when none is due).
    pub lag_seconds: f64,
}

impl From<QueueDepth> for QueueOut {
    fn from(q: QueueDepth) -> Self {
        QueueOut {
            due: q.due,
            scheduled: q.scheduled,
            in_flight: q.in_flight,
            paused: q.paused,
            blocked: q.blocked,
            lag_seconds: q.lag_seconds,
        }
    }
}

/// A tenant with its counts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantSummaryOut {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Live integrations.
    pub integrations: i64,
    /// Deliveries in its dead-letter queue.
    pub dead_letters: i64,
}

impl From<TenantSummary> for TenantSummaryOut {
    fn from(t: TenantSummary) -> Self {
        TenantSummaryOut {
            id: t.id,
            name: t.name,
            created_at: t.created_at,
            integrations: t.integrations,
            dead_letters: t.dead_letters,
        }
    }
}

/// An integration's health over the last hour (whole minutes of the stats rollups).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationHealthOut {
    /// Its tenant.
    pub tenant_id: Uuid,
    /// Its tenant's name.
    pub tenant_name: String,
    /// The integration.
    pub integration_id: Uuid,
    /// Its name.
    pub name: String,
    /// Whether it receives new deliveries.
    pub enabled: bool,
    /// Attempts in the last hour (whole minutes).
    pub attempts: i64,
    /// Of which failed.
    pub failed: i64,
    /// `1 - failed / attempts`; null without attempts.
    pub success_rate: Option<f64>,
    /// Last successful attempt in the last hour (whole minutes).
    pub last_success_at: Option<DateTime<Utc>>,
    /// Last failed attempt in the last hour (whole minutes).
    pub last_failure_at: Option<DateTime<Utc>>,
}

impl From<IntegrationHealth> for IntegrationHealthOut {
    fn from(h: IntegrationHealth) -> Self {
        IntegrationHealthOut {
            success_rate: (h.attempts > 0)
                .then(|| (h.attempts - h.failed) as f64 / h.attempts as f64),
            tenant_id: h.tenant_id,
            tenant_name: h.tenant_name,
            integration_id: h.id,
            name: h.name,
            enabled: h.enabled,
            attempts: h.attempts,
            failed: h.failed,
            last_success_at: h.last_success_at,
            last_failure_at: h.last_failure_at,
        }
    }
}

/// The overview across tenants.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverviewOut {
    /// The queue.
    pub queue: QueueOut,
    /// Every tenant (up to 1000, by name) with its counts.
    pub tenants: Vec<TenantSummaryOut>,
    /// Integrations whose last attempt in the last hour (whole minutes) failed, most failures first.
    pub failing_integrations: Vec<IntegrationHealthOut>,
}

/// The platform overview: queue depth and lag, tenants, failing integrations.
#[utoipa::path(get, path = "/api/v2/admin/overview", tag = "tenants", security(("admin_key" = [])),
    responses(
        (status = 200, description = "The overview", body = OverviewOut),
        (status = 401, description = "Not the admin key", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_overview(
    _: AdminAuth,
    State(state): State<AppState>,
) -> ApiResult<Json<OverviewOut>> {
    let since = Utc::now() - Duration::minutes(HEALTH_WINDOW_MINUTES);
    let (queue, tenants, failing) = tokio::try_join!(
        queue_depth(&state.pool),
        store::tenant_summaries(&state.pool, None),
        store::integration_health(&state.pool, None, since, true),
    )?;
    Ok(Json(OverviewOut {
        queue: queue.into(),
        tenants: tenants.into_iter().map(Into::into).collect(),
        failing_integrations: failing.into_iter().map(Into::into).collect(),
    }))
}
