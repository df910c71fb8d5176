//! Delivery statistics: `GET /api/v2/integrations/{integrationId}/stats` and
//! `GET /api/v2/stats` (the tenant as a whole), over the last hour, day or week.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Duration, Utc};
use ricochet_domain::IntegrationId;
use ricochet_store::stats::{self as store, Stats};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Path, Query, parse_id};
use crate::permit::{self, Authorized};

/// The window of `?window=`: its length and the width of its buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The last hour, in 5-minute buckets.
    Hour,
    /// The last 24 hours, in 1-hour buckets.
    Day,
    /// The last 7 days, in 6-hour buckets.
    Week,
}

impl Window {
    fn parse(raw: Option<&str>) -> ApiResult<Window> {
        match raw.unwrap_or("24h") {
            "1h" => Ok(Window::Hour),
            "24h" => Ok(Window::Day),
            "7d" => Ok(Window::Week),
            other => Err(ApiError::BadRequest(format!(
                "query parameter `window` must be 1h, 24h or 7d, got `{other}`"
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Window::Hour => "1h",
            Window::Day => "24h",
            Window::Week => "7d",
        }
    }

    fn length(self) -> Duration {
        match self {
            Window::Hour => Duration::hours(1),
            Window::Day => Duration::hours(24),
            Window::Week => Duration::days(7),
        }
    }

    /// Where the window ending at `to` starts: its length before, at the start of that minute
    /// (of that hour, for a day or a week), as the rollups count whole minutes and hours.
    fn start(self, to: DateTime<Utc>) -> DateTime<Utc> {
        let unit = match self {
            Window::Hour => 60,
            Window::Day | Window::Week => 3_600,
        };
        let from = (to - self.length()).timestamp();
        DateTime::from_timestamp(from - from.rem_euclid(unit), 0).unwrap_or(to - self.length())
    }

    fn bucket(self) -> Duration {
        match self {
            Window::Hour => Duration::minutes(5),
            Window::Day => Duration::hours(1),
            Window::Week => Duration::hours(6),
        }
    }
}

/// `?window=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// `1h` (5-minute buckets), `24h` (hourly, the default) or `7d` (6-hour buckets).
    pub window: Option<String>,
}

/// Attempts answered with one status code.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusCount {
    /// The status code; null for attempts that got no answer (timeout, connection refused).
    pub status_code: Option<i32>,
    /// Attempts.
    pub count: i64,
}

/// One bucket of the time series.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BucketOut {
    /// Its start.
    pub start: DateTime<Utc>,
    /// Attempts started in it.
    pub attempts: i64,
    /// Of which succeeded.
    pub succeeded: i64,
    /// Of which failed.
    pub failed: i64,
    /// Mean response time of its answered attempts, ms.
    pub avg_response_ms: Option<f64>,
}

/// Response times of the attempts a receiver answered, in ms. The mean is exact; the
/// percentiles are read from a histogram of 4%-wide buckets: at or above the true value, by
/// at most 4%.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResponseTimes {
    /// Mean.
    pub avg: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
}

/// Delivery statistics over a window ending now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatsOut {
    /// `1h`, `24h` or `7d`.
    pub window: String,
    /// Start of the window: its length before `to`, at the start of that minute (`1h`) or
    /// hour (`24h`, `7d`).
    pub from: DateTime<Utc>,
    /// End of the window (now).
    pub to: DateTime<Utc>,
    /// Attempts started in the window.
    pub attempts: i64,
    /// Of which succeeded.
    pub succeeded: i64,
    /// Of which failed.
    pub failed: i64,
    /// `succeeded / attempts`, 0 to 1; null without attempts.
    pub success_rate: Option<f64>,
    /// Response times of the attempts that got an answer (any status).
    pub response_time_ms: ResponseTimes,
    /// Attempts by status code, most frequent first.
    pub by_status_code: Vec<StatusCount>,
    /// Deliveries dead-lettered in the window (and still dead-lettered).
    pub dead_letters: i64,
    /// Start of the last successful attempt in the window.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Start of the last failed attempt in the window.
    pub last_failure_at: Option<DateTime<Utc>>,
    /// The window in buckets of equal width, oldest first, empty ones included.
    pub buckets: Vec<BucketOut>,
}

