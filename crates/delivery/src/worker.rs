//! The worker: one apalis task per attempt, a LISTEN connection that wakes the backend, and
//! graceful shutdown that finishes attempts in flight up to a deadline.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use chrono::Utc;
use futures::FutureExt;
use ricochet_domain::outcome::{ErrorKind, Outcome, RetryAfter};
use ricochet_domain::schedule::{self, Decision};
use ricochet_domain::target::TargetPolicy;
use ricochet_domain::{IntegrationId, TenantId};
use ricochet_runtime::Handoff;
use ricochet_store::StoreError;
use ricochet_store::crypto::SharedKeyring;
use ricochet_store::deliveries::{AttemptRecord, Claimed, Transition};
use ricochet_store::secrets;
use ricochet_store::wake::WAKE_CHANNEL;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;

use crate::WorkerConfig;
use crate::attempt;
use crate::backend::DeliveryBackend;
use crate::observe;
use crate::reachability::Reachability;
use crate::receiver_auth::TokenCache;
use crate::recorder::{self, Job, Recorder};
use crate::signing::SigningCache;
use crate::templates::ParsedTemplates;
use crate::tls::TlsClients;
use crate::urls::ParsedUrls;

/// The error kind of an attempt refused because a secret it needs cannot be opened; the dead
/// letter's reason is `secret_unreadable:NAME`.
pub const SECRET_UNREADABLE: &str = "secret_unreadable";

/// The error kind and dead-letter reason of an attempt refused because the integration's
/// signing key cannot be opened (its master key was removed from the keyring).
pub const SIGNING_KEY_UNREADABLE: &str = "signing_key_unreadable";

/// What every attempt shares.
struct Shared {
    /// The worker's name (it holds the leases).
    name: String,
    pool: PgPool,
    handoff: Arc<Handoff>,
    recorder: Recorder,
    http: reqwest::Client,
    keyring: Arc<SharedKeyring>,
    targets: Arc<TargetPolicy>,
    signing: Arc<SigningCache>,
    /// OAuth 2.0 access tokens for receivers, shared by every attempt of this worker.
    tokens: Arc<TokenCache>,
    /// Clients of receivers that ask for mutual TLS.
    tls: Arc<TlsClients>,
    /// Receivers' literal URLs, parsed once.
    urls: Arc<ParsedUrls>,
    /// Integrations' templates, parsed once.
    templates: Arc<ParsedTemplates>,
    max_body: usize,
    /// Whether the database answers: an attempt is not started while it does not.
    reachable: Reachability,
    /// How long an attempt waits for the database before it is left to its lease.
    hold_limit: Duration,
    /// Makes a span per attempt when traces are exported.
    tracer: Option<opentelemetry_sdk::trace::SdkTracer>,
}

