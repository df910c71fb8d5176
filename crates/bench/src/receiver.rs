//! The webhook receiver: a bare hyper server on 127.0.0.1 that answers per path and records
//! every arrival (webhook id, path, attempt number, instant) as cheaply as it can.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// How the receiver answers on one path.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Behaviour {
    /// Answer 503 to attempts 1..=fail_first of each delivery, 200 after.
    pub(crate) fail_first: u32,
    /// `Retry-After` (seconds) sent with each 503.
    pub(crate) retry_after_secs: Option<u32>,
    /// How long to hold each request before answering (a slow receiver), in ms.
    pub(crate) hold_ms: u32,
}

/// Index of a registered path, as stored in each [`Arrival`].
pub(crate) type RouteId = u32;

/// One request the receiver got on a registered path.
#[derive(Debug)]
pub(crate) struct Arrival {
    /// The path it came to.
    pub(crate) route: RouteId,
    /// `x-ricochet-attempt` (0 when absent).
    pub(crate) attempt: u32,
    /// `webhook-id`: the event id.
    pub(crate) webhook_id: Box<str>,
    /// When its head was read.
    pub(crate) at: Instant,
    /// Whether it was answered 200.
    pub(crate) accepted: bool,
}

#[derive(Debug, Default)]
struct Routes {
    by_path: HashMap<String, (RouteId, Behaviour)>,
}

#[derive(Debug, Default)]
struct ReceiverState {
    routes: RwLock<Routes>,
    arrivals: Mutex<Vec<Arrival>>,
    /// Arrivals answered 200, to poll without taking the lock.
    accepted: AtomicU64,
    /// Requests to paths nobody registered (left over from an earlier scenario).
    unrouted: AtomicU64,
}

/// The running receiver; cheap to share by reference.
#[derive(Debug)]
pub(crate) struct Receiver {
    addr: SocketAddr,
    state: Arc<ReceiverState>,
}

impl Receiver {
    /// Binds 127.0.0.1 on a free port and serves until the process exits.
    pub(crate) async fn start() -> anyhow::Result<Receiver> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the receiver")?;
        let addr = listener.local_addr().context("receiver address")?;
        let state = Arc::new(ReceiverState::default());
        tokio::spawn(accept_loop(listener, state.clone()));
        Ok(Receiver { addr, state })
    }

    /// The URL of `path` (which starts with `/`) on this receiver.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Starts answering on `path`; returns the id its arrivals carry.
    pub(crate) fn add_route(&self, path: &str, behaviour: Behaviour) -> RouteId {
        let mut routes = self
            .state
            .routes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = RouteId::try_from(routes.by_path.len()).unwrap_or(RouteId::MAX);
        routes.by_path.insert(path.to_owned(), (id, behaviour));
        id
    }

    /// Forgets every route and arrival, and makes room for `capacity` arrivals.
    pub(crate) fn reset(&self, capacity: usize) {
        self.state
            .routes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .by_path
            .clear();
        let mut arrivals = self.lock_arrivals();
        *arrivals = Vec::with_capacity(capacity);
        self.state.accepted.store(0, Ordering::Relaxed);
        self.state.unrouted.store(0, Ordering::Relaxed);
    }

    /// Arrivals answered 200 since the last reset.
    pub(crate) fn accepted(&self) -> u64 {
        self.state.accepted.load(Ordering::Relaxed)
    }

    /// Requests to unregistered paths since the last reset.
    pub(crate) fn unrouted(&self) -> u64 {
        self.state.unrouted.load(Ordering::Relaxed)
    }

    /// Runs `inspect` on the arrivals so far, under the lock (keep it short).
    pub(crate) fn with_arrivals<T>(&self, inspect: impl FnOnce(&[Arrival]) -> T) -> T {
        inspect(&self.lock_arrivals())
    }

    fn lock_arrivals(&self) -> std::sync::MutexGuard<'_, Vec<Arrival>> {
        self.state
            .arrivals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<ReceiverState>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                eprintln!("receiver: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(state.clone(), request));
            // A connection the sender drops mid-request is its business, not a bench failure.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    state: Arc<ReceiverState>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let at = Instant::now();
    let route = state
        .routes
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .by_path
        .get(request.uri().path())
        .copied();
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let webhook_id: Box<str> = header("webhook-id").into();
    let attempt = header("x-ricochet-attempt").parse().unwrap_or(0);
    // Read the body so the connection stays reusable.
    let _ = request.into_body().collect().await;
    let Some((route, behaviour)) = route else {
        state.unrouted.fetch_add(1, Ordering::Relaxed);
        return Ok(respond(StatusCode::NOT_FOUND, None));
    };
    let accepted = behaviour.fail_first == 0 || attempt > behaviour.fail_first;
    state
        .arrivals
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(Arrival {
            route,
            attempt,
            webhook_id,
            at,
            accepted,
        });
    if behaviour.hold_ms > 0 {
        tokio::time::sleep(Duration::from_millis(u64::from(behaviour.hold_ms))).await;
    }
    if accepted {
        state.accepted.fetch_add(1, Ordering::Relaxed);
        Ok(respond(StatusCode::OK, None))
    } else {
        Ok(respond(
            StatusCode::SERVICE_UNAVAILABLE,
            behaviour.retry_after_secs,
        ))
    }
}

fn respond(status: StatusCode, retry_after_secs: Option<u32>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    if let Some(secs) = retry_after_secs {
        response
            .headers_mut()
            .insert(hyper::header::RETRY_AFTER, secs.into());
    }
    response
}
