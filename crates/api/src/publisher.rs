//! Group commit for publishing: events published at the same moment share one transaction
//! (one fsync) instead of one each. A request waits for its batch to commit before it answers
//! 202, so an accepted event is always durable. Should a batch fail (a tenant deleted under its
//! tokens, say), each of its events is published alone, so one bad request fails only itself.

use chrono::{DateTime, Utc};
use opentelemetry_sdk::trace::SdkTracer;
use ricochet_domain::TenantId;
use ricochet_runtime::credits::{IDLE, MAX_HELD};
use ricochet_runtime::publish::publish_batch;
use ricochet_runtime::{Batcher, Flush, Flushed, Handoff, LaneWork, Waker, Writers};
use ricochet_store::events::{BatchEvent, NewEvent, Published};
use ricochet_store::{StoreError, lanes};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use std::sync::{Arc, Weak};
use std::time::Instant;

/// Most events committed together.
const MAX_BATCH: usize = 256;

/// Events waiting that call an overflow writer: far more than ordinary publishing queues (one
/// per request in flight, tens at most), as many as a few batch publishes bring.
const OVERFLOW_AT: usize = 64;

/// An event to publish.
#[derive(Debug)]
pub struct Publication {
    /// Its tenant.
    pub tenant: TenantId,
    /// Its id.
    pub id: String,
    /// Its type.
    pub kind: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Its data.
    pub data: Value,
    /// The binding patterns that match its type.
    pub patterns: Vec<String>,
    /// Its ordering key.
    pub ordering_key: Option<String>,
}

struct Job {
    publication: Publication,
    /// The publish span's context, stored with the event (traces exported only).
    traceparent: Option<String>,
}

/// What a publish is answered.
type Answer = Result<Published, StoreError>;

/// The handle handlers publish through.
#[derive(Debug, Clone)]
pub struct Publisher {
    jobs: Batcher<Job, Answer>,
    /// Makes a span per publish when traces are exported.
    tracer: Option<SdkTracer>,
    /// Held by every handle: once the last is gone, the lane slots held go back.
    _alive: Arc<()>,
}

impl Publisher {
    /// Starts `writers` publishing tasks on `pool`, committing batches side by side, and
    /// `overflow` more that commit a batch only while events pile up (64 or more waiting: batch
    /// publishes, a burst), handing new deliveries over to the worker of this process
    /// through `handoff` when it has room (the others are claimed after a NOTIFY). Events with
    /// an ordering key are committed in the order they were queued, whichever writer takes them.
    /// After answering a batch, a writer holds its next one for up to `regather` while the
    /// callers it answered may come back with their next event (zero: never).
    pub fn spawn(
        pool: &PgPool,
        writers: usize,
        overflow: usize,
        regather: std::time::Duration,
        handoff: Option<&Arc<Handoff>>,
    ) -> Publisher {
        let publish_waker = Waker::spawn(pool.clone());
        let publish = Publish {
            pool: pool.clone(),
            waker: publish_waker.clone(),
            handoff: handoff.cloned(),
        };
        let writers = Writers {
            regular: writers,
            overflow,
            overflow_at: OVERFLOW_AT,
            max_batch: MAX_BATCH,
            capacity: MAX_BATCH * 4,
            regather: (!regather.is_zero()).then_some(regather),
        };
        let (jobs, mut tasks) = Batcher::spawn_with(publish, writers, None);
        // They end with the last handle.
        tasks.detach_all();
        let alive = Arc::new(());
        if let Some(handoff) = handoff {
            spawn_credit_sweeper(pool, &publish_waker, handoff, Arc::downgrade(&alive));
        }
        Publisher {
            jobs,
            tracer: None,
            _alive: alive,
        }
    }

    /// Makes a span per publish with `tracer` (traces exported), whose context the event keeps.
    #[must_use]
    pub fn traced(self, tracer: Option<SdkTracer>) -> Publisher {
        Publisher { tracer, ..self }
    }

