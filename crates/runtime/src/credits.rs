//! Lane slots held by a process for the hand-over of its new deliveries, so that a publish
//! touches no lane.
//!
//! An integration's lane counts its deliveries in flight across every worker and caps them
//! (`maxConcurrency`). A delivery handed over at publish holds a slot like a claimed one. Taking
//! that slot in the publish (a lane update per batch, with its own round trip before the write,
//! since a lane must not stay locked through the write's flush) cost a publish about a
//! millisecond and a quarter of e2e-1's PostgreSQL time (BENCHMARKS.md, 2026-12-07, tenth part).
//! So the process takes slots ahead ([`ricochet_store::lanes::take_credits`], after a batch's
//! callers are answered, for about the next few batches), counts them here, and spends them in
//! the publish statement itself ([`ricochet_store::events::write`]): a delivery is written
//! leased only with a slot held, which it then keeps until its attempt is recorded.
//!
//! Slots held are in the lane's count, so no worker of any process goes beyond the cap. They go
//! back ([`ricochet_store::lanes::give_back`]) when they are not spent for [`IDLE`] (so that
//! claims, by this process or another, get the lane), when the lane stops taking hand-overs
//! (pause, circuit, a lower cap), and at the latest [`MAX_HELD`] after they were taken, well
//! within the quiet time after which the lane audit recounts a lane nobody touches.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ricochet_store::lanes::Credit;
use tokio::sync::Notify;
use uuid::Uuid;

/// Slots not spent for this long go back to their lane.
pub const IDLE: Duration = Duration::from_millis(200);

/// Slots go back at the latest this long after they were taken (the lane audit leaves a lane
/// alone for 10 s after it was last touched).
pub const MAX_HELD: Duration = Duration::from_secs(2);

/// After a take of slots that got none, how long publishes take none before they are written.
const DRY: Duration = Duration::from_millis(50);

/// A refill is asked for once the slots held for an integration would not cover this many
/// batches like the last one...
const REFILL_BELOW: i32 = 3;

/// ...and tops them up to cover this many; a process that holds none takes this many per
/// delivery of the batch it is about to publish.
pub const REFILL_TO: i32 = 6;

/// The slots a process holds, per integration.
#[derive(Debug, Default)]
pub struct Credits {
    lanes: Mutex<HashMap<Uuid, Held>>,
    /// Whether a refill is under way (one at a time: each asks for what the last batch lacked).
    refilling: AtomicBool,
    /// Told when a refill is done.
    refilled: Notify,
    /// Until when no slots are taken before a publish: the last take got none.
    dry_until: Mutex<Option<Instant>>,
}

#[derive(Debug, Clone, Copy)]
struct Held {
    /// Slots held and not spent (nor lent to a publish under way).
    n: i32,
    /// Slots lent to publishes under way.
    out: i32,
    /// Slots held that a publish could not take back (their starts did not fit the ones
    /// held): given back by the next [`Credits::expired`].
    stray: i32,
    /// On a rate-limited lane, the start of the first slot held; the others follow it.
    pace: Option<Pace>,
    /// How many the last batch to this lane could have spent.
    want: i32,
    /// When slots were last taken for it.
    taken_at: Instant,
    /// When a publish last spent one, or slots were taken.
    used_at: Instant,
}

/// The starts of a rate-limited lane's slots: the first at `next`, then one every `gap_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Pace {
    next: DateTime<Utc>,
    gap_ms: f64,
}

impl Pace {
    fn of(credit: &Credit) -> Option<Pace> {
        credit
            .base
            .zip(credit.emission_ms)
            .map(|(next, gap_ms)| Pace { next, gap_ms })
    }

    /// The start `k` gaps after the first.
    fn after(self, k: i32) -> DateTime<Utc> {
        // Microseconds: as the database keeps timestamps (and computes these starts).
        let micros = (f64::from(k) * self.gap_ms * 1000.0).round();
        self.next + chrono::Duration::microseconds(micros as i64)
    }

