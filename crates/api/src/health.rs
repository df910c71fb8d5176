//! `/healthz` (the process answers) and `/readyz` (the database answers and is migrated).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::AppState;

/// How long `/readyz` waits for the database before it answers 503.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_millis(800);

/// Health or readiness.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or what is not.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Whether the process is up: a pure liveness check, 200 while it runs, whatever the database.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Whether the process can serve: database reachable, every migration applied.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses((status = 200, body = Health), (status = 503, description = "Not ready", body = Health))
)]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    // A load balancer's probe must get an answer within a second, database or not.
    let check = ricochet_store::health::is_ready(&state.pool);
    let answer = tokio::time::timeout(READY_WITHIN, check)
        .await
        .unwrap_or(Err(sqlx::Error::PoolTimedOut));
    match answer {
        Ok(true) => (StatusCode::OK, Json(Health { status: "ok" })),
        Ok(false) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "migrations pending",
            }),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "database unreachable",
                }),
            )
        }
    }
}
