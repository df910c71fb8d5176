//! Hand-over of new deliveries from the publisher to the worker of the same process.
//!
//! When the worker is idle enough to take more, publishing writes a new delivery already
//! leased to it (in the same statement that writes the event) and passes it over in memory
//! once committed: no NOTIFY, no claim statement, and one row version fewer per delivery. The
//! lease is the same one a claim would take, so a delivery handed over to a worker that dies
//! goes back to pending when it expires, exactly like a claimed one.
//!
//! The worker opens the hand-over only while its last claim found nothing more due (it waits
//! for a NOTIFY or a timer): new deliveries never overtake due ones waiting in the table. It
//! takes at most `capacity` deliveries in memory and in flight, counting the claimed ones.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Waker};
use std::time::Duration;

use ricochet_store::deliveries::Claimed;
use ricochet_store::settings_cache::SettingsCache;
use tokio::sync::Notify;

use crate::credits::Credits;

/// The meeting point of a process's publisher and its worker.
#[derive(Debug)]
pub struct Handoff {
    worker: String,
    lease_grace_ms: i64,
    capacity: usize,
    state: Mutex<State>,
    /// The integrations' settings the worker and the publishers have read, by version.
    settings: SettingsCache,
    /// The lane slots the publishers hold for hand-overs.
    credits: Credits,
    /// Told when the worker opens the hand-over.
    opened: Notify,
    /// Whether the worker closed it only to claim (not to stop).
    claiming: AtomicBool,
    /// The most deliveries one event of the last batch handed over made: with a batch's size,
    /// how much room the next publish reserves (a first one assumes 16).
    fan_out: AtomicUsize,
}

#[derive(Debug, Default)]
struct State {
    /// Whether the worker takes deliveries now.
    open: bool,
    /// Deliveries the worker owns: reserved by publishers, handed over and not yet taken, and
    /// taken or claimed and not yet finished.
    owned: usize,
    /// Handed over, waiting for the worker to take them.
    queue: Vec<Claimed>,
    /// Wakes the worker when deliveries arrive.
    waker: Option<Waker>,
}

impl Handoff {
    /// A hand-over to `worker`, which holds at most `capacity` deliveries at once and leases
    /// for an integration's request timeout plus `lease_grace_ms`.
    pub fn new(worker: &str, capacity: usize, lease_grace_ms: i64) -> Self {
        Handoff {
            worker: worker.to_owned(),
            lease_grace_ms,
            capacity,
            state: Mutex::new(State::default()),
            settings: SettingsCache::default(),
            credits: Credits::default(),
            opened: Notify::new(),
            claiming: AtomicBool::new(false),
            fan_out: AtomicUsize::new(16),
        }
    }

    /// The lane slots the publishers of this process hold for hand-overs.
    pub fn credits(&self) -> &Credits {
        &self.credits
    }

    /// For publishers: how many deliveries one event makes, as the last batch offered to this
    /// worker showed (at least 1).
    pub fn fan_out(&self) -> usize {
        self.fan_out.load(Ordering::Relaxed).max(1)
    }

    /// For publishers: the most deliveries one event of a batch just offered made.
    pub fn set_fan_out(&self, fan_out: usize) {
        self.fan_out.store(fan_out, Ordering::Relaxed);
    }

    /// The integrations' settings read so far, each at its version: claims and hand-overs
    /// read an integration's settings once per version.
    pub fn settings(&self) -> &SettingsCache {
        &self.settings
    }

