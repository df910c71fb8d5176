//! Records finished attempts in batches: whatever attempts finish while a batch is being
//! written go into the next one, so under load many attempts share one transaction, and at
//! rest an attempt is written alone, at once. Each attempt waits for its batch to commit, so a
//! delivery's lease is held until its attempt is recorded.

use std::collections::HashSet;
use std::sync::Arc;

use ricochet_domain::TenantId;
use ricochet_domain::delivery::DeliveryStatus;
use ricochet_domain::event::MESSAGE_FAILED;
use ricochet_domain::integration::Ordering;
use ricochet_runtime::publish::publish_own;
use ricochet_runtime::{Batcher, Flush, Flushed, Handoff, Linger, Waker};
use ricochet_store::StoreError;
use ricochet_store::deliveries::{self, AttemptRecord, Claimed, Finished, Transition};
use ricochet_store::lanes::{self, Settled};
use ricochet_store::ordering;
use ricochet_store::wake::wake_workers;

use crate::protect;
use sqlx::{PgConnection, PgPool};

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
}

/// The recorder's handle: each job is answered whether its attempt was recorded (false: the
/// lease was lost, or writing failed).
pub(crate) type Recorder = Batcher<Job, bool>;

/// Starts the recorder of `worker` with `writers` tasks writing batches side by side (so the
/// database can use more than one core), each holding a batch up to `linger` while the worker
/// owns other deliveries (running, or held for their time: its `handoff` counts them); it
/// stops once every handle is dropped and the queue is written.
pub(crate) fn spawn(
    pool: &PgPool,
    worker: &str,
    capacity: usize,
    writers: usize,
    linger: std::time::Duration,
    handoff: Arc<Handoff>,
) -> (Recorder, JoinSet<()>) {
    let record = Record {
        pool: pool.clone(),
        worker: worker.to_owned(),
        waker: Waker::spawn(pool.clone()),
    };
    // While the worker owns other deliveries, a batch waits up to `linger` for them: each batch
    // costs two statements (the record and the lane settle) whatever its size. An attempt the
    // worker owns alone (a quiet worker, or a key kept in order) is recorded at once.
    let linger = (!linger.is_zero()).then(|| Linger {
        wait: linger,
        more_coming: Box::new(move |batched| handoff.owned() > batched),
    });
    Batcher::spawn_lingering(record, writers, MAX_BATCH, capacity, linger)
}

/// Writes batches of attempts for one worker.
struct Record {
    pool: PgPool,
    worker: String,
    waker: Waker,
}

impl Flush for Record {
    type Item = Job;
    type Output = bool;

    async fn flush(&self, jobs: &mut [Job]) -> Flushed<bool> {
        let (pool, worker, waker) = (&self.pool, self.worker.as_str(), &self.waker);
        crate::observe::record_batch(jobs.len());
        let recorded = match write(pool, worker, waker, jobs).await {
            Ok(recorded) => recorded,
            Err(e) if refused_data(&e) => {
                tracing::error!(error = %e, attempts = jobs.len(), "recording a batch of attempts failed; recording them one by one");
                one_by_one(pool, worker, waker, jobs).await
            }
            Err(e) => {
                // The leases expire and the attempts run again: at least once, never lost.
                tracing::error!(error = %e, attempts = jobs.len(), "recording attempts failed");
                HashSet::new()
            }
        };
        Flushed::Each(
            jobs.iter()
                .map(|job| recorded.contains(&job.claimed.id))
                .collect(),
        )
    }
}

/// Whether the database refused what was written (rather than being unreachable): another
/// batch, or the same rows alone, may well succeed.
fn refused_data(error: &StoreError) -> bool {
    matches!(error, StoreError::Database(sqlx::Error::Database(_)))
        || matches!(
            error,
            StoreError::Conflict(_) | StoreError::MissingParent(_)
        )
}

