//! Records finished attempts in batches: whatever attempts finish while a batch is being
//! written go into the next one, so under load many attempts share one transaction, and at
//! rest an attempt is written alone, at once. Each attempt waits for its batch to commit, so a
//! delivery's lease is held until its attempt is recorded.

use std::collections::HashSet;

use chrono::Utc;
use ricochet_domain::TenantId;
use ricochet_domain::event::{MESSAGE_FAILED, matching_patterns};
use ricochet_store::StoreError;
use ricochet_store::deliveries::{self, AttemptRecord, Claimed, Finished, Transition};
use ricochet_store::events::{self, BatchEvent, NewEvent, Waker};
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinSet;
use uuid::Uuid;

/// Most attempts written in one transaction.
const MAX_BATCH: usize = 256;

/// One finished attempt on its way to the database.
pub(crate) struct Job {
    /// The delivery, as claimed.
    pub(crate) claimed: Claimed,
    /// The attempt.
    pub(crate) record: AttemptRecord,
    /// Where the delivery goes next.
    pub(crate) transition: Transition,
    /// Told whether the attempt was recorded (false: the lease was lost, or writing failed).
    pub(crate) done: oneshot::Sender<bool>,
}

/// Starts the recorder of `worker` with `writers` tasks writing batches side by side (so the
/// database can use more than one core); it stops once every sender is dropped and the queue
/// is written.
pub(crate) fn spawn(
    pool: &PgPool,
    worker: &str,
    capacity: usize,
    writers: usize,
) -> (mpsc::Sender<Job>, JoinSet<()>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let rx = Arc::new(Mutex::new(rx));
    let waker = Waker::spawn(pool.clone());
    let mut tasks = JoinSet::new();
    for _ in 0..writers.max(1) {
        tasks.spawn(run(
            pool.clone(),
            worker.to_owned(),
            rx.clone(),
            waker.clone(),
        ));
    }
    (tx, tasks)
}

async fn run(pool: PgPool, worker: String, rx: Arc<Mutex<mpsc::Receiver<Job>>>, waker: Waker) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    // Whoever holds the lock takes the next batch; the others write theirs meanwhile.
    while rx.lock().await.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        crate::observe::record_batch(jobs.len());
        let recorded = match write(&pool, &worker, &waker, &jobs).await {
            Ok(recorded) => recorded,
            Err(e) => {
                // The leases expire and the attempts run again: at least once, never lost.
                tracing::error!(error = %e, attempts = jobs.len(), "recording attempts failed");
                HashSet::new()
            }
        };
        for job in jobs.drain(..) {
            let _ = job.done.send(recorded.contains(&job.claimed.id));
        }
    }
}

/// Writes one batch in one transaction; returns the deliveries recorded.
async fn write(
    pool: &PgPool,
    worker: &str,
    waker: &Waker,
    jobs: &[Job],
) -> Result<HashSet<Uuid>, StoreError> {
    let finished: Vec<Finished<'_>> = jobs
        .iter()
        .map(|j| Finished {
            delivery: j.claimed.id,
            attempt: &j.record,
            transition: &j.transition,
        })
        .collect();
    // Dead letters publish their alert in the same transaction; otherwise the recording is one
    // statement, atomic on its own, with no BEGIN and COMMIT round trips around it.
    let alerting = jobs.iter().any(|j| alert_reason(j).is_some());
    let (moved, alerted) = if alerting {
        let mut tx = pool.begin().await?;
        let moved = deliveries::record_attempts(&mut tx, worker, &finished).await?;
        let recorded: HashSet<Uuid> = moved.iter().map(|r| r.id).collect();
        let mut alerted = false;
        for job in jobs.iter().filter(|j| recorded.contains(&j.claimed.id)) {
            // In the same transaction: a dead letter never goes without its alert. A failure
            // to deliver the alert itself raises no further one.
            if let Some(reason) = alert_reason(job) {
                alerted |=
                    publish_failure(&mut tx, &job.claimed, reason, job.record.status_code).await?;
            }
        }
        tx.commit().await?;
        (moved, alerted)
    } else {
        let mut conn = pool.acquire().await?;
        let moved = deliveries::record_attempts(&mut conn, worker, &finished).await?;
        (moved, false)
    };
    let recorded: HashSet<Uuid> = moved.iter().map(|r| r.id).collect();
    if alerted || moved.iter().any(|r| r.status == "pending") {
        waker.wake();
    }
    Ok(recorded)
}

/// Why a job raises `integration.message.failed`: it dead-letters a delivery of any other
/// event type (a failure to deliver the alert itself raises no further one).
fn alert_reason(job: &Job) -> Option<&str> {
    match &job.transition {
        Transition::DeadLetter(reason) if job.claimed.event_type != MESSAGE_FAILED => Some(reason),
        _ => None,
    }
}

/// Publishes `integration.message.failed` for a dead-lettered delivery into its tenant's own
/// stream, where an alerting integration can be bound to it; whether that made deliveries.
async fn publish_failure(
    conn: &mut PgConnection,
    claimed: &Claimed,
    reason: &str,
    last_status: Option<i32>,
) -> Result<bool, StoreError> {
    let attempts = claimed.attempt_count + 1;
    let data = serde_json::json!({
        "deliveryId": claimed.id,
        "eventId": claimed.event_id,
        "eventType": claimed.event_type,
        "integrationId": claimed.integration_id,
        "integrationName": claimed.integration_name,
        "reason": reason,
        "lastStatusCode": last_status,
        "attemptCount": attempts,
    });
    let id = format!("failed-{}-{attempts}", claimed.id);
    let event = NewEvent {
        id: &id,
        kind: MESSAGE_FAILED,
        occurred_at: Utc::now(),
        data: &data,
    };
    let patterns = matching_patterns(MESSAGE_FAILED);
    let batch = [BatchEvent {
        tenant: TenantId(claimed.tenant_id),
        event,
        patterns: &patterns,
    }];
    // Inside the recording transaction: nothing is handed over before it commits.
    let published = events::publish_batch(conn, &batch, None).await?;
    // Whether the alert made deliveries, so the caller wakes the workers after its commit.
    Ok(published
        .iter()
        .any(|p| p.created && !p.deliveries.is_empty()))
}
