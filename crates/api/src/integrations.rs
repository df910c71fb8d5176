//! Integrations: `POST/GET /api/v2/integrations`, `GET/PUT/PATCH/DELETE .../{integrationId}`.
//! Writes honour `If-Match: "<version>"`; PATCH is a JSON merge patch (RFC 7386).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use ricochet_domain::integration::{IntegrationIn, IntegrationSettings, Ordering};
use ricochet_domain::receiver_auth::ReceiverAuth;
use ricochet_domain::{IntegrationId, Permission, TenantId};
use ricochet_store::integrations::{self as store, Guarded};
use serde::Serialize;
use serde_json::Value;

use crate::AppState;
use crate::auth::TenantAuth;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{JsonBody, Path, Query, from_value, if_match, parse_id};
use crate::pagination::{ListQuery, encode_cursor};
use crate::permit::{self, Authorized};
use crate::references::check_secret_references;
use ricochet_domain::signature::KeyKind;

/// An integration, every default filled in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationOut {
    /// Its id.
    pub id: IntegrationId,
    /// Unique name within the tenant.
    pub name: String,
    /// Integration type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether it gets new deliveries.
    pub enabled: bool,
    /// Where and how it delivers.
    // As stored, should that no longer parse (edited in the database, or written by a newer
    // version): its deliveries then wait, and a `PATCH` or `PUT` of valid settings mends it.
    #[schema(value_type = IntegrationSettings)]
    pub settings: SettingsOut,
    /// Version, incremented on each change; send it back in `If-Match` to guard a write.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// How delivery to it is going: given when one integration is read (`GET`), null in
    /// lists and in answers to writes.
    pub health: Option<IntegrationHealth>,
}

/// How delivery to an integration is going, as the workers last recorded it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationHealth {
    /// Attempts in flight now across every worker, with the slots publishers hold for their
    /// next deliveries (at most `settings.maxConcurrency`).
    pub in_flight: i32,
    /// The current pause, if any: no attempt starts before it ends.
    pub pause: Option<IntegrationPause>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    /// When the last successful attempt started.
    pub last_success_at: Option<DateTime<Utc>>,
    /// When the last failed attempt started.
    pub last_failure_at: Option<DateTime<Utc>>,
    /// Since when every attempt has failed (null while the last one succeeded); the
    /// integration is disabled once this is older than `settings.autoDisableAfter`.
    pub failing_since: Option<DateTime<Utc>>,
    /// The circuit breaker: `closed` (attempts flow), `open` (none until the pause ends), or
    /// `halfOpen` (one probe in flight).
    pub circuit: CircuitState,
    /// The in-flight cap in force: `settings.maxConcurrency`, lowered while the receiver
    /// answers 429 without Retry-After, and 1 while the circuit is not closed.
    pub effective_max_concurrency: i32,
    /// The rate limit in force, in attempts per second: the lower of `settings.rateLimit` and
    /// the rate Ricochet learned from the receiver (a slow start after the circuit closes, half
    /// the rate the receiver got when 429s without Retry-After repeat, 8% more each second it
    /// keeps up); null when neither holds.
    pub effective_rate_per_second: Option<f64>,
}

/// The state of an integration's circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum CircuitState {
    /// Attempts flow.
    Closed,
    /// No attempt starts until the cool-down ends.
    Open,
    /// One probe is in flight; its success closes the circuit.
    HalfOpen,
}

/// A pause of an integration's deliveries.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationPause {
    /// When attempts may start again.
    pub until: DateTime<Utc>,
    /// Why (e.g. `Retry-After on HTTP 429`).
    pub reason: String,
}

impl From<ricochet_store::lanes::Health> for IntegrationHealth {
    fn from(h: ricochet_store::lanes::Health) -> Self {
        IntegrationHealth {
            in_flight: h.in_flight,
            pause: h.paused_until.map(|until| IntegrationPause {
                until,
                reason: h.pause_reason.unwrap_or_default(),
            }),
            consecutive_failures: h.consecutive_failures,
            last_success_at: h.last_success_at,
            last_failure_at: h.last_failure_at,
            failing_since: h.failing_since,
            circuit: match h.circuit.as_str() {
                "open" => CircuitState::Open,
                "half_open" => CircuitState::HalfOpen,
                _ => CircuitState::Closed,
            },
            effective_max_concurrency: h.effective_max_concurrency,
            effective_rate_per_second: h.effective_rate_per_second,
        }
    }
}