    /// Whether `later` starts where `n` slots of this pace end: one run of starts.
    fn continued_by(self, n: i32, later: Pace) -> bool {
        let end = self.after(n);
        let tolerance = (self.gap_ms * 250.0).max(2.0) as i64;
        (later.next - end)
            .num_microseconds()
            .is_some_and(|d| d.abs() <= tolerance)
            && (later.gap_ms - self.gap_ms).abs() < 1e-9
    }
}

/// The lane work a publish leaves for after its answer: slots to give back, and slots to take.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LaneWork {
    /// Slots not wanted any more (integration, slots).
    pub give_back: Vec<(Uuid, i32)>,
    /// Slots to take for the next batches (integration, slots). Once taken (or failed), the
    /// caller reports it with [`Credits::taken`].
    pub take: Vec<(Uuid, i32)>,
}

impl LaneWork {
    /// Whether there is nothing to do.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.give_back.is_empty() && self.take.is_empty()
    }
}

impl Held {
    fn empty(now: Instant) -> Held {
        Held {
            n: 0,
            out: 0,
            stray: 0,
            pace: None,
            want: 0,
            taken_at: now,
            used_at: now,
        }
    }
}

impl Credits {
    fn lanes(&self) -> MutexGuard<'_, HashMap<Uuid, Held>> {
        // Each update is a few assignments that leave the map consistent.
        self.lanes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lends a publish of `events` events the slots held (one [`Credit`] per integration), up to
    /// one per event for each lane; not those held past
    /// [`MAX_HELD`], which [`Credits::expired`] gives back. On a rate-limited lane, slots whose
    /// start has passed by `wall` are not lent but returned in the second list, to give back
    /// (their starts are lost, which only slows the lane).
    pub fn lend(
        &self,
        now: Instant,
        wall: DateTime<Utc>,
        events: usize,
    ) -> (Vec<Credit>, Vec<(Uuid, i32)>) {
        let events = i32::try_from(events).unwrap_or(i32::MAX);
        let mut lent = Vec::new();
        let mut late = Vec::new();
        for (id, held) in self.lanes().iter_mut() {
            if held.n <= 0 || now.duration_since(held.taken_at) >= MAX_HELD {
                continue;
            }
            if let Some(pace) = &mut held.pace {
                let mut passed = 0;
                while passed < held.n && pace.after(passed) < wall {
                    passed += 1;
                }
                if passed > 0 {
                    pace.next = pace.after(passed);
                    held.n -= passed;
                    late.push((*id, passed));
                }
                if held.n == 0 {
                    continue;
                }
            }
            // No more than the batch can spend (one delivery per event at most), so that a
            // publish written beside this one (an overflow writer's) finds slots too.
            let n = held.n.min(events);
            held.n -= n;
            held.out += n;
            lent.push(Credit {
                integration_id: *id,
                n,
                base: held.pace.map(|p| p.next),
                emission_ms: held.pace.map(|p| p.gap_ms),
            });
            // The slots still held start after those lent.
            if let Some(pace) = &mut held.pace {
                pace.next = pace.after(n);
            }
        }
        (lent, late)
    }