/// Runs a worker until `shutdown` completes, then finishes the attempts in flight (up to the
/// configured deadline) and releases the deliveries it had claimed but not started. It takes
/// new deliveries straight from the publisher of this process through `handoff` (made by
/// [`WorkerConfig::handoff`]), if given.
pub async fn run(
    pool: PgPool,
    config: WorkerConfig,
    keyring: Arc<SharedKeyring>,
    handoff: Option<Arc<Handoff>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WorkerRunError> {
    let handoff = match handoff {
        Some(h) if h.worker() != config.name => {
            return Err(WorkerRunError::ForeignHandoff {
                handoff: h.worker().to_owned(),
                worker: config.name,
            });
        }
        Some(h) => h,
        None => config.handoff(),
    };
    let http = crate::guard::client(config.targets.clone(), config.lookup.clone())
        .map_err(WorkerRunError::HttpClient)?;
    let wake = Arc::new(Notify::new());
    let listener = tokio::spawn(listen(pool.clone(), wake.clone()));
    // Claims and leases commit without waiting for the disk; attempt records do wait: a record
    // committed asynchronously leaves its rows without hint bits until the WAL is flushed, and
    // every later read of them checks the commit log (measured: +60% PostgreSQL CPU).
    let leases = session_pool(&pool, 3, LEASE_SESSION);
    let records = session_pool(&pool, config.writers.max(1), RECORD_SESSION);
    let (recorder, recording) = recorder::spawn(
        &records,
        &config.name,
        config.concurrency * 2,
        config.writers,
        config.record_linger,
        handoff.clone(),
    );
    let shared = Shared {
        name: config.name.clone(),
        pool: pool.clone(),
        handoff: handoff.clone(),
        recorder,
        http,
        keyring,
        targets: config.targets.clone(),
        signing: Arc::new(SigningCache::default()),
        tokens: Arc::new(TokenCache::default()),
        tls: Arc::new(TlsClients::new(
            config.targets.clone(),
            config.lookup.clone(),
        )),
        urls: Arc::new(ParsedUrls::default()),
        templates: Arc::new(ParsedTemplates::default()),
        max_body: config.max_body_bytes,
        reachable: Reachability::spawn(pool.clone()),
        hold_limit: config.lease_grace / 2,
        tracer: config.tracer.clone(),
    };
    let deadline = config.shutdown_timeout;
    let concurrency = config.concurrency;
    let name = config.name.clone();
    let shared = Arc::new(shared);
    let worker = WorkerBuilder::new(name.clone())
        .backend(DeliveryBackend::new(leases.clone(), wake, handoff, config))
        .on_event(|ctx, event| {
            if let Event::Error(e) = event {
                tracing::error!(worker = ctx.name(), error = %e, "an attempt failed to run");
            }
        })
        .concurrency(concurrency)
        // A safety net above the longest request timeout: an attempt cut off here is retried
        // once its lease expires.
        .timeout(Duration::from_secs(600))
        // The shared state goes to each task as one reference count (apalis's `data` would
        // insert a copy into a map of every task's extensions).
        .build(move |claimed: Claimed| deliver(claimed, shared.clone()));
    tracing::info!(worker = %name, concurrency, "delivery worker started");
    let stopping = Arc::new(Notify::new());
    let stopped = stopping.clone();
    let signal = async move {
        shutdown.await;
        stopped.notify_one();
        Ok::<(), std::io::Error>(())
    };
    let mut run = Box::pin(worker.run_until(signal));
    let result = tokio::select! {
        result = &mut run => result.map_err(WorkerRunError::Run),
        () = async {
            stopping.notified().await;
            tokio::time::sleep(deadline).await;
        } => {
            // What is still in flight keeps its lease; it is retried once the lease expires.
            tracing::warn!(after = ?deadline, "attempts still in flight at the shutdown deadline were abandoned");
            Ok(())
        }
    };
    listener.abort();
    // The worker (and with it every sender) goes; the recorder writes what is queued and ends.
    drop(run);
    let mut recording = recording;
    let drained = async { while recording.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(10), drained)
        .await
        .is_err()
    {
        tracing::warn!(
            "the recorder did not finish within 10 s; unrecorded attempts run again after their lease"
        );
    }
    leases.close().await;
    records.close().await;
    result
}

/// The session of the claim and lease connections: their commits do not wait for the disk
/// (a claim a database crash forgets only leaves its deliveries pending, where recovery would
/// put them anyway).
const LEASE_SESSION: &str = "SET synchronous_commit TO off";

/// The session of the recording connections, which run little but the statement recording a
/// batch of attempts: it finds each delivery by primary key, and must keep doing so whatever
/// the table's statistics say. Its plan is cached per connection, and one planned while
/// `deliveries` was new and small (a fresh install, or before autovacuum's first ANALYZE)
/// scanned the whole table for every batch once it had grown: measured at 1.5 ms a batch and
/// a quarter of the database's time in `e2e-1` (BENCHMARKS.md). Sequential scans, hash and
/// merge joins are therefore off here: every join is a primary-key lookup. (The alert a dead
/// letter publishes in the same transaction is planned with nested loops too, over its few
/// rows.)
const RECORD_SESSION: &str = "SELECT set_config('enable_seqscan', 'off', false), \
     set_config('enable_hashjoin', 'off', false), set_config('enable_mergejoin', 'off', false)";

/// How long the claiming and recording connections are waited for.
const SESSION_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// A pool of connections to the same database as `pool` whose sessions start with `setting`.
fn session_pool(pool: &PgPool, connections: usize, setting: &'static str) -> PgPool {
    // A SET after connecting rather than the `options` startup parameter, which connection
    // poolers such as PgBouncer refuse by default.
    ricochet_store::pool_options(u32::try_from(connections).unwrap_or(u32::MAX))
        // Claims and records are not answered to a waiting client: under load, or while the
        // database restarts, they wait for a connection rather than fail (a record that fails
        // sends its attempt again after the lease).
        .acquire_timeout(SESSION_ACQUIRE_TIMEOUT)
        .after_connect(move |conn, _| {
            Box::pin(async move { sqlx::query(setting).execute(conn).await.map(|_| ()) })
        })
        .connect_lazy_with(pool.connect_options().as_ref().clone())
}

/// A worker that could not run.
#[derive(Debug, thiserror::Error)]
pub enum WorkerRunError {
    /// The hand-over given was made for another worker.
    #[error("delivery worker: the hand-over is for worker {handoff}, not {worker}")]
    ForeignHandoff {
        /// The worker the hand-over was made for.
        handoff: String,
        /// This worker.
        worker: String,
    },
    /// The HTTP client could not be built.
    #[error("delivery worker: building the HTTP client")]
    HttpClient(#[source] reqwest::Error),
    /// The worker stopped on an error.
    #[error("delivery worker: running")]
    Run(#[source] WorkerError),
}

/// Wakes the backend on every NOTIFY of the wake channel, and once after each (re)connection
/// since notifications sent while disconnected are lost.
async fn listen(pool: PgPool, wake: Arc<Notify>) {
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => match listener.listen(WAKE_CHANNEL).await {
                Ok(()) => {
                    wake.notify_one();
                    while let Ok(Some(_)) = listener.try_recv().await {
                        wake.notify_one();
                    }
                    tracing::warn!("the LISTEN connection dropped; reconnecting");
                }
                Err(e) => tracing::error!(error = %e, "LISTEN failed"),
            },
            Err(e) => tracing::error!(error = %e, "connecting the LISTEN connection"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// One attempt of a claimed delivery, recorded whatever happens: a panic is caught here (rather
/// than by apalis's catch-panic layer, whose handler type keeps the worker's future from being
/// `Send`) and recorded as `internal_error`; an unreadable secret dead-letters the delivery.
///
/// Its future stays small (about 4 KB in a release build, against 17 KB before): apalis moves
/// each task's future several times between its layers, copying all of it, and a future is as
/// large as its largest await. So an await that only some attempts reach, and whose future is
/// large (a database query above all), is boxed where it is taken (`Box::pin(...)`, here, in
/// [`attempt()`], in `attempt::perform` and in the signing cache): it then costs an allocation
/// only when taken (BENCHMARKS.md, 2026-12-07).
async fn deliver(claimed: Claimed, shared: Arc<Shared>) -> Result<(), BoxDynError> {
    // The worker's slot is free again however this ends, even if apalis drops the future.
    let _slot = Slot(&shared.handoff);
    // What is sent while the database does not answer could not be recorded, and would be sent
    // again after the lease: wait for it (within the lease), or leave the delivery to its lease.
    if !shared.reachable.is_up() && !shared.reachable.wait_up(shared.hold_limit).await {
        tracing::warn!(delivery = %claimed.id, "the database does not answer; the attempt was not started and runs after its lease");
        return Ok(());
    }
    let timeout = chrono::Duration::milliseconds(claimed.settings.request_timeout_ms());
    if Utc::now() + timeout >= claimed.lease_expires_at {
        // It could not be recorded under this lease (it waited too long for a slot): it goes
        // back to pending untouched, without counting as a lost lease.
        // Boxed: see `deliver`'s size.
        Box::pin(give_back(&shared, &claimed)).await;
        return Ok(());
    }
    let made = AssertUnwindSafe(attempt(&claimed, &shared))
        .catch_unwind()
        .await;
    let (record, decision) = match made {
        Ok(Ok(made)) => made,
        // The database failed before anything was sent: the lease expires and it runs again.
        Ok(Err(e)) => return Err(e),
        Err(panic) => internal_error(&claimed, panic.as_ref()),
    };
    record_attempt(claimed, record, decision, &shared).await
}

/// Returns a claimed delivery that will not be started to pending.
async fn give_back(shared: &Shared, claimed: &Claimed) {
    tracing::warn!(delivery = %claimed.id, "not starting an attempt whose lease ends before it could finish; returned to pending");
    let released = async {
        let mut conn = shared.pool.acquire().await?;
        let lease = [(claimed.id, claimed.lease_token)];
        ricochet_store::deliveries::release(&mut conn, &shared.name, &lease).await
    };
    if let Err(e) = released.await {
        tracing::error!(delivery = %claimed.id, error = %e, "returning a delivery to pending; it runs again after its lease");
    }
}

/// The record of an attempt that panicked, retried as the policy allows.
fn internal_error(
    claimed: &Claimed,
    panic: &(dyn std::any::Any + Send),
) -> (AttemptRecord, Decision) {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(delivery = %claimed.id, panic = %message, "an attempt panicked; recorded as internal_error");
    let mut record = attempt::blank_record(claimed);
    record.error_kind = Some(ErrorKind::Internal.as_str().into());
    record.error_message =
        Some("Ricochet failed while making this attempt (a bug; see the worker's log)".into());
    let decision = schedule::decide(
        &claimed.settings.retry_policy,
        in_series(claimed),
        &Outcome::Error(ErrorKind::Internal),
        None,
        &mut rand::rng(),
    );
    (record, decision)
}

/// The attempt's number within its series: the retry budget counts from the start of the
/// series (a replay starts a new one).
fn in_series(claimed: &Claimed) -> u32 {
    u32::try_from(claimed.attempt_count - claimed.series_base + 1).unwrap_or(1)
}

/// A delivery the worker holds until its attempt ends (see [`Handoff::finished`]).
struct Slot<'a>(&'a Handoff);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.finished();
    }
}

/// Makes the attempt and decides what follows. Only a database failure before anything was
/// sent is an error.
async fn attempt(
    claimed: &Claimed,
    shared: &Shared,
) -> Result<(AttemptRecord, Decision), BoxDynError> {
    // Read at every attempt, so a rotated secret is used by the very next one (the templates
    // naming them are parsed once).
    let names: Vec<String> = claimed
        .settings
        .secret_references_with(&|source| shared.templates.parse(source))
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let secrets = if names.is_empty() {
        HashMap::new()
    } else {
        // Boxed (a query only attempts with secrets make): see `deliver`'s size.
        match Box::pin(secrets::open_values(
            &shared.pool,
            &shared.keyring,
            TenantId(claimed.tenant_id),
            &names,
        ))
        .await
        {
            Ok(values) => values,
            // No attempt can ever be made with it: dead-lettered at once, never looped.
            Err(StoreError::SecretUnreadable { name, source }) => {
                let mut record = attempt::blank_record(claimed);
                record.error_kind = Some(SECRET_UNREADABLE.into());
                record.error_message = Some(format!("secret {name} cannot be opened: {source}"));
                let reason = format!("{SECRET_UNREADABLE}:{name}");
                return Ok((record, Decision::DeadLetter(reason)));
            }
            Err(e) => return Err(e.into()),
        }
    };
    let signing = match shared
        .signing
        .keys(
            &shared.pool,
            &shared.keyring,
            TenantId(claimed.tenant_id),
            IntegrationId(claimed.integration_id),
            claimed.settings.signature.scheme,
        )
        .await
    {
        Ok(keys) => keys,
        // As with an unreadable secret: no attempt can be signed, so none is made or looped.
        Err(StoreError::Crypto(source)) => {
            let mut record = attempt::blank_record(claimed);
            record.error_kind = Some(SIGNING_KEY_UNREADABLE.into());
            record.error_message = Some(format!("the signing key cannot be opened: {source}"));
            return Ok((record, Decision::DeadLetter(SIGNING_KEY_UNREADABLE.into())));
        }
        Err(e) => return Err(e.into()),
    };
    // Without traces exported: no span, no header, nothing allocated for them.
    let (span, traceparent) = match &shared.tracer {
        Some(tracer) => {
            let (span, traceparent) = crate::trace::start_attempt(tracer, claimed);
            (Some(span), traceparent)
        }
        None => (None, None),
    };
    let outbound = attempt::Outbound {
        client: &shared.http,
        targets: &shared.targets,
        tokens: &shared.tokens,
        tls: &shared.tls,
        urls: &shared.urls,
        templates: &shared.templates,
    };
    let mut result = attempt::perform(
        outbound,
        claimed,
        &secrets,
        &signing,
        shared.max_body,
        traceparent.as_deref(),
    )
    .await;
    let policy = &claimed.settings.retry_policy;
    let mut decision = match result.refused.take() {
        Some(reason) => Decision::DeadLetter(reason),
        None => schedule::decide(
            policy,
            in_series(claimed),
            &result.outcome,
            result.retry_after,
            &mut rand::rng(),
        ),
    };
    // A receiver that says it is gone disables the integration at once; this delivery waits
    // with the others (paused) until the integration is enabled again.
    if matches!(result.outcome, Outcome::Status(410)) && claimed.settings.disable_on_gone {
        let subject = crate::protect::Subject {
            tenant: claimed.tenant_id,
            integration: claimed.integration_id,
            name: &claimed.integration_name,
        };
        // Boxed (only a 410 gets here): see `deliver`'s size.
        match Box::pin(crate::protect::disable(
            &shared.pool,
            subject,
            crate::protect::GONE,
            "the receiver answered 410 Gone",
        ))
        .await
        {
            Ok(_) => {
                decision = Decision::Retry {
                    delay: std::time::Duration::ZERO,
                    retry_after: None,
                };
            }
            // The attempt stands as the policy decides; the next 410 tries again.
            Err(e) => {
                tracing::error!(integration = %claimed.integration_id, error = %e, "disabling an integration whose receiver is gone");
            }
        }
    }
    if let Some(RetryAfter::Unparseable) = result.retry_after
        && matches!(result.outcome, Outcome::Status(429 | 503))
    {
        result.record.retry_after_note =
            Some("unparseable Retry-After ignored; the policy's delay applied".into());
    }
    if let Some(span) = span {
        crate::trace::end_attempt(span, &result.record, &result.outcome, &decision);
    }
    Ok((result.record, decision))
}

/// Records the attempt with the delivery's next state, and waits until it is written.
async fn record_attempt(
    claimed: Claimed,
    mut record: AttemptRecord,
    decision: Decision,
    shared: &Shared,
) -> Result<(), BoxDynError> {
    let number = u32::try_from(claimed.attempt_count + 1).unwrap_or(u32::MAX);
    let transition = match &decision {
        Decision::Succeeded => Transition::Succeeded,
        Decision::Retry { delay, retry_after } => {
            record.retry_after_ms =
                retry_after.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            let delay = chrono::Duration::from_std(*delay).unwrap_or(chrono::Duration::MAX);
            Transition::Retry(Utc::now() + delay)
        }
        Decision::DeadLetter(reason) => Transition::DeadLetter(reason.clone()),
    };
    let id = claimed.id;
    let report = observe::Recorded::new(&claimed, number, &record, &transition);
    let recorded = shared
        .recorder
        .queue(Job {
            claimed,
            record,
            transition,
        })
        .await
        .ok_or("the recorder has stopped")?;
    let recorded = recorded.await.unwrap_or(false);
    if recorded {
        observe::attempt_recorded(&report);
    } else {
        tracing::warn!(delivery = %id, attempt = number, "the attempt was not recorded (lease lost, or the database failed); it runs again after its lease");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::panic::AssertUnwindSafe;

    use chrono::Utc;
    use futures::FutureExt;
    use ricochet_domain::schedule::Decision;
    use ricochet_store::crypto::{Keyring, SharedKeyring};
    use ricochet_store::deliveries::Claimed;
    use uuid::Uuid;

    fn claimed(max_retries: u32) -> Claimed {
        let now = Utc::now();
        Claimed {
            id: Uuid::now_v7(),
            tenant_id: Uuid::now_v7(),
            event_id: "e-1".into(),
            integration_id: Uuid::now_v7(),
            attempt_count: 0,
            series_base: 0,
            created_at: now,
            due_at: now,
            lease_token: 1,
            lease_expires_at: now,
            integration_name: "hook".into(),
            settings: std::sync::Arc::new(
                serde_json::from_value(serde_json::json!({
                    "url": "http://127.0.0.1:9/{{eventId}}",
                    "retryPolicy": { "maxRetries": max_retries, "jitter": false }
                }))
                .expect("settings parse"),
            ),
            event_type: "order.created".into(),
            occurred_at: now,
            data: std::sync::Arc::new(serde_json::json!({})),
            ordering_key: None,
            traceparent: None,
        }
    }

    #[tokio::test]
    async fn a_caught_panic_becomes_an_internal_error_attempt_retried_as_the_policy_allows() {
        let panic = AssertUnwindSafe(async { panic!("boom") })
            .catch_unwind()
            .await
            .expect_err("the future panics");

        let (record, decision) = super::internal_error(&claimed(2), panic.as_ref());
        assert_eq!(record.error_kind.as_deref(), Some("internal_error"));
        assert_eq!(record.request_url, "http://127.0.0.1:9/{{eventId}}");
        assert!(matches!(decision, Decision::Retry { .. }), "{decision:?}");

        let (_, last) = super::internal_error(&claimed(0), panic.as_ref());
        assert_eq!(last, Decision::DeadLetter("retries_exhausted".into()));
    }

    /// The worker must be spawnable on a multi-threaded runtime.
    #[expect(dead_code, reason = "a compile-time check only")]
    fn run_is_send(pool: sqlx::PgPool) {
        fn assert_send<T: Send>(_: &T) {}
        let f = super::run(
            pool,
            crate::WorkerConfig::new(1, 1, std::time::Duration::ZERO),
            std::sync::Arc::new(SharedKeyring::fixed(
                Keyring::parse(&Keyring::generate_key()).expect("a generated key parses"),
            )),
            None,
            async {},
        );
        assert_send(&f);
    }
}
