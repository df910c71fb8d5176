//! A webhook receiver on loopback for tests: records every request and answers as scripted
//! (a status, a Retry-After, or holding the request open).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::Notify;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub(crate) path: String,
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: String,
    pub(crate) at: Instant,
}

impl Hit {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// How to answer one request.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<String>,
    pub(crate) hold: Option<Duration>,
    /// The body answered (`receiver says hi` when `None`).
    pub(crate) body: Option<&'static [u8]>,
}

impl Reply {
    pub(crate) fn status(status: u16) -> Reply {
        Reply {
            status,
            retry_after: None,
            hold: None,
            body: None,
        }
    }

    /// `status` with a `Retry-After` header.
    pub(crate) fn retry_after(status: u16, value: impl Into<String>) -> Reply {
        Reply {
            retry_after: Some(value.into()),
            ..Reply::status(status)
        }
    }
}

type Script = Box<dyn FnMut(&Hit, usize) -> Reply + Send>;

struct State {
    hits: Mutex<Vec<Hit>>,
    script: Mutex<Script>,
    arrived: Notify,
}

/// A running receiver.
#[derive(Clone)]
pub(crate) struct Receiver {
    pub(crate) url: String,
    state: Arc<State>,
}

impl Receiver {
    /// A receiver answering 200 to everything.
    pub(crate) async fn start() -> Receiver {
        Self::scripted(|_, _| Reply::status(200)).await
    }

    /// A receiver answering with `script(hit, number of earlier hits with the same webhook-id)`.
    pub(crate) async fn scripted(
        script: impl FnMut(&Hit, usize) -> Reply + Send + 'static,
    ) -> Receiver {
        let state = Arc::new(State {
            hits: Mutex::new(Vec::new()),
            script: Mutex::new(Box::new(script)),
            arrived: Notify::new(),
        });
        let shared = state.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = shared.clone();
            async move { answer(&state, uri, headers, body).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the receiver");
        let addr = listener.local_addr().expect("receiver address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://{addr}"),
            state,
        }
    }

    /// A receiver answering `first()` to a delivery's first attempt and 200 to the others.
    pub(crate) async fn first_then_ok(first: impl Fn() -> Reply + Send + 'static) -> Receiver {
        Self::scripted(move |_, earlier| {
            if earlier == 0 {
                first()
            } else {
                Reply::status(200)
            }
        })
        .await
    }

    pub(crate) fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().expect("hits lock").clone()
    }

    /// Waits until at least `n` requests arrived, failing after `deadline`.
    pub(crate) async fn wait_for(&self, n: usize, deadline: Duration) -> Vec<Hit> {
        let start = Instant::now();
        loop {
            let notified = self.state.arrived.notified();
            let hits = self.hits();
            if hits.len() >= n {
                return hits;
            }
            let left = deadline.checked_sub(start.elapsed()).unwrap_or_else(|| {
                panic!(
                    "only {} of {n} requests arrived within {deadline:?}",
                    hits.len()
                )
            });
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), notified).await;
        }
    }

    /// Asserts that no further request arrives (beyond `n`) for `quiet`.
    pub(crate) async fn assert_stays_at(&self, n: usize, quiet: Duration) {
        tokio::time::sleep(quiet).await;
        assert_eq!(self.hits().len(), n, "unexpected extra requests");
    }
}

async fn answer(state: &State, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let hit = Hit {
        path: uri.path().to_owned(),
        headers: headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    };
    let reply = {
        let mut hits = state.hits.lock().expect("hits lock");
        let earlier = hits
            .iter()
            .filter(|h| h.header("webhook-id") == hit.header("webhook-id") && h.path == hit.path)
            .count();
        let reply = (state.script.lock().expect("script lock"))(&hit, earlier);
        hits.push(hit);
        reply
    };
    state.arrived.notify_waiters();
    if let Some(hold) = reply.hold {
        tokio::time::sleep(hold).await;
    }
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body: &'static [u8] = reply.body.unwrap_or(b"receiver says hi");
    let mut response = (status, body).into_response();
    if let Some(value) = reply.retry_after.and_then(|v| v.parse().ok()) {
        response.headers_mut().insert("retry-after", value);
    }
    response
}
