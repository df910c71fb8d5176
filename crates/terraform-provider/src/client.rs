//! The provider's own small typed client of Ricochet's public REST API (`/api/v2`): the
//! admin key or OAuth2 client credentials (token refreshed before it expires), `If-Match`,
//! and problem+json errors kept with their field list.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use tokio::sync::Mutex;

/// A token is fetched again when less than this is left of its lifetime.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// One request's deadline.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Credentials from the provider block (or its environment fallbacks).
#[derive(Debug, Clone, Default)]
pub(crate) struct Credentials {
    pub(crate) endpoint: Option<String>,
    pub(crate) admin_key: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<String>,
}

/// One field's complaint in a problem document.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct FieldError {
    pub(crate) field: String,
    pub(crate) message: String,
}

#[derive(Debug, Default, Deserialize)]
struct Problem {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    errors: Vec<FieldError>,
    /// OAuth2 errors (`/oauth/token`) use RFC 6749's shape.
    #[serde(default)]
    error_description: Option<String>,
}

/// Why a call failed.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// The provider block lacks what this call needs.
    Config(String),
    /// Ricochet could not be reached or answered garbage.
    Transport(String),
    /// Ricochet answered with an error status.
    Status {
        status: StatusCode,
        summary: String,
        errors: Vec<FieldError>,
    },
}

impl ApiError {
    pub(crate) fn is_not_found(&self) -> bool {
        matches!(self, ApiError::Status { status, .. } if *status == StatusCode::NOT_FOUND)
    }
}

/// Which credential a route takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The platform admin key (tenants, API clients).
    Admin,
    /// A tenant's token from its API client.
    Tenant,
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

/// The client, shared by every resource once the provider is configured.
#[derive(Debug)]
pub(crate) struct Api {
    http: reqwest::Client,
    base: String,
    credentials: Credentials,
    token: Mutex<Option<(String, Instant)>>,
}

impl Api {
    pub(crate) fn new(credentials: Credentials) -> Result<Api, ApiError> {
        let base = credentials
            .endpoint
            .clone()
            .ok_or_else(|| {
                ApiError::Config(
                    "no endpoint: set `endpoint` in the provider block or RICOCHET_ENDPOINT".into(),
                )
            })?
            .trim_end_matches('/')
            .to_owned();
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!(
                "terraform-provider-ricochet/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| ApiError::Transport(format!("building the HTTP client: {e}")))?;
        Ok(Api {
            http,
            base,
            credentials,
            token: Mutex::new(None),
        })
    }

    async fn bearer(&self, role: Role) -> Result<String, ApiError> {
        match role {
            Role::Admin => self.credentials.admin_key.clone().ok_or_else(|| {
                ApiError::Config(
                    "tenants and API clients need the platform admin key: set `admin_key` in the provider block or RICOCHET_ADMIN_KEY".into(),
                )
            }),
            Role::Tenant => self.tenant_token().await,
        }
    }

    async fn tenant_token(&self) -> Result<String, ApiError> {
        let mut cached = self.token.lock().await;
        if let Some((token, expires)) = cached.as_ref()
            && Instant::now() + REFRESH_MARGIN < *expires
        {
            return Ok(token.clone());
        }
        let (Some(id), Some(secret)) = (
            self.credentials.client_id.as_deref(),
            self.credentials.client_secret.as_deref(),
        ) else {
            return Err(ApiError::Config(
                "tenant resources need an API client: set `client_id` and `client_secret` in the provider block or RICOCHET_CLIENT_ID and RICOCHET_CLIENT_SECRET".into(),
            ));
        };
        let response = self
            .http
            .post(format!("{}/oauth/token", self.base))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
            ])
            .send()
            .await
            .map_err(|e| transport(&e))?;
        let token: TokenResponse = decode(response).await?;
        let expires = Instant::now() + Duration::from_secs(token.expires_in);
        *cached = Some((token.access_token.clone(), expires));
        Ok(token.access_token)
    }

    /// Sends one request and decodes the answer (`None` for 204).
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        role: Role,
        method: Method,
        path: &str,
        body: Option<&dyn ErasedBody>,
        if_match: Option<i64>,
    ) -> Result<Option<T>, ApiError> {
        let bearer = self.bearer(role).await?;
        let mut request = self
            .http
            .request(method, format!("{}/api/v2{path}", self.base))
            .bearer_auth(bearer);
        if let Some(version) = if_match {
            request = request.header(reqwest::header::IF_MATCH, format!("\"{version}\""));
        }
        if let Some(body) = body {
            request = request.json(&body.to_json());
        }
        let response = request.send().await.map_err(|e| transport(&e))?;
        if response.status() == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        decode(response).await.map(Some)
    }

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        role: Role,
        path: &str,
    ) -> Result<T, ApiError> {
        self.call(role, Method::GET, path, None, None)
            .await?
            .ok_or_else(|| ApiError::Transport(format!("GET {path} answered without a body")))
    }

    pub(crate) async fn send<T: DeserializeOwned>(
        &self,
        role: Role,
        method: Method,
        path: &str,
        body: &dyn ErasedBody,
        if_match: Option<i64>,
    ) -> Result<T, ApiError> {
        self.call(role, method.clone(), path, Some(body), if_match)
            .await?
            .ok_or_else(|| ApiError::Transport(format!("{method} {path} answered without a body")))
    }

    pub(crate) async fn delete(
        &self,
        role: Role,
        path: &str,
        if_match: Option<i64>,
    ) -> Result<(), ApiError> {
        self.call::<Json>(role, Method::DELETE, path, None, if_match)
            .await
            .map(drop)
    }

    /// Every item of a paginated list.
    pub(crate) async fn list_all<T: DeserializeOwned>(
        &self,
        role: Role,
        path: &str,
    ) -> Result<Vec<T>, ApiError> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page_path = match &cursor {
                Some(c) => format!("{path}?limit=100&cursor={c}"),
                None => format!("{path}?limit=100"),
            };
            let page: Page<T> = self.get(role, &page_path).await?;
            items.extend(page.data);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(items),
            }
        }
    }
}