/// An integration's settings as shown: parsed (in their fields' order), or as stored when that
/// no longer parses.
#[derive(Debug)]
pub struct SettingsOut(store::StoredSettings);

impl Serialize for SettingsOut {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            store::StoredSettings::Parsed(settings) => settings.serialize(serializer),
            store::StoredSettings::Unreadable { stored, .. } => stored.serialize(serializer),
        }
    }
}

/// An integration's settings, or a 409 naming why what is stored no longer parses (edited in
/// the database, or written by a newer version): a `PATCH` or `PUT` of valid settings mends it.
pub(crate) fn usable_settings(integration: &store::Integration) -> ApiResult<&IntegrationSettings> {
    integration.settings.parsed().map_err(|error| {
        ApiError::Conflict(format!(
            "the integration's stored settings do not parse ({error}); replace them with a PATCH or PUT"
        ))
    })
}

impl From<store::Integration> for IntegrationOut {
    fn from(i: store::Integration) -> Self {
        IntegrationOut {
            id: IntegrationId(i.id),
            name: i.name,
            kind: i.kind,
            enabled: i.enabled,
            settings: SettingsOut(i.settings),
            version: i.version,
            created_at: i.created_at,
            updated_at: i.updated_at,
            health: None,
        }
    }
}

/// A page of integrations.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationList {
    /// The integrations of this page.
    pub data: Vec<IntegrationOut>,
    /// Cursor of the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// The integration with its version as an `ETag`.
fn with_etag(status: StatusCode, integration: store::Integration) -> Response {
    with_etag_and_health(status, integration, None)
}