/// Records each job of a batch that failed on its own, so one bad row never sinks the others.
/// A row refused even alone is recorded once more with only what is sure to store (its error
/// kind, status and transition, the answer left out), so it ends like any other attempt
/// instead of running again.
async fn one_by_one(pool: &PgPool, worker: &str, waker: &Waker, jobs: &mut [Job]) -> HashSet<Uuid> {
    let mut recorded = HashSet::new();
    for job in jobs.iter_mut() {
        let mut result = write(pool, worker, waker, std::slice::from_ref(job)).await;
        if let Err(e) = &result
            && refused_data(e)
        {
            tracing::error!(delivery = %job.claimed.id, error = %e, "an attempt's record was refused; recording it without its details");
            strip(&mut job.record);
            result = write(pool, worker, waker, std::slice::from_ref(job)).await;
        }
        match result {
            Ok(ids) => recorded.extend(ids),
            Err(e) => {
                tracing::error!(delivery = %job.claimed.id, error = %e, "recording an attempt failed");
            }
        }
    }
    recorded
}

/// Leaves only the parts of a record that PostgreSQL cannot refuse.
fn strip(record: &mut AttemptRecord) {
    record.error_message = Some("the details of this attempt could not be stored".into());
    record.request_url = String::new();
    record.request_headers = AttemptRecord::no_headers();
    record.response_content_type = None;
    record.response_body = None;
    record.retry_after_note = None;
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
            lease_token: j.claimed.lease_token,
            attempt: &j.record,
            transition: &j.transition,
        })
        .collect();
    // Dead letters publish their alert in the same transaction; otherwise the recording is one
    // statement, atomic on its own, with no BEGIN and COMMIT round trips around it.
    let alerting = jobs.iter().any(|j| alert_reason(j).is_some());
    let (moved, alerted, mut conn) = if alerting {
        let mut tx = pool.begin().await?;
        let moved = deliveries::record_attempts(&mut tx, worker, &finished).await?;
        let recorded: HashSet<Uuid> = moved.iter().map(|r| r.id).collect();
        let mut alerted = false;
        for job in jobs.iter().filter(|j| recorded.contains(&j.claimed.id)) {
            // In the same transaction: a dead letter never goes without its alert. A failure
            // to deliver the alert itself raises no further one.
            if let Some(reason) = alert_reason(job) {
                let failed = Failed {
                    delivery: job.claimed.id,
                    tenant_id: job.claimed.tenant_id,
                    event_id: &job.claimed.event_id,
                    event_type: &job.claimed.event_type,
                    integration_id: job.claimed.integration_id,
                    integration_name: &job.claimed.integration_name,
                    attempts: job.claimed.attempt_count + 1,
                    last_status: job.record.status_code,
                    reason,
                    ordering_key: job.claimed.ordering_key.as_deref(),
                };
                alerted |= publish_failure(&mut tx, &failed).await?;
            }
        }
        tx.commit().await?;
        // Committed: what follows is best effort, so a connection that cannot be had now
        // must not report these recorded attempts as failed.
        let conn = match pool.acquire().await {
            Ok(conn) => Some(conn),
            Err(e) => {
                tracing::error!(error = %e, "no connection to give lane slots back after recording attempts; the lane audit and the key sweep catch up");
                None
            }
        };
        (moved, alerted, conn)
    } else {
        let mut conn = pool.acquire().await?;
        let moved = deliveries::record_attempts(&mut conn, worker, &finished).await?;
        (moved, false, Some(conn))
    };
    let recorded: HashSet<Uuid> = moved.iter().map(|r| r.id).collect();
    // Committed: the slots go back to the lanes, with the integrations' health. A failure
    // here only leaves a lane's count high until the audit (the attempts stay recorded).
    let settled: Vec<Settled> = jobs
        .iter()
        .filter(|j| recorded.contains(&j.claimed.id))
        .map(|j| Settled {
            integration_id: j.claimed.integration_id,
            started_at: j.record.started_at,
            ok: matches!(j.transition, Transition::Succeeded),
            status_code: j.record.status_code,
            retry_after_ms: j.record.retry_after_ms,
        })
        .collect();
    let changes = match conn.as_mut() {
        None => Vec::new(),
        Some(conn) => match lanes::settle(conn, &settled).await {
            Ok(changes) => changes,
            Err(e) => {
                tracing::error!(error = %e, "giving lane slots back after recording attempts");
                Vec::new()
            }
        },
    };
    // A finished head of a key kept in order lets the next delivery of its key go.
    let heads_done: Vec<(Uuid, &str)> = moved
        .iter()
        .filter(|r| {
            r.ordering_key.is_some()
                && r.status != DeliveryStatus::Pending.as_str()
                && r.status != DeliveryStatus::Paused.as_str()
        })
        .filter_map(|r| {
            let job = jobs.iter().find(|j| j.claimed.id == r.id)?;
            let per_key = job.claimed.settings.ordering == Ordering::PerKey;
            r.ordering_key
                .as_deref()
                .filter(|_| per_key)
                .map(|k| (r.integration_id, k))
        })
        .collect();
    let promoted = match conn.as_mut() {
        None => false,
        Some(conn) => match ordering::promote(conn, &heads_done).await {
            Ok(n) => n > 0,
            Err(e) => {
                tracing::error!(error = %e, "promoting the next deliveries of finished keys; the sweep promotes them");
                false
            }
        },
    };
    drop(conn);
    let freed = changes.iter().any(|c| c.was_full);
    for change in changes
        .iter()
        .filter(|c| c.opened || c.closed || c.failing_too_long)
    {
        let Some(job) = jobs
            .iter()
            .find(|j| j.claimed.integration_id == change.integration_id)
        else {
            continue;
        };
        let subject = protect::Subject {
            tenant: job.claimed.tenant_id,
            integration: job.claimed.integration_id,
            name: &job.claimed.integration_name,
        };
        if let Err(e) = protect::act(pool, change, subject).await {
            tracing::error!(integration = %change.integration_id, error = %e, "announcing a change of the integration's circuit or state");
        }
    }
    // A retry is due later, and a freed slot of an integration at its cap lets its due
    // deliveries go: the workers look again.
    if alerted
        || freed
        || promoted
        || moved
            .iter()
            .any(|r| r.status == DeliveryStatus::Pending.as_str())
    {
        waker.wake();
    }
    Ok(recorded)
}

