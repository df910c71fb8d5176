//! Authentication: JWTs for tenants' API clients, the admin key for the platform admin, and
//! the hashing of client secrets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{FromRef, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng;
use ricochet_domain::{ApiClientId, Permission, TenantId};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Issuer and audience written into every token.
const ISSUER: &str = "ricochet";

/// How long a client's standing (active, or revoked or gone with its tenant) is trusted
/// before it is read again: a revoked client's tokens stop working within this time.
pub const CLIENT_CHECK_TTL: Duration = Duration::from_secs(2);

/// Keys and lifetimes of the API's credentials.
#[derive(Clone)]
pub struct AuthKeys {
    /// The first key: signs every new token, its id in the header's `kid`.
    encoding: (String, EncodingKey),
    /// Every key, the signing one first, each with its id: any of them verifies.
    decoding: Vec<(String, DecodingKey)>,
    admin_key: SecretString,
    token_ttl: Duration,
    clients: Option<Arc<ActiveClients>>,
    verified: Arc<VerifiedTokens>,
}

/// Most tokens kept verified at once; beyond it the expired ones are dropped, then all.
const VERIFIED_TOKENS_MAX: usize = 10_000;

/// Tokens whose signature and claims were checked, with their claims, kept until they expire.
/// A client sends the same token with every request of its lifetime, and checking it each time
/// (the HS256 signature, the header and claims decoded from base64 JSON) took about 6% of the
/// server's CPU when publishing one event a request (perf, e2e-1). Only tokens that verified
/// are kept, so a stranger cannot fill it; the keys cannot change while the process runs.
#[derive(Default)]
struct VerifiedTokens(Mutex<HashMap<String, Claims>>);

impl VerifiedTokens {
    /// The claims of `token` if it verified before and has not expired at `now` (Unix seconds).
    fn get(&self, token: &str, now: i64) -> Option<Claims> {
        self.lock().get(token).filter(|c| now < c.exp).cloned()
    }

    fn insert(&self, token: &str, claims: &Claims, now: i64) {
        let mut verified = self.lock();
        if verified.len() >= VERIFIED_TOKENS_MAX {
            verified.retain(|_, c| now < c.exp);
            if verified.len() >= VERIFIED_TOKENS_MAX {
                verified.clear();
            }
        }
        verified.insert(token.to_owned(), claims.clone());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Claims>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Which clients' tokens may act, read from the database and kept for [`CLIENT_CHECK_TTL`].
struct ActiveClients {
    pool: sqlx::PgPool,
    seen: Mutex<HashMap<uuid::Uuid, (Instant, bool)>>,
}

impl ActiveClients {
    async fn is_active(&self, tenant: TenantId, client: ApiClientId) -> Result<bool, ApiError> {
        let now = Instant::now();
        if let Some((at, active)) = self.lock().get(&client.0)
            && now.duration_since(*at) < CLIENT_CHECK_TTL
        {
            return Ok(*active);
        }
        let active =
            ricochet_store::api_clients::client_is_active(&self.pool, tenant, client).await?;
        let mut seen = self.lock();
        if seen.len() >= 100_000 {
            seen.retain(|_, (at, _)| now.duration_since(*at) < CLIENT_CHECK_TTL);
        }
        seen.insert(client.0, (now, active));
        Ok(active)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<uuid::Uuid, (Instant, bool)>> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::fmt::Debug for AuthKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthKeys")
            .field("token_ttl", &self.token_ttl)
            .finish_non_exhaustive()
    }
}

impl AuthKeys {
    /// Keys from the JWT signing secrets (HS256, comma-separated: the first signs, every one
    /// verifies, so a key can be rotated in) and the admin key.
    pub fn new(jwt_secret: &SecretString, admin_key: SecretString, token_ttl: Duration) -> Self {
        let secrets = jwt_secrets(jwt_secret);
        let first = secrets.first().copied().unwrap_or_default();
        Self {
            encoding: (key_id(first), EncodingKey::from_secret(first.as_bytes())),
            decoding: secrets
                .iter()
                .map(|s| (key_id(s), DecodingKey::from_secret(s.as_bytes())))
                .collect(),
            admin_key,
            token_ttl,
            clients: None,
            verified: Arc::default(),
        }
    }

    /// Checks on every request that the token's client is still active (not revoked, its
    /// tenant not deleted), reading `pool` at most every [`CLIENT_CHECK_TTL`] per client.
    pub fn checking_clients_in(mut self, pool: sqlx::PgPool) -> Self {
        self.clients = Some(Arc::new(ActiveClients {
            pool,
            seen: Mutex::new(HashMap::new()),
        }));
        self
    }

    /// How long an issued token lives.
    pub fn token_ttl(&self) -> Duration {
        self.token_ttl
    }

    /// Signs a token for `client` of `tenant` carrying `permissions`.
    pub fn issue(
        &self,
        tenant: TenantId,
        client: ApiClientId,
        permissions: Vec<Permission>,
    ) -> Result<String, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let ttl = i64::try_from(self.token_ttl.as_secs()).unwrap_or(i64::MAX);
        let claims = Claims {
            sub: client.to_string(),
            tenant,
            permissions,
            iat: now,
            exp: now.saturating_add(ttl),
            iss: ISSUER.into(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.encoding.0.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding.1)
            .map_err(|e| ApiError::internal_from("signing a token", e))
    }

    fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let now = chrono::Utc::now().timestamp();
        if let Some(claims) = self.verified.get(token, now) {
            return Ok(claims);
        }
        let claims = self.check(token)?;
        self.verified.insert(token, &claims, now);
        Ok(claims)
    }

    /// Checks `token`'s signature and claims.
    fn check(&self, token: &str) -> Result<Claims, ApiError> {
        // Only HS256 is accepted, which also rejects `alg: none` and algorithm confusion.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss"]);
        let invalid = || ApiError::Unauthorized("the token is invalid".into());
        let kid = jsonwebtoken::decode_header(token)
            .map_err(|_| invalid())?
            .kid;
        // A token names its key; one issued before keys had ids is tried with each.
        let keys: Vec<&DecodingKey> = match &kid {
            Some(kid) => self
                .decoding
                .iter()
                .filter(|(id, _)| id == kid)
                .map(|(_, key)| key)
                .collect(),
            None => self.decoding.iter().map(|(_, key)| key).collect(),
        };
        let mut outcome = Err(invalid());
        for key in keys {
            outcome = jsonwebtoken::decode::<Claims>(token, key, &validation)
                .map(|data| data.claims)
                .map_err(|e| match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                        ApiError::Unauthorized("the token has expired".into())
                    }
                    _ => invalid(),
                });
            if outcome.is_ok() {
                break;
            }
        }
        outcome
    }

    fn is_admin_key(&self, presented: &str) -> bool {
        constant_time_eq(
            presented.as_bytes(),
            self.admin_key.expose_secret().as_bytes(),
        )
    }
}