/// [`with_etag`], with the integration's health.
fn with_etag_and_health(
    status: StatusCode,
    integration: store::Integration,
    health: Option<IntegrationHealth>,
) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", integration.version)).ok();
    let location = HeaderValue::from_str(&format!("/api/v2/integrations/{}", integration.id)).ok();
    let mut out = IntegrationOut::from(integration);
    out.health = health;
    let mut response = (status, Json(out)).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    if let (StatusCode::CREATED, Some(location)) = (status, location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// 422 naming `settings.url` (or `settings.auth.tokenUrl`) when its host is an address (in any spelling) or a name that
/// Ricochet may not connect to, or it is plain http while https is required. Names that
/// resolve to such an address are stopped at send time.
fn check_target(state: &AppState, settings: &IntegrationSettings) -> ApiResult<()> {
    let concrete = ricochet_domain::template::Template::parse(&settings.url)
        .map(|t| t.render(|_| "placeholder".to_owned()))
        .ok()
        .and_then(|url| url::Url::parse(&url).ok());
    if let Some(Err(refused)) = concrete.map(|url| state.targets.check_url(&url)) {
        return Err(ApiError::invalid("settings.url", refused.to_string()));
    }
    // The token endpoint is reached through the same guard as the receiver.
    if let Some(ReceiverAuth::Oauth2ClientCredentials { token_url, .. }) = &settings.auth
        && let Ok(url) = url::Url::parse(token_url)
        && let Err(refused) = state.targets.check_url(&url)
    {
        return Err(ApiError::invalid(
            "settings.auth.tokenUrl",
            refused.to_string(),
        ));
    }
    Ok(())
}

fn name_taken(err: ricochet_store::StoreError) -> ApiError {
    match err {
        ricochet_store::StoreError::Conflict(c) if c == "integrations_tenant_name_key" => {
            ApiError::Conflict("an integration with this name already exists in the tenant".into())
        }
        other => other.into(),
    }
}

fn guarded(outcome: Guarded<store::Integration>) -> ApiResult<store::Integration> {
    match outcome {
        Guarded::Done(integration) => Ok(integration),
        Guarded::NotFound => Err(ApiError::NotFound("integration")),
        Guarded::VersionMismatch => Err(ApiError::PreconditionFailed),
    }
}

/// Create an integration.
#[utoipa::path(post, path = "/api/v2/integrations", tag = "integrations", security(("bearer" = ["integration:edit"])),
    request_body = IntegrationIn,
    responses(
        (status = 201, body = IntegrationOut, headers(("ETag" = String), ("Location" = String))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each listed", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_integration(
    Authorized { auth, .. }: Authorized<permit::IntegrationEdit>,
    State(state): State<AppState>,
    JsonBody(input): JsonBody<IntegrationIn>,
) -> ApiResult<Response> {
    input.validate()?;
    check_target(&state, &input.settings)?;
    check_secret_references(&state.pool, auth.tenant, &input.settings).await?;
    let mut tx = state.pool.begin().await?;
    let created = store::create_integration(&mut *tx, auth.tenant, IntegrationId::new(), &input)
        .await
        .map_err(name_taken)?;
    // The `v1` key always exists (the signing-secret route shows it); a `v1a` one when the
    // scheme uses it, so its public key can be read before the first delivery.
    let mut kinds = vec![KeyKind::V1];
    kinds.extend_from_slice(input.settings.signature.scheme.kinds());
    kinds.dedup();
    ricochet_store::signing_keys::ensure_keys(
        &mut tx,
        &state.keyring,
        auth.tenant,
        IntegrationId(created.id),
        &kinds,
    )
    .await?;
    tx.commit().await?;
    Ok(with_etag(StatusCode::CREATED, created))
}

/// List integrations in creation order.
#[utoipa::path(get, path = "/api/v2/integrations", tag = "integrations", security(("bearer" = ["integration:view"])),
    params(ListQuery),
    responses((status = 200, body = IntegrationList), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_integrations(
    Authorized { auth, .. }: Authorized<permit::IntegrationView>,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<IntegrationList>> {
    let (limit, after) = query.resolve()?;
    let page = store::list_integrations(&state.pool, auth.tenant, after, limit).await?;
    Ok(Json(IntegrationList {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_after.map(encode_cursor),
    }))
}

/// Get an integration.
#[utoipa::path(get, path = "/api/v2/integrations/{integrationId}", tag = "integrations",
    security(("bearer" = ["integration:view"])), params(("integrationId" = String, Path, format = Uuid)),
    responses(
        (status = 200, body = IntegrationOut, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_integration(
    auth: TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    auth.require(Permission::IntegrationView)?;
    let id = parse_id("integrationId", &id)?;
    let integration = store::get_integration(&state.pool, auth.tenant, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    let health = ricochet_store::lanes::get_health(&state.pool, auth.tenant, id)
        .await?
        .map(IntegrationHealth::from);
    Ok(with_etag_and_health(StatusCode::OK, integration, health))
}

/// Replace an integration (fields left out take their defaults).
#[utoipa::path(put, path = "/api/v2/integrations/{integrationId}", tag = "integrations",
    security(("bearer" = ["integration:edit"])),
    params(("integrationId" = String, Path, format = Uuid), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`: write only if unchanged")),
    request_body = IntegrationIn,
    responses(
        (status = 200, body = IntegrationOut, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn replace_integration(
    Authorized { auth, .. }: Authorized<permit::IntegrationEdit>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<IntegrationIn>,
) -> ApiResult<Response> {
    let id = parse_id("integrationId", &id)?;
    let expected = if_match(&headers)?;
    input.validate()?;
    let updated = apply_update(&state, auth.tenant, id, expected, |_| Ok(input)).await?;
    Ok(with_etag(StatusCode::OK, updated))
}

/// Writes a new version of an integration in one transaction: the change, guarded by
/// `expected`, and the pausing or resuming of its waiting deliveries when `enabled` flips.
async fn apply_update(
    state: &AppState,
    tenant: TenantId,
    id: IntegrationId,
    expected: Option<i32>,
    change: impl FnOnce(&store::Integration) -> ApiResult<IntegrationIn>,
) -> ApiResult<store::Integration> {
    let mut tx = state.pool.begin().await?;
    let current = store::lock_integration(&mut *tx, tenant, id)
        .await?
        .ok_or(ApiError::NotFound("integration"))?;
    if expected.is_some_and(|v| v != current.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let input = change(&current)?;
    check_target(state, &input.settings)?;
    check_secret_references(&state.pool, tenant, &input.settings).await?;
    let outcome = store::update_integration(&mut tx, tenant, id, Some(current.version), &input)
        .await
        .map_err(name_taken)?;
    let updated = guarded(outcome)?;
    if updated.enabled != current.enabled {
        ricochet_store::deliveries::set_integration_paused(&mut tx, tenant, id, !updated.enabled)
            .await?;
        // Enabled again by a person: its circuit, pause and failures start afresh.
        if updated.enabled {
            ricochet_store::lanes::reset(&mut tx, id).await?;
        }
    }
    // No longer in order per key: the deliveries waiting for their key go as they are. (Stored
    // settings that did not parse may have kept them in order: they go too, unless the new
    // settings keep the order.)
    let per_key = |settings: &store::StoredSettings| {
        settings
            .parsed()
            .ok()
            .map(|s| s.ordering == Ordering::PerKey)
    };
    if per_key(&current.settings) != Some(false) && per_key(&updated.settings) != Some(true) {
        ricochet_store::ordering::release_all(&mut *tx, id.0).await?;
        ricochet_store::wake::wake_workers(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(updated)
}

/// Change some fields of an integration with a JSON merge patch: present fields replace,
/// `null` resets a field to its default, absent fields stay.
#[utoipa::path(patch, path = "/api/v2/integrations/{integrationId}", tag = "integrations",
    security(("bearer" = ["integration:edit"])),
    params(("integrationId" = String, Path, format = Uuid), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`: write only if unchanged")),
    request_body(content = IntegrationIn, content_type = "application/merge-patch+json", description = "A JSON merge patch (RFC 7386): fields present replace, `null` resets a field to its default, fields left out stay"),
    responses(
        (status = 200, body = IntegrationOut, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch_integration(
    Authorized { auth, .. }: Authorized<permit::IntegrationEdit>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(patch): JsonBody<Value>,
) -> ApiResult<Response> {
    let id: IntegrationId = parse_id("integrationId", &id)?;
    let expected = if_match(&headers)?;
    if !patch.is_object() {
        return Err(ApiError::invalid(
            "body",
            "a merge patch must be a JSON object",
        ));
    }
    let updated = apply_update(&state, auth.tenant, id, expected, |current| {
        let mut document = current.to_input_document();
        merge_patch(&mut document, patch);
        let input: IntegrationIn = from_value(document)?;
        input.validate()?;
        Ok(input)
    })
    .await?;
    Ok(with_etag(StatusCode::OK, updated))
}

/// RFC 7386: objects merge recursively, `null` removes, anything else replaces.
fn merge_patch(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(fields) => {
            if !target.is_object() {
                *target = Value::Object(serde_json::Map::new());
            }
            if let Value::Object(map) = target {
                for (key, value) in fields {
                    if value.is_null() {
                        map.remove(&key);
                    } else {
                        merge_patch(map.entry(key).or_insert(Value::Null), value);
                    }
                }
            }
        }
        other => *target = other,
    }
}

/// Delete an integration: it gets no more deliveries; its delivery log stays readable.
#[utoipa::path(delete, path = "/api/v2/integrations/{integrationId}", tag = "integrations",
    security(("bearer" = ["integration:edit"])),
    params(("integrationId" = String, Path, format = Uuid), ("If-Match" = Option<String>, Header, description = "`\"<version>\"`: delete only if unchanged")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_integration(
    auth: TenantAuth,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    auth.require(Permission::IntegrationEdit)?;
    let id = parse_id("integrationId", &id)?;
    let expected = if_match(&headers)?;
    let mut tx = state.pool.begin().await?;
    match store::delete_integration(&mut tx, auth.tenant, id, expected).await? {
        Guarded::Done(()) => {}
        Guarded::NotFound => return Err(ApiError::NotFound("integration")),
        Guarded::VersionMismatch => return Err(ApiError::PreconditionFailed),
    }
    ricochet_store::deliveries::cancel_for_integration(&mut *tx, auth.tenant, id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::merge_patch;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut doc = json!({"a": {"b": 1, "c": 2}, "d": [1, 2], "e": "x"});
        merge_patch(
            &mut doc,
            json!({"a": {"b": null, "z": 3}, "d": [3], "f": {"g": 1}}),
        );
        assert_eq!(
            doc,
            json!({"a": {"c": 2, "z": 3}, "d": [3], "e": "x", "f": {"g": 1}})
        );
    }
}
