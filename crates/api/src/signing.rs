//! Signing secrets: `GET /api/v2/integrations/{integrationId}/signing-secret` (the only route
//! that returns a secret value, and only this kind: receivers need it to verify) and
//! `POST .../signing-secret/rotate`. For `v1a` (Ed25519) only the public key is ever shown.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use ricochet_domain::ed25519::Ed25519Key;
use ricochet_domain::signature::{KeyKind, SignatureScheme, Signer, SigningKey};
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

/// An integration's current signing secret, and its public key when it signs with `v1a`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SigningSecretOut {
    /// `whsec_` + base64 of the `v1` (HMAC) key: what a receiver gives its Standard Webhooks
    /// library. It signs when `settings.signature.scheme` is `v1` (the default) or `both`.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub key: String,
    /// `whpk_` + base64 of the current `v1a` (Ed25519) public key, when the scheme is `v1a` or
    /// `both`: receivers verify `v1a` entries with it and hold no secret. The private key is
    /// never shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "whpk_3ZPa8n1/1kjTNOzEq1vjyYtcF2x2D0lx0GNgVjfwIpM=")]
    pub public_key: Option<String>,
    /// Which signatures requests carry (`settings.signature.scheme`).
    pub scheme: SignatureScheme,
    /// When the current key was made (the newest, if both kinds sign).
    pub created_at: DateTime<Utc>,
    /// After a rotation, when the replaced key stops signing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_key_retires_at: Option<DateTime<Utc>>,
}

/// A rotation of the signing secret.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SigningSecretRotation {
    /// The new key: `whsec_` + standard base64 of 24 to 64 random bytes (`v1`), or `whsk_` +
    /// standard base64 of an Ed25519 seed, alone or followed by its public key (`v1a`).
    /// Generated when absent.
    #[schema(value_type = Option<String>, format = Password, write_only)]
    pub key: Option<SecretString>,
    /// Which kind of key to rotate. Default: the kind of the given `key`, or else every kind
    /// the integration signs with.
    pub scheme: Option<KeyScheme>,
    /// Seconds the replaced key keeps signing alongside the new one (0 to 604800; default
    /// 86400), so receivers can switch without rejecting a request.
    #[schema(minimum = 0, maximum = 604_800)]
    pub grace_period_seconds: Option<i64>,
}

/// A kind of signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub enum KeyScheme {
    /// The HMAC `whsec_` key.
    #[serde(rename = "v1")]
    V1,
    /// The Ed25519 `whsk_` key.
    #[serde(rename = "v1a")]
    V1a,
}

impl From<KeyScheme> for KeyKind {
    fn from(scheme: KeyScheme) -> KeyKind {
        match scheme {
            KeyScheme::V1 => KeyKind::V1,
            KeyScheme::V1a => KeyKind::V1a,
        }
    }
}

async fn integration(
    state: &AppState,
    tenant: TenantId,
    id: &str,
) -> ApiResult<(IntegrationId, SignatureScheme)> {
    let id = parse_id("integrationId", id)?;
    let found = ricochet_store::integrations::get_integration(&state.pool, tenant, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    let scheme = crate::integrations::usable_settings(&found)?
        .signature
        .scheme;
    Ok((id, scheme))
}

/// The answer for the integration's current keys (`v1` always among them).
fn shown(
    keys: &[store::Key],
    scheme: SignatureScheme,
    previous_key_retires_at: Option<DateTime<Utc>>,
) -> ApiResult<SigningSecretOut> {
    let current = |kind: KeyKind| {
        keys.iter()
            .find(|k| k.retires_at.is_none() && k.key.kind() == kind)
    };
    let Some(v1) = current(KeyKind::V1) else {
        return Err(ApiError::internal("an integration without a signing key"));
    };
    let Signer::V1(secret) = &v1.key else {
        return Err(ApiError::internal("a v1 key of another kind"));
    };
    let v1a = current(KeyKind::V1a);
    let public_key = match v1a.map(|k| &k.key) {
        Some(Signer::V1a(key)) if scheme.kinds().contains(&KeyKind::V1a) => Some(key.public_text()),
        _ => None,
    };
    let created_at = match (v1a, scheme) {
        (Some(v1a), SignatureScheme::V1a) => v1a.created_at,
        (Some(v1a), SignatureScheme::Both) => v1a.created_at.max(v1.created_at),
        _ => v1.created_at,
    };
    Ok(SigningSecretOut {
        key: secret.to_text(),
        public_key,
        scheme,
        created_at,
        previous_key_retires_at,
    })
}

/// The kinds shown for an integration: `v1` always, and those its scheme signs with.
fn shown_kinds(scheme: SignatureScheme) -> Vec<KeyKind> {
    let mut kinds = vec![KeyKind::V1];
    kinds.extend_from_slice(scheme.kinds());
    kinds.dedup();
    kinds
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
    let (id, scheme) = integration(&state, auth.tenant, &id).await?;
    let keys = store::signing_keys(
        &state.pool,
        &state.keyring,
        auth.tenant,
        id,
        &shown_kinds(scheme),
    )
    .await?;
    Ok(Json(shown(&keys, scheme, None)?))
}

/// Rotate an integration's signing secret: the new key signs at once; the replaced one keeps
/// signing alongside it for the grace period. Without `key` or `scheme`, every kind of key the
/// integration signs with is rotated.
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
    let scheme = rotation.scheme.map(KeyKind::from);
    let key = match &rotation.key {
        None => None,
        Some(text) => {
            let text = text.expose_secret();
            let parsed = if text.starts_with(ricochet_domain::ed25519::SECRET_PREFIX) {
                Ed25519Key::parse(text)
                    .map(Signer::V1a)
                    .map_err(|e| e.to_string())
            } else {
                SigningKey::parse(text)
                    .map(Signer::V1)
                    .map_err(|e| e.to_string())
            };
            match parsed {
                Ok(key) if scheme.is_some_and(|s| s != key.kind()) => {
                    errors.add("key", "is not a key of the given scheme");
                    None
                }
                Ok(key) => Some(key),
                Err(e) => {
                    errors.add("key", e);
                    None
                }
            }
        }
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
    let (key, scheme) = errors.finish((key, scheme))?;
    let (id, signs_with) = integration(&state, auth.tenant, &id).await?;
    let new_keys = match (key, scheme) {
        (Some(key), _) => vec![key],
        (None, Some(kind)) => vec![Signer::generate(kind)],
        (None, None) => signs_with
            .kinds()
            .iter()
            .map(|kind| Signer::generate(*kind))
            .collect(),
    };
    match store::rotate(
        &state.pool,
        &state.keyring,
        auth.tenant,
        id,
        new_keys,
        chrono::Duration::seconds(grace),
    )
    .await?
    {
        Rotated::Done { old_retires_at, .. } => {
            let keys = store::signing_keys(
                &state.pool,
                &state.keyring,
                auth.tenant,
                id,
                &shown_kinds(signs_with),
            )
            .await?;
            Ok(Json(shown(&keys, signs_with, Some(old_retires_at))?))
        }
        Rotated::TooManyInGrace(kind) => Err(ApiError::Conflict(format!(
            "{MAX_KEYS_IN_GRACE} replaced {} keys are still in their grace period; rotate again when one has retired",
            kind.as_str()
        ))),
    }
}