/// The JWT signing secrets in `configured`: comma-separated, the signing one first.
pub fn jwt_secrets(configured: &SecretString) -> Vec<&str> {
    configured
        .expose_secret()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The `kid` of a JWT signing secret: names the key without revealing it (a truncated
/// SHA-256 of a domain-separated input; the secrets are long and random).
pub fn key_id(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"ricochet-jwt-kid\0")
        .chain_update(secret.as_bytes())
        .finalize();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..9])
}

/// The claims of a Ricochet access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The API client (`client_id`).
    pub sub: String,
    /// The tenant the token acts for.
    pub tenant: TenantId,
    /// What the token may do.
    pub permissions: Vec<Permission>,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// Issuer.
    pub iss: String,
}

/// A request authenticated with a tenant's token.
#[derive(Debug, Clone)]
pub struct TenantAuth {
    /// The tenant every query of the request is scoped to.
    pub tenant: TenantId,
    /// The permissions of the token.
    pub permissions: Vec<Permission>,
}

impl TenantAuth {
    /// `Ok` when the token carries `permission`, else 403.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.permissions.contains(&permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(permission))
        }
    }
}

impl<S> FromRequestParts<S> for TenantAuth
where
    S: Send + Sync,
    Arc<AuthKeys>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let keys = Arc::<AuthKeys>::from_ref(state);
        let token = bearer(parts)?;
        if keys.is_admin_key(token) {
            return Err(ApiError::Unauthorized(
                "the admin key manages tenants only; use a tenant's token from /oauth/token".into(),
            ));
        }
        let claims = keys.verify(token)?;
        if let Some(clients) = &keys.clients {
            let client = claims
                .sub
                .parse::<uuid::Uuid>()
                .map_err(|_| ApiError::Unauthorized("the token is invalid".into()))?;
            if !clients
                .is_active(claims.tenant, ApiClientId(client))
                .await?
            {
                return Err(ApiError::Unauthorized(
                    "the token's client was revoked or its tenant deleted".into(),
                ));
            }
        }
        Ok(TenantAuth {
            tenant: claims.tenant,
            permissions: claims.permissions,
        })
    }
}

/// A request authenticated with the platform admin key.
#[derive(Debug, Clone, Copy)]
pub struct AdminAuth;

impl<S> FromRequestParts<S> for AdminAuth
where
    S: Send + Sync,
    Arc<AuthKeys>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let keys = Arc::<AuthKeys>::from_ref(state);
        let token = bearer(parts)?;
        if keys.is_admin_key(token) {
            Ok(AdminAuth)
        } else if keys.verify(token).is_ok() {
            Err(ApiError::AdminOnly)
        } else {
            Err(ApiError::Unauthorized("the admin key is invalid".into()))
        }
    }
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::Unauthorized("missing `Authorization: Bearer <token>` header".into())
    })?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(ApiError::Unauthorized(
            "the Authorization header must be `Bearer <token>`".into(),
        )),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh random secret: 32 bytes, base64url, with a recognisable prefix.
