//! Ricochet's apalis backend over the `deliveries` table. It claims due deliveries in batches
//! with a lease, waits for a NOTIFY or a timer set to the earliest due time (or lease expiry),
//! returns expired leases to pending, and at shutdown releases what it claimed but never
//! started. Deliveries due within the prefetch window are claimed ahead and held until their
//! time (by the wall clock: never early), so a retry starts on time rather than a claim's
//! round trip later, even when many fall due at once.
//!
//! `poll_next` never fails and never ends: an error would stop the worker and drop in-flight
//! attempts, and an ended stream would leave it idle for good. Database errors are logged and
//! retried after a pause instead.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use apalis::prelude::*;
use apalis_core::backend::BackendConfig;
use apalis_core::backend::finalize::Ephemeral;
use chrono::{DateTime, Utc};
use futures::FutureExt;
use futures::future::BoxFuture;
use ricochet_runtime::Handoff;
use ricochet_store::StoreError;
use ricochet_store::deliveries::{self, Claimed};
use sqlx::PgPool;
use tokio::sync::Notify;
use tower::layer::util::Identity;
use uuid::Uuid;

use crate::WorkerConfig;
use crate::recorder::{self, Reaping};

/// How early `release_due` lets a scheduled delivery go: about a timer tick.
const RELEASE_SLACK: chrono::Duration = chrono::Duration::milliseconds(1);

/// What a claim found: the leased deliveries; when the claim was not full, when the next one is
/// due; and whether it was full (more may be due now).
type Claim = (Vec<Claimed>, Option<DateTime<Utc>>, bool);

