//! Extractors that answer with our problem+json instead of axum's plain-text rejections:
//! JSON bodies (with the path of a wrongly typed field), path ids and query strings. Path and
//! query parameters holding NUL are a 400 here, for every route.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body deserialized with the path of the first offending field on error.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Body { headers, bytes } = Body::from_request(req, state).await?;
        require_json(&headers)?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A raw body and its headers, read within the router's body limit (413 problem beyond it).
#[derive(Debug)]
pub struct Body {
    /// The request's headers.
    pub headers: axum::http::HeaderMap,
    /// The whole body.
    pub bytes: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest(format!("could not read the body: {rejection}"))
            }
        })?;
        Ok(Body { headers, bytes })
    }
}

/// 415 unless the body is declared as JSON (`application/json` or any `+json` type).
pub fn require_json(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|essence| essence == "application/json" || essence.ends_with("+json"));
    if json_type {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType("application/json"))
    }
}

/// Deserializes `bytes`: a syntax error is a 400, a wrongly typed or unknown field a 422
/// naming the field.
pub fn parse_json<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let field = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::BadRequest(format!("malformed JSON: {inner}"))
        } else {
            let field = if field == "." {
                "body".to_owned()
            } else {
                field
            };
            ApiError::invalid(field, strip_position(&inner.to_string()))
        }
    })?;
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// Deserializes a JSON value (a merge-patched document) with field paths on error.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let field = err.path().to_string();
        let field = if field == "." {
            "body".to_owned()
        } else {
            field
        };
        ApiError::invalid(field, strip_position(&err.into_inner().to_string()))
    })
}

/// serde_json appends "at line 1 column 42", which means nothing next to a field path.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Path parameters, with our problem on failure.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        // PostgreSQL cannot store or compare text holding NUL: refused here, once for every route.
        let raw = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|rejection| {
                ApiError::BadRequest(format!("invalid path: {}", rejection.body_text()))
            })?;
        if let Some((name, _)) = raw.iter().find(|(_, value)| value.contains('\0')) {
            return Err(ApiError::BadRequest(format!(
                "path parameter `{name}` must not contain NUL characters"
            )));
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|rejection| {
                ApiError::BadRequest(format!("invalid path: {}", rejection.body_text()))
            })
    }
}

/// A query string, with our problem naming the parameter on failure.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs = url::form_urlencoded::parse(query.as_bytes());
        if let Some((name, _)) = pairs
            .clone()
            .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        {
            return Err(ApiError::BadRequest(format!(
                "query parameter `{}` must not contain NUL characters",
                name.replace('\0', "\\0")
            )));
        }
        let de = serde_urlencoded::Deserializer::new(pairs);
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|err| {
                ApiError::BadRequest(format!(
                    "invalid query parameter `{}`: {}",
                    err.path(),
                    err.inner()
                ))
            })
    }
}

/// Parses an id from a path segment, naming the parameter when it is not a UUID.
pub fn parse_id<T: std::str::FromStr>(name: &str, raw: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "path parameter `{name}` must be a UUID, got `{raw}`"
        ))
    })
}

/// The version `If-Match` requires, `None` when absent or `*`. A value that names no version
/// can match nothing, so it fails the precondition.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i32>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::PreconditionFailed)?
        .trim();
    if value == "*" {
        return Ok(None);
    }
    let tag = value.strip_prefix("W/").unwrap_or(value).trim_matches('"');
    tag.parse()
        .map(Some)
        .map_err(|_| ApiError::PreconditionFailed)
}