pub fn generate_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Prefix of a client-secret hash made with SHA-256.
const SHA256_PREFIX: &str = "sha256$";

/// The stored hash of a client secret: `sha256$` + base64 of SHA-256 of the secret. Client
/// secrets are 256 random bits, so a fast hash is as strong as a slow one (nothing to guess),
/// and checking one costs microseconds instead of argon2's 19 MiB and tens of milliseconds,
/// which made the token endpoint a memory sink for anyone without credentials.
pub fn hash_secret(secret: &str) -> String {
    use sha2::Digest;
    format!(
        "{SHA256_PREFIX}{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(sha2::Sha256::digest(secret))
    )
}

/// How a secret compared with a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretCheck {
    /// It matches.
    Matches,
    /// It matches an argon2 hash made before SHA-256 hashes: store [`hash_secret`] instead.
    MatchesLegacy,
    /// It does not match (or the hash is not one Ricochet made).
    Wrong,
}

/// Compares `secret` with a stored `hash` (SHA-256 in constant time, or a legacy argon2 PHC
/// string, which is slow: run it off the async threads, a few at a time).
pub fn check_secret(secret: &str, hash: &str) -> SecretCheck {
    if hash.starts_with(SHA256_PREFIX) {
        return if constant_time_eq(hash_secret(secret).as_bytes(), hash.as_bytes()) {
            SecretCheck::Matches
        } else {
            SecretCheck::Wrong
        };
    }
    let legacy = PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok()
    });
    if legacy {
        SecretCheck::MatchesLegacy
    } else {
        SecretCheck::Wrong
    }
}

/// Whether checking `hash` is slow (a legacy argon2 hash).
pub fn is_legacy_hash(hash: &str) -> bool {
    !hash.starts_with(SHA256_PREFIX)
}

/// The argon2id hash (PHC string) client secrets were stored as before SHA-256; such hashes
/// still verify and are replaced at the client's next good exchange. Kept to make them in tests.
pub fn argon2_hash(secret: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| ApiError::internal_from("making a salt", e))?;
    argon2::Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::internal_from("hashing a secret", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verified_token_is_kept_until_it_expires_and_nothing_else_is() {
        let keys = AuthKeys::new(
            &SecretString::from("jwt-secret-of-the-test"),
            SecretString::from("admin"),
            Duration::from_secs(60),
        );
        let token = keys
            .issue(
                TenantId(uuid::Uuid::now_v7()),
                ApiClientId(uuid::Uuid::now_v7()),
                vec![Permission::EventPublish],
            )
            .expect("issued");
        let now = chrono::Utc::now().timestamp();
        assert!(keys.verified.get(&token, now).is_none());
        let claims = keys.verify(&token).expect("verifies");
        let kept = keys.verified.get(&token, now).expect("kept");
        assert_eq!(kept.sub, claims.sub);
        assert_eq!(keys.verify(&token).expect("verifies again").sub, claims.sub);
        // Not served once its expiry has passed.
        assert!(keys.verified.get(&token, claims.exp).is_none());
        // A forged token (another signature) is checked, refused and not kept.
        let at = token.len() - 10;
        let flipped = if &token[at..=at] == "A" { "B" } else { "A" };
        let forged = format!("{}{flipped}{}", &token[..at], &token[at + 1..]);
        assert!(keys.verify(&forged).is_err());
        assert!(keys.verified.get(&forged, now).is_none());
        // An expired token is refused as expired, as before.
        let expired = Claims {
            iat: now - 120,
            exp: now - 60,
            ..claims
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(keys.encoding.0.clone());
        let old = jsonwebtoken::encode(&header, &expired, &keys.encoding.1).expect("signed");
        let refused = keys.verify(&old).expect_err("expired");
        assert!(refused.to_string().contains("expired"), "{refused}");
    }

    #[test]
    fn sha256_hashes_match_only_their_secret_and_argon2_hashes_still_verify() {
        let hash = hash_secret("rcs_secret");
        assert_eq!(check_secret("rcs_secret", &hash), SecretCheck::Matches);
        assert_eq!(check_secret("rcs_secreT", &hash), SecretCheck::Wrong);
        let legacy = argon2_hash("rcs_old").expect("hashed");
        assert_eq!(check_secret("rcs_old", &legacy), SecretCheck::MatchesLegacy);
        assert_eq!(check_secret("rcs_new", &legacy), SecretCheck::Wrong);
        assert_eq!(check_secret("x", ""), SecretCheck::Wrong);
    }
}
