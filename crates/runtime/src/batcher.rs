//! Group commit: callers queue items and wait for their answers; writer tasks take whatever
//! queued while they were busy (up to a batch), write it at once and answer each caller. Under
//! load many items share one transaction (one fsync); at rest an item is written alone, at once.
//! Overflow writers join only while items pile up (a caller queued an item with
//! [`Writers::overflow_at`] or more waiting): many items arriving at once are written on more
//! than one core, without splitting the small batches of ordinary load.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{
    Mutex, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, Semaphore, mpsc, oneshot,
};
use tokio::task::JoinSet;

/// How a batch is written.
pub trait Flush: Send + Sync + 'static {
    /// What callers queue.
    type Item: Send + 'static;
    /// What each caller is answered.
    type Output: Send + 'static;

    /// Writes `items` together (it may mend them, to write them again one by one).
    fn flush(&self, items: &mut [Self::Item])
    -> impl Future<Output = Flushed<Self::Output>> + Send;

    /// Whether `item` must not be written before the items queued ahead of it (an event with
    /// an ordering key): a batch holding one waits until every batch taken before it is
    /// written, and the batches taken after it wait for it. By default items have no order.
    fn keeps_order(&self, _item: &Self::Item) -> bool {
        false
    }

    /// Whether, after a batch answered `outputs`, a writer may hold its next batch for the
    /// callers it answered (see [`Writers::regather`]): not when what the batch fed downstream
    /// could not all be taken, where a larger batch would only wait longer (holds are then
    /// backed off, as after holds that do not pay). By default, always.
    fn may_regather(&self, _outputs: &[Self::Output]) -> bool {
        true
    }
}

/// How a batch went.
#[derive(Debug)]
pub enum Flushed<O> {
    /// One answer per item, in order.
    Each(Vec<O>),
    /// The database is out of reach: every item of the batch, and every one that queued up
    /// meanwhile, is answered this at once rather than waiting its turn to fail the same way.
    Unreachable(fn() -> O),
}

/// An item queued with the caller waiting for its answer.
struct Waiting<I, O> {
    item: I,
    reply: oneshot::Sender<O>,
}

/// The handle callers queue items through; cheap to clone. The writers stop once every handle
/// is dropped and the queue is written.
pub struct Batcher<I, O> {
    queue: mpsc::Sender<Waiting<I, O>>,
    overflow: Arc<Overflow>,
}

impl<I, O> Clone for Batcher<I, O> {
    fn clone(&self) -> Self {
        Batcher {
            queue: self.queue.clone(),
            overflow: self.overflow.clone(),
        }
    }
}

impl<I, O> std::fmt::Debug for Batcher<I, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batcher")
            .field(
                "queued",
                &(self.queue.max_capacity() - self.queue.capacity()),
            )
            .finish()
    }
}

/// How a batcher's writers work.
#[derive(Debug, Clone, Copy)]
pub struct Writers {
    /// Writers taking batches side by side at all times (at least one).
    pub regular: usize,
    /// Writers that take a batch only when called: a caller queued an item with
    /// `overflow_at` items or more waiting (a call per writer at most).
    pub overflow: usize,
    /// How many waiting items call an overflow writer.
    pub overflow_at: usize,
    /// Most items a batch holds.
    pub max_batch: usize,
    /// Most items queued (a caller queueing more waits for room).
    pub capacity: usize,
    /// How long after it answers a batch a regular writer may hold its next batch for the
    /// callers it answered to come back, until it holds as many items as that batch and the
    /// queue then held; `None` never holds one.
    pub regather: Option<std::time::Duration>,
}

impl<I: Send + 'static, O: Send + 'static> Batcher<I, O> {
    /// Starts `writers` tasks writing batches of up to `max_batch` items side by side (so the
    /// database can use more than one core), from a queue holding up to `capacity` items.
    /// Returns the handle and the writer tasks.
    pub fn spawn<F>(
        flush: F,
        writers: usize,
        max_batch: usize,
        capacity: usize,
    ) -> (Self, JoinSet<()>)
    where
        F: Flush<Item = I, Output = O>,
    {
        Self::spawn_lingering(flush, writers, max_batch, capacity, None)
    }