    /// Whether the last take of slots got none, less than [`DRY`] before `now`: the lanes are
    /// full, and another take before the publish would only cost a round trip.
    pub fn dry(&self, now: Instant) -> bool {
        self.dry_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|until| now < until)
    }

    fn note_take(&self, now: Instant, granted: &[Credit]) {
        let got = granted.iter().any(|c| c.n > 0);
        *self
            .dry_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = (!got).then_some(now + DRY);
    }

    /// Lends a publish slots just taken for it (`granted`), held from `now`.
    pub fn lend_taken(&self, now: Instant, granted: &[Credit]) -> Vec<Credit> {
        self.note_take(now, granted);
        let mut lanes = self.lanes();
        for credit in granted {
            let held = lanes
                .entry(credit.integration_id)
                .or_insert_with(|| Held::empty(now));
            held.out += credit.n;
            held.taken_at = now;
            held.used_at = now;
        }
        granted.to_vec()
    }

    /// Takes back slots lent to a publish that wrote nothing (it failed).
    pub fn restore(&self, lent: &[Credit]) {
        let mut back = Vec::new();
        let mut lanes = self.lanes();
        for credit in lent {
            put_back(&mut lanes, credit, 0, true, &mut back);
        }
        drop(lanes);
        // Those that no longer fit the lane's run of starts go back with the next sweep.
        self.stray(&back);
    }

    /// Keeps `slots` (integration, slots) to give back with the next [`Credits::expired`].
    pub fn stray(&self, slots: &[(Uuid, i32)]) {
        let mut lanes = self.lanes();
        for (id, n) in slots {
            lanes
                .entry(*id)
                .or_insert_with(|| Held::empty(Instant::now()))
                .stray += n;
        }
    }

    /// Settles slots lent to a publish that was written: `spent` of them per integration went
    /// to deliveries written leased (on a rate-limited lane, the first ones of its run of
    /// starts); `open` tells, for each integration of the batch, whether its lane could take a
    /// hand-over; `wanted`, how many deliveries each could have taken. What is not spent is held
    /// again, unless its lane could not take it (given back). Slots are asked for where the next
    /// batch like this one would not be covered, unless a refill is under way.
    pub fn settle(
        &self,
        now: Instant,
        lent: &[Credit],
        spent: &HashMap<Uuid, i32>,
        open: &HashMap<Uuid, bool>,
        wanted: &[(Uuid, i32)],
    ) -> LaneWork {
        let mut work = LaneWork::default();
        let mut lanes = self.lanes();
        for credit in lent {
            let used = spent
                .get(&credit.integration_id)
                .copied()
                .unwrap_or(0)
                .clamp(0, credit.n);
            let keep = open.get(&credit.integration_id) != Some(&false);
            if used > 0
                && let Some(held) = lanes.get_mut(&credit.integration_id)
            {
                held.used_at = now;
            }
            put_back(&mut lanes, credit, used, keep, &mut work.give_back);
        }
        let mut take = Vec::new();
        for (id, want) in wanted {
            let held = lanes.get_mut(id).map_or(0, |h| {
                h.want = *want;
                h.n
            });
            if held < want.saturating_mul(REFILL_BELOW) {
                take.push((*id, want.saturating_mul(REFILL_TO) - held));
            }
        }
        drop(lanes);
        if !take.is_empty() && !self.dry(now) && !self.refilling.swap(true, Ordering::AcqRel) {
            work.take = take;
        }
        work.give_back.retain(|(_, n)| *n > 0);
        work
    }

    /// Whether some lane holds fewer slots than the last batch to it could have spent: the next
    /// batch like it would leave deliveries to the claim.
    pub fn short(&self) -> bool {
        // Slots lent to a publish under way come back with what it did not spend: a refill
        // would not bring them sooner.
        self.lanes().values().any(|h| h.n + h.out < h.want)
    }

    /// Whether a refill is under way, and a future told when it is done (created first, so
    /// that a refill ending in between is not missed).
    pub fn refill_under_way(&self) -> Option<tokio::sync::futures::Notified<'_>> {
        let done = self.refilled.notified();
        self.refilling.load(Ordering::Acquire).then_some(done)
    }

    /// Drops lane work a publish left but that cannot be done (its publish failed after the
    /// write, or no connection was had): the slots to give back go with the next sweep, and the
    /// refill is no longer under way (another may be asked for).
    pub fn abandon(&self, work: &LaneWork) {
        self.stray(&work.give_back);
        if !work.take.is_empty() {
            self.refilling.store(false, Ordering::Release);
            self.refilled.notify_waiters();
        }
    }

    /// Reports a refill done: `granted` slots are held from `now` (none when it failed).
    /// Returns the slots to give back: those of a rate-limited lane whose starts do not follow
    /// the ones held (another process took starts in between).
    pub fn taken(&self, now: Instant, granted: &[Credit]) -> Vec<(Uuid, i32)> {
        self.note_take(now, granted);
        let mut back = Vec::new();
        let mut lanes = self.lanes();
        for credit in granted {
            let held = lanes
                .entry(credit.integration_id)
                .or_insert_with(|| Held::empty(now));
            let pace = Pace::of(credit);
            match (held.pace, pace) {
                (Some(mine), Some(new)) if held.n > 0 && !mine.continued_by(held.n, new) => {
                    back.push((credit.integration_id, credit.n));
                    continue;
                }
                _ if held.n == 0 => held.pace = pace,
                _ => {}
            }
            held.n += credit.n;
            held.taken_at = now;
            held.used_at = now;
        }
        drop(lanes);
        self.refilling.store(false, Ordering::Release);
        self.refilled.notify_waiters();
        back
    }

    /// Slots to give back now: those not spent for [`IDLE`], or held past [`MAX_HELD`], and
    /// strays. They are no longer held.
    pub fn expired(&self, now: Instant) -> Vec<(Uuid, i32)> {
        let mut back = Vec::new();
        self.lanes().retain(|id, held| {
            let idle = now.duration_since(held.used_at) >= IDLE;
            let old = now.duration_since(held.taken_at) >= MAX_HELD;
            let mut n = std::mem::take(&mut held.stray);
            if idle || old {
                n += std::mem::take(&mut held.n);
            }
            if n > 0 {
                back.push((*id, n));
            }
            if !(idle || old) {
                return true;
            }
            // A lane whose slots are lent stays, to take them back.
            !idle || held.out > 0
        });
        back
    }

    /// How many slots are held for `integration` (not counting those lent).
    #[must_use]
    pub fn held(&self, integration: Uuid) -> i32 {
        self.lanes().get(&integration).map_or(0, |h| h.n)
    }
}