/// Why a job raises `integration.message.failed`: it dead-letters a delivery of any other
/// event type (a failure to deliver the alert itself raises no further one).
fn alert_reason(job: &Job) -> Option<&str> {
    match &job.transition {
        Transition::DeadLetter(reason) if *job.claimed.event_type != *MESSAGE_FAILED => {
            Some(reason)
        }
        _ => None,
    }
}

/// A dead-lettered delivery, as its alert describes it.
struct Failed<'a> {
    delivery: Uuid,
    tenant_id: Uuid,
    event_id: &'a str,
    event_type: &'a str,
    integration_id: Uuid,
    integration_name: &'a str,
    /// Attempts recorded, this one included.
    attempts: i32,
    last_status: Option<i32>,
    reason: &'a str,
    /// The event's ordering key: the next delivery of the key is released.
    ordering_key: Option<&'a str>,
}

/// Publishes `integration.message.failed` for a dead-lettered delivery into its tenant's own
/// stream, where an alerting integration can be bound to it; whether that made deliveries.
async fn publish_failure(conn: &mut PgConnection, failed: &Failed<'_>) -> Result<bool, StoreError> {
    let data = serde_json::json!({
        "deliveryId": failed.delivery,
        "eventId": failed.event_id,
        "eventType": failed.event_type,
        "integrationId": failed.integration_id,
        "integrationName": failed.integration_name,
        "reason": failed.reason,
        "lastStatusCode": failed.last_status,
        "attemptCount": failed.attempts,
        "orderingKey": failed.ordering_key,
    });
    let id = if failed.reason == deliveries::WORKER_LOST {
        format!("lost-{}-{}", failed.delivery, failed.attempts)
    } else {
        format!("failed-{}-{}", failed.delivery, failed.attempts)
    };
    // Inside the recording transaction: nothing is handed over before it commits.
    publish_own(conn, TenantId(failed.tenant_id), MESSAGE_FAILED, &id, &data).await
}

