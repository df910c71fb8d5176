//! Authentication: JWTs for tenants' API clients, the admin key for the platform admin, and
//! the argon2 hashing of client secrets.

use std::sync::Arc;
use std::time::Duration;

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

/// Keys and lifetimes of the API's credentials.
#[derive(Clone)]
pub struct AuthKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    admin_key: SecretString,
    token_ttl: Duration,
}

impl std::fmt::Debug for AuthKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthKeys")
            .field("token_ttl", &self.token_ttl)
            .finish_non_exhaustive()
    }
}

impl AuthKeys {
    /// Keys from the JWT signing secret (HS256) and the admin key.
    pub fn new(jwt_secret: &SecretString, admin_key: SecretString, token_ttl: Duration) -> Self {
        let secret = jwt_secret.expose_secret().as_bytes();
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            admin_key,
            token_ttl,
        }
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
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("signing a token: {e}")))
    }

    fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        // Only HS256 is accepted, which also rejects `alg: none` and algorithm confusion.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    ApiError::Unauthorized("the token has expired".into())
                }
                _ => ApiError::Unauthorized("the token is invalid".into()),
            })
    }

    fn is_admin_key(&self, presented: &str) -> bool {
        constant_time_eq(
            presented.as_bytes(),
            self.admin_key.expose_secret().as_bytes(),
        )
    }
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

/// The argon2id hash (PHC string) of a client secret.
pub fn hash_secret(secret: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| ApiError::Internal(format!("salt: {e}")))?;
    argon2::Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing a secret: {e}")))
}

/// Whether `secret` matches the PHC `hash`.
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok()
    })
}
