//! `POST /oauth/token`: the OAuth2 client-credentials grant (RFC 6749 §4.4), with the client
//! authenticated by HTTP Basic or by `client_id`/`client_secret` in the form body.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use ricochet_domain::{ApiClientId, Permission, TenantId};
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::AppState;
use crate::auth::{AuthKeys, SecretCheck, check_secret, hash_secret, is_legacy_hash};
use crate::rate_limit::Limited;

/// A successful token response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// The JWT to send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    #[schema(example = 3600)]
    pub expires_in: u64,
    /// The permissions granted, space-separated.
    #[schema(example = "integration:view integration:edit")]
    pub scope: String,
}

/// The form of a client-credentials token request (RFC 6749 §4.4), sent as
/// `application/x-www-form-urlencoded`. The client authenticates with `client_id` and
/// `client_secret` here or with HTTP Basic.
#[derive(Debug, utoipa::ToSchema)]
pub struct TokenForm {
    /// Always `client_credentials`.
    #[schema(value_type = GrantType)]
    pub grant_type: String,
    /// The API client's id (unless sent with HTTP Basic).
    #[schema(format = Uuid)]
    pub client_id: Option<String>,
    /// The API client's secret (unless sent with HTTP Basic).
    #[schema(format = Password)]
    pub client_secret: Option<String>,
    /// Space-separated permissions to narrow the token to; all of the client's when absent.
    #[schema(example = "integration:view log:view")]
    pub scope: Option<String>,
}

/// The grant types `POST /oauth/token` supports.
#[derive(Debug, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum GrantType {
    /// RFC 6749 §4.4.
    ClientCredentials,
}

/// An RFC 6749 §5.2 error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `unsupported_grant_type`, `invalid_scope`,
    /// `temporarily_unavailable` or `server_error`.
    #[schema(example = "invalid_client")]
    pub error: &'static str,
    /// What is wrong, for a human.
    pub error_description: String,
}

#[derive(Debug)]
struct OAuthFailure {
    error: &'static str,
    description: String,
    basic_attempted: bool,
    /// Refused by a rate limit: 429 with this `Retry-After`.
    retry_after: Option<u64>,
}

impl OAuthFailure {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
            basic_attempted: false,
            retry_after: None,
        }
    }

    fn limited(limited: Limited) -> Self {
        let whose = match limited {
            Limited::Address(_) => "from this address",
            Limited::Client(_) => "for this client",
        };
        Self {
            retry_after: Some(limited.retry_after_secs()),
            ..Self::new(
                "temporarily_unavailable",
                format!("too many token requests {whose}; retry after Retry-After seconds"),
            )
        }
    }
}

fn rate_limited(limited: Limited) -> Response {
    OAuthFailure::limited(limited).into_response()
}

