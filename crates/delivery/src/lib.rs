//! Ricochet's delivery worker: an apalis worker fed by Ricochet's own backend over the
//! `deliveries` table. Each task is one attempt: render the request, send it, classify the
//! outcome, and record it in the transaction that moves the delivery on (succeeded, the next
//! attempt at T, or dead-lettered).

pub mod attempt;
pub mod backend;
mod error_chain;
pub mod guard;
mod memo;
pub mod observe;
mod protect;
pub mod reachability;
mod receiver_auth;
mod recorder;
pub mod retention;
mod signing;
mod templates;
mod tls;
mod trace;
mod urls;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use ricochet_domain::target::TargetPolicy;
use ricochet_runtime::Handoff;

pub use worker::run;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Unique name of this worker; it owns the leases it takes.
    pub name: String,
    /// Attempts in flight at once.
    pub concurrency: usize,
    /// Deliveries claimed per query.
    pub batch_size: usize,
    /// Lease beyond an integration's request timeout before an unfinished attempt is retried
    /// elsewhere.
    pub lease_grace: Duration,
    /// How far ahead of their due time deliveries are claimed, to start each attempt on time.
    pub prefetch: Duration,
    /// Longest sleep without a NOTIFY (a fallback poll).
    pub max_idle: Duration,
    /// How often expired leases are returned to pending.
    pub reap_every: Duration,
    /// Leases of one delivery that may expire without a recorded attempt (killed or stuck
    /// workers) before it is dead-lettered as `worker_lost`.
    pub max_lost_leases: u32,
    /// How long shutdown waits for attempts in flight.
    pub shutdown_timeout: Duration,
    /// Largest request body sent; a bigger one is dead-lettered as `payload_too_large`.
    pub max_body_bytes: usize,
    /// Tasks writing finished attempts to the database side by side.
    pub writers: usize,
    /// How long a batch of finished attempts may wait for more while the worker owns other
    /// deliveries (running, or held for their time) before it is written (zero: at once).
    pub record_linger: Duration,
    /// Where attempts may connect (public addresses only by default).
    pub targets: Arc<TargetPolicy>,
    /// How receivers' names are resolved (the system resolver; tests may answer themselves).
    pub lookup: guard::HostLookup,
    /// Makes an OpenTelemetry span per attempt, and sends its `traceparent` to the receiver,
    /// when traces are exported (`--otlp-endpoint`); `None` (the default) costs nothing.
    pub tracer: Option<opentelemetry_sdk::trace::SdkTracer>,
}

impl WorkerConfig {
    /// Defaults for a worker named uniquely for this process.
    pub fn new(concurrency: usize, batch_size: usize, lease_grace: Duration) -> Self {
        WorkerConfig {
            name: format!(
                "worker-{}-{}",
                std::process::id(),
                uuid::Uuid::now_v7().simple()
            ),
            concurrency,
            batch_size,
            lease_grace,
            prefetch: Duration::from_millis(250),
            max_idle: Duration::from_secs(5),
            reap_every: Duration::from_millis(500),
            max_lost_leases: 3,
            shutdown_timeout: Duration::from_secs(30),
            max_body_bytes: 1024 * 1024,
            writers: 1,
            record_linger: Duration::from_millis(2),
            targets: Arc::new(TargetPolicy::public_only()),
            lookup: guard::HostLookup::system(),
            tracer: None,
        }
    }

    /// The hand-over through which a publisher in the same process gives this worker new
    /// deliveries, leased to it: as many as it runs at once, with its lease grace.
    pub fn handoff(&self) -> Arc<Handoff> {
        Arc::new(Handoff::new(
            &self.name,
            self.concurrency,
            i64::try_from(self.lease_grace.as_millis()).unwrap_or(i64::MAX),
        ))
    }
}
