//! Publishing: the event, one delivery per enabled integration bound to its type, and the
//! wake-up of the workers, all in the caller's transaction.

use chrono::{DateTime, Utc};
use ricochet_domain::TenantId;
use serde_json::Value;
use sqlx::PgConnection;
use sqlx::types::Json;
use uuid::Uuid;

use crate::error::StoreResult;

/// The channel workers LISTEN on; a notification means "there may be due work".
pub const WAKE_CHANNEL: &str = "ricochet_deliveries";

/// An event to publish.
#[derive(Debug)]
pub struct NewEvent<'a> {
    /// The client's (or a generated) id.
    pub id: &'a str,
    /// Its type.
    pub kind: &'a str,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Its data.
    pub data: &'a Value,
}

/// One delivery made for an event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRef {
    /// The delivery.
    pub id: Uuid,
    /// The integration it goes to.
    pub integration_id: Uuid,
}

/// What publishing did.
#[derive(Debug)]
pub struct Published {
    /// False when the tenant had already published this id: nothing new was made.
    pub created: bool,
    /// The deliveries of the event (the original ones for a repeat).
    pub deliveries: Vec<DeliveryRef>,
}

/// Wakes the workers after commits, outside any transaction, folding wake-ups requested while
/// one is being sent into one NOTIFY. Should the process die between a commit and its wake-up,
/// the workers' fallback poll finds the work anyway.
#[derive(Debug, Clone)]
pub struct Waker {
    pending: std::sync::Arc<tokio::sync::Notify>,
}

impl Waker {
    /// Starts the task sending NOTIFYs on `pool`.
    pub fn spawn(pool: sqlx::PgPool) -> Waker {
        let pending = std::sync::Arc::new(tokio::sync::Notify::new());
        let requests = pending.clone();
        tokio::spawn(async move {
            loop {
                requests.notified().await;
                if let Err(e) = sqlx::query("SELECT pg_notify($1, '')")
                    .bind(WAKE_CHANNEL)
                    .execute(&pool)
                    .await
                {
                    tracing::warn!(error = %e, "waking the workers failed; they find the work on their next poll");
                }
            }
        });
        Waker { pending }
    }

    /// Asks for a wake-up (cheap; never waits).
    pub fn wake(&self) {
        self.pending.notify_one();
    }
}

/// Tells every listening worker, when the transaction commits, that work may be due.
pub async fn wake_workers(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(WAKE_CHANNEL)
        .execute(conn)
        .await?;
    Ok(())
}

async fn deliveries_of(
    conn: &mut PgConnection,
    tenant: TenantId,
    event: &str,
) -> StoreResult<Vec<DeliveryRef>> {
    let rows = sqlx::query_as("SELECT id, integration_id FROM deliveries WHERE tenant_id = $1 AND event_id = $2 ORDER BY integration_id")
        .bind(tenant.0)
        .bind(event)
        .fetch_all(conn)
        .await?;
    Ok(rows)
}

/// One event of a batch to publish, with the binding patterns that match its type.
#[derive(Debug)]
pub struct BatchEvent<'a> {
    /// Its tenant.
    pub tenant: TenantId,
    /// The event.
    pub event: NewEvent<'a>,
    /// The patterns matching its type (`matching_patterns`).
    pub patterns: &'a [String],
}

