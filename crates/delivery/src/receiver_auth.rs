//! OAuth 2.0 access tokens for receivers (`settings.auth` of type `oauth2ClientCredentials`):
//! fetched from the integration's token endpoint with the client-credentials grant, through the
//! guarded client, and cached in the process per integration and credentials until shortly
//! before they expire. One fetch serves every attempt waiting for it (single flight), and a
//! token the receiver refused is replaced once, however many attempts saw the refusal.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use ricochet_domain::outcome::ErrorKind;
use ricochet_domain::receiver_auth::ClientCredentials;
use ricochet_domain::target::TargetPolicy;
use serde::Deserialize;
use uuid::Uuid;

/// Largest token response read.
const MAX_TOKEN_RESPONSE: usize = 64 * 1024;
/// Lifetime assumed when the token endpoint gives no `expires_in`.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// Longest lifetime trusted, whatever `expires_in` says.
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// A token is replaced this long before it expires (at most; a quarter of a short lifetime).
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);
/// How long a failed fetch is answered from memory, so attempts waiting on it do not each
/// ask a failing endpoint again.
const FAILURE_TTL: Duration = Duration::from_secs(1);
/// Entries beyond which unused ones are dropped.
const PRUNE_AT: usize = 10_000;

/// An access token and which fetch produced it.
#[derive(Clone)]
pub(crate) struct Token {
    /// The access token, only ever sent to the receiver.
    pub(crate) value: String,
    /// Distinguishes fetches: a refusal evicts the token only if it is still the one refused.
    generation: u64,
    expires: Instant,
}

/// Why no token could be had: recorded on the attempt.
#[derive(Debug, Clone)]
pub(crate) struct AuthFailure {
    /// `auth`, or `blocked_target` when the guard refused the token endpoint.
    pub(crate) kind: ErrorKind,
    /// What went wrong, without any credential.
    pub(crate) message: String,
}

impl AuthFailure {
    fn auth(message: impl Into<String>) -> AuthFailure {
        AuthFailure {
            kind: ErrorKind::Auth,
            message: message.into(),
        }
    }
}

#[derive(Default)]
struct State {
    token: Option<Token>,
    failed: Option<(Instant, AuthFailure)>,
}

type Key = (Uuid, ClientCredentials);

/// Tokens by integration and credentials (a changed secret or setting is another entry).
#[derive(Default)]
pub(crate) struct TokenCache {
    entries: std::sync::Mutex<HashMap<Key, Arc<tokio::sync::Mutex<State>>>>,
    generations: AtomicU64,
}

impl TokenCache {
    /// A token for `credentials` of `integration`: the cached one while it is fresh, else one
    /// fetched now (by one caller; the others wait for it).
    pub(crate) async fn token(
        &self,
        client: &reqwest::Client,
        targets: &TargetPolicy,
        integration: Uuid,
        credentials: &ClientCredentials,
        timeout: Duration,
    ) -> Result<Token, AuthFailure> {
        let entry = self.entry(integration, credentials);
        let mut state = entry.lock().await;
        let now = Instant::now();
        if let Some(token) = state.token.as_ref().filter(|t| t.expires > now) {
            return Ok(token.clone());
        }
        if let Some((at, failure)) = &state.failed
            && now.duration_since(*at) < FAILURE_TTL
        {
            return Err(failure.clone());
        }
        match fetch(client, targets, credentials, timeout).await {
            Ok((value, lifetime)) => {
                let token = Token {
                    value,
                    generation: self.generations.fetch_add(1, Ordering::Relaxed),
                    expires: Instant::now() + lifetime,
                };
                *state = State {
                    token: Some(token.clone()),
                    failed: None,
                };
                Ok(token)
            }
            Err(failure) => {
                *state = State {
                    token: None,
                    failed: Some((Instant::now(), failure.clone())),
                };
                Err(failure)
            }
        }
    }

    /// Forgets `refused` (the receiver answered 401 to it), unless another attempt already
    /// replaced it.
    pub(crate) async fn refused(
        &self,
        integration: Uuid,
        credentials: &ClientCredentials,
        refused: &Token,
    ) {
        let entry = self.entry(integration, credentials);
        let mut state = entry.lock().await;
        if state
            .token
            .as_ref()
            .is_some_and(|t| t.generation == refused.generation)
        {
            state.token = None;
        }
    }

