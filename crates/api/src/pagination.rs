//! Cursor pagination: `?limit=&cursor=`, and `nextCursor` in the body while more rows follow.

use base64::Engine;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::ApiError;

/// Rows per page when `limit` is absent.
pub const DEFAULT_LIMIT: i64 = 50;
/// Most rows a page may hold.
pub const MAX_LIMIT: i64 = 200;

/// `?limit=&cursor=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

impl ListQuery {
    /// The validated limit and the id to continue after.
    pub fn resolve(&self) -> Result<(i64, Option<Uuid>), ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::BadRequest(format!(
                "query parameter `limit` must be between 1 and {MAX_LIMIT}"
            )));
        }
        let after = self.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok((limit, after))
    }
}

/// The opaque cursor for continuing after `id`.
pub fn encode_cursor(id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor(cursor: &str) -> Result<Uuid, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| {
            ApiError::BadRequest(
                "query parameter `cursor` is not a cursor this API returned".into(),
            )
        })
}