    /// [`Batcher::spawn`], with each writer holding a batch that is not full for up to
    /// `linger.wait` after its first item, for as long as `linger` expects more items soon:
    /// fewer, larger batches under load, and no wait when nothing else is coming.
    pub fn spawn_lingering<F>(
        flush: F,
        writers: usize,
        max_batch: usize,
        capacity: usize,
        linger: Option<Linger>,
    ) -> (Self, JoinSet<()>)
    where
        F: Flush<Item = I, Output = O>,
    {
        let writers = Writers {
            regular: writers,
            overflow: 0,
            overflow_at: usize::MAX,
            max_batch,
            capacity,
            regather: None,
        };
        Self::spawn_with(flush, writers, linger)
    }

    /// Starts the regular and overflow `writers`, each regular writer lingering as `linger`
    /// says (see [`Batcher::spawn_lingering`]). Returns the handle and the writer tasks.
    pub fn spawn_with<F>(flush: F, writers: Writers, linger: Option<Linger>) -> (Self, JoinSet<()>)
    where
        F: Flush<Item = I, Output = O>,
    {
        let (queue, rx) = mpsc::channel(writers.capacity.max(1));
        let overflow = Arc::new(Overflow {
            writers: writers.overflow,
            at: writers.overflow_at.max(1),
            calls: Semaphore::new(0),
        });
        let shared = Arc::new(Shared {
            flush,
            queue: Mutex::new(rx),
            max_batch: writers.max_batch.max(1),
            linger,
            regather: writers.regather,
            overflow: overflow.clone(),
            order: Arc::new(RwLock::new(())),
        });
        let mut tasks = JoinSet::new();
        for _ in 0..writers.regular.max(1) {
            tasks.spawn(write(shared.clone()));
        }
        for _ in 0..writers.overflow {
            tasks.spawn(write_overflow(shared.clone()));
        }
        (Batcher { queue, overflow }, tasks)
    }

    /// Queues `item`; its answer comes on the receiver. `None` when the writers have stopped.
    /// Queue many before waiting for any, and they share batches.
    pub async fn queue(&self, item: I) -> Option<oneshot::Receiver<O>> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Waiting { item, reply }).await.ok()?;
        let waiting = self.queue.max_capacity() - self.queue.capacity();
        self.overflow.call_if(waiting);
        Some(answer)
    }

    /// Queues `item` and waits for its answer; `None` when the writers have stopped.
    pub async fn submit(&self, item: I) -> Option<O> {
        self.queue(item).await?.await.ok()
    }
}

/// How long a writer may hold a batch that is not full, and whether more items are coming
/// (asked with the number the batch holds).
pub struct Linger {
    /// The longest a batch waits after its first item.
    pub wait: Duration,
    /// Whether more items are expected soon, given how many the batch holds.
    pub more_coming: Box<dyn Fn(usize) -> bool + Send + Sync>,
}

impl std::fmt::Debug for Linger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linger").field("wait", &self.wait).finish()
    }
}

/// The overflow writers, and how they are called.
struct Overflow {
    /// How many there are.
    writers: usize,
    /// How many waiting items call one.
    at: usize,
    /// One permit per call; closed when the regular writers end.
    calls: Semaphore,
}

impl Overflow {
    /// Calls an overflow writer when `waiting` items are queued, unless each is called already.
    fn call_if(&self, waiting: usize) {
        if waiting >= self.at && self.calls.available_permits() < self.writers {
            self.calls.add_permits(1);
        }
    }
}

/// What a batcher's writers share.
struct Shared<F: Flush> {
    flush: F,
    /// The queue the writers take batches from, one writer at a time.
    queue: Mutex<mpsc::Receiver<Waiting<F::Item, F::Output>>>,
    max_batch: usize,
    linger: Option<Linger>,
    /// See [`Writers::regather`].
    regather: Option<Duration>,
    overflow: Arc<Overflow>,
    /// Batches being written hold it shared; a batch with an item that keeps its order holds
    /// it alone. Taken in the order the batches are (under the queue's lock), and fair, so such
    /// a batch waits for the ones taken before it and holds back the ones taken after it.
    order: Arc<RwLock<()>>,
}

