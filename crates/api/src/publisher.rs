//! Group commit for publishing: events published at the same moment share one transaction
//! (one fsync) instead of one each. A request waits for its batch to commit before it answers
//! 202, so an accepted event is always durable. Should a batch fail (a tenant deleted under its
//! tokens, say), each of its events is published alone, so one bad request fails only itself.

use chrono::{DateTime, Utc};
use opentelemetry_sdk::trace::SdkTracer;
use ricochet_domain::TenantId;
use ricochet_runtime::publish::publish_batch;
use ricochet_runtime::{Handoff, Waker};
use ricochet_store::StoreError;
use ricochet_store::events::{BatchEvent, NewEvent, Published};
use serde_json::Value;
use sqlx::PgPool;
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};

/// Most events committed together.
const MAX_BATCH: usize = 256;

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
    reply: oneshot::Sender<Result<Published, StoreError>>,
}

/// The handle handlers publish through.
#[derive(Debug, Clone)]
pub struct Publisher {
    jobs: mpsc::Sender<Job>,
    /// Makes a span per publish when traces are exported.
    tracer: Option<SdkTracer>,
}

impl Publisher {
    /// Starts `writers` publishing tasks on `pool`, committing batches side by side, and
    /// handing new deliveries over to the worker of this process through `handoff` when it
    /// has room (the others are claimed after a NOTIFY).
    pub fn spawn(pool: &PgPool, writers: usize, handoff: Option<&Arc<Handoff>>) -> Publisher {
        let (jobs, rx) = mpsc::channel(MAX_BATCH * 4);
        let rx = Arc::new(Mutex::new(rx));
        let waker = Waker::spawn(pool.clone());
        for _ in 0..writers.max(1) {
            tokio::spawn(run(
                pool.clone(),
                rx.clone(),
                waker.clone(),
                handoff.cloned(),
            ));
        }
        Publisher { jobs, tracer: None }
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
        let (span, traceparent) = crate::trace::start_publish(tracer, &publication);
        let result = self.publish_with(publication, traceparent).await;
        crate::trace::end_publish(span, &result);
        result
    }

    async fn publish_with(
        &self,
        publication: Publication,
        traceparent: Option<String>,
    ) -> Result<Published, StoreError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Database(sqlx::Error::PoolClosed);
        self.jobs
            .send(Job {
                publication,
                traceparent,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
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
        let stopped = || StoreError::Database(sqlx::Error::PoolClosed);
        let mut answers = Vec::with_capacity(publications.len());
        // One publish span per event when traces are exported; never allocated otherwise.
        let mut spans = Vec::new();
        for publication in publications {
            let traceparent = self.tracer.as_ref().and_then(|tracer| {
                let (span, traceparent) = crate::trace::start_publish(tracer, &publication);
                spans.push(span);
                traceparent
            });
            let (reply, answer) = oneshot::channel();
            let job = Job {
                publication,
                traceparent,
                reply,
            };
            let queued = self.jobs.send(job).await.is_ok();
            answers.push(queued.then_some(answer));
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

async fn run(
    pool: PgPool,
    rx: Arc<Mutex<mpsc::Receiver<Job>>>,
    waker: Waker,
    handoff: Option<Arc<Handoff>>,
) {
    let handoff = handoff.as_deref();
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    // Whoever holds the lock takes the next batch; the others commit theirs meanwhile.
    while rx.lock().await.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        match publish_together(&pool, &waker, handoff, &jobs).await {
            Ok(results) => {
                for (job, result) in jobs.drain(..).zip(results) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            // The database is out of reach: every event of the batch is refused at once (503),
            // rather than each published alone, waiting for a connection in turn.
            // So are the events that queued up while it waited for a connection: each would
            // otherwise wait for one more in turn.
            Err(e) if e.is_unavailable() => {
                if let Ok(mut queue) = rx.try_lock() {
                    while let Ok(job) = queue.try_recv() {
                        jobs.push(job);
                    }
                }
                tracing::warn!(error = %e, events = jobs.len(), "publishing refused: database unavailable");
                for job in jobs.drain(..) {
                    let unavailable = StoreError::Database(sqlx::Error::PoolTimedOut);
                    let _ = job.reply.send(Err(unavailable));
                }
            }
            Err(e) => {
                if jobs.len() > 1 {
                    tracing::warn!(error = %e, events = jobs.len(), "a publishing batch failed; publishing its events one by one");
                }
                for job in jobs.drain(..) {
                    let result =
                        publish_together(&pool, &waker, handoff, std::slice::from_ref(&job))
                            .await
                            .map(|mut r| r.remove(0));
                    let _ = job.reply.send(result);
                }
            }
        }
    }
}

async fn publish_together(
    pool: &PgPool,
    waker: &Waker,
    handoff: Option<&Handoff>,
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
    let results = publish_batch(&mut conn, &batch, handoff).await?;
    crate::metrics::published(&results);
    if results
        .iter()
        .any(|r| r.created && r.deliveries.len() > r.handed_over)
    {
        waker.wake();
    }
    Ok(results)
}
