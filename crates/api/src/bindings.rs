//! Event bindings: `POST/GET /api/v2/integrations/{integrationId}/eventbindings` and
//! `DELETE .../eventbindings/{bindingId}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use ricochet_domain::event::BindingsIn;
use ricochet_domain::{IntegrationId, Permission};
use ricochet_store::event_bindings::{self as store, Binding};
use serde::Serialize;
use uuid::Uuid;

use crate::AppState;
use crate::auth::TenantAuth;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{JsonBody, Path, Query, parse_id};
use crate::pagination::{ListQuery, encode_cursor};
use crate::permit::{self, Authorized};

/// A binding of an event type (or family) to an integration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BindingOut {
    /// Its id.
    pub id: Uuid,
    /// The integration it feeds.
    pub integration_id: IntegrationId,
    /// The event type, or a family such as `routing.queue.*`.
    #[schema(example = "routing.queue.member.update")]
    pub event_type: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<Binding> for BindingOut {
    fn from(b: Binding) -> Self {
        BindingOut {
            id: b.id,
            integration_id: IntegrationId(b.integration_id),
            event_type: b.event_type,
            created_at: b.created_at,
        }
    }
}

/// A page of bindings.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BindingList {
    /// The bindings.
    pub data: Vec<BindingOut>,
    /// Cursor of the next page; absent on the last.
    pub next_cursor: Option<String>,
}

async fn live_integration(
    state: &AppState,
    auth: &TenantAuth,
    raw: &str,
) -> ApiResult<IntegrationId> {
    let id: IntegrationId = parse_id("integrationId", raw)?;
    ricochet_store::integrations::get_integration(&state.pool, auth.tenant, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    Ok(id)
}

/// Bind event types to an integration. Binding a type that is already bound is not an error:
/// the answer lists the bindings of every type asked for.
#[utoipa::path(post, path = "/api/v2/integrations/{integrationId}/eventbindings", tag = "event bindings",
    security(("bearer" = ["integration:edit"])), params(("integrationId" = String, Path, format = Uuid)),
    request_body = BindingsIn,
    responses(
        (status = 201, body = BindingList),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_bindings(
    Authorized { auth, .. }: Authorized<permit::IntegrationEdit>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<BindingsIn>,
) -> ApiResult<(StatusCode, Json<BindingList>)> {
    let integration = live_integration(&state, &auth, &id).await?;
    let patterns = input.validate()?;
    let bindings = store::add_bindings(&state.pool, auth.tenant, integration, &patterns).await?;
    Ok((
        StatusCode::CREATED,
        Json(BindingList {
            data: bindings.into_iter().map(Into::into).collect(),
            next_cursor: None,
        }),
    ))
}

/// List an integration's bindings.
#[utoipa::path(get, path = "/api/v2/integrations/{integrationId}/eventbindings", tag = "event bindings",
    security(("bearer" = ["integration:view"])), params(("integrationId" = String, Path, format = Uuid), ListQuery),
    responses((status = 200, body = BindingList), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_bindings(
    Authorized { auth, .. }: Authorized<permit::IntegrationView>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<BindingList>> {
    let integration = live_integration(&state, &auth, &id).await?;
    let (limit, after) = query.resolve()?;
    let page = store::list_bindings(&state.pool, auth.tenant, integration, after, limit).await?;
    Ok(Json(BindingList {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_after.map(encode_cursor),
    }))
}

/// Remove a binding.
#[utoipa::path(delete, path = "/api/v2/integrations/{integrationId}/eventbindings/{bindingId}", tag = "event bindings",
    security(("bearer" = ["integration:edit"])),
    params(("integrationId" = String, Path, format = Uuid), ("bindingId" = String, Path, format = Uuid)),
    responses((status = 204, description = "Removed"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_binding(
    auth: TenantAuth,
    State(state): State<AppState>,
    Path((integration, binding)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    auth.require(Permission::IntegrationEdit)?;
    let integration: IntegrationId = parse_id("integrationId", &integration)?;
    let binding: Uuid = parse_id("bindingId", &binding)?;
    if store::delete_binding(&state.pool, auth.tenant, integration, binding).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("event binding"))
    }
}