/// Publishes events (one, or many for group commit: the caller commits once for all) in a
/// handful of statements: each event, and one delivery per enabled, live integration bound by
/// one of its patterns. A repeated id, even one repeated within the batch, makes nothing new
/// and returns the original deliveries. It does not wake the workers: the caller does, after
/// the commit, with a [`Waker`] (a NOTIFY inside the transaction would hold a cluster-wide lock
/// until the commit is flushed and serialize concurrent commits).
pub async fn publish_batch(
    conn: &mut PgConnection,
    batch: &[BatchEvent<'_>],
) -> StoreResult<Vec<Published>> {
    let tenants: Vec<Uuid> = batch.iter().map(|b| b.tenant.0).collect();
    let ids: Vec<&str> = batch.iter().map(|b| b.event.id).collect();
    let kinds: Vec<&str> = batch.iter().map(|b| b.event.kind).collect();
    let times: Vec<DateTime<Utc>> = batch.iter().map(|b| b.event.occurred_at).collect();
    let data: Vec<Json<&Value>> = batch.iter().map(|b| Json(b.event.data)).collect();
    let inserted: Vec<(Uuid, String)> = sqlx::query_as(
        "INSERT INTO events (tenant_id, id, event_type, occurred_at, data)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[])
         -- In key order: batches committed side by side then take their row locks in the same
         -- order and cannot deadlock on a repeated id.
         ORDER BY 1, 2
         ON CONFLICT (tenant_id, id) DO NOTHING
         RETURNING tenant_id, id",
    )
    .bind(&tenants)
    .bind(&ids)
    .bind(&kinds)
    .bind(&times)
    .bind(&data)
    .fetch_all(&mut *conn)
    .await?;
    // The first of the batch with a new (tenant, id) created it; every other one is a repeat.
    let mut created = vec![false; batch.len()];
    let mut fresh: std::collections::HashSet<(Uuid, &str)> =
        inserted.iter().map(|(t, id)| (*t, id.as_str())).collect();
    for (i, b) in batch.iter().enumerate() {
        created[i] = fresh.remove(&(b.tenant.0, b.event.id));
    }
    let (mut ords, mut patterns) = (Vec::new(), Vec::new());
    for (i, b) in batch.iter().enumerate().filter(|(i, _)| created[*i]) {
        for pattern in b.patterns {
            ords.push(i32::try_from(i).unwrap_or(i32::MAX));
            patterns.push(pattern.as_str());
        }
    }
    let targets: Vec<(i32, Uuid)> = sqlx::query_as(
        "SELECT DISTINCT w.ord, b.integration_id
         FROM unnest($1::int[], $2::text[], $3::uuid[]) AS w(ord, pattern, tenant_id)
         JOIN event_bindings b ON b.tenant_id = w.tenant_id AND b.event_type = w.pattern
         JOIN integrations i ON i.id = b.integration_id AND i.enabled AND i.deleted_at IS NULL
         ORDER BY w.ord, b.integration_id",
    )
    .bind(&ords)
    .bind(&patterns)
    .bind(
        ords.iter()
            .map(|o| batch[usize::try_from(*o).unwrap_or(0)].tenant.0)
            .collect::<Vec<_>>(),
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut results: Vec<Published> = created
        .iter()
        .map(|c| Published {
            created: *c,
            deliveries: Vec::new(),
        })
        .collect();
    if !targets.is_empty() {
        let delivery_ids: Vec<Uuid> = targets.iter().map(|_| Uuid::now_v7()).collect();
        let rows: Vec<&BatchEvent<'_>> = targets
            .iter()
            .map(|(ord, _)| &batch[usize::try_from(*ord).unwrap_or(0)])
            .collect();
        sqlx::query(
            "INSERT INTO deliveries (id, tenant_id, event_id, integration_id)
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[])",
        )
        .bind(&delivery_ids)
        .bind(rows.iter().map(|b| b.tenant.0).collect::<Vec<_>>())
        .bind(rows.iter().map(|b| b.event.id).collect::<Vec<_>>())
        .bind(
            targets
                .iter()
                .map(|(_, integration)| *integration)
                .collect::<Vec<_>>(),
        )
        .execute(&mut *conn)
        .await?;
        for ((ord, integration_id), id) in targets.iter().zip(delivery_ids) {
            if let Some(result) = results.get_mut(usize::try_from(*ord).unwrap_or(usize::MAX)) {
                result.deliveries.push(DeliveryRef {
                    id,
                    integration_id: *integration_id,
                });
            }
        }
    }
    for (i, b) in batch.iter().enumerate().filter(|(i, _)| !created[*i]) {
        results[i].deliveries =
            repeat_deliveries(conn, b.tenant, b.event.id, batch, &results, i).await?;
    }
    Ok(results)
}

/// The deliveries of an event published before: made earlier in this batch, or stored.
async fn repeat_deliveries(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: &str,
    batch: &[BatchEvent<'_>],
    results: &[Published],
    upto: usize,
) -> StoreResult<Vec<DeliveryRef>> {
    let original = batch[..upto]
        .iter()
        .zip(results)
        .position(|(b, r)| r.created && b.tenant == tenant && b.event.id == id);
    match original {
        Some(first) => Ok(results[first].deliveries.clone()),
        None => deliveries_of(conn, tenant, id).await,
    }
}