    fn entry(
        &self,
        integration: Uuid,
        credentials: &ClientCredentials,
    ) -> Arc<tokio::sync::Mutex<State>> {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= PRUNE_AT {
            let now = Instant::now();
            // An entry someone holds is in use; one whose token expired is not worth keeping.
            entries.retain(|_, state| {
                state
                    .try_lock()
                    .map_or(true, |s| s.token.as_ref().is_some_and(|t| t.expires > now))
            });
        }
        entries
            .entry((integration, credentials.clone()))
            .or_default()
            .clone()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// Asks the token endpoint for a token (client authenticated with HTTP Basic, RFC 6749
/// §2.3.1); returns it with how long to use it.
async fn fetch(
    client: &reqwest::Client,
    targets: &TargetPolicy,
    credentials: &ClientCredentials,
    timeout: Duration,
) -> Result<(String, Duration), AuthFailure> {
    let url = url::Url::parse(&credentials.token_url)
        .map_err(|e| AuthFailure::auth(format!("the token URL is not valid: {e}")))?;
    // Address literals never reach the guard's resolver.
    if let Err(blocked) = targets.check_url(&url) {
        return Err(AuthFailure {
            kind: ErrorKind::BlockedTarget,
            message: format!("token endpoint: {blocked}"),
        });
    }
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let (id, secret) = (
        encode(&credentials.client_id),
        encode(&credentials.client_secret),
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(scope) = &credentials.scope {
        form.push(("scope", scope));
    }
    if let Some(audience) = &credentials.audience {
        form.push(("audience", audience));
    }
    let response = client
        .post(url)
        .header(reqwest::header::AUTHORIZATION, format!("Basic {basic}"))
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&form)
        .timeout(timeout)
        .send()
        .await
        .map_err(|err| {
            let err = err.without_url();
            if crate::guard::is_blocked(&err) {
                AuthFailure {
                    kind: ErrorKind::BlockedTarget,
                    message: format!("token endpoint: {}", crate::error_chain::describe(&err)),
                }
            } else {
                AuthFailure::auth(format!(
                    "token endpoint unreachable: {}",
                    crate::error_chain::describe(&err)
                ))
            }
        })?;
    let status = response.status();
    let body = read_capped(response).await?;
    if !status.is_success() {
        // The OAuth error code (`invalid_client`, ...) helps; anything else from the body could
        // echo a credential, so it is not kept.
        let code = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .filter(|c| c.len() <= 64 && c.bytes().all(|b| b.is_ascii_graphic()));
        return Err(AuthFailure::auth(match code {
            Some(code) => format!("token endpoint answered {} ({code})", status.as_u16()),
            None => format!("token endpoint answered {}", status.as_u16()),
        }));
    }
    let parsed: TokenResponse = serde_json::from_slice(&body)
        .map_err(|_| AuthFailure::auth("token endpoint answered without a JSON access_token"))?;
    if parsed
        .token_type
        .as_deref()
        .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
    {
        return Err(AuthFailure::auth(
            "token endpoint gave a token that is not a bearer token",
        ));
    }
    if parsed.access_token.is_empty()
        || reqwest::header::HeaderValue::from_str(&parsed.access_token).is_err()
    {
        return Err(AuthFailure::auth(
            "token endpoint gave an access token that cannot be sent in a header",
        ));
    }
    let lifetime = parsed
        .expires_in
        .and_then(|v| match v {
            serde_json::Value::Number(n) => n.as_f64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(DEFAULT_LIFETIME, |s| {
            Duration::from_secs_f64(s.min(MAX_LIFETIME.as_secs_f64()))
        });
    Ok((parsed.access_token, lifetime - margin(lifetime)))
}

/// How long before expiry a token of `lifetime` is replaced.
fn margin(lifetime: Duration) -> Duration {
    EXPIRY_MARGIN.min(lifetime / 4)
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, AuthFailure> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_TOKEN_RESPONSE {
                    return Err(AuthFailure::auth(format!(
                        "token endpoint answered more than {MAX_TOKEN_RESPONSE} bytes"
                    )));
                }
            }
            Ok(None) => return Ok(body),
            Err(_) => return Err(AuthFailure::auth("token endpoint answer cut off")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_replaced_shortly_before_they_expire() {
        assert_eq!(margin(Duration::from_secs(3600)), EXPIRY_MARGIN);
        assert_eq!(margin(Duration::from_secs(2)), Duration::from_millis(500));
    }
}