/// How long a lane's count must be left alone before the audit recounts it: longer than any
/// reservation takes to be used or given back.
const LANE_AUDIT_QUIET: std::time::Duration = std::time::Duration::from_secs(10);

/// What a pass of the lease reaper did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Reaping {
    /// Deliveries returned to pending.
    pub(crate) returned: usize,
    /// Deliveries dead-lettered as `worker_lost`.
    pub(crate) lost: usize,
}

/// Returns expired leases to pending, counting each, and dead-letters (with the alert, in the
/// same transaction) the deliveries whose lease expired `max_lost` times without a recorded
/// attempt: a delivery that kills or stalls every worker that takes it ends instead of looping.
pub(crate) async fn reap(pool: &PgPool, max_lost: i32) -> Result<Reaping, StoreError> {
    // Counts a crash left too high are brought back to the truth (see the lanes migration).
    let fixed = lanes::audit(pool, LANE_AUDIT_QUIET).await?;
    if fixed > 0 {
        tracing::warn!(
            lanes = fixed,
            "recounted the in-flight deliveries of lanes left with a wrong count"
        );
    }
    let swept = sweep_keys(pool).await?;
    if swept > 0 {
        tracing::warn!(
            deliveries = swept,
            "promoted deliveries of keys left without a delivery under way"
        );
    }
    let mut tx = pool.begin().await?;
    let reaped = deliveries::reap_expired_leases(&mut tx, max_lost).await?;
    if reaped.is_empty() {
        tx.commit().await?;
        return Ok(Reaping::default());
    }
    let mut outcome = Reaping::default();
    for delivery in &reaped {
        if delivery.status != DeliveryStatus::DeadLettered {
            outcome.returned += 1;
            continue;
        }
        outcome.lost += 1;
        crate::observe::worker_lost(delivery);
        if delivery.event_type != MESSAGE_FAILED {
            let failed = Failed {
                delivery: delivery.id,
                tenant_id: delivery.tenant_id,
                event_id: &delivery.event_id,
                event_type: &delivery.event_type,
                integration_id: delivery.integration_id,
                integration_name: &delivery.integration_name,
                attempts: delivery.attempt_count,
                last_status: delivery.last_status_code,
                reason: deliveries::WORKER_LOST,
                ordering_key: delivery.ordering_key.as_deref(),
            };
            publish_failure(&mut tx, &failed).await?;
        }
    }
    wake_workers(&mut *tx).await?;
    tx.commit().await?;
    // A head dead-lettered here releases the next delivery of its key.
    let lost_heads: Vec<(uuid::Uuid, &str)> = reaped
        .iter()
        .filter(|d| d.status == DeliveryStatus::DeadLettered)
        .filter_map(|d| d.ordering_key.as_deref().map(|k| (d.integration_id, k)))
        .collect();
    if !lost_heads.is_empty() {
        let mut conn = pool.acquire().await?;
        if ordering::promote(&mut conn, &lost_heads).await? > 0 {
            wake_workers(&mut *conn).await?;
        }
    }
    Ok(outcome)
}

/// Most keys one pass of the sweep promotes.
const SWEEP_KEYS: i64 = 1000;

/// Promotes the keys left without a head (a crash between a head's record and the promotion
/// after it, or a delivery dead-lettered by the reaper); wakes the workers if any moved.
pub(crate) async fn sweep_keys(pool: &PgPool) -> Result<u64, StoreError> {
    let mut conn = pool.acquire().await?;
    let promoted = ordering::sweep(&mut conn, SWEEP_KEYS).await?;
    if promoted > 0 {
        wake_workers(&mut *conn).await?;
    }
    Ok(promoted)
}