enum Fetch {
    Start,
    Claiming(BoxFuture<'static, Result<Claim, StoreError>>),
    Waiting(BoxFuture<'static, ()>),
}

/// The backend of one worker.
pub struct DeliveryBackend {
    pool: PgPool,
    wake: Arc<Notify>,
    /// New deliveries the publisher of this process hands over, open while waiting for work.
    handoff: Arc<Handoff>,
    config: WorkerConfig,
    buffer: VecDeque<Task<Claimed>>,
    /// Claimed ahead of their due time, by (due, id); released into `buffer` when due.
    scheduled: BTreeMap<(DateTime<Utc>, Uuid), Task<Claimed>>,
    /// Fires when the earliest scheduled delivery is due.
    due_timer: Pin<Box<tokio::time::Sleep>>,
    /// Per rate-limited integration, the due time and the release time of the last delivery
    /// released, which space out the next ones (see `release_due`); forgotten after 10 s idle,
    /// at each reap.
    paced: HashMap<Uuid, (DateTime<Utc>, DateTime<Utc>)>,
    fetch: Fetch,
    reap_timer: Pin<Box<tokio::time::Sleep>>,
    reaping: Option<BoxFuture<'static, Result<Reaping, StoreError>>>,
    /// Whether the last claim reached the database. While it does not, nothing held is
    /// started: its attempt could not be recorded.
    reachable: bool,
    releasing: Option<BoxFuture<'static, Result<u64, StoreError>>>,
}

impl std::fmt::Debug for DeliveryBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryBackend")
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

impl DeliveryBackend {
    /// A backend claiming from `pool`, woken by `wake` (notified on every NOTIFY), and taking
    /// the deliveries handed over through `handoff`.
    pub fn new(
        pool: PgPool,
        wake: Arc<Notify>,
        handoff: Arc<Handoff>,
        config: WorkerConfig,
    ) -> Self {
        DeliveryBackend {
            pool,
            wake,
            handoff,
            config,
            buffer: VecDeque::new(),
            scheduled: BTreeMap::new(),
            due_timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            paced: HashMap::new(),
            fetch: Fetch::Start,
            reap_timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            reaping: None,
            reachable: true,
            releasing: None,
        }
    }

    fn task(claimed: Claimed, worker: &str) -> Task<Claimed> {
        let id = claimed.id;
        let recorded = usize::try_from(claimed.attempt_count).unwrap_or(0);
        TaskBuilder::new(claimed)
            .task_id(TaskId::from_uuid(id))
            .attempt(recorded)
            .lock_by(Some(worker.to_owned()))
            .build()
    }

    /// How far ahead to claim: the prefetch window, or nothing while a few batches already
    /// wait for their time.
    fn lookahead(&self) -> Duration {
        if self.scheduled.len() < self.config.batch_size * 4 {
            self.config.prefetch
        } else {
            Duration::ZERO
        }
    }

    /// How many deliveries the next claim asks for: a batch, but no more than the slots not
    /// taken by running attempts. Claiming more than can start would hold them in the buffer,
    /// and the next claim (the next chance for another tenant's new work) waits until the
    /// buffer drains: with every slot busy on slow receivers, capacity is shared out one
    /// freed slot at a time instead.
    fn claim_limit(&self) -> usize {
        let waiting = self.scheduled.len() + self.buffer.len();
        let running = self.handoff.owned().saturating_sub(waiting);
        self.config
            .concurrency
            .saturating_sub(running)
            .clamp(1, self.config.batch_size.max(1))
    }

    fn claim(&self, worker: &str, limit: usize) -> BoxFuture<'static, Result<Claim, StoreError>> {
        let pool = self.pool.clone();
        let handoff = self.handoff.clone();
        let worker = worker.to_owned();
        let batch = i64::try_from(limit).unwrap_or(i64::MAX);
        let grace = i64::try_from(self.config.lease_grace.as_millis()).unwrap_or(i64::MAX);
        let lookahead = i64::try_from(self.lookahead().as_millis()).unwrap_or(i64::MAX);
        async move {
            let rows =
                deliveries::claim(&pool, handoff.settings(), &worker, batch, grace, lookahead)
                    .await?;
            let full = rows.len() >= limit;
            let next = if full {
                None
            } else {
                deliveries::next_wake_at(&pool).await?
            };
            Ok((rows, next, full))
        }
        .boxed()
    }

    /// Sleeps until a NOTIFY, the prefetch window reaches the next due time, or `max_idle` (a
    /// fallback should a notification be lost), whichever comes first.
    fn wait_for_work(&self, next: Option<DateTime<Utc>>) -> BoxFuture<'static, ()> {
        let idle = self.config.max_idle;
        let wait = next.map_or(idle, |at| {
            until(at).saturating_sub(self.lookahead()).min(idle)
        });
        let wake = self.wake.clone();
        async move {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
        .boxed()
    }

    /// Takes claimed deliveries: those due go to the buffer, the others wait in `scheduled`.
    fn accept(&mut self, rows: Vec<Claimed>, worker: &str) {
        self.handoff.claimed(rows.len());
        self.place(rows, worker);
    }

    /// Puts claimed or handed-over deliveries where they wait: the buffer when due, the
    /// schedule when later or rate-limited.
    fn place(&mut self, rows: Vec<Claimed>, worker: &str) {
        let now = Utc::now();
        for claimed in rows {
            // A rate-limited lane is claimed (or handed over) without lookahead: a start later
            // than now is one its rate limit paced.
            if claimed.settings.rate_limit.is_some() && claimed.due_at > now {
                let wait = (claimed.due_at - now).to_std().unwrap_or_default();
                crate::observe::rate_limit_wait(&claimed, wait);
            }
            // A rate-limited one goes through `scheduled` even when due, to be spaced out.
            if claimed.due_at <= now && claimed.settings.rate_limit.is_none() {
                self.buffer.push_back(Self::task(claimed, worker));
            } else {
                self.scheduled
                    .insert((claimed.due_at, claimed.id), Self::task(claimed, worker));
            }
        }
        self.arm_due_timer();
    }

    /// Moves the scheduled deliveries that are due (by the wall clock) to the buffer, and
    /// re-arms the timer when the earliest one changed.
    ///
    /// The starts of a rate-limited integration keep the spacing its lane gave them: when the
    /// runtime wakes late (a busy machine) and several fall due at once, they do not go out
    /// together (a burst over the limit at the receiver) but each at least 90% of its planned
    /// gap after the one before, so the delay is made up at most 10% faster than the limit.
    ///
    /// A rate-limited start due within [`RELEASE_SLACK`] goes now: the timer cannot wake for
    /// less, and waiting a timer tick per start would cap a fast limit (gaps of microseconds)
    /// at about a thousand a second. A start released early is remembered at its planned time,
    /// so the spacing after it is kept. (Its attempt is not early: a rate-limited lane is only
    /// claimed once its deliveries are due, and the slack only moves the lane's pacing.)
    fn release_due(&mut self) {
        let now = Utc::now();
        let horizon = now + RELEASE_SLACK;
        let mut released = false;
        // Within the slack, only rate-limited starts go early; any other start (a retry at its
        // scheduled time above all) never goes before it is due.
        let ready: Vec<(DateTime<Utc>, Uuid)> = self
            .scheduled
            .range(..=(horizon, Uuid::max()))
            .filter(|((due, _), task)| *due <= now || task.args.settings.rate_limit.is_some())
            .map(|(key, _)| *key)
            .collect();
        for key in ready {
            let Some(task) = self.scheduled.remove(&key) else {
                continue;
            };
            let claimed = &task.args;
            if claimed.settings.rate_limit.is_some() {
                let integration = claimed.integration_id;
                let mut at = now;
                if let Some(&(last_due, last_at)) = self.paced.get(&integration)
                    && claimed.due_at > last_due
                {
                    let earliest = last_at + (claimed.due_at - last_due) * 9 / 10;
                    if earliest > horizon {
                        self.scheduled.insert((earliest, claimed.id), task);
                        released = true;
                        continue;
                    }
                    at = at.max(earliest);
                }
                self.paced.insert(integration, (claimed.due_at, at));
            }
            self.buffer.push_back(task);
            released = true;
        }
        if released {
            self.arm_due_timer();
        }
    }

    /// Sets the timer to the earliest scheduled delivery; a timer that fires a little early
    /// only re-arms it, since `release_due` goes by the wall clock. (The runtime's timer
    /// rounds up to its next millisecond tick, so a start is released 0 to 1 ms after it is
    /// due, and a re-armed timer waits at least to that tick: no spinning.)
    fn arm_due_timer(&mut self) {
        if let Some(((due, _), _)) = self.scheduled.first_key_value() {
            let wait = until(*due);
            self.due_timer
                .as_mut()
                .reset(tokio::time::Instant::now() + wait);
        }
    }
}

/// How long until `at` by the wall clock (zero if past).
fn until(at: DateTime<Utc>) -> Duration {
    (at - Utc::now()).to_std().unwrap_or(Duration::ZERO)
}

impl Backend for DeliveryBackend {
    type Task = Task<Claimed>;
    type Error = StoreError;

