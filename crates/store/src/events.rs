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

/// Publishes `event` to every enabled, live integration bound by one of `patterns`. A repeated
/// id makes nothing new and returns the original deliveries.
pub async fn publish(
    conn: &mut PgConnection,
    tenant: TenantId,
    event: &NewEvent<'_>,
    patterns: &[String],
) -> StoreResult<Published> {
    let inserted = sqlx::query(
        "INSERT INTO events (tenant_id, id, event_type, occurred_at, data) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, id) DO NOTHING",
    )
    .bind(tenant.0)
    .bind(event.id)
    .bind(event.kind)
    .bind(event.occurred_at)
    .bind(Json(event.data))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(Published {
            created: false,
            deliveries: deliveries_of(conn, tenant, event.id).await?,
        });
    }
    let targets: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT b.integration_id FROM event_bindings b
         JOIN integrations i ON i.id = b.integration_id
         WHERE b.tenant_id = $1 AND b.event_type = ANY($2) AND i.enabled AND i.deleted_at IS NULL
         ORDER BY b.integration_id",
    )
    .bind(tenant.0)
    .bind(patterns)
    .fetch_all(&mut *conn)
    .await?;
    if targets.is_empty() {
        return Ok(Published {
            created: true,
            deliveries: Vec::new(),
        });
    }
    let ids: Vec<Uuid> = targets.iter().map(|_| Uuid::now_v7()).collect();
    let deliveries = sqlx::query_as(
        "INSERT INTO deliveries (id, tenant_id, event_id, integration_id)
         SELECT id, $1, $2, integration_id FROM unnest($3::uuid[], $4::uuid[]) AS t(id, integration_id)
         RETURNING id, integration_id",
    )
    .bind(tenant.0)
    .bind(event.id)
    .bind(&ids)
    .bind(&targets)
    .fetch_all(&mut *conn)
    .await?;
    wake_workers(conn).await?;
    Ok(Published {
        created: true,
        deliveries,
    })
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