impl IntoResponse for OAuthFailure {
    fn into_response(self) -> Response {
        let status = match self.error {
            _ if self.retry_after.is_some() => StatusCode::TOO_MANY_REQUESTS,
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = OAuthError {
            error: self.error,
            error_description: self.description,
        };
        let mut response = (status, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(crate::error::RETRY_AFTER_SECS),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            let challenge = if self.basic_attempted {
                r#"Basic realm="ricochet""#
            } else {
                r#"Bearer realm="ricochet""#
            };
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

/// Token exchanges under way at once; beyond it a request is answered 429 at once, so a flood
/// of token requests cannot queue without bound or starve the other routes of the database.
pub const MAX_CONCURRENT_EXCHANGES: usize = 64;
static EXCHANGES: Semaphore = Semaphore::const_new(MAX_CONCURRENT_EXCHANGES);

/// Legacy (argon2) secret checks running at once; beyond it requests wait their turn, so
/// wrong secrets sent in bulk cannot take the process's memory (19 MiB per check).
static LEGACY_CHECKS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(2));

/// Exchange a client's credentials for an access token.
#[utoipa::path(
    post,
    path = "/oauth/token",
    tag = "auth",
    request_body(
        content = TokenForm,
        content_type = "application/x-www-form-urlencoded",
        description = "`grant_type=client_credentials`, and `client_id` + `client_secret` unless sent with HTTP Basic; optional `scope`: space-separated permissions to narrow the token to."
    ),
    responses(
        (status = 200, description = "A token", body = TokenResponse),
        (status = 400, description = "Malformed request, unsupported grant type or invalid scope", body = OAuthError),
        (status = 401, description = "Unknown client, wrong secret or revoked client", body = OAuthError),
        (status = 429, description = "Too many token requests at once, or faster than the client's or the address's rate limit (`temporarily_unavailable`); see Retry-After", body = OAuthError, headers(("Retry-After" = String))),
        (status = 503, description = "The database is unavailable (`temporarily_unavailable`); retry after `Retry-After` seconds", body = OAuthError),
    )
)]
pub async fn issue_token(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(Extension(ConnectInfo(peer))) = peer
        && let Err(limited) = state.token_limiter.check_address(peer.ip())
    {
        return rate_limited(limited);
    }
    let Ok(_permit) = EXCHANGES.try_acquire() else {
        let body = OAuthError {
            error: "temporarily_unavailable",
            error_description: "too many token requests at once; retry after a second".into(),
        };
        let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    match exchange(&state, &headers, &body).await {
        Ok(token) => {
            let mut response = axum::Json(token).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(failure) => failure.into_response(),
    }
}

async fn exchange(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TokenResponse, OAuthFailure> {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(OAuthFailure::new(
                "unsupported_grant_type",
                format!("grant_type `{other}` is not supported; use client_credentials"),
            ));
        }
        None => {
            return Err(OAuthFailure::new(
                "invalid_request",
                "grant_type is required (form-encoded body)",
            ));
        }
    }
    let basic = basic_credentials(headers)?;
    let basic_attempted = basic.is_some();
    let (client_id, secret) = match basic {
        Some(pair) => pair,
        None => match (form.get("client_id"), form.get("client_secret")) {
            (Some(id), Some(secret)) => (id.clone(), secret.clone()),
            _ => {
                return Err(OAuthFailure::new(
                    "invalid_request",
                    "client_id and client_secret are required",
                ));
            }
        },
    };
    // Counted before any lookup or hash, whether or not the client exists.
    if let Ok(id) = client_id.parse::<uuid::Uuid>()
        && let Err(limited) = state.token_limiter.check_client(id)
    {
        return Err(OAuthFailure::limited(limited));
    }
    let invalid_client = || OAuthFailure {
        basic_attempted,
        ..OAuthFailure::new(
            "invalid_client",
            "unknown client, wrong secret, or revoked client",
        )
    };
    let client = match client_id.parse::<ApiClientId>() {
        Ok(id) => ricochet_store::api_clients::find_api_client(&state.pool, id)
            .await
            .map_err(|e| {
                if e.is_unavailable() {
                    tracing::warn!(error = %e, "looking up an API client: database unavailable");
                    OAuthFailure::new(
                        "temporarily_unavailable",
                        "the database is unavailable; retry shortly",
                    )
                } else {
                    tracing::error!(error = %e, "looking up an API client");
                    OAuthFailure::new("server_error", "try again later")
                }
            })?,
        Err(_) => None,
    };
    // An unknown client is checked against a hash too, so it takes as long to refuse.
    let hash = client.as_ref().map_or_else(
        || hash_secret("ricochet-unknown-client"),
        |c| c.secret_hash.clone(),
    );
    let check = if is_legacy_hash(&hash) {
        let _permit = LEGACY_CHECKS
            .acquire()
            .await
            .map_err(|_| OAuthFailure::new("server_error", "try again later"))?;
        let secret = secret.clone();
        tokio::task::spawn_blocking(move || check_secret(&secret, &hash))
            .await
            .unwrap_or(SecretCheck::Wrong)
    } else {
        check_secret(&secret, &hash)
    };
    let client = match client {
        Some(client) if check != SecretCheck::Wrong && client.revoked_at.is_none() => client,
        _ => return Err(invalid_client()),
    };
    if check == SecretCheck::MatchesLegacy {
        let upgraded = ricochet_store::api_clients::replace_secret_hash(
            &state.pool,
            ApiClientId(client.id),
            &client.secret_hash,
            &hash_secret(&secret),
        )
        .await;
        if let Err(e) = upgraded {
            tracing::warn!(client = %client.id, error = %e, "upgrading a client's secret hash");
        }
    }
    let held: Vec<Permission> = client
        .permissions
        .iter()
        .filter_map(|p| Permission::parse(p))
        .collect();
    let granted = match form
        .get("scope")
        .map(|s| s.split_whitespace().collect::<Vec<_>>())
    {
        None => held,
        Some(asked) if asked.is_empty() => held,
        Some(asked) => {
            let mut granted = Vec::new();
            for name in asked {
                match Permission::parse(name).filter(|p| held.contains(p)) {
                    Some(p) => granted.push(p),
                    None => {
                        return Err(OAuthFailure::new(
                            "invalid_scope",
                            format!("`{name}` is not a permission of this client"),
                        ));
                    }
                }
            }
            granted
        }
    };
    let keys: &Arc<AuthKeys> = &state.auth;
    let scope = granted
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let access_token = keys
        .issue(TenantId(client.tenant_id), ApiClientId(client.id), granted)
        .map_err(|_| OAuthFailure::new("server_error", "could not sign the token"))?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: keys.token_ttl().as_secs(),
        scope,
    })
}

/// `client_id:client_secret` from HTTP Basic, form-urlencoded as RFC 6749 §2.3.1 asks.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthFailure> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || OAuthFailure {
        basic_attempted: true,
        ..OAuthFailure::new("invalid_client", "malformed HTTP Basic credentials")
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(malformed());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Ok(Some((
        unescape(id).unwrap_or_default(),
        unescape(secret).unwrap_or_default(),
    )))
}
