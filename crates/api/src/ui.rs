//! The web console at `/ui`: hand-written ES modules and CSS embedded in the binary, served
//! as they are (no build step, no network at run time). The console talks to the public API
//! with the user's own token, so it can do nothing the API would refuse.

use std::borrow::Cow;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::error::ApiError;

/// One embedded file of the console.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file of the console, embedded at compile time from `crates/api/ui/`.
const ASSETS: &[Asset] = &[
    Asset {
        name: "index.html",
        content_type: HTML,
        body: include_str!("../ui/index.html"),
    },
    Asset {
        name: "style.css",
        content_type: CSS,
        body: include_str!("../ui/style.css"),
    },
    Asset {
        name: "app.js",
        content_type: JS,
        body: include_str!("../ui/app.js"),
    },
    Asset {
        name: "api.js",
        content_type: JS,
        body: include_str!("../ui/api.js"),
    },
    Asset {
        name: "dom.js",
        content_type: JS,
        body: include_str!("../ui/dom.js"),
    },
    Asset {
        name: "schedule.js",
        content_type: JS,
        body: include_str!("../ui/schedule.js"),
    },
    Asset {
        name: "integrations.js",
        content_type: JS,
        body: include_str!("../ui/integrations.js"),
    },
    Asset {
        name: "logs.js",
        content_type: JS,
        body: include_str!("../ui/logs.js"),
    },
    Asset {
        name: "stats.js",
        content_type: JS,
        body: include_str!("../ui/stats.js"),
    },
    Asset {
        name: "activity.js",
        content_type: JS,
        body: include_str!("../ui/activity.js"),
    },
    Asset {
        name: "manage.js",
        content_type: JS,
        body: include_str!("../ui/manage.js"),
    },
];

/// The console's pages may load only the console's own files and call only this server:
/// no CDN, no inline script, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// Routes of the console: `/ui` and the files under it.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/ui", get(|| async { Redirect::permanent("/ui/") }))
        .route("/ui/", get(|| serve("index.html".to_owned())))
        .route("/ui/{file}", get(|Path(file): Path<String>| serve(file)))
}

/// Set to `crates/api/ui` while working on the console to serve its files from disk, so an
/// edit shows on reload without rebuilding. Only the embedded files' names are served.
const DEV_DIR_ENV: &str = "RICOCHET_UI_DIR";

async fn serve(name: String) -> Response {
    let Some(asset) = ASSETS.iter().find(|asset| asset.name == name) else {
        return ApiError::NotFound("console file").into_response();
    };
    let body = match std::env::var_os(DEV_DIR_ENV) {
        Some(dir) => {
            match tokio::fs::read_to_string(std::path::Path::new(&dir).join(asset.name)).await {
                Ok(text) => Cow::Owned(text),
                Err(e) => {
                    return ApiError::internal_from(format!("reading {}", asset.name), e)
                        .into_response();
                }
            }
        }
        None => Cow::Borrowed(asset.body),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Files change with the binary; revalidating costs little on loopback or a LAN.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