/// A batch's turn to be written (see [`Shared::order`]), given up when dropped.
#[expect(dead_code, reason = "the guards are held, never read")]
enum Turn {
    Shared(OwnedRwLockReadGuard<()>),
    Alone(OwnedRwLockWriteGuard<()>),
}

impl<F: Flush> Shared<F> {
    /// The turn of a batch, taken while the queue is held: alone when it `keeps_order`.
    async fn turn(&self, keeps_order: bool) -> Turn {
        if keeps_order {
            Turn::Alone(self.order.clone().write_owned().await)
        } else {
            Turn::Shared(self.order.clone().read_owned().await)
        }
    }

    /// Whether the batch `waiting` holds an item that keeps its order.
    fn keeps_order(&self, waiting: &[Waiting<F::Item, F::Output>]) -> bool {
        waiting.iter().any(|w| self.flush.keeps_order(&w.item))
    }

    /// Writes the batch `waiting` holds (emptying it) and answers its callers. Whether the
    /// next batch may be held for them ([`Flush::may_regather`], asked only when batches are
    /// held).
    async fn write_batch(
        &self,
        waiting: &mut Vec<Waiting<F::Item, F::Output>>,
        turn: Turn,
    ) -> bool {
        let (mut items, replies): (Vec<F::Item>, Vec<oneshot::Sender<F::Output>>) = waiting
            .drain(..)
            .map(|w: Waiting<F::Item, F::Output>| (w.item, w.reply))
            .unzip();
        let flushed = self.flush.flush(&mut items).await;
        // The next batch may be written before the callers of this one are answered.
        drop(turn);
        match flushed {
            Flushed::Each(outputs) => {
                let may_regather = self.regather.is_none() || self.flush.may_regather(&outputs);
                for (reply, output) in replies.into_iter().zip(outputs) {
                    let _ = reply.send(output);
                }
                may_regather
            }
            Flushed::Unreachable(refusal) => {
                for reply in replies {
                    let _ = reply.send(refusal());
                }
                // Only if no other writer is taking a batch: it answers its own.
                if let Ok(mut queue) = self.queue.try_lock() {
                    while let Ok(queued) = queue.try_recv() {
                        let _ = queued.reply.send(refusal());
                    }
                }
                true
            }
        }
    }
}

/// Takes up to `more` items queued into `waiting`, waiting for them until `deadline`: how many
/// came (0 when the deadline passed or every handle is gone).
async fn take_more<I, O>(
    queue: &mut mpsc::Receiver<Waiting<I, O>>,
    waiting: &mut Vec<Waiting<I, O>>,
    more: usize,
    deadline: tokio::time::Instant,
) -> usize {
    tokio::time::timeout_at(deadline, queue.recv_many(waiting, more))
        .await
        .unwrap_or(0)
}

