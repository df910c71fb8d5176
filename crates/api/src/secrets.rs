//! Secrets: `POST/GET /api/v2/secrets`, `GET/PUT/DELETE /api/v2/secrets/{name}`. A value goes in
//! and never comes out: responses carry metadata and which integrations use the secret.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use ricochet_domain::template::is_secret_name;
use ricochet_domain::{IntegrationId, Permission, TenantId, ValidationErrors};
use ricochet_store::secrets::{self as store, SecretMeta, aad};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::AppState;
use crate::auth::TenantAuth;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{JsonBody, Path, Query, if_match};
use crate::pagination::{ListQuery, encode_cursor};
use crate::permit::{self, Authorized};

/// Longest secret value.
pub const MAX_SECRET_VALUE_LEN: usize = 8 * 1024;
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 1024;

/// A secret to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretIn {
    /// Name, unique in the tenant: 1 to 64 letters, digits, `_`, `-` or `.`.
    #[schema(example = "crm_api_token")]
    pub name: String,
    /// The value. Write-only: no response ever contains it. No line breaks, except in PEM text
    /// (a certificate or key for `settings.tls`).
    #[schema(value_type = String, format = Password)]
    pub value: SecretString,
    /// What it is for.
    #[serde(default)]
    pub description: String,
}

/// A new value for a secret.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretUpdate {
    /// The new value. Write-only.
    #[schema(value_type = String, format = Password)]
    pub value: SecretString,
    /// A new description; unchanged when absent.
    pub description: Option<String>,
}

fn check_value(errors: &mut ValidationErrors, value: &SecretString) {
    let value = value.expose_secret();
    if value.is_empty() || value.len() > MAX_SECRET_VALUE_LEN {
        errors.add(
            "value",
            format!("must be 1 to {MAX_SECRET_VALUE_LEN} bytes"),
        );
    } else if value
        .chars()
        .any(|c| c.is_control() && c != '\t' && !(is_pem(value) && matches!(c, '\n' | '\r')))
    {
        errors.add(
            "value",
            "must not contain control characters such as line breaks (except a PEM certificate or key)",
        );
    }
}

/// Whether `value` is PEM text (a certificate or key for `settings.tls`), whose lines are kept:
/// other values refuse line breaks, so a stray newline is caught at save, not in a header at
/// send time.
fn is_pem(value: &str) -> bool {
    value.trim_start().starts_with("-----BEGIN ")
}

fn check_description(errors: &mut ValidationErrors, description: &str) {
    if description.contains('\0') {
        errors.add("description", "must not contain NUL characters (\\u0000)");
    } else if description.chars().count() > MAX_DESCRIPTION_LEN {
        errors.add(
            "description",
            format!("must be at most {MAX_DESCRIPTION_LEN} characters"),
        );
    }
}

/// An integration that uses a secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretUser {
    /// The integration.
    pub id: IntegrationId,
    /// Its name.
    pub name: String,
}

/// A secret's metadata.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretOut {
    /// Its name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Incremented on every new value; send it back in `If-Match` to guard a write.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// The integrations whose templates reference it.
    pub used_by: Vec<SecretUser>,
}

/// A page of secrets.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretList {
    /// The secrets.
    pub data: Vec<SecretOut>,
    /// Cursor of the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// The secret with its version as an `ETag`.
fn with_etag(status: StatusCode, secret: SecretOut) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", secret.version)).ok();
    let mut response = (status, Json(secret)).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

async fn describe(pool: &PgPool, tenant: TenantId, meta: SecretMeta) -> ApiResult<SecretOut> {
    let candidates =
        ricochet_store::integrations::mentioning_secret(pool, tenant, &meta.name).await?;
    let used_by = candidates
        .into_iter()
        // Settings that no longer parse count as using it: their text names it.
        .filter(|i| {
            i.settings.parsed().map_or(true, |settings| {
                settings
                    .secret_references()
                    .iter()
                    .any(|(name, _)| *name == meta.name)
            })
        })
        .map(|i| SecretUser {
            id: IntegrationId(i.id),
            name: i.name,
        })
        .collect();
    Ok(SecretOut {
        name: meta.name,
        description: meta.description,
        version: meta.version,
        created_at: meta.created_at,
        updated_at: meta.updated_at,
        used_by,
    })
}

fn seal(
    state: &AppState,
    tenant: TenantId,
    name: &str,
    value: &SecretString,
) -> ApiResult<ricochet_store::crypto::Sealed> {
    state
        .keyring
        .seal(&aad(tenant, name), value.expose_secret().as_bytes())
        .map_err(|e| ApiError::internal_from("sealing a secret", e))
}

