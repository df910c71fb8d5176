//! Tenants and their API clients, managed with the platform admin key.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use chrono::{DateTime, Utc};
use ricochet_domain::tenant::{ApiClientIn, TenantIn};
use ricochet_domain::{ApiClientId, Permission, TenantId};
use ricochet_store::{api_clients, tenants};
use serde::Serialize;
use sqlx::PgPool;

use crate::AppState;
use crate::auth::{AdminAuth, generate_secret, hash_secret};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{JsonBody, Path, Query, parse_id};
use crate::pagination::{ListQuery, encode_cursor};

/// A tenant.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantOut {
    /// Its id.
    pub id: TenantId,
    /// Its unique name.
    pub name: String,
    /// Version, incremented on each change.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<tenants::Tenant> for TenantOut {
    fn from(t: tenants::Tenant) -> Self {
        TenantOut {
            id: TenantId(t.id),
            name: t.name,
            version: t.version,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A page of tenants.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantList {
    /// The tenants of this page.
    pub data: Vec<TenantOut>,
    /// Cursor of the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// An API client (its secret is never shown again after creation).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiClientOut {
    /// The OAuth2 `client_id`.
    pub client_id: ApiClientId,
    /// The tenant it acts for.
    pub tenant_id: TenantId,
    /// What it is for.
    pub name: String,
    /// What its tokens may do.
    pub permissions: Vec<Permission>,
    /// Version, incremented on each change.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was revoked; absent while active.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<api_clients::ApiClient> for ApiClientOut {
    fn from(c: api_clients::ApiClient) -> Self {
        ApiClientOut {
            client_id: ApiClientId(c.id),
            tenant_id: TenantId(c.tenant_id),
            name: c.name,
            permissions: c
                .permissions
                .iter()
                .filter_map(|p| Permission::parse(p))
                .collect(),
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
            revoked_at: c.revoked_at,
        }
    }
}

/// A new API client, with its secret: shown this once, stored only as a hash.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiClientCreated {
    /// The client.
    #[serde(flatten)]
    pub client: ApiClientOut,
    /// The OAuth2 `client_secret`. Store it now: it cannot be read again.
    pub client_secret: String,
}

/// A page of API clients.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiClientList {
    /// The clients of this page.
    pub data: Vec<ApiClientOut>,
    /// Cursor of the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// Create a tenant.
#[utoipa::path(post, path = "/api/v2/tenants", tag = "tenants", security(("admin_key" = [])),
    request_body = TenantIn,
    responses(
        (status = 201, body = TenantOut, headers(("ETag" = String, description = "The version"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_tenant(
    _: AdminAuth,
    State(state): State<AppState>,
    JsonBody(input): JsonBody<TenantIn>,
) -> ApiResult<Versioned<TenantOut>> {
    input.validate()?;
    let tenant = tenants::create_tenant(&state.pool, TenantId::new(), &input.name)
        .await
        .map_err(name_taken)?;
    let out = TenantOut::from(tenant);
    Ok(versioned(StatusCode::CREATED, out.version, out))
}

/// A versioned resource with its version as an `ETag`.
type Versioned<T> = (StatusCode, [(header::HeaderName, String); 1], Json<T>);

fn versioned<T>(status: StatusCode, version: i32, body: T) -> Versioned<T> {
    (
        status,
        [(header::ETAG, format!("\"{version}\""))],
        Json(body),
    )
}

fn name_taken(err: ricochet_store::StoreError) -> ApiError {
    match err {
        ricochet_store::StoreError::Conflict(_) => {
            ApiError::Conflict("a tenant with this name already exists".into())
        }
        other => other.into(),
    }
}

/// List tenants in creation order.
#[utoipa::path(get, path = "/api/v2/tenants", tag = "tenants", security(("admin_key" = [])), params(ListQuery),
    responses((status = 200, body = TenantList), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_tenants(
    _: AdminAuth,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<TenantList>> {
    let (limit, after) = query.resolve()?;
    let page = tenants::list_tenants(&state.pool, after, limit).await?;
    Ok(Json(TenantList {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_after.map(encode_cursor),
    }))
}

/// Get a tenant.
#[utoipa::path(get, path = "/api/v2/tenants/{tenantId}", tag = "tenants", security(("admin_key" = [])),
    params(("tenantId" = String, Path, format = Uuid)),
    responses((status = 200, body = TenantOut, headers(("ETag" = String, description = "The version"))), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_tenant(
    _: AdminAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Versioned<TenantOut>> {
    let id: TenantId = parse_id("tenantId", &id)?;
    let tenant = tenants::get_tenant(&state.pool, id)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let out = TenantOut::from(tenant);
    Ok(versioned(StatusCode::OK, out.version, out))
}

/// Delete a tenant and everything it owns.
#[utoipa::path(delete, path = "/api/v2/tenants/{tenantId}", tag = "tenants", security(("admin_key" = [])),
    params(("tenantId" = String, Path, format = Uuid)),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_tenant(
    _: AdminAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id: TenantId = parse_id("tenantId", &id)?;
    if tenants::delete_tenant(&state.pool, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("tenant"))
    }
}

/// Create an API client for a tenant; the response holds its secret, once.
#[utoipa::path(post, path = "/api/v2/tenants/{tenantId}/clients", tag = "tenants", security(("admin_key" = [])),
    params(("tenantId" = String, Path, format = Uuid)), request_body = ApiClientIn,
    responses(
        (status = 201, body = ApiClientCreated, headers(("ETag" = String, description = "The version"))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_client(
    _: AdminAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ApiClientIn>,
) -> ApiResult<Versioned<ApiClientCreated>> {
    let tenant: TenantId = parse_id("tenantId", &id)?;
    input.validate()?;
    let created = provision_client(&state.pool, tenant, &input)
        .await
        .map_err(|e| match e {
            ApiError::Unauthorized(_) => ApiError::NotFound("tenant"),
            other => other,
        })?;
    let version = created.client.version;
    Ok(versioned(StatusCode::CREATED, version, created))
}

/// Creates an API client with a fresh secret (also used by `ricochet tenants create`).
pub async fn provision_client(
    pool: &PgPool,
    tenant: TenantId,
    input: &ApiClientIn,
) -> ApiResult<ApiClientCreated> {
    let secret = generate_secret("rcs_");
    let to_hash = secret.clone();
    let hash = tokio::task::spawn_blocking(move || hash_secret(&to_hash))
        .await
        .map_err(|e| ApiError::Internal(format!("hashing task: {e}")))??;
    let permissions: Vec<String> = input
        .granted()
        .iter()
        .map(|p| p.as_str().to_owned())
        .collect();
    let new = api_clients::NewApiClient {
        id: ApiClientId::new(),
        name: &input.name,
        secret_hash: &hash,
        permissions: &permissions,
    };
    let client = api_clients::create_api_client(pool, tenant, new).await?;
    Ok(ApiClientCreated {
        client: client.into(),
        client_secret: secret,
    })
}

/// List a tenant's API clients, revoked ones included.
#[utoipa::path(get, path = "/api/v2/tenants/{tenantId}/clients", tag = "tenants", security(("admin_key" = [])),
    params(("tenantId" = String, Path, format = Uuid), ListQuery),
    responses((status = 200, body = ApiClientList), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn list_clients(
    _: AdminAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<ApiClientList>> {
    let tenant: TenantId = parse_id("tenantId", &id)?;
    let (limit, after) = query.resolve()?;
    tenants::get_tenant(&state.pool, tenant)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    let page = api_clients::list_api_clients(&state.pool, tenant, after, limit).await?;
    Ok(Json(ApiClientList {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_after.map(encode_cursor),
    }))
}

/// Revoke an API client: it can get no new token (tokens already issued live until they expire).
#[utoipa::path(delete, path = "/api/v2/tenants/{tenantId}/clients/{clientId}", tag = "tenants", security(("admin_key" = [])),
    params(("tenantId" = String, Path, format = Uuid), ("clientId" = String, Path, format = Uuid)),
    responses((status = 204, description = "Revoked"), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_client(
    _: AdminAuth,
    State(state): State<AppState>,
    Path((tenant, client)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let tenant: TenantId = parse_id("tenantId", &tenant)?;
    let client: ApiClientId = parse_id("clientId", &client)?;
    match api_clients::revoke_api_client(&state.pool, tenant, client).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(ApiError::NotFound("API client")),
    }
}
