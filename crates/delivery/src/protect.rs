//! What the worker does when an integration's protection state changes: the circuit opening
//! or closing and the integration being disabled (a `410 Gone`, or failing too long) are
//! published into the tenant's own stream, where an alert integration can be bound to them.

use ricochet_domain::event::{CIRCUIT_CLOSED, CIRCUIT_OPENED, INTEGRATION_DISABLED};
use ricochet_domain::{IntegrationId, TenantId};
use ricochet_store::StoreError;
use ricochet_store::lanes::LaneChange;
use ricochet_store::{deliveries, integrations};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The integration a lane change is about.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subject<'a> {
    pub(crate) tenant: Uuid,
    pub(crate) integration: Uuid,
    pub(crate) name: &'a str,
}

/// Why Ricochet disabled an integration.
pub(crate) const GONE: &str = "gone";
/// Why Ricochet disabled an integration.
pub(crate) const FAILING: &str = "failing";

/// Publishes what a lane change calls for, and disables an integration failing too long.
pub(crate) async fn act(
    pool: &PgPool,
    change: &LaneChange,
    subject: Subject<'_>,
) -> Result<(), StoreError> {
    if change.opened {
        tracing::warn!(integration = %subject.integration, failures = change.consecutive_failures,
            cool_down_ms = change.cool_down_ms, "circuit opened: no attempts until the cool-down ends, then one probe");
        let data = json!({
            "integrationId": subject.integration,
            "integrationName": subject.name,
            "consecutiveFailures": change.consecutive_failures,
            "coolDownMs": change.cool_down_ms,
        });
        announce(
            pool,
            subject.tenant,
            CIRCUIT_OPENED,
            "circuit-opened",
            &data,
        )
        .await?;
    }
    if change.closed {
        tracing::info!(integration = %subject.integration, "circuit closed: the probe succeeded");
        let data = json!({
            "integrationId": subject.integration,
            "integrationName": subject.name,
        });
        announce(
            pool,
            subject.tenant,
            CIRCUIT_CLOSED,
            "circuit-closed",
            &data,
        )
        .await?;
    }
    if change.failing_too_long {
        let detail = format!(
            "every attempt failed for longer than settings.autoDisableAfter ({} in a row)",
            change.consecutive_failures
        );
        disable(pool, subject, FAILING, &detail).await?;
    }
    Ok(())
}

/// Disables an integration (if it is still enabled and live): its waiting deliveries wait,
/// and `integration.disabled` goes into its tenant's stream, in one transaction. Returns
/// whether it was disabled now.
pub(crate) async fn disable(
    pool: &PgPool,
    subject: Subject<'_>,
    reason: &str,
    detail: &str,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await?;
    let disabled = integrations::disable(
        &mut *tx,
        TenantId(subject.tenant),
        IntegrationId(subject.integration),
    )
    .await?;
    if !disabled {
        return Ok(false);
    }
    deliveries::set_integration_paused(
        &mut tx,
        TenantId(subject.tenant),
        IntegrationId(subject.integration),
        true,
    )
    .await?;
    tracing::warn!(integration = %subject.integration, reason, detail, "integration disabled");
    let data = json!({
        "integrationId": subject.integration,
        "integrationName": subject.name,
        "reason": reason,
        "detail": detail,
    });
    publish(
        &mut tx,
        subject.tenant,
        INTEGRATION_DISABLED,
        "disabled",
        &data,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Publishes one of Ricochet's own events into a tenant's stream, in its own transaction.
async fn announce(
    pool: &PgPool,
    tenant: Uuid,
    kind: &str,
    prefix: &str,
    data: &Value,
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    publish(&mut tx, tenant, kind, prefix, data).await?;
    tx.commit().await?;
    Ok(())
}

/// Publishes one of Ricochet's own events inside a transaction, waking the workers on commit
/// if it made deliveries.
async fn publish(
    conn: &mut PgConnection,
    tenant: Uuid,
    kind: &str,
    prefix: &str,
    data: &Value,
) -> Result<(), StoreError> {
    let id = format!("{prefix}-{}", Uuid::now_v7());
    if ricochet_runtime::publish::publish_own(conn, TenantId(tenant), kind, &id, data).await? {
        ricochet_store::wake::wake_workers(&mut *conn).await?;
    }
    Ok(())
}