    /// Drives the lease reaper on its own timer, never blocking the fetch.
    fn poll_ready(
        &mut self,
        cx: &mut Context<'_>,
        _worker: &WorkerContext,
    ) -> Poll<Result<(), Self::Error>> {
        if self.reaping.is_none() && self.reap_timer.as_mut().poll(cx).is_ready() {
            self.reap_timer
                .as_mut()
                .reset(tokio::time::Instant::now() + self.config.reap_every);
            let _ = self.reap_timer.as_mut().poll(cx);
            let forgotten = Utc::now() - chrono::Duration::seconds(10);
            self.paced.retain(|_, (_, at)| *at > forgotten);
            let pool = self.pool.clone();
            let max_lost = i32::try_from(self.config.max_lost_leases).unwrap_or(i32::MAX);
            self.reaping = Some(async move { recorder::reap(&pool, max_lost).await }.boxed());
        }
        if let Some(reaping) = self.reaping.as_mut()
            && let Poll::Ready(result) = reaping.poll_unpin(cx)
        {
            self.reaping = None;
            match result {
                Ok(Reaping { returned, lost }) => {
                    if returned > 0 {
                        tracing::warn!(
                            deliveries = returned,
                            "returned deliveries with expired leases to pending"
                        );
                    }
                    if lost > 0 {
                        tracing::warn!(
                            deliveries = lost,
                            "dead-lettered deliveries whose lease expired too often (worker_lost)"
                        );
                    }
                }
                Err(e) => tracing::error!(error = %e, "returning expired leases"),
            }
        }
        Poll::Ready(Ok(()))
    }

