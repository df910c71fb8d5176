//! Group commit: callers queue items and wait for their answers; writer tasks take whatever
//! queued while they were busy (up to a batch), write it at once and answer each caller. Under
//! load many items share one transaction (one fsync); at rest an item is written alone, at once.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, mpsc, oneshot};
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

/// The queue the writers take batches from, one writer at a time.
type Queue<I, O> = Arc<Mutex<mpsc::Receiver<Waiting<I, O>>>>;

/// An item queued with the caller waiting for its answer.
struct Waiting<I, O> {
    item: I,
    reply: oneshot::Sender<O>,
}

/// The handle callers queue items through; cheap to clone. The writers stop once every handle
/// is dropped and the queue is written.
pub struct Batcher<I, O> {
    queue: mpsc::Sender<Waiting<I, O>>,
}

impl<I, O> Clone for Batcher<I, O> {
    fn clone(&self) -> Self {
        Batcher {
            queue: self.queue.clone(),
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
        let (queue, rx) = mpsc::channel(capacity.max(1));
        let rx = Arc::new(Mutex::new(rx));
        let flush = Arc::new(flush);
        let mut tasks = JoinSet::new();
        let linger = linger.map(Arc::new);
        for _ in 0..writers.max(1) {
            tasks.spawn(write(
                flush.clone(),
                rx.clone(),
                max_batch.max(1),
                linger.clone(),
            ));
        }
        (Batcher { queue }, tasks)
    }

    /// Queues `item`; its answer comes on the receiver. `None` when the writers have stopped.
    /// Queue many before waiting for any, and they share batches.
    pub async fn queue(&self, item: I) -> Option<oneshot::Receiver<O>> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Waiting { item, reply }).await.ok()?;
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

async fn write<F: Flush>(
    flush: Arc<F>,
    rx: Queue<F::Item, F::Output>,
    max_batch: usize,
    linger: Option<Arc<Linger>>,
) {
    let mut waiting = Vec::with_capacity(max_batch);
    // Whoever holds the lock takes the next batch; the others write theirs meanwhile.
    loop {
        let mut queue = rx.lock().await;
        if queue.recv_many(&mut waiting, max_batch).await == 0 {
            break;
        }
        if let Some(linger) = &linger {
            let deadline = tokio::time::Instant::now() + linger.wait;
            while waiting.len() < max_batch && (linger.more_coming)(waiting.len()) {
                let more = max_batch - waiting.len();
                match tokio::time::timeout_at(deadline, queue.recv_many(&mut waiting, more)).await {
                    Ok(n) if n > 0 => {}
                    // The deadline passed, or every handle is gone: write what there is.
                    _ => break,
                }
            }
        }
        drop(queue);
        let (mut items, replies): (Vec<F::Item>, Vec<oneshot::Sender<F::Output>>) = waiting
            .drain(..)
            .map(|w: Waiting<F::Item, F::Output>| (w.item, w.reply))
            .unzip();
        match flush.flush(&mut items).await {
            Flushed::Each(outputs) => {
                for (reply, output) in replies.into_iter().zip(outputs) {
                    let _ = reply.send(output);
                }
            }
            Flushed::Unreachable(refusal) => {
                for reply in replies {
                    let _ = reply.send(refusal());
                }
                // Only if no other writer is taking a batch: it answers its own.
                if let Ok(mut queue) = rx.try_lock() {
                    while let Ok(queued) = queue.try_recv() {
                        let _ = queued.reply.send(refusal());
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use super::{Batcher, Flush, Flushed};

    /// Doubles each item once `gate` lets it, noting the size of every batch; a batch holding 0
    /// is unreachable.
    struct Double {
        batches: Arc<Mutex<Vec<usize>>>,
        gate: Arc<tokio::sync::Semaphore>,
        flushed: Arc<AtomicUsize>,
    }

    impl Double {
        fn new(permits: usize) -> Double {
            Double {
                batches: Arc::default(),
                gate: Arc::new(tokio::sync::Semaphore::new(permits)),
                flushed: Arc::default(),
            }
        }
    }

    impl Flush for Double {
        type Item = i32;
        type Output = Result<i32, &'static str>;

        async fn flush(&self, items: &mut [i32]) -> Flushed<Self::Output> {
            let _permit = self.gate.acquire().await;
            self.batches.lock().expect("batches").push(items.len());
            self.flushed.fetch_add(1, Ordering::SeqCst);
            if items.contains(&0) {
                return Flushed::Unreachable(|| Err("unreachable"));
            }
            Flushed::Each(items.iter().map(|i| Ok(i * 2)).collect())
        }
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
        let batches = batches.lock().expect("batches").clone();
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
        Arc<Mutex<Vec<usize>>>,
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
        assert_eq!(*batches.lock().expect("batches"), vec![2]);
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
        let batches = batches.lock().expect("batches").clone();
        assert_eq!(batches.first(), Some(&1), "{batches:?}");
        assert_eq!(batches.iter().sum::<usize>(), 9, "{batches:?}");
    }

    #[tokio::test]
    async fn the_writers_end_once_every_handle_is_gone_and_the_queue_is_written() {
        let flush = Double::new(10);
        let (batcher, mut tasks) = Batcher::spawn(flush, 2, 8, 16);
        let answer = batcher.queue(21).await.expect("queued");
        drop(batcher);
        while tasks.join_next().await.is_some() {}
        assert_eq!(answer.await.expect("written before the end"), Ok(42));
    }
}