/// A request body (object-safe `Serialize`).
pub(crate) trait ErasedBody: Send + Sync {
    fn to_json(&self) -> Json;
}

impl<T: Serialize + Send + Sync> ErasedBody for T {
    fn to_json(&self) -> Json {
        serde_json::to_value(self).unwrap_or(Json::Null)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page<T> {
    data: Vec<T>,
    next_cursor: Option<String>,
}

fn transport(err: &reqwest::Error) -> ApiError {
    // reqwest's Display names the URL and the cause; no credentials are in either.
    ApiError::Transport(format!("calling Ricochet: {err}"))
}

async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ApiError> {
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| transport(&e))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::Transport(format!(
                "Ricochet answered a body this provider cannot read: {e}"
            ))
        });
    }
    let problem: Problem = serde_json::from_slice(&bytes).unwrap_or_default();
    let summary = problem
        .detail
        .or(problem.error_description)
        .or(problem.title)
        .unwrap_or_else(|| format!("Ricochet answered {status}"));
    Err(ApiError::Status {
        status,
        summary,
        errors: problem.errors,
    })
}

// ---- wire types ----

/// A tenant as the API returns it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Tenant {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) version: i64,
}

/// An API client as the API returns it (`clientSecret` only on creation).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiClient {
    pub(crate) client_id: String,
    pub(crate) tenant_id: String,
    pub(crate) name: String,
    pub(crate) permissions: Vec<String>,
    #[serde(default)]
    pub(crate) revoked_at: Option<String>,
    #[serde(default)]
    pub(crate) client_secret: Option<String>,
}

/// An integration, as sent and as returned.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Integration {
    #[serde(default, skip_serializing)]
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) enabled: bool,
    pub(crate) settings: Settings,
    #[serde(default, skip_serializing)]
    pub(crate) version: i64,
}

/// An integration's settings, every field (the server fills its defaults).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Settings {
    pub(crate) url: String,
    pub(crate) http_method: String,
    pub(crate) content_type: String,
    pub(crate) headers: std::collections::BTreeMap<String, String>,
    pub(crate) retry_policy: RetryPolicy,
    pub(crate) request_timeout: i64,
    #[serde(default = "default_max_concurrency")]
    pub(crate) max_concurrency: i64,
    #[serde(default = "default_ordering")]
    pub(crate) ordering: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rate_limit: Option<RateLimit>,
    #[serde(default)]
    pub(crate) circuit_breaker: CircuitBreaker,
    #[serde(default = "default_true")]
    pub(crate) disable_on_gone: bool,
    #[serde(default = "default_auto_disable_after")]
    pub(crate) auto_disable_after: i64,
    pub(crate) payload_format: String,
    pub(crate) transformations: Vec<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) body_template: Option<String>,
    /// `settings.auth` as the API writes it (`null` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) auth: Option<Json>,
    /// `settings.tls` as the API writes it (`null` when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tls: Option<Json>,
    /// `settings.signature` (`{"scheme": ...}`); absent from servers that predate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) signature: Option<Json>,
}

/// The server's default ordering of an integration (none kept).
fn default_ordering() -> String {
    "none".into()
}

/// The server's default in-flight cap of an integration.
fn default_max_concurrency() -> i64 {
    10
}

fn default_true() -> bool {
    true
}

/// The server's default of how long an integration may fail before it is disabled (5 days).
pub(crate) const DEFAULT_AUTO_DISABLE_AFTER: i64 = 432_000_000;

fn default_auto_disable_after() -> i64 {
    DEFAULT_AUTO_DISABLE_AFTER
}

/// A rate limit: at most `requests` attempts started per `per` (`second` or `minute`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RateLimit {
    pub(crate) requests: i64,
    pub(crate) per: String,
}

/// A circuit breaker, every field (durations in ms).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CircuitBreaker {
    pub(crate) failure_threshold: i64,
    pub(crate) cool_down: i64,
    pub(crate) max_cool_down: i64,
}

impl Default for CircuitBreaker {
    /// The server's defaults.
    fn default() -> Self {
        CircuitBreaker {
            failure_threshold: 10,
            cool_down: 30_000,
            max_cool_down: 600_000,
        }
    }
}

/// A retry policy, every field.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RetryPolicy {
    pub(crate) retry_policy_type: String,
    pub(crate) max_retries: i64,
    pub(crate) retry_delay: i64,
    pub(crate) multiplier: f64,
    pub(crate) max_delay: i64,
    pub(crate) jitter: bool,
    pub(crate) jitter_ratio: f64,
    pub(crate) jitter_mode: String,
    pub(crate) retry_on_status: Vec<i64>,
    pub(crate) retry_on_timeout: bool,
    pub(crate) respect_retry_after: bool,
    pub(crate) max_retry_after: i64,
}

/// An event binding.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Binding {
    pub(crate) id: String,
    pub(crate) integration_id: String,
    pub(crate) event_type: String,
}

/// A page of bindings as `POST .../eventbindings` answers.
#[derive(Debug, Deserialize)]
pub(crate) struct BindingList {
    pub(crate) data: Vec<Binding>,
}

/// A secret's metadata (no API returns a value).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Secret {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) version: i64,
}

/// Percent-encodes one path segment (ids are UUIDs; secret names are `[A-Za-z0-9_.-]`, but a
/// user-typed import id may hold anything).
pub(crate) fn segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