    /// Publishes and waits for the commit.
    pub async fn publish(&self, publication: Publication) -> Result<Published, StoreError> {
        let Some(tracer) = &self.tracer else {
            return self.publish_with(publication, None).await;
        };
        let (span, traceparent) = crate::trace::start_publish(
            tracer,
            publication.tenant,
            &publication.kind,
            &publication.id,
        );
        let result = self.publish_with(publication, traceparent).await;
        crate::trace::end_publish(span, &result);
        result
    }

    async fn publish_with(
        &self,
        publication: Publication,
        traceparent: Option<String>,
    ) -> Result<Published, StoreError> {
        let job = Job {
            publication,
            traceparent,
        };
        self.jobs
            .submit(job)
            .await
            .unwrap_or_else(|| Err(stopped()))
    }

    /// Publishes many events and waits for all their commits: one result per publication, in
    /// order. They are queued in order, each as if published alone, so they share commits with
    /// each other (and with other requests' events) up to the batch size. Ids should be
    /// distinct: two publications of one id may land in batches committed side by side, and
    /// either could be the one created.
    pub async fn publish_all(
        &self,
        publications: Vec<Publication>,
    ) -> Vec<Result<Published, StoreError>> {
        let mut answers = Vec::with_capacity(publications.len());
        // One publish span per event when traces are exported; never allocated otherwise.
        let mut spans = Vec::new();
        for publication in publications {
            let traceparent = self.tracer.as_ref().and_then(|tracer| {
                let (span, traceparent) = crate::trace::start_publish(
                    tracer,
                    publication.tenant,
                    &publication.kind,
                    &publication.id,
                );
                spans.push(span);
                traceparent
            });
            let job = Job {
                publication,
                traceparent,
            };
            answers.push(self.jobs.queue(job).await);
        }
        let mut results = Vec::with_capacity(answers.len());
        for answer in answers {
            results.push(match answer {
                Some(answer) => answer.await.unwrap_or_else(|_| Err(stopped())),
                None => Err(stopped()),
            });
        }
        for (span, result) in spans.into_iter().zip(&results) {
            crate::trace::end_publish(span, result);
        }
        results
    }
}

/// The answer when the publishers have stopped.
fn stopped() -> StoreError {
    StoreError::Database(sqlx::Error::PoolClosed)
}

/// Publishes batches, handing new deliveries over to the worker of this process.
struct Publish {
    pool: PgPool,
    waker: Waker,
    handoff: Option<Arc<Handoff>>,
}

impl Flush for Publish {
    type Item = Job;
    type Output = Answer;

    /// An event with an ordering key is not committed before the events queued ahead of it, so
    /// that its deliveries keep their place in the key's line.
    fn keeps_order(&self, job: &Job) -> bool {
        job.publication.ordering_key.is_some()
    }

    /// Not after a batch whose new deliveries the worker of this process could not all take
    /// (its lanes or its room were full): a larger batch would only leave more of them to be
    /// claimed.
    fn may_regather(&self, answers: &[Answer]) -> bool {
        self.handoff.is_none()
            || !answers.iter().any(
                |answer| matches!(answer, Ok(r) if r.created && r.deliveries.len() > r.handed_over),
            )
    }

    async fn flush(&self, jobs: &mut [Job]) -> Flushed<Answer> {
        let handoff = self.handoff.as_ref();
        match publish_together(&self.pool, &self.waker, handoff, jobs).await {
            Ok(results) => Flushed::Each(results.into_iter().map(Ok).collect()),
            // The database is out of reach: every event of the batch is refused at once (503),
            // rather than each published alone, waiting for a connection in turn; so are the
            // events that queued up while it waited for a connection.
            Err(e) if e.is_unavailable() => {
                tracing::warn!(error = %e, events = jobs.len(), "publishing refused: database unavailable");
                Flushed::Unreachable(|| Err(StoreError::Database(sqlx::Error::PoolTimedOut)))
            }
            Err(e) => {
                if jobs.len() > 1 {
                    tracing::warn!(error = %e, events = jobs.len(), "a publishing batch failed; publishing its events one by one");
                }
                let mut each = Vec::with_capacity(jobs.len());
                for job in jobs.iter() {
                    let result = publish_together(
                        &self.pool,
                        &self.waker,
                        handoff,
                        std::slice::from_ref(job),
                    )
                    .await
                    .map(|mut r| r.remove(0));
                    each.push(result);
                }
                Flushed::Each(each)
            }
        }
    }
}