impl StatsOut {
    fn new(window: Window, from: DateTime<Utc>, to: DateTime<Utc>, s: Stats) -> Self {
        let mut by_status: Vec<StatusCount> = s
            .by_status
            .into_iter()
            .map(|(status_code, count)| StatusCount { status_code, count })
            .collect();
        by_status.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(a.status_code.cmp(&b.status_code))
        });
        StatsOut {
            window: window.name().into(),
            from,
            to,
            attempts: s.attempts,
            succeeded: s.succeeded,
            failed: s.failed,
            success_rate: (s.attempts > 0).then(|| s.succeeded as f64 / s.attempts as f64),
            response_time_ms: ResponseTimes {
                avg: s.avg_ms,
                p50: s.p50_ms,
                p95: s.p95_ms,
                p99: s.p99_ms,
            },
            by_status_code: by_status,
            dead_letters: s.dead_letters,
            last_success_at: s.last_success_at,
            last_failure_at: s.last_failure_at,
            buckets: s
                .buckets
                .into_iter()
                .map(|b| BucketOut {
                    start: b.start,
                    attempts: b.attempts,
                    succeeded: b.succeeded,
                    failed: b.attempts - b.succeeded,
                    avg_response_ms: b.avg_ms,
                })
                .collect(),
        }
    }
}

/// An integration's delivery statistics over the last hour, day or week.
#[utoipa::path(get, path = "/api/v2/integrations/{integrationId}/stats", tag = "stats",
    security(("bearer" = ["log:view"])),
    params(("integrationId" = String, Path, format = Uuid), StatsQuery),
    responses(
        (status = 200, description = "The integration's statistics", body = StatsOut),
        (status = 400, description = "A bad window", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such integration of this tenant", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn integration_stats(
    Authorized { auth, .. }: Authorized<permit::LogView>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<StatsQuery>,
) -> ApiResult<Json<StatsOut>> {
    let integration: IntegrationId = parse_id("integrationId", &id)?;
    let window = Window::parse(query.window.as_deref())?;
    if !ricochet_store::integrations::integration_ever_existed(
        &state.pool,
        auth.tenant,
        integration,
    )
    .await?
    {
        return Err(ApiError::NotFound("integration"));
    }
    let to = Utc::now();
    let from = window.start(to);
    let stats = store::stats(
        &state.pool,
        auth.tenant,
        &[integration.0],
        from,
        to,
        window.bucket(),
    )
    .await?;
    Ok(Json(StatsOut::new(window, from, to, stats)))
}

/// The tenant's delivery statistics (every integration, deleted ones too) over the last hour,
/// day or week.
#[utoipa::path(get, path = "/api/v2/stats", tag = "stats", security(("bearer" = ["log:view"])),
    params(StatsQuery),
    responses(
        (status = 200, description = "The tenant's statistics", body = StatsOut),
        (status = 400, description = "A bad window", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn tenant_stats(
    Authorized { auth, .. }: Authorized<permit::LogView>,
    State(state): State<AppState>,
    Query(query): Query<StatsQuery>,
) -> ApiResult<Json<StatsOut>> {
    let window = Window::parse(query.window.as_deref())?;
    let integrations = store::tenant_integrations(&state.pool, auth.tenant).await?;
    let to = Utc::now();
    let from = window.start(to);
    let stats = store::stats(
        &state.pool,
        auth.tenant,
        &integrations,
        from,
        to,
        window.bucket(),
    )
    .await?;
    Ok(Json(StatsOut::new(window, from, to, stats)))
}
