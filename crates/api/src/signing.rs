//! Signing secrets: `GET /api/v2/integrations/{integrationId}/signing-secret` (the only route
//! that returns a secret value, and only this kind: receivers need it to verify) and
//! `POST .../signing-secret/rotate`.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use ricochet_domain::signature::SigningKey;
use ricochet_domain::{IntegrationId, Permission, TenantId, ValidationErrors};
use ricochet_store::signing_keys::{self as store, MAX_KEYS_IN_GRACE, Rotated};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::TenantAuth;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Body, Path, parse_id, parse_json, require_json};

/// Default time a replaced key keeps signing: 24 hours.
pub const DEFAULT_GRACE_SECONDS: i64 = 24 * 3600;
/// Longest grace period: 7 days.
pub const MAX_GRACE_SECONDS: i64 = 7 * 24 * 3600;

/// An integration's current signing secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SigningSecretOut {
    /// `whsec_` + base64 of the key: what a receiver gives its Standard Webhooks library.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub key: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// After a rotation, when the replaced key stops signing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_key_retires_at: Option<DateTime<Utc>>,
}

/// A rotation of the signing secret.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SigningSecretRotation {
    /// The new key (`whsec_` + standard base64 of 24 to 64 random bytes); generated when absent.
    #[schema(value_type = Option<String>, format = Password, write_only)]
    pub key: Option<SecretString>,
    /// Seconds the replaced key keeps signing alongside the new one (0 to 604800; default
    /// 86400), so receivers can switch without rejecting a request.
    #[schema(minimum = 0, maximum = 604_800)]
    pub grace_period_seconds: Option<i64>,
}

async fn integration(state: &AppState, tenant: TenantId, id: &str) -> ApiResult<IntegrationId> {
    let id = parse_id("integrationId", id)?;
    ricochet_store::integrations::get_integration(&state.pool, tenant, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    Ok(id)
}

/// Get an integration's signing secret.
#[utoipa::path(get, path = "/api/v2/integrations/{integrationId}/signing-secret", tag = "integrations",
    security(("bearer" = ["secret:view"])), params(("integrationId" = String, Path, format = Uuid)),
    responses(
        (status = 200, body = SigningSecretOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_signing_secret(
    auth: TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SigningSecretOut>> {
    auth.require(Permission::SecretView)?;
    let id = integration(&state, auth.tenant, &id).await?;
    let keys = store::signing_keys(&state.pool, &state.keyring, auth.tenant, id).await?;
    let current = keys
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("an integration without a signing key"))?;
    Ok(Json(SigningSecretOut {
        key: current.key.to_text(),
        created_at: current.created_at,
        previous_key_retires_at: None,
    }))
}

/// Rotate an integration's signing secret: the new key signs at once; the replaced one keeps
/// signing alongside it for the grace period.
#[utoipa::path(post, path = "/api/v2/integrations/{integrationId}/signing-secret/rotate", tag = "integrations",
    security(("bearer" = ["secret:edit"])), params(("integrationId" = String, Path, format = Uuid)),
    request_body(content = Option<SigningSecretRotation>, description = "Optional: a given key and the grace period"),
    responses(
        (status = 200, body = SigningSecretOut),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Too many replaced keys are still in their grace period", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn rotate_signing_secret(
    auth: TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<Json<SigningSecretOut>> {
    auth.require(Permission::SecretEdit)?;
    let rotation: SigningSecretRotation = if body.bytes.is_empty() {
        SigningSecretRotation::default()
    } else {
        require_json(&body.headers)?;
        parse_json(&body.bytes)?
    };
    let mut errors = ValidationErrors::default();
    let key = match &rotation.key {
        None => Some(SigningKey::generate()),
        Some(text) => SigningKey::parse(text.expose_secret())
            .map_err(|e| errors.add("key", e.to_string()))
            .ok(),
    };
    let grace = rotation
        .grace_period_seconds
        .unwrap_or(DEFAULT_GRACE_SECONDS);
    if !(0..=MAX_GRACE_SECONDS).contains(&grace) {
        errors.add(
            "gracePeriodSeconds",
            format!("must be 0 to {MAX_GRACE_SECONDS} seconds"),
        );
    }
    let key = errors.finish(key)?;
    let key = key.ok_or_else(|| ApiError::internal("no key after validation"))?;
    let id = integration(&state, auth.tenant, &id).await?;
    match store::rotate(
        &state.pool,
        &state.keyring,
        auth.tenant,
        id,
        key,
        chrono::Duration::seconds(grace),
    )
    .await?
    {
        Rotated::Done {
            key,
            old_retires_at,
        } => Ok(Json(SigningSecretOut {
            key: key.key.to_text(),
            created_at: key.created_at,
            previous_key_retires_at: Some(old_retires_at),
        })),
        Rotated::TooManyInGrace => Err(ApiError::Conflict(format!(
            "{MAX_KEYS_IN_GRACE} replaced keys are still in their grace period; rotate again when one has retired"
        ))),
    }
}