async fn publish_together(
    pool: &PgPool,
    waker: &Waker,
    handoff: Option<&Arc<Handoff>>,
    jobs: &[Job],
) -> Result<Vec<Published>, StoreError> {
    let batch: Vec<BatchEvent<'_>> = jobs
        .iter()
        .map(|job| {
            let p = &job.publication;
            BatchEvent {
                tenant: p.tenant,
                event: NewEvent {
                    id: &p.id,
                    kind: &p.kind,
                    occurred_at: p.occurred_at,
                    data: &p.data,
                    ordering_key: p.ordering_key.as_deref(),
                    traceparent: job.traceparent.as_deref(),
                },
                patterns: &p.patterns,
            }
        })
        .collect();
    // One statement, atomic on its own: no BEGIN and COMMIT round trips around it.
    let mut conn = pool.acquire().await?;
    let (results, work) = publish_batch(&mut conn, &batch, handoff.map(|h| &**h)).await?;
    drop(conn);
    crate::metrics::published(&results);
    if results
        .iter()
        .any(|r| r.created && r.deliveries.len() > r.handed_over)
    {
        waker.wake();
    }
    if let Some(handoff) = handoff
        && !work.is_empty()
    {
        spawn_lane_work(pool, waker, handoff, work);
    }
    Ok(results)
}

/// Gives back and takes the lane slots a publish left to do, on a connection of its own, while
/// its callers are answered and the next batch is written (see `ricochet_runtime::credits`).
fn spawn_lane_work(pool: &PgPool, waker: &Waker, handoff: &Arc<Handoff>, work: LaneWork) {
    let (pool, waker, handoff) = (pool.clone(), waker.clone(), handoff.clone());
    tokio::spawn(async move {
        let credits = handoff.credits();
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::warn!(error = %e, "lane slots for the hand-over: no connection; those to give back go with the next sweep");
                credits.abandon(&work);
                return;
            }
        };
        give_back(&mut conn, &waker, &handoff, &work.give_back).await;
        if !work.take.is_empty() {
            let at = Instant::now();
            let granted = lanes::take_credits(&mut conn, &work.take)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "taking lane slots for the hand-over failed; new deliveries are claimed meanwhile");
                    Vec::new()
                });
            let back = credits.taken(at, &granted);
            give_back(&mut conn, &waker, &handoff, &back).await;
        }
    });
}

/// Gives lane slots back, and wakes the workers: deliveries may wait for them. Should that
/// fail, the next sweep tries again.
async fn give_back(
    conn: &mut PgConnection,
    waker: &Waker,
    handoff: &Handoff,
    slots: &[(uuid::Uuid, i32)],
) {
    if slots.is_empty() {
        return;
    }
    match lanes::give_back(conn, slots).await {
        Ok(()) => waker.wake(),
        Err(e) => {
            tracing::warn!(error = %e, "giving back lane slots failed; the next sweep tries again");
            handoff.credits().stray(slots);
        }
    }
}

/// Gives back, every half [`IDLE`], the lane slots the publishers hold and have not spent
/// lately; and all of them once the publisher is gone (`alive` dropped).
fn spawn_credit_sweeper(pool: &PgPool, waker: &Waker, handoff: &Arc<Handoff>, alive: Weak<()>) {
    let (pool, waker, handoff) = (pool.clone(), waker.clone(), handoff.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(IDLE / 2);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let gone = alive.strong_count() == 0;
            let now = Instant::now();
            let back = handoff
                .credits()
                .expired(if gone { now + MAX_HELD } else { now });
            if !back.is_empty() {
                match pool.acquire().await {
                    Ok(mut conn) => give_back(&mut conn, &waker, &handoff, &back).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "giving back lane slots: no connection; the next sweep tries again");
                        handoff.credits().stray(&back);
                    }
                }
            }
            if gone {
                return;
            }
        }
    });
}