    fn poll_next(
        &mut self,
        cx: &mut Context<'_>,
        worker: &WorkerContext,
    ) -> Poll<Option<Result<Self::Task, Self::Error>>> {
        let handed = self.handoff.poll_take(cx);
        if !handed.is_empty() {
            self.place(handed, worker.name());
        }
        loop {
            if self.reachable {
                if !self.scheduled.is_empty() {
                    self.release_due();
                }
                if let Some(task) = self.buffer.pop_front() {
                    return Poll::Ready(Some(Ok(task)));
                }
            }
            // Registers the wake-up for the earliest scheduled delivery. A timer that fired
            // (early, or before a release) is set again to it, so it cannot spin.
            if self.reachable
                && !self.scheduled.is_empty()
                && self.due_timer.as_mut().poll(cx).is_ready()
            {
                self.arm_due_timer();
                continue;
            }
            match &mut self.fetch {
                Fetch::Start => {
                    // Closed while claiming: new deliveries must not overtake due ones.
                    self.handoff.set_open(false);
                    let limit = self.claim_limit();
                    self.fetch = Fetch::Claiming(self.claim(worker.name(), limit));
                }
                Fetch::Claiming(claiming) => match ready!(claiming.poll_unpin(cx)) {
                    Ok((rows, next, full)) => {
                        self.reachable = true;
                        self.accept(rows, worker.name());
                        self.fetch = if full {
                            Fetch::Start
                        } else {
                            // Nothing more is due: new deliveries may come straight here.
                            self.handoff.set_open(true);
                            Fetch::Waiting(self.wait_for_work(next))
                        };
                    }
                    Err(e) => {
                        // What is held waits: started now, it could not be recorded. Once the
                        // database answers again, each is started if its lease still allows.
                        self.reachable = false;
                        tracing::error!(error = %e, "claiming deliveries; retrying in 1 s");
                        self.fetch =
                            Fetch::Waiting(tokio::time::sleep(Duration::from_secs(1)).boxed());
                    }
                },
                Fetch::Waiting(waiting) => {
                    ready!(waiting.poll_unpin(cx));
                    self.fetch = Fetch::Start;
                }
            }
        }
    }

    /// Called once every attempt in flight has finished: finish a claim under way, then hand
    /// back every claimed delivery that was never started.
    fn poll_close(
        &mut self,
        cx: &mut Context<'_>,
        worker: &WorkerContext,
    ) -> Poll<Result<(), Self::Error>> {
        if let Fetch::Claiming(claiming) = &mut self.fetch
            && let Ok((rows, _, _)) = ready!(claiming.poll_unpin(cx))
        {
            self.accept(rows, worker.name());
        }
        let ahead = std::mem::take(&mut self.scheduled);
        self.buffer.extend(ahead.into_values());
        let handed = self.handoff.close();
        self.buffer
            .extend(handed.into_iter().map(|c| Self::task(c, worker.name())));
        self.fetch = Fetch::Start;
        if let Some(reaping) = self.reaping.as_mut() {
            let _ = ready!(reaping.poll_unpin(cx));
            self.reaping = None;
        }
        if self.releasing.is_none() && !self.buffer.is_empty() {
            let leases: Vec<(Uuid, i64)> = self
                .buffer
                .drain(..)
                .map(|t| (t.args.id, t.args.lease_token))
                .collect();
            let (pool, name) = (self.pool.clone(), worker.name().to_owned());
            self.releasing = Some(
                async move {
                    let mut conn = pool.acquire().await?;
                    deliveries::release(&mut conn, &name, &leases).await
                }
                .boxed(),
            );
        }
        if let Some(releasing) = self.releasing.as_mut() {
            match ready!(releasing.poll_unpin(cx)) {
                Ok(n) if n > 0 => {
                    tracing::info!(deliveries = n, "released claimed deliveries at shutdown");
                }
                Ok(_) => {}
                // Their leases expire and another worker takes them.
                Err(e) => tracing::error!(error = %e, "releasing claimed deliveries at shutdown"),
            }
            self.releasing = None;
        }
        Poll::Ready(Ok(()))
    }
}

impl BackendConfig for DeliveryBackend {
    type Args = Claimed;
    type Id = Uuid;
    type Kind = Ephemeral;
    type Config = WorkerConfig;
    type Layer = Identity;

    fn config(&self) -> &Self::Config {
        &self.config
    }

    fn middleware(&mut self, _worker: &mut WorkerContext) -> Self::Layer {
        Identity::new()
    }
}