    /// The worker new deliveries are leased to.
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// How long a lease lasts beyond the integration's request timeout.
    pub fn lease_grace_ms(&self) -> i64 {
        self.lease_grace_ms
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panic (every update is a single assignment).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the worker takes deliveries now (it may still have no room).
    pub fn is_open(&self) -> bool {
        self.state().open
    }

    /// Room for how many deliveries the worker has now, without reserving it (none while it is
    /// closed).
    pub fn room(&self) -> usize {
        let state = self.state();
        if state.open {
            self.capacity.saturating_sub(state.owned)
        } else {
            0
        }
    }

    /// Reserves room for up to `wanted` deliveries; how many the worker takes (none while it
    /// is busy or closed). Every reserved slot is given back by [`Handoff::hand_over`].
    pub fn reserve(&self, wanted: usize) -> usize {
        let mut state = self.state();
        if !state.open {
            return 0;
        }
        let granted = wanted.min(self.capacity.saturating_sub(state.owned));
        state.owned += granted;
        granted
    }

    /// Passes committed deliveries leased to the worker, settling a reservation of `reserved`
    /// slots (those not used are given back).
    pub fn hand_over(&self, reserved: usize, deliveries: Vec<Claimed>) {
        let mut state = self.state();
        state.owned = state
            .owned
            .saturating_sub(reserved.saturating_sub(deliveries.len()));
        if deliveries.is_empty() {
            return;
        }
        state.queue.extend(deliveries);
        if let Some(waker) = state.waker.take() {
            drop(state);
            waker.wake();
        }
    }

    /// For the worker: the deliveries handed over since the last call; `cx` is woken when more
    /// arrive.
    pub fn poll_take(&self, cx: &Context<'_>) -> Vec<Claimed> {
        let mut state = self.state();
        match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        std::mem::take(&mut state.queue)
    }

    /// For the worker: how many deliveries it owns (reserved, handed over, claimed, running).
    pub fn owned(&self) -> usize {
        self.state().owned
    }

    /// For the worker: opens or closes the hand-over.
    pub fn set_open(&self, open: bool) {
        self.state().open = open;
        self.claiming.store(!open, Ordering::Release);
        if open {
            self.opened.notify_waiters();
        }
    }

    /// Whether the worker is open, waiting up to `wait` for it to open when it closed only to
    /// claim due work (a claim takes a few milliseconds; a delivery written pending meanwhile
    /// would wake it to claim again).
    pub async fn open_within(&self, wait: Duration) -> bool {
        let opened = self.opened.notified();
        if self.is_open() {
            return true;
        }
        if !self.claiming.load(Ordering::Acquire) {
            return false;
        }
        let _ = tokio::time::timeout(wait, opened).await;
        self.is_open()
    }

    /// For the worker: it claimed `n` deliveries.
    pub fn claimed(&self, n: usize) {
        self.state().owned += n;
    }

    /// For the worker: an attempt finished (recorded or not).
    pub fn finished(&self) {
        let mut state = self.state();
        state.owned = state.owned.saturating_sub(1);
    }

    /// For the worker at shutdown: closes the hand-over and returns what waits in it.
    pub fn close(&self) -> Vec<Claimed> {
        self.claiming.store(false, Ordering::Release);
        let mut state = self.state();
        state.open = false;
        std::mem::take(&mut state.queue)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Wake, Waker};

    use chrono::Utc;
    use ricochet_domain::integration::IntegrationSettings;
    use uuid::Uuid;

    use super::Handoff;
    use ricochet_store::deliveries::Claimed;

    fn claimed() -> Claimed {
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
            lease_token: 0,
            lease_expires_at: now,
            integration_name: "hook".into(),
            settings: Arc::new(
                serde_json::from_value::<IntegrationSettings>(
                    serde_json::json!({ "url": "http://127.0.0.1:9/" }),
                )
                .expect("minimal settings parse"),
            ),
            event_type: "order.created".into(),
            occurred_at: now,
            data: std::sync::Arc::new(serde_json::json!({})),
            ordering_key: None,
            traceparent: None,
        }
    }

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn nothing_is_reserved_while_the_worker_is_not_waiting_for_work() {
        let handoff = Handoff::new("w", 4, 0);
        assert_eq!(handoff.room(), 0);
        assert_eq!(handoff.reserve(3), 0);
        handoff.set_open(true);
        assert_eq!(handoff.room(), 4);
        assert_eq!(handoff.reserve(3), 3);
        assert_eq!(handoff.room(), 1, "the room left beside the reservation");
        handoff.set_open(false);
        assert_eq!(handoff.room(), 0);
        assert_eq!(handoff.reserve(1), 0);
    }

    #[test]
    fn reservations_stop_at_capacity_counting_claimed_and_running_deliveries() {
        let handoff = Handoff::new("w", 4, 0);
        handoff.set_open(true);
        handoff.claimed(2);
        assert_eq!(handoff.reserve(5), 2, "room for two beside the two claimed");
        assert_eq!(handoff.reserve(1), 0, "full");
        // One reserved slot used, one given back: room for one more.
        handoff.hand_over(2, vec![claimed()]);
        assert_eq!(handoff.reserve(5), 1);
        handoff.hand_over(1, Vec::new());
        // A finished attempt frees its slot.
        handoff.finished();
        assert_eq!(handoff.reserve(5), 2);
    }

    #[test]
    fn handed_over_deliveries_wake_the_worker_and_are_taken_once() {
        let handoff = Handoff::new("w", 4, 0);
        handoff.set_open(true);
        let wakes = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(wakes.clone());
        let cx = Context::from_waker(&waker);
        assert!(handoff.poll_take(&cx).is_empty());
        let reserved = handoff.reserve(2);
        let delivery = claimed();
        let id = delivery.id;
        handoff.hand_over(reserved, vec![delivery]);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        let taken = handoff.poll_take(&cx);
        assert_eq!(taken.iter().map(|c| c.id).collect::<Vec<_>>(), vec![id]);
        assert!(handoff.poll_take(&cx).is_empty());
    }

    #[test]
    fn closing_returns_what_was_not_taken_and_refuses_more() {
        let handoff = Handoff::new("w", 4, 0);
        handoff.set_open(true);
        let reserved = handoff.reserve(1);
        handoff.hand_over(reserved, vec![claimed()]);
        assert_eq!(handoff.close().len(), 1);
        assert_eq!(handoff.reserve(1), 0);
        assert!(handoff.close().is_empty());
    }

    #[tokio::test]
    async fn a_publish_waits_a_moment_for_a_claiming_worker_but_not_for_a_closed_one() {
        let handoff = Arc::new(Handoff::new("worker", 8, 100));
        let wait = std::time::Duration::from_millis(500);
        // Never opened (an API-only process, or a worker not started): no wait.
        let start = std::time::Instant::now();
        assert!(!handoff.open_within(wait).await);
        assert!(start.elapsed() < wait / 2);
        // Closed to claim, opened again 20 ms later: the publish gets it.
        handoff.set_open(false);
        let worker = handoff.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            worker.set_open(true);
        });
        assert!(handoff.open_within(wait).await);
        // Closed to claim for longer than the wait: refused once it is over.
        handoff.set_open(false);
        let start = std::time::Instant::now();
        assert!(
            !handoff
                .open_within(std::time::Duration::from_millis(30))
                .await
        );
        assert!(start.elapsed() >= std::time::Duration::from_millis(30));
        // Closed for good (the worker stops): no wait.
        let _ = handoff.close();
        let start = std::time::Instant::now();
        assert!(!handoff.open_within(wait).await);
        assert!(start.elapsed() < wait / 2);
    }
}
