//! API clients: a tenant's OAuth2 client-credentials, stored with a hashed secret.

use chrono::{DateTime, Utc};
use ricochet_domain::{ApiClientId, TenantId};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::Page;
use crate::error::StoreResult;

/// A stored API client.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiClient {
    /// Its id, which is also its OAuth2 `client_id`.
    pub id: Uuid,
    /// The tenant it acts for.
    pub tenant_id: Uuid,
    /// What it is for.
    pub name: String,
    /// PHC string of the secret's argon2 hash.
    pub secret_hash: String,
    /// Permission names its tokens carry.
    pub permissions: Vec<String>,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

macro_rules! columns {
    () => {
        "id, tenant_id, name, secret_hash, permissions, version, created_at, updated_at, revoked_at"
    };
}

/// A client to insert.
#[derive(Debug)]
pub struct NewApiClient<'a> {
    /// Its id / client_id.
    pub id: ApiClientId,
    /// What it is for.
    pub name: &'a str,
    /// PHC string of the secret's hash.
    pub secret_hash: &'a str,
    /// Permission names.
    pub permissions: &'a [String],
}

/// Creates a client for `tenant`; `MissingParent` when the tenant does not exist.
pub async fn create_api_client(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    new: NewApiClient<'_>,
) -> StoreResult<ApiClient> {
    let sql = concat!(
        "INSERT INTO api_clients (id, tenant_id, name, secret_hash, permissions)
         VALUES ($1, $2, $3, $4, $5) RETURNING ",
        columns!(),
        ""
    );
    let client = sqlx::query_as(sql)
        .bind(new.id.0)
        .bind(tenant.0)
        .bind(new.name)
        .bind(new.secret_hash)
        .bind(new.permissions)
        .fetch_one(db)
        .await?;
    Ok(client)
}

/// A client by its `client_id`, whatever its tenant (for the token endpoint).
pub async fn find_api_client(
    db: impl PgExecutor<'_>,
    id: ApiClientId,
) -> StoreResult<Option<ApiClient>> {
    let sql = concat!("SELECT ", columns!(), " FROM api_clients WHERE id = $1");
    Ok(sqlx::query_as(sql).bind(id.0).fetch_optional(db).await?)
}

/// A tenant's clients, revoked ones included, in creation order.
pub async fn list_api_clients(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    after: Option<Uuid>,
    limit: i64,
) -> StoreResult<Page<ApiClient>> {
    let sql = concat!(
        "SELECT ",
        columns!(),
        " FROM api_clients WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2)
         ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query_as(sql)
        .bind(tenant.0)
        .bind(after)
        .bind(limit + 1)
        .fetch_all(db)
        .await?;
    Ok(Page::from_rows(rows, limit, |c: &ApiClient| c.id))
}

/// Revokes a client: it can obtain no new token. The revoked client, or `None` if it does not
/// exist under `tenant`. Revoking twice keeps the first time.
pub async fn revoke_api_client(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: ApiClientId,
) -> StoreResult<Option<ApiClient>> {
    let sql = concat!(
        "UPDATE api_clients
         SET revoked_at = COALESCE(revoked_at, now()), updated_at = now(),
             version = version + CASE WHEN revoked_at IS NULL THEN 1 ELSE 0 END
         WHERE tenant_id = $1 AND id = $2 RETURNING ",
        columns!(),
        ""
    );
    Ok(sqlx::query_as(sql)
        .bind(tenant.0)
        .bind(id.0)
        .fetch_optional(db)
        .await?)
}

/// Replaces a client's secret hash with `new` if it is still `old` (a legacy hash upgraded at
/// a good exchange). Whether it was replaced.
pub async fn replace_secret_hash(
    db: impl PgExecutor<'_>,
    id: ApiClientId,
    old: &str,
    new: &str,
) -> StoreResult<bool> {
    let done =
        sqlx::query("UPDATE api_clients SET secret_hash = $3 WHERE id = $1 AND secret_hash = $2")
            .bind(id.0)
            .bind(old)
            .bind(new)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether tokens of client `id` of `tenant` may still act: the client exists, is not revoked
/// and its tenant exists (deleting a tenant deletes its clients).
pub async fn client_is_active(
    db: impl PgExecutor<'_>,
    tenant: TenantId,
    id: ApiClientId,
) -> StoreResult<bool> {
    let active: Option<bool> = sqlx::query_scalar(
        "SELECT revoked_at IS NULL FROM api_clients WHERE id = $1 AND tenant_id = $2",
    )
    .bind(id.0)
    .bind(tenant.0)
    .fetch_optional(db)
    .await?;
    Ok(active.unwrap_or(false))
}
