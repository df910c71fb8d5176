//! Operator commands that read the database directly, across tenants: `tenants list`,
//! `tenants show NAME` (integrations with their health) and `status` (queue depth, lag,
//! failing integrations). Text for people, `--json` for scripts.

use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use ricochet_api::overview::{
    HEALTH_WINDOW_MINUTES, IntegrationHealthOut, OverviewOut, QueueOut, TenantSummaryOut,
};
use ricochet_store::overview::{integration_health, tenant_summaries};
use ricochet_store::stats::queue_depth;

use crate::cli::open;
use crate::config::GlobalOpts;

fn when(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "-".to_owned(),
        |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
}

fn since() -> DateTime<Utc> {
    Utc::now() - Duration::minutes(HEALTH_WINDOW_MINUTES)
}

/// `ricochet tenants list`.
pub async fn tenants_list(global: &GlobalOpts, json: bool) -> anyhow::Result<()> {
    let db = open(global).await?;
    let tenants = tenant_summaries(&db.pool, None).await;
    db.close().await;
    let tenants: Vec<TenantSummaryOut> = tenants
        .context("reading tenants")?
        .into_iter()
        .map(Into::into)
        .collect();
    let mut out = std::io::stdout();
    if json {
        writeln!(out, "{}", serde_json::to_string(&tenants)?)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:<32} {:<36} {:>12} {:>12}  CREATED",
        "NAME", "ID", "INTEGRATIONS", "DEAD LETTERS"
    )?;
    for t in &tenants {
        writeln!(
            out,
            "{:<32} {:<36} {:>12} {:>12}  {}",
            t.name,
            t.id,
            t.integrations,
            t.dead_letters,
            when(Some(t.created_at))
        )?;
    }
    Ok(())
}

/// `ricochet tenants show NAME`.
pub async fn tenants_show(global: &GlobalOpts, name: &str, json: bool) -> anyhow::Result<()> {
    let db = open(global).await?;
    let result = async {
        let tenant = tenant_summaries(&db.pool, Some(name))
            .await?
            .into_iter()
            .next();
        let Some(tenant) = tenant else {
            return Ok(None);
        };
        let health = integration_health(&db.pool, Some(tenant.id), since(), false).await?;
        Ok::<_, ricochet_store::StoreError>(Some((tenant, health)))
    }
    .await;
    db.close().await;
    let (tenant, health) = result
        .context("reading the tenant")?
        .with_context(|| format!("no tenant named `{name}`"))?;
    let failing: Vec<bool> = health.iter().map(|h| h.failing()).collect();
    let tenant = TenantSummaryOut::from(tenant);
    let integrations: Vec<IntegrationHealthOut> = health.into_iter().map(Into::into).collect();
    let mut out = std::io::stdout();
    if json {
        let integrations: Vec<serde_json::Value> = integrations
            .iter()
            .zip(&failing)
            .map(|(i, failing)| {
                let mut v = serde_json::to_value(i).unwrap_or_default();
                v["failing"] = (*failing).into();
                v
            })
            .collect();
        let value = serde_json::json!({ "tenant": tenant, "integrations": integrations });
        writeln!(out, "{value}")?;
        return Ok(());
    }
    writeln!(out, "tenant:       {} ({})", tenant.name, tenant.id)?;
    writeln!(out, "dead letters: {}", tenant.dead_letters)?;
    writeln!(out, "integrations (last {HEALTH_WINDOW_MINUTES} min):")?;
    writeln!(
        out,
        "  {:<32} {:<8} {:>8} {:>8} {:>8}  {:<19}  {:<19}  HEALTH",
        "NAME", "ENABLED", "ATTEMPTS", "FAILED", "SUCCESS", "LAST SUCCESS", "LAST FAILURE",
    )?;
    for (i, failing) in integrations.iter().zip(failing) {
        let health = if failing {
            "failing"
        } else if i.attempts == 0 {
            "idle"
        } else {
            "ok"
        };
        writeln!(
            out,
            "  {:<32} {:<8} {:>8} {:>8} {:>8}  {:<19}  {:<19}  {health}",
            i.name,
            i.enabled,
            i.attempts,
            i.failed,
            i.success_rate
                .map_or_else(|| "-".to_owned(), |r| format!("{:.1}%", r * 100.0)),
            when(i.last_success_at),
            when(i.last_failure_at),
        )?;
    }
    Ok(())
}

/// `ricochet status`.
pub async fn status(global: &GlobalOpts, json: bool) -> anyhow::Result<()> {
    let db = open(global).await?;
    let result = async {
        let queue = queue_depth(&db.pool).await?;
        let tenants = tenant_summaries(&db.pool, None).await?;
        let failing = integration_health(&db.pool, None, since(), true).await?;
        Ok::<_, ricochet_store::StoreError>((queue, tenants, failing))
    }
    .await;
    db.close().await;
    let (queue, tenants, failing) = result.context("reading the status")?;
    let overview = OverviewOut {
        queue: QueueOut::from(queue),
        tenants: tenants.into_iter().map(Into::into).collect(),
        failing_integrations: failing.into_iter().map(Into::into).collect(),
    };
    let mut out = std::io::stdout();
    if json {
        writeln!(out, "{}", serde_json::to_string(&overview)?)?;
        return Ok(());
    }
    let q = &overview.queue;
    writeln!(
        out,
        "queue:    {} due, {} scheduled, {} in flight, {} paused, {} blocked",
        q.due, q.scheduled, q.in_flight, q.paused, q.blocked
    )?;
    writeln!(
        out,
        "lag:      {:.1} s (age of the oldest due delivery)",
        q.lag_seconds
    )?;
    writeln!(out, "tenants:  {}", overview.tenants.len())?;
    writeln!(
        out,
        "failing integrations (last {HEALTH_WINDOW_MINUTES} min): {}",
        overview.failing_integrations.len()
    )?;
    for i in &overview.failing_integrations {
        writeln!(
            out,
            "  {} / {} ({}): {} of {} attempts failed, last failure {}, last success {}",
            i.tenant_name,
            i.name,
            i.integration_id,
            i.failed,
            i.attempts,
            when(i.last_failure_at),
            when(i.last_success_at)
        )?;
    }
    Ok(())
}