/// Create a secret.
#[utoipa::path(post, path = "/api/v2/secrets", tag = "secrets", security(("bearer" = ["secret:edit"])),
    request_body = SecretIn,
    responses(
        (status = 201, body = SecretOut, headers(("ETag" = String, description = "The version, for If-Match"))),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_secret(
    Authorized { auth, .. }: Authorized<permit::SecretEdit>,
    State(state): State<AppState>,
    JsonBody(input): JsonBody<SecretIn>,
) -> ApiResult<Response> {
    let mut errors = ValidationErrors::default();
    if !is_secret_name(&input.name) {
        errors.add("name", "must be 1 to 64 letters, digits, `_`, `-` or `.`");
    }
    check_value(&mut errors, &input.value);
    check_description(&mut errors, &input.description);
    errors.finish(())?;
    let sealed = seal(&state, auth.tenant, &input.name, &input.value)?;
    let meta = store::create_secret(
        &state.pool,
        auth.tenant,
        &input.name,
        &input.description,
        &sealed,
    )
    .await
    .map_err(|e| match e {
        ricochet_store::StoreError::Conflict(_) => ApiError::Conflict(
            "a secret with this name already exists; PUT a new value to rotate it".into(),
        ),
        other => other.into(),
    })?;
    Ok(with_etag(
        StatusCode::CREATED,
        describe(&state.pool, auth.tenant, meta).await?,
    ))
}

/// List secrets (metadata only).
#[utoipa::path(get, path = "/api/v2/secrets", tag = "secrets", security(("bearer" = ["secret:view"])), params(ListQuery),
    responses((status = 200, body = SecretList)))]
pub async fn list_secrets(
    Authorized { auth, .. }: Authorized<permit::SecretView>,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<SecretList>> {
    let (limit, after) = query.resolve()?;
    let page = store::list_secrets(&state.pool, auth.tenant, after, limit).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for meta in page.items {
        data.push(describe(&state.pool, auth.tenant, meta).await?);
    }
    Ok(Json(SecretList {
        data,
        next_cursor: page.next_after.map(encode_cursor),
    }))
}

/// Get a secret's metadata.
#[utoipa::path(get, path = "/api/v2/secrets/{name}", tag = "secrets", security(("bearer" = ["secret:view"])),
    params(("name" = String, Path)),
    responses((status = 200, body = SecretOut, headers(("ETag" = String, description = "The version, for If-Match"))), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_secret(
    auth: TenantAuth,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    auth.require(Permission::SecretView)?;
    let meta = store::get_secret(&state.pool, auth.tenant, &name)
        .await?
        .ok_or(ApiError::NotFound("secret"))?;
    Ok(with_etag(
        StatusCode::OK,
        describe(&state.pool, auth.tenant, meta).await?,
    ))
}

/// Rotate a secret: the next attempt of every integration using it sends the new value, with
/// no restart.
#[utoipa::path(put, path = "/api/v2/secrets/{name}", tag = "secrets", security(("bearer" = ["secret:edit"])),
    params(("name" = String, Path), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`: write only if unchanged")),
    request_body = SecretUpdate,
    responses(
        (status = 200, body = SecretOut, headers(("ETag" = String, description = "The version, for If-Match"))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn update_secret(
    Authorized { auth, .. }: Authorized<permit::SecretEdit>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<SecretUpdate>,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let mut errors = ValidationErrors::default();
    check_value(&mut errors, &input.value);
    if let Some(description) = &input.description {
        check_description(&mut errors, description);
    }
    errors.finish(())?;
    let sealed = seal(&state, auth.tenant, &name, &input.value)?;
    match store::update_secret(
        &state.pool,
        auth.tenant,
        &name,
        expected,
        input.description.as_deref(),
        &sealed,
    )
    .await?
    {
        Some(meta) => Ok(with_etag(
            StatusCode::OK,
            describe(&state.pool, auth.tenant, meta).await?,
        )),
        None => match store::get_secret(&state.pool, auth.tenant, &name).await? {
            Some(_) => Err(ApiError::PreconditionFailed),
            None => Err(ApiError::NotFound("secret")),
        },
    }
}

/// Delete a secret. Integrations that still reference it dead-letter their next delivery with
/// `missing_secret:<name>` until it is created again.
#[utoipa::path(delete, path = "/api/v2/secrets/{name}", tag = "secrets", security(("bearer" = ["secret:edit"])),
    params(("name" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_secret(
    auth: TenantAuth,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(Permission::SecretEdit)?;
    if store::delete_secret(&state.pool, auth.tenant, &name).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("secret"))
    }
}
