//! Preview: the exact request an attempt would send — method, URL, headers, body — with
//! secrets shown as their templates, sent nowhere. For a saved integration
//! (`POST /api/v2/integrations/{integrationId}/preview`) or one not saved yet
//! (`POST /api/v2/integrations/preview`).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use ricochet_domain::event::EventIn;
use ricochet_domain::integration::{IntegrationIn, IntegrationSettings};
use ricochet_domain::payload::EventView;
use ricochet_domain::request::{Rendered, RequestContext, prepare};
use ricochet_domain::{IntegrationId, Permission, TenantId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::AppState;
use crate::auth::TenantAuth;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{JsonBody, Path, parse_id};
use crate::permit::{self, Authorized};

/// The request an attempt would send.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviewOut {
    /// Method.
    #[schema(example = "POST")]
    pub method: String,
    /// URL, templates filled in.
    pub url: String,
    /// Every header sent, secrets shown as `{{secret:NAME}}`.
    pub headers: BTreeMap<String, String>,
    /// The body, if the method sends one.
    pub body: Option<String>,
    /// Referenced secrets that do not exist: an attempt now would be dead-lettered. Only with
    /// the `secret:view` permission (otherwise absent), so it cannot be used to probe which
    /// secret names exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_secrets: Option<Vec<String>>,
}

/// An integration not saved yet and an event to preview it with.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreviewIn {
    /// The integration as it would be created.
    pub integration: IntegrationIn,
    /// The event.
    pub event: EventIn,
}

async fn render(
    state: &AppState,
    tenant: TenantId,
    integration: Uuid,
    settings: &IntegrationSettings,
    event: &EventIn,
) -> ApiResult<PreviewOut> {
    let id = event.id.clone().unwrap_or_else(|| "preview".to_owned());
    let now = Utc::now();
    let ctx = RequestContext {
        event: EventView {
            id: &id,
            kind: &event.kind,
            tenant_id: tenant.0,
            occurred_at: event.occurred_at.unwrap_or(now),
            data: &event.data,
        },
        integration_id: integration,
        delivery_id: None,
        sent_at: now,
        attempt: 1,
    };
    // Values are never read: only the templates are shown.
    // Every secret "exists" here, so the only failure is a stored template that no longer
    // parses, which validation on save rules out.
    let request = prepare(settings, &ctx, &|_| Some(String::new()))
        .map_err(|e| ApiError::internal_from("previewing", e))?;
    let names: Vec<String> = settings
        .secret_references()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let existing = ricochet_store::secrets::existing_names(&state.pool, tenant, &names).await?;
    Ok(PreviewOut {
        method: request.method.as_str().to_owned(),
        url: request.url.into_shown(),
        headers: request
            .headers
            .into_iter()
            .map(|(name, value)| (name.into_owned(), value.into_shown()))
            .collect(),
        body: request.body.map(Rendered::into_shown),
        missing_secrets: Some(
            names
                .into_iter()
                .filter(|n| !existing.contains(n))
                .collect(),
        ),
    })
}

/// The preview as `auth` may read it: which secret names exist is for `secret:view` only.
fn for_reader(auth: &TenantAuth, mut preview: PreviewOut) -> PreviewOut {
    if auth.require(Permission::SecretView).is_err() {
        preview.missing_secrets = None;
    }
    preview
}

fn prefixed(errors: ricochet_domain::ValidationErrors, prefix: &str) -> ApiError {
    ApiError::Validation(
        errors
            .0
            .into_iter()
            .map(|mut e| {
                e.field = format!("{prefix}.{}", e.field);
                e
            })
            .collect(),
    )
}

/// Preview the request a saved integration would send for an event. Nothing is sent.
#[utoipa::path(post, path = "/api/v2/integrations/{integrationId}/preview", tag = "integrations",
    security(("bearer" = ["integration:view"])), params(("integrationId" = String, Path, format = Uuid)),
    request_body = EventIn,
    responses(
        (status = 200, body = PreviewOut),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn preview_integration(
    Authorized { auth, .. }: Authorized<permit::IntegrationView>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(event): JsonBody<EventIn>,
) -> ApiResult<Json<PreviewOut>> {
    let id: IntegrationId = parse_id("integrationId", &id)?;
    event.validate()?;
    let integration = ricochet_store::integrations::get_integration(&state.pool, auth.tenant, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    let preview = render(
        &state,
        auth.tenant,
        integration.id,
        crate::integrations::usable_settings(&integration)?,
        &event,
    )
    .await?;
    Ok(Json(for_reader(&auth, preview)))
}

/// Preview the request an integration not saved yet would send for an event. Nothing is
/// saved or sent.
#[utoipa::path(post, path = "/api/v2/integrations/preview", tag = "integrations",
    security(("bearer" = ["integration:view"])), request_body = PreviewIn,
    responses((status = 200, body = PreviewOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn preview_unsaved(
    Authorized { auth, .. }: Authorized<permit::IntegrationView>,
    State(state): State<AppState>,
    JsonBody(input): JsonBody<PreviewIn>,
) -> ApiResult<Json<PreviewOut>> {
    input
        .integration
        .validate()
        .map_err(|e| prefixed(e, "integration"))?;
    input.event.validate().map_err(|e| prefixed(e, "event"))?;
    let preview = render(
        &state,
        auth.tenant,
        Uuid::nil(),
        &input.integration.settings,
        &input.event,
    )
    .await?;
    Ok(Json(for_reader(&auth, preview)))
}