/// A regular writer: takes the next batch whenever it is free.
async fn write<F: Flush>(shared: Arc<Shared<F>>) {
    let max_batch = shared.max_batch;
    let mut waiting = Vec::with_capacity(max_batch);
    // The callers this writer answered last, who may come back (see `Regather`).
    let mut answered: Option<Regather> = None;
    let mut backoff = Backoff::default();
    // Whoever holds the lock takes the next batch; the others write theirs meanwhile.
    loop {
        let mut queue = shared.queue.lock().await;
        if queue.recv_many(&mut waiting, max_batch).await == 0 {
            break;
        }
        if let Some(linger) = &shared.linger {
            let deadline = tokio::time::Instant::now() + linger.wait;
            while waiting.len() < max_batch && (linger.more_coming)(waiting.len()) {
                let more = max_batch - waiting.len();
                // The deadline passed, or every handle is gone: write what there is.
                if take_more(&mut queue, &mut waiting, more, deadline).await == 0 {
                    break;
                }
            }
        } else if let (Some(back), Some(wait)) = (answered.take(), shared.regather) {
            let expected = back.expected.min(max_batch);
            let before = waiting.len();
            // The first caller back may take up to `until`; the others come close behind it,
            // within a quarter of the wait.
            let mut deadline = back.until;
            let held = before < expected;
            while waiting.len() < expected {
                let more = expected - waiting.len();
                if take_more(&mut queue, &mut waiting, more, deadline).await == 0 {
                    break;
                }
                deadline = back.until.min(tokio::time::Instant::now() + wait / 4);
            }
            // Judged only when held: a batch full without a hold says nothing of the callers.
            if held {
                backoff.held(waiting.len() - before, back.answered);
            }
        }
        let turn = shared.turn(shared.keeps_order(&waiting)).await;
        drop(queue);
        let written = waiting.len();
        let may_regather = shared.write_batch(&mut waiting, turn).await;
        // Downstream could not take the whole batch: holds are backed off as after one that
        // did not pay, so that load beyond downstream's room does not keep growing batches.
        if !may_regather {
            backoff.failed();
        }
        answered = shared
            .regather
            .filter(|_| backoff.may_hold())
            .map(|wait| Regather {
                until: tokio::time::Instant::now() + wait,
                answered: written,
                // Those queued meanwhile are taken at once; with them, as many as were answered.
                expected: written + shared.queue.try_lock().map_or(0, |q| q.len()),
            });
    }
    // The queue is closed and written: the overflow writers end too.
    shared.overflow.calls.close();
}

/// A regular writer's next batch, held for the callers its last batch answered: in a closed
/// loop (each caller publishing again as soon as it is answered, as a service's request
/// handlers do) they come back within a fraction of a millisecond, and a writer that takes
/// its next batch at once splits them from the callers queued meanwhile. The two groups then
/// take turns, each waiting for two commits per item instead of one. Held only until
/// `until` (measured from the answer, so items that arrive later are never held), and only
/// while fewer than `expected` items are taken.
#[derive(Debug, Clone, Copy)]
struct Regather {
    until: tokio::time::Instant,
    /// How many callers the last batch answered.
    answered: usize,
    expected: usize,
}

/// Whether a writer holds its next batch for the callers it answered: not while they have not
/// been coming back (callers that publish at their own pace, not as soon as they are answered,
/// would make every batch wait), nor while downstream cannot take whole batches. After a hold
/// that brought back fewer than half the callers answered, or a batch downstream could not
/// take whole, the next 1, then 2, 4 … up to 64 batches are not held; a hold that brought back
/// half or more holds the next again.
#[derive(Debug, Default)]
struct Backoff {
    /// Batches not to hold before the next hold.
    skip: u32,
    /// How many the next hold that does not pay skips.
    next: u32,
}

impl Backoff {
    /// Whether to hold the next batch (counting one skipped when not).
    fn may_hold(&mut self) -> bool {
        if self.skip == 0 {
            return true;
        }
        self.skip -= 1;
        false
    }

    /// A hold brought `back` items of the `answered` callers.
    fn held(&mut self, back: usize, answered: usize) {
        if back.saturating_mul(2) >= answered {
            self.next = 0;
        } else {
            self.failed();
        }
    }

    /// Holding did not pay, or must not go on: the next holds are skipped, longer each time.
    fn failed(&mut self) {
        self.next = (self.next.saturating_mul(2)).clamp(1, 64);
        self.skip = self.next;
    }
}

