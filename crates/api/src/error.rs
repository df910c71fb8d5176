//! `ApiError`: every failure a handler can answer, rendered as RFC 9457 problem+json.
//! Internal errors are logged here, once, and reach the client only as an opaque 500.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ricochet_domain::{FieldError, Permission, ValidationErrors};
use ricochet_store::StoreError;
use serde::Serialize;

/// The `Retry-After` (seconds) of a 503 answered while the database is unavailable.
pub const RETRY_AFTER_SECS: u32 = 2;

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// URI naming the kind of problem.
    #[serde(rename = "type")]
    #[schema(example = "urn:ricochet:problem:validation")]
    pub kind: String,
    /// Short summary of the kind of problem.
    #[schema(example = "Validation failed")]
    pub title: String,
    /// HTTP status code.
    #[schema(example = 422)]
    pub status: u16,
    /// What went wrong this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Each invalid field, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Every failure a request can meet.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed (syntax, bad parameter).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Fields are well-formed but invalid.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// No, an invalid or an expired credential.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The credential lacks a permission.
    #[error("missing permission {0}")]
    Forbidden(Permission),
    /// Only the platform admin may do this.
    #[error("admin only")]
    AdminOnly,
    /// No such resource (or it belongs to another tenant).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A uniqueness rule is violated.
    #[error("conflict: {0}")]
    Conflict(String),
    /// `If-Match` names another version.
    #[error("precondition failed")]
    PreconditionFailed,
    /// The body exceeds the configured limit.
    #[error("payload too large")]
    PayloadTooLarge,
    /// The body is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType(&'static str),
    /// The database is out of reach for now; the client should retry after [`RETRY_AFTER_SECS`].
    #[error("database unavailable")]
    Unavailable(#[source] StoreError),
    /// Anything unexpected; logged with its causes, never shown.
    #[error("internal error: {context}")]
    Internal {
        /// What was being done.
        context: Cow<'static, str>,
        /// What failed, when another error says.
        #[source]
        source: Option<BoxError>,
    },
}

/// Any error, as the cause of an internal one.
pub type BoxError = Box<dyn StdError + Send + Sync>;

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        ApiError::Validation(errors.0)
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::from(err).into()
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(constraint) => {
                ApiError::Conflict(format!("constraint {constraint}"))
            }
            StoreError::MissingParent(constraint) if constraint.ends_with("tenant_fkey") => {
                ApiError::Unauthorized("the token's tenant no longer exists".into())
            }
            other if other.is_unavailable() => ApiError::Unavailable(other),
            other => ApiError::internal_from("a database call failed", other),
        }
    }
}

impl ApiError {
    /// An internal error with no other error behind it (a broken invariant).
    pub fn internal(context: impl Into<Cow<'static, str>>) -> Self {
        ApiError::Internal {
            context: context.into(),
            source: None,
        }
    }

    /// An internal error caused by `source` while doing `context`.
    pub fn internal_from(
        context: impl Into<Cow<'static, str>>,
        source: impl Into<BoxError>,
    ) -> Self {
        ApiError::Internal {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// A field-level validation error on one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str, Option<String>) {
        use ApiError::*;
        match self {
            BadRequest(d) => (
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Bad request",
                Some(d.clone()),
            ),
            Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "Validation failed",
                Some("One or more fields are invalid; see `errors`.".into()),
            ),
            Unauthorized(d) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Unauthorized",
                Some(d.clone()),
            ),
            Forbidden(p) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                Some(format!("the token lacks the `{p}` permission")),
            ),
            AdminOnly => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                Some("only the platform admin key may do this".into()),
            ),
            NotFound(what) => (
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                Some(format!("no such {what}")),
            ),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                None,
            ),
            Conflict(d) => (
                StatusCode::CONFLICT,
                "conflict",
                "Conflict",
                Some(d.clone()),
            ),
            PreconditionFailed => (
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "Precondition failed",
                Some("If-Match does not match the current version; fetch it again".into()),
            ),
            PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
                None,
            ),
            UnsupportedMediaType(expected) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                Some(format!("send the body as {expected}")),
            ),
            Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
                Some("the database is unavailable; retry shortly".into()),
            ),
            Internal { .. } => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
                None,
            ),
        }
    }
}

impl ApiError {
    /// The status and problem document of this error; an internal error (or an unavailable
    /// database) is logged here, once.
    pub fn into_problem(self) -> (StatusCode, Problem) {
        match &self {
            ApiError::Internal { .. } => {
                tracing::error!(error = %Chain(&self), "request failed");
            }
            ApiError::Unavailable(_) => {
                tracing::warn!(error = %Chain(&self), "request refused: database unavailable");
            }
            _ => {}
        }
        let (status, slug, title, detail) = self.parts();
        let errors = match self {
            ApiError::Validation(errors) => errors,
            _ => Vec::new(),
        };
        let problem = Problem {
            kind: format!("urn:ricochet:problem:{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            errors,
        };
        (status, problem)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, problem) = self.into_problem();
        let mut response = (status, axum::Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer realm="ricochet", error="invalid_token""#),
            );
        }
        response
    }
}

/// An error followed by each of its causes (`outer: cause: root cause`), for the log.
#[derive(Debug)]
pub struct Chain<'a>(pub &'a (dyn StdError + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        Ok(())
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