/// Puts back what a publish did not spend of `credit` (it spent the first `used`): held again
/// when `keep`, and when it fits the lane's run of starts; given back (`back`) otherwise.
fn put_back(
    lanes: &mut HashMap<Uuid, Held>,
    credit: &Credit,
    used: i32,
    keep: bool,
    back: &mut Vec<(Uuid, i32)>,
) {
    let left = credit.n - used;
    // A lane stays while it has slots lent.
    let Some(held) = lanes.get_mut(&credit.integration_id) else {
        back.push((credit.integration_id, left));
        return;
    };
    held.out -= credit.n;
    if !keep || left <= 0 {
        back.push((credit.integration_id, left));
        return;
    }
    let pace = Pace::of(credit).map(|p| Pace {
        next: p.after(used),
        ..p
    });
    match (pace, held.pace) {
        // Nothing held meanwhile: these are the lane's run again.
        (_, _) if held.n == 0 => held.pace = pace,
        // A refill meanwhile, whose starts follow these.
        (Some(mine), Some(refill)) if mine.continued_by(left, refill) => held.pace = pace,
        (None, None) => {}
        // Starts that do not fit the ones held (or slots with and without starts).
        _ => {
            back.push((credit.integration_id, left));
            return;
        }
    }
    held.n += left;
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::{Duration, Instant};

    use chrono::Utc;
    use ricochet_store::lanes::Credit;
    use uuid::Uuid;

    use super::{Credits, IDLE, LaneWork, MAX_HELD};

    fn plain(id: Uuid, n: i32) -> Credit {
        Credit {
            integration_id: id,
            n,
            base: None,
            emission_ms: None,
        }
    }

    fn counts(credits: &[Credit]) -> Vec<(Uuid, i32)> {
        let mut counts: Vec<(Uuid, i32)> =
            credits.iter().map(|c| (c.integration_id, c.n)).collect();
        counts.sort();
        counts
    }

    #[test]
    fn slots_are_asked_for_ahead_lent_spent_and_held_again() {
        let credits = Credits::default();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let t0 = Instant::now();
        let wall = Utc::now();
        // A first batch: nothing held, so nothing is leased; it asks for six batches' worth.
        let (lent, late) = credits.lend(t0, wall, 100);
        assert!(lent.is_empty() && late.is_empty());
        let open = HashMap::from([(a, true), (b, true)]);
        let work = credits.settle(t0, &lent, &HashMap::new(), &open, &[(a, 4), (b, 1)]);
        let mut take = work.take;
        take.sort();
        let mut expected = vec![(a, 24), (b, 6)];
        expected.sort();
        assert_eq!(take, expected);
        // While that refill is under way, no other is asked for.
        assert!(credits.refill_under_way().is_some());
        let again = credits.settle(t0, &[], &HashMap::new(), &open, &[(a, 4)]);
        assert_eq!(again, LaneWork::default());
        assert!(credits.taken(t0, &[plain(a, 24), plain(b, 2)]).is_empty());
        assert!(credits.refill_under_way().is_none());
        assert_eq!((credits.held(a), credits.held(b)), (24, 2));
        assert!(!credits.short());
        // The next batch spends 4 of a's and 1 of b's: 20 and 1 are held again, and b, below
        // three batches' worth, is topped up.
        let (lent, _) = credits.lend(t0, wall, 100);
        assert_eq!(counts(&lent), counts(&[plain(a, 24), plain(b, 2)]));
        assert_eq!((credits.held(a), credits.held(b)), (0, 0));
        let spent = HashMap::from([(a, 4), (b, 1)]);
        let work = credits.settle(t0, &lent, &spent, &open, &[(a, 4), (b, 1)]);
        assert_eq!((credits.held(a), credits.held(b)), (20, 1));
        assert_eq!(work.take, vec![(b, 5)]);
        assert!(work.give_back.is_empty());
        assert!(credits.taken(t0, &[plain(b, 5)]).is_empty());
        // Two publishes of 8 events written side by side each get 8 at most of each lane.
        let (first, _) = credits.lend(t0, wall, 8);
        let (second, _) = credits.lend(t0, wall, 8);
        assert_eq!(counts(&first), counts(&[plain(a, 8), plain(b, 6)]));
        assert_eq!(counts(&second), counts(&[plain(a, 8)]));
        credits.restore(&second);
        credits.restore(&first);
        assert_eq!((credits.held(a), credits.held(b)), (20, 6));
        // A batch that spends all of a's: the next one like it would be short of them.
        let (lent, _) = credits.lend(t0, wall, 100);
        credits.settle(t0, &lent, &HashMap::from([(a, 8)]), &open, &[(a, 20)]);
        let (lent, _) = credits.lend(t0, wall, 100);
        credits.settle(t0, &lent, &HashMap::from([(a, 12)]), &open, &[(a, 20)]);
        assert!(credits.short());
    }

    #[test]
    fn lane_work_that_cannot_be_done_goes_back_with_the_next_sweep_and_frees_the_refill() {
        let credits = Credits::default();
        let a = Uuid::now_v7();
        let t0 = Instant::now();
        let open = HashMap::from([(a, true)]);
        let work = credits.settle(t0, &[], &HashMap::new(), &open, &[(a, 4)]);
        assert_eq!(work.take, vec![(a, 24)]);
        assert!(credits.refill_under_way().is_some());
        credits.abandon(&LaneWork {
            give_back: vec![(a, 3)],
            ..work
        });
        assert!(credits.refill_under_way().is_none());
        assert_eq!(credits.expired(t0), vec![(a, 3)]);
        // Another refill may be asked for.
        let work = credits.settle(t0, &[], &HashMap::new(), &open, &[(a, 4)]);
        assert_eq!(work.take, vec![(a, 24)]);
    }

    #[test]
    fn slots_of_a_lane_that_cannot_take_them_and_of_a_failed_publish() {
        let credits = Credits::default();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let t0 = Instant::now();
        let wall = Utc::now();
        credits.taken(t0, &[plain(a, 5), plain(b, 3)]);
        let (lent, _) = credits.lend(t0, wall, 100);
        // The publish failed: everything lent is held again.
        credits.restore(&lent);
        assert_eq!((credits.held(a), credits.held(b)), (5, 3));
        // a's lane paused meanwhile: its slots go back at once; b's stay.
        let (lent, _) = credits.lend(t0, wall, 100);
        let open = HashMap::from([(a, false), (b, true)]);
        let work = credits.settle(t0, &lent, &HashMap::new(), &open, &[]);
        assert_eq!(work.give_back, vec![(a, 5)]);
        assert_eq!((credits.held(a), credits.held(b)), (0, 3));
        // A take that got nothing: no slots are taken before a publish, nor asked for after
        // one, for a while.
        assert!(!credits.dry(t0));
        credits.taken(t0, &[]);
        assert!(credits.dry(t0));
        let work = credits.settle(t0, &[], &HashMap::new(), &open, &[(b, 10)]);
        assert!(work.take.is_empty());
        assert!(!credits.dry(t0 + IDLE));
    }

    #[test]
    fn a_rate_limited_lanes_slots_keep_their_starts_and_those_passed_go_back() {
        let credits = Credits::default();
        let a = Uuid::now_v7();
        let t0 = Instant::now();
        let wall = Utc::now();
        let base = wall + chrono::Duration::milliseconds(100);
        let paced = |n, base| Credit {
            integration_id: a,
            n,
            base: Some(base),
            emission_ms: Some(50.0),
        };
        credits.taken(t0, &[paced(10, base)]);
        // A publish spends the first three: the next seven start 150 ms after the base.
        let (lent, late) = credits.lend(t0, wall, 100);
        assert!(late.is_empty());
        assert_eq!(lent, vec![paced(10, base)]);
        let open = HashMap::from([(a, true)]);
        credits.settle(t0, &lent, &HashMap::from([(a, 3)]), &open, &[]);
        let (lent, _) = credits.lend(t0, wall, 100);
        assert_eq!(
            lent,
            vec![paced(7, base + chrono::Duration::milliseconds(150))]
        );
        // A refill meanwhile, whose starts follow the seven: they are held together.
        let refill = base + chrono::Duration::milliseconds(500);
        assert!(credits.taken(t0, &[paced(4, refill)]).is_empty());
        credits.settle(t0, &lent, &HashMap::new(), &open, &[]);
        assert_eq!(credits.held(a), 11);
        // Lent to two publishes of 6 events, the second part starts where the first ends.
        let (first, _) = credits.lend(t0, wall, 6);
        let (second, _) = credits.lend(t0, wall, 6);
        assert_eq!(
            first,
            vec![paced(6, base + chrono::Duration::milliseconds(150))]
        );
        assert_eq!(
            second,
            vec![paced(5, base + chrono::Duration::milliseconds(450))]
        );
        credits.restore(&second);
        credits.restore(&first);
        assert_eq!(credits.held(a), 11);
        // One whose starts do not follow (another process took starts between) goes back.
        let elsewhere = base + chrono::Duration::milliseconds(2_000);
        assert_eq!(credits.taken(t0, &[paced(4, elsewhere)]), vec![(a, 4)]);
        assert_eq!(credits.held(a), 11);
        // 560 ms on (460 past the base), seven starts have passed: those slots go back, and the
        // four after them are lent.
        let later = wall + chrono::Duration::milliseconds(560);
        let (lent, late) = credits.lend(t0, later, 100);
        assert_eq!(late, vec![(a, 7)]);
        assert_eq!(
            lent,
            vec![paced(4, base + chrono::Duration::milliseconds(500))]
        );
    }

    #[test]
    fn slots_not_spent_go_back_when_idle_or_held_too_long() {
        let credits = Credits::default();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let t0 = Instant::now();
        let wall = Utc::now();
        credits.taken(t0, &[plain(a, 5), plain(b, 3)]);
        assert!(credits.expired(t0 + IDLE / 2).is_empty());
        // b is spent from now and then; a is not.
        let mut now = t0;
        while now < t0 + MAX_HELD - IDLE {
            now += IDLE / 2;
            let (lent, _) = credits.lend(now, wall, 100);
            let spent = HashMap::from([(b, 1)]);
            let open = HashMap::from([(b, true)]);
            let work = credits.settle(now, &lent, &spent, &open, &[]);
            assert!(work.give_back.is_empty());
            if now == t0 + IDLE / 2 {
                credits.taken(now, &[plain(b, 30)]);
            }
            let back = credits.expired(now);
            if now >= t0 + IDLE {
                assert_eq!(credits.held(a), 0, "a idle since {:?}", now - t0);
            } else {
                assert!(back.is_empty());
            }
        }
        assert!(credits.held(b) > 0);
        // Past MAX_HELD since b's last refill, its slots are not lent any more, and go back,
        // spent or not.
        let late = t0 + IDLE / 2 + MAX_HELD;
        let held = credits.held(b);
        assert!(credits.lend(late, wall, 100).0.is_empty());
        assert_eq!(credits.expired(late), vec![(b, held)]);
        assert!(credits.expired(late + Duration::from_millis(1)).is_empty());
        assert_eq!(credits.held(b), 0);
    }
}