/// An overflow writer: takes what is queued (up to a batch) each time a caller calls it.
async fn write_overflow<F: Flush>(shared: Arc<Shared<F>>) {
    let max_batch = shared.max_batch;
    let mut waiting = Vec::with_capacity(max_batch);
    while let Ok(call) = shared.overflow.calls.acquire().await {
        call.forget();
        let mut queue = shared.queue.lock().await;
        while waiting.len() < max_batch {
            match queue.try_recv() {
                Ok(queued) => waiting.push(queued),
                Err(_) => break,
            }
        }
        if waiting.is_empty() {
            continue;
        }
        let turn = shared.turn(shared.keeps_order(&waiting)).await;
        drop(queue);
        shared.write_batch(&mut waiting, turn).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use super::{Batcher, Flush, Flushed, Writers};

    /// Doubles each item once `gate` gives its batch a permit, noting the size of every batch
    /// (as it starts) and how many were being written at once; a batch holding 0 is
    /// unreachable, and an item of 100 or more keeps its order.
    struct Double {
        batches: Arc<Mutex<Vec<Vec<i32>>>>,
        gate: Arc<tokio::sync::Semaphore>,
        flushed: Arc<AtomicUsize>,
        writing: Arc<AtomicUsize>,
        most_at_once: Arc<AtomicUsize>,
        /// How long writing a batch takes, as a commit does.
        takes: std::time::Duration,
    }

    impl Double {
        fn new(permits: usize) -> Double {
            Double {
                batches: Arc::default(),
                gate: Arc::new(tokio::sync::Semaphore::new(permits)),
                flushed: Arc::default(),
                writing: Arc::default(),
                most_at_once: Arc::default(),
                takes: std::time::Duration::ZERO,
            }
        }
    }

    impl Flush for Double {
        type Item = i32;
        type Output = Result<i32, &'static str>;

        fn keeps_order(&self, item: &i32) -> bool {
            *item >= 100
        }

        async fn flush(&self, items: &mut [i32]) -> Flushed<Self::Output> {
            self.batches.lock().expect("batches").push(items.to_vec());
            let now = self.writing.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_at_once.fetch_max(now, Ordering::SeqCst);
            if let Ok(permit) = self.gate.acquire().await {
                permit.forget();
            }
            tokio::time::sleep(self.takes).await;
            self.writing.fetch_sub(1, Ordering::SeqCst);
            self.flushed.fetch_add(1, Ordering::SeqCst);
            if items.contains(&0) {
                return Flushed::Unreachable(|| Err("unreachable"));
            }
            Flushed::Each(items.iter().map(|i| Ok(i * 2)).collect())
        }
    }

    /// The sizes of the batches `batches` noted.
    fn sizes(batches: &Mutex<Vec<Vec<i32>>>) -> Vec<usize> {
        batches
            .lock()
            .expect("batches")
            .iter()
            .map(Vec::len)
            .collect()
    }

    /// Waits (up to 5 s) until `batches` noted `n` batches.
    async fn started(batches: &Mutex<Vec<Vec<i32>>>, n: usize) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while batches.lock().expect("batches").len() < n {
            assert!(
                std::time::Instant::now() < deadline,
                "only {:?} started",
                batches.lock().expect("batches")
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// A batcher with one regular and one overflow writer (called at 6 waiting items) of
    /// batches of 3, what its flush notes, and the answers of the items queued.
    struct Overflowing {
        gate: Arc<tokio::sync::Semaphore>,
        batches: Arc<Mutex<Vec<Vec<i32>>>>,
        most_at_once: Arc<AtomicUsize>,
        answers: Vec<tokio::sync::oneshot::Receiver<Result<i32, &'static str>>>,
        _batcher: Batcher<i32, Result<i32, &'static str>>,
        _tasks: tokio::task::JoinSet<()>,
    }

    /// [`Overflowing`], with the first batch ([1]) held at the gate while `then` queue behind it.
    async fn overflowing(then: &[i32]) -> Overflowing {
        let flush = Double::new(0);
        let (gate, batches, most_at_once) = (
            flush.gate.clone(),
            flush.batches.clone(),
            flush.most_at_once.clone(),
        );
        let writers = Writers {
            regular: 1,
            overflow: 1,
            overflow_at: 6,
            max_batch: 3,
            capacity: 16,
            regather: None,
        };
        let (batcher, tasks) = Batcher::spawn_with(flush, writers, None);
        let mut answers = vec![batcher.queue(1).await.expect("queued")];
        started(&batches, 1).await;
        for i in then {
            answers.push(batcher.queue(*i).await.expect("queued"));
        }
        Overflowing {
            gate,
            batches,
            most_at_once,
            answers,
            _batcher: batcher,
            _tasks: tasks,
        }
    }

    impl Overflowing {
        /// Releases every batch and collects the answers.
        async fn answered(&mut self) -> Vec<i32> {
            self.gate.add_permits(100);
            let mut got = Vec::new();
            for answer in self.answers.drain(..) {
                got.push(answer.await.expect("answered").expect("doubled"));
            }
            got
        }

        /// How many batches were written at once at most.
        fn most_at_once(&self) -> usize {
            self.most_at_once.load(Ordering::SeqCst)
        }
    }

    #[tokio::test]
    async fn items_piling_up_call_an_overflow_writer_which_writes_beside_the_regular_one() {
        // Six wait behind [1]: the overflow writer takes a batch of them while [1] is written.
        let mut o = overflowing(&[2, 3, 4, 5, 6, 7]).await;
        started(&o.batches, 2).await;
        assert_eq!(
            *o.batches.lock().expect("batches"),
            vec![vec![1], vec![2, 3, 4]]
        );
        assert_eq!(o.most_at_once(), 2, "written side by side");
        assert_eq!(o.answered().await, vec![2, 4, 6, 8, 10, 12, 14]);
        assert_eq!(sizes(&o.batches), vec![1, 3, 3]);
    }

    #[tokio::test]
    async fn fewer_waiting_items_never_call_an_overflow_writer() {
        let mut o = overflowing(&[2, 3, 4, 5, 6]).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(sizes(&o.batches), vec![1], "a writer wrote beside [1]");
        assert_eq!(o.answered().await, vec![2, 4, 6, 8, 10, 12]);
        assert_eq!(sizes(&o.batches), vec![1, 3, 2]);
        assert_eq!(o.most_at_once(), 1, "one writer at a time");
    }

    #[tokio::test]
    async fn a_batch_with_an_item_keeping_its_order_waits_for_the_batches_taken_before_it() {
        // The overflow writer takes [2, 3, 105] while [1] is written, but writes it only once
        // [1] is done; the regular writer's next batch waits for it in turn.
        let mut o = overflowing(&[2, 3, 105, 5, 6, 7]).await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(
            sizes(&o.batches),
            vec![1],
            "the ordered batch started before the one ahead of it was written"
        );
        assert_eq!(o.answered().await, vec![2, 4, 6, 210, 10, 12, 14]);
        assert_eq!(
            *o.batches.lock().expect("batches"),
            vec![vec![1], vec![2, 3, 105], vec![5, 6, 7]]
        );
        assert_eq!(o.most_at_once(), 1, "one writer at a time");
    }

    #[tokio::test]
    async fn each_caller_gets_its_own_answer_and_items_queued_meanwhile_share_a_batch() {
        let flush = Double::new(0);
        let (gate, batches) = (flush.gate.clone(), flush.batches.clone());
        let (batcher, _tasks) = Batcher::spawn(flush, 1, 3, 16);
        // The first batch holds the writer at the gate while four more queue behind it.
        let mut answers = Vec::new();
        for i in 1..=5 {
            answers.push(batcher.queue(i).await.expect("queued"));
        }
        gate.add_permits(10);
        let mut got = Vec::new();
        for answer in answers {
            got.push(answer.await.expect("answered"));
        }
        assert_eq!(got, vec![Ok(2), Ok(4), Ok(6), Ok(8), Ok(10)]);
        let batches = sizes(&batches);
        assert_eq!(batches.iter().sum::<usize>(), 5);
        assert!(batches.iter().all(|n| *n <= 3), "{batches:?}");
        assert!(batches.len() < 5, "nothing was batched: {batches:?}");
    }

    #[tokio::test]
    async fn an_unreachable_batch_refuses_what_queued_behind_it_at_once() {
        let flush = Double::new(0);
        let (gate, flushed) = (flush.gate.clone(), flush.flushed.clone());
        let (batcher, _tasks) = Batcher::spawn(flush, 1, 1, 16);
        let mut answers = Vec::new();
        for i in [0, 1, 2] {
            answers.push(batcher.queue(i).await.expect("queued"));
        }
        gate.add_permits(10);
        for answer in answers {
            assert_eq!(answer.await.expect("answered"), Err("unreachable"));
        }
        assert_eq!(
            flushed.load(Ordering::SeqCst),
            1,
            "one write found out for all"
        );
    }

    /// A lingering batcher, the sizes of its batches, and its writer.
    type Lingering = (
        Batcher<i32, Result<i32, &'static str>>,
        Arc<Mutex<Vec<Vec<i32>>>>,
        tokio::task::JoinSet<()>,
    );

    /// A batcher whose writer lingers up to `wait` while `coming` says more items are coming.
    fn lingering(
        wait: std::time::Duration,
        coming: Arc<std::sync::atomic::AtomicBool>,
    ) -> Lingering {
        let flush = Double::new(1_000);
        let batches = flush.batches.clone();
        let linger = super::Linger {
            wait,
            more_coming: Box::new(move |_| coming.load(Ordering::SeqCst)),
        };
        let (batcher, tasks) = Batcher::spawn_lingering(flush, 1, 8, 64, Some(linger));
        (batcher, batches, tasks)
    }

    #[tokio::test]
    async fn while_more_is_coming_items_arriving_within_the_linger_share_one_batch() {
        let coming = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (batcher, batches, _writer) = lingering(std::time::Duration::from_millis(500), coming);
        let first = batcher.queue(1).await.expect("queued");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let second = batcher.queue(2).await.expect("queued");
        assert_eq!(first.await.expect("answered"), Ok(2));
        assert_eq!(second.await.expect("answered"), Ok(4));
        assert_eq!(sizes(&batches), vec![2]);
    }

    #[tokio::test]
    async fn a_full_batch_and_a_batch_nothing_more_is_coming_for_are_written_at_once() {
        let coming = Arc::new(std::sync::atomic::AtomicBool::new(false));
        // A linger far longer than the test: only "nothing is coming" can end the wait.
        let (batcher, batches, _writer) =
            lingering(std::time::Duration::from_secs(600), coming.clone());
        let alone = batcher.queue(1).await.expect("queued");
        assert_eq!(
            tokio::time::timeout(std::time::Duration::from_secs(5), alone)
                .await
                .expect("written without waiting")
                .expect("answered"),
            Ok(2)
        );
        // More coming, but the batch fills: written at its size, without waiting.
        coming.store(true, Ordering::SeqCst);
        let mut answers = Vec::new();
        for i in 0..8 {
            answers.push(batcher.queue(i + 1).await.expect("queued"));
        }
        for answer in answers {
            tokio::time::timeout(std::time::Duration::from_secs(5), answer)
                .await
                .expect("a full batch is written at once")
                .expect("answered")
                .expect("doubled");
        }
        let batches = sizes(&batches);
        assert_eq!(batches.first(), Some(&1), "{batches:?}");
        assert_eq!(batches.iter().sum::<usize>(), 9, "{batches:?}");
    }

    #[tokio::test]
    async fn the_writers_end_once_every_handle_is_gone_and_the_queue_is_written() {
        let flush = Double::new(10);
        let writers = Writers {
            regular: 2,
            overflow: 2,
            overflow_at: 1,
            max_batch: 8,
            capacity: 16,
            regather: None,
        };
        let (batcher, mut tasks) = Batcher::spawn_with(flush, writers, None);
        let answer = batcher.queue(21).await.expect("queued");
        drop(batcher);
        while tasks.join_next().await.is_some() {}
        assert_eq!(answer.await.expect("written before the end"), Ok(42));
    }

    /// A batcher shared by callers, what its flush notes, and its writer.
    type Regathering = (
        Arc<Batcher<i32, Result<i32, &'static str>>>,
        Arc<Mutex<Vec<Vec<i32>>>>,
        tokio::task::JoinSet<()>,
    );

    /// A batcher with one regular writer of batches of up to 32, each held up to `wait` after
    /// an answer for the callers answered (see `Regather`), and what its flush notes; each
    /// batch takes 5 ms to write.
    fn regathering(wait: std::time::Duration) -> Regathering {
        let flush = Double {
            takes: std::time::Duration::from_millis(5),
            ..Double::new(100_000)
        };
        let batches = flush.batches.clone();
        let writers = Writers {
            regular: 1,
            overflow: 0,
            overflow_at: usize::MAX,
            max_batch: 32,
            capacity: 64,
            regather: Some(wait),
        };
        let (batcher, tasks) = Batcher::spawn_with(flush, writers, None);
        (Arc::new(batcher), batches, tasks)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn callers_that_publish_again_once_answered_share_one_batch_rather_than_take_turns() {
        let (batcher, batches, _writer) = regathering(std::time::Duration::from_secs(2));
        // Sixteen callers, each queueing its next item a few ms after its answer (staggered,
        // as a service's request handlers are), ten rounds each.
        let mut callers = tokio::task::JoinSet::new();
        for caller in 0..16_i32 {
            let batcher = batcher.clone();
            callers.spawn(async move {
                // Items from 1 to 16: none is unreachable (0) or keeps its order (100 up).
                for _ in 0..10 {
                    let answer = batcher.submit(caller + 1).await;
                    assert_eq!(answer, Some(Ok((caller + 1) * 2)));
                    let back = u64::try_from(caller % 4).expect("small");
                    tokio::time::sleep(std::time::Duration::from_millis(back)).await;
                }
            });
        }
        while let Some(done) = callers.join_next().await {
            done.expect("a caller finished");
        }
        let sizes = sizes(&batches);
        assert_eq!(sizes.iter().sum::<usize>(), 160, "{sizes:?}");
        // However the first batch splits them (callers start one by one, and the first is
        // written at once), every later batch holds every caller, but the last (the rest of
        // the first split).
        assert!(
            sizes.len() <= 11 && sizes[1..sizes.len() - 1].iter().all(|n| *n == 16),
            "callers answered together come back together: {sizes:?}"
        );
    }

    #[tokio::test]
    async fn a_caller_alone_and_callers_that_do_not_come_back_are_not_held_past_the_wait() {
        // A wait far longer than the test: only taking the expected number ends a hold.
        let (batcher, batches, _writer) = regathering(std::time::Duration::from_secs(600));
        // One caller publishing again and again: each batch holds the one it answered, so the
        // next is written as soon as it comes.
        for i in 1..=20 {
            let answer = tokio::time::timeout(std::time::Duration::from_secs(5), batcher.submit(i))
                .await
                .expect("a caller alone is never held");
            assert_eq!(answer, Some(Ok(i * 2)));
        }
        assert!(sizes(&batches).iter().all(|n| *n == 1));
        // A short wait: sixteen answered together, then one comes back alone. Its batch is
        // held for the other fifteen only until the wait has passed since the answer.
        let (batcher, batches, _writer) = regathering(std::time::Duration::from_millis(50));
        let mut answers = Vec::new();
        for i in 1..=16 {
            answers.push(batcher.queue(i).await.expect("queued"));
        }
        for answer in answers {
            answer.await.expect("answered").expect("doubled");
        }
        let alone = tokio::time::timeout(std::time::Duration::from_secs(5), batcher.submit(7))
            .await
            .expect("held only for the wait");
        assert_eq!(alone, Some(Ok(14)));
        let sizes = sizes(&batches);
        assert_eq!(sizes.last(), Some(&1), "{sizes:?}");
        assert_eq!(sizes.iter().sum::<usize>(), 17, "{sizes:?}");
    }

    #[test]
    fn holds_that_bring_too_few_callers_back_are_skipped_for_longer_and_longer() {
        let mut backoff = super::Backoff::default();
        assert!(backoff.may_hold());
        // Half of those answered came back: the next batch is held again.
        backoff.held(4, 8);
        assert!(backoff.may_hold());
        // Fewer than half, again and again: 1, 2, 4 … 64 batches are not held, then one is.
        let mut skipped = Vec::new();
        for _ in 0..9 {
            backoff.held(1, 8);
            let mut n = 0;
            while !backoff.may_hold() {
                n += 1;
            }
            skipped.push(n);
        }
        assert_eq!(skipped, [1, 2, 4, 8, 16, 32, 64, 64, 64]);
        // One that pays resets it.
        backoff.held(8, 8);
        assert!(backoff.may_hold());
        backoff.held(0, 8);
        assert!(!backoff.may_hold());
        assert!(backoff.may_hold());
        // A batch downstream could not take whole counts as a hold that did not pay.
        backoff.failed();
        assert!(!backoff.may_hold());
        assert!(!backoff.may_hold());
        assert!(backoff.may_hold());
    }
}
