//! How the claim is planned on a populated table: each lane's due deliveries by the lane's due
//! index (earliest first: no sort of every pending row, no walk through other lanes' rows),
//! each claimed delivery's event by its key. Wrong choices here once made e2e-10 run at half
//! speed (BENCHMARKS.md, 2026-12-06): the planner took them from statistics that lag a table
//! growing by thousands of rows a second, which this test reproduces by analysing while the
//! tables are small; and, with fresh statistics, it joined the claimed batch to a scan of every
//! event. And how the delivery list of one event is planned there: by key, not by walking the
//! tenant's deliveries.

use std::sync::Arc;

use reqwest::StatusCode;
use ricochet_runtime::Handoff;
use serde_json::{Value, json};

use crate::harness::{Session, TestApp};
use crate::receiver::Receiver;

/// Every scan of a plan: (node type, relation, index), depth first; a scan of a function's
/// rows has no relation.
fn scans(node: &Value, out: &mut Vec<(String, String, String)>) {
    let text = |key: &str| node[key].as_str().unwrap_or_default().to_owned();
    if !node["Relation Name"].is_null() || node["Node Type"] == "Function Scan" {
        out.push((text("Node Type"), text("Relation Name"), text("Index Name")));
    }
    for child in node["Plans"].as_array().into_iter().flatten() {
        scans(child, out);
    }
}

/// The claim's plan, as a worker would run it now (128 deliveries, 250 ms ahead), knowing the
/// settings of every integration: planned for these values, or (`generic`) for any, as
/// PostgreSQL plans a prepared statement after its fifth execution.
async fn claim_plan(app: &TestApp, generic: bool) -> Vec<(String, String, String)> {
    let explain = format!(
        "EXPLAIN (FORMAT JSON) {}",
        ricochet_store::deliveries::CLAIM_SQL
    );
    let (ids, versions): (Vec<uuid::Uuid>, Vec<i32>) =
        sqlx::query_as("SELECT coalesce(array_agg(id), '{}'), coalesce(array_agg(version), '{}') FROM integrations")
            .fetch_one(&app.pool)
            .await
            .expect("the integrations' versions");
    // For this transaction only: it is rolled back when dropped.
    let mut tx = app.pool.begin().await.expect("a transaction");
    let mode = if generic {
        "force_generic_plan"
    } else {
        "auto"
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SET LOCAL plan_cache_mode = {mode}"
    )))
    .execute(&mut *tx)
    .await
    .expect("the plan cache mode");
    let (plan,): (Value,) = sqlx::query_as(sqlx::AssertSqlSafe(explain))
        .bind("worker-plan")
        .bind(128_i64)
        .bind(5_000_i64)
        .bind(250_i64)
        .bind(4_i64)
        .bind(1_000.0_f64)
        .bind(ids)
        .bind(versions)
        .fetch_one(&mut *tx)
        .await
        .expect("the claim explains");
    let mut out = Vec::new();
    scans(&plan[0]["Plan"], &mut out);
    out
}

/// Adds `events` events of the tenant, each with a pending delivery to each of its
/// integrations, due in the last second, straight into the tables: a backlog as e2e-10 builds
/// one, made in moments.
async fn backlog(app: &TestApp, tenant: &str, events: i32) {
    sqlx::query(
        "INSERT INTO events (tenant_id, id, event_type, occurred_at, data)
         SELECT $1::uuid, 'bulk-' || g, 'order.created', now(), jsonb_build_object('n', g)
         FROM generate_series(1, $2) g",
    )
    .bind(tenant)
    .bind(events)
    .execute(&app.pool)
    .await
    .expect("events");
    sqlx::query(
        "INSERT INTO deliveries (id, tenant_id, event_id, integration_id, next_attempt_at)
         SELECT gen_random_uuid(), $1::uuid, 'bulk-' || g, i.id,
             now() - interval '1 second' + g * interval '1 microsecond'
         FROM generate_series(1, $2) g CROSS JOIN integrations i WHERE i.tenant_id = $1::uuid",
    )
    .bind(tenant)
    .bind(events)
    .execute(&app.pool)
    .await
    .expect("deliveries");
}

async fn analyse(app: &TestApp) {
    sqlx::query("ANALYZE deliveries, events, delivery_lanes, integrations")
        .execute(&app.pool)
        .await
        .expect("analysed");
}

/// Whether a plan node, or one under it, searches `index` with a condition (looks rows up
/// rather than walking the whole index).
fn looks_up(node: &Value, index: &str) -> bool {
    (node["Index Name"] == index && !node["Index Cond"].is_null())
        || node["Plans"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|child| looks_up(child, index))
}

/// The plan of the delivery list of `event` (50 a page, no other filter), and its scans.
async fn list_of_event_plan(
    app: &TestApp,
    tenant: &str,
    event: &str,
) -> (Value, Vec<(String, String, String)>) {
    let explain = format!(
        "EXPLAIN (FORMAT JSON) {}",
        ricochet_store::activity::LIST_DELIVERIES_OF_EVENT_SQL
    );
    let (plan,): (Value,) = sqlx::query_as(sqlx::AssertSqlSafe(explain))
        .bind(uuid::Uuid::parse_str(tenant).expect("a tenant id"))
        .bind(None::<String>)
        .bind(None::<uuid::Uuid>)
        .bind(event)
        .bind(None::<uuid::Uuid>)
        .bind(None::<uuid::Uuid>)
        .bind(51_i64)
        .fetch_one(&app.pool)
        .await
        .expect("the list explains");
    let mut out = Vec::new();
    scans(&plan[0]["Plan"], &mut out);
    (plan[0]["Plan"].clone(), out)
}

/// Asserts the claim reads deliveries only by key or by a lane's due index (in order, so no
/// sort of a lane's every pending row), and events only by key: no scan of either table. And
/// that it scans no function's rows: the versions the worker knows (up to 4,096) once came as
/// an `unnest` joined to the claimed deliveries, and the generic plan scanned it again for each.
fn assert_claim_plan(plan: &[(String, String, String)], when: &str) {
    for (node, relation, index) in plan {
        if node == "ModifyTable" {
            continue;
        }
        assert_ne!(
            node, "Function Scan",
            "{when}: the claim scans a function's rows: {plan:?}"
        );
        match relation.as_str() {
            "deliveries" => assert!(
                ["deliveries_pkey", "deliveries_lane_due_idx"].contains(&index.as_str()),
                "{when}: the claim reads deliveries by {node} {index:?}: {plan:?}"
            ),
            "events" => assert_eq!(
                index, "events_pkey",
                "{when}: the claim finds events by {node} {index:?}: {plan:?}"
            ),
            _ => {}
        }
    }
    for table in ["deliveries", "events"] {
        assert!(
            plan.iter().any(|(_, relation, _)| relation == table),
            "{when}: the plan never reads {table}: {plan:?}"
        );
    }
}

/// [`assert_claim_plan`] on the claim planned for its values and on its generic plan.
async fn assert_claim_plans(app: &TestApp, when: &str) {
    assert_claim_plan(&claim_plan(app, false).await, when);
    assert_claim_plan(
        &claim_plan(app, true).await,
        &format!("{when}, generic plan"),
    );
}

#[tokio::test]
async fn the_claim_and_an_events_delivery_list_look_their_rows_up_on_a_large_backlog_with_stale_or_fresh_statistics()
 {
    // The API alone (no worker takes anything): every delivery stays pending.
    let app = TestApp::spawn_api_handing_to(Arc::new(Handoff::new("nobody", 8, 100))).await;
    let tenant = app.tenant("acme").await;
    let s = Session::new(&app, &tenant).await;
    let receiver = Receiver::start().await;
    for n in 0..10 {
        s.order_hook(&format!("hook-{n}"), &receiver.url, json!({}))
            .await;
    }

    // Statistics taken while the tables are small, then a backlog they do not know of: 20,000
    // events with 10 deliveries each.
    let (status, _) = s
        .publish(&json!({ "type": "order.created", "id": "order-1", "data": {} }))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    analyse(&app).await;
    backlog(&app, &tenant.id, 20_000).await;
    assert_claim_plans(&app, "statistics of 10 deliveries").await;

    // And once the statistics have caught up.
    analyse(&app).await;
    assert_claim_plans(&app, "statistics of 200,010 deliveries").await;

    // The oldest event's deliveries, behind 200,000 newer ones: looked up by key.
    let (plan, scans) = list_of_event_plan(&app, &tenant.id, "order-1").await;
    assert!(
        looks_up(&plan, "deliveries_pkey")
            && scans
                .iter()
                .all(|(node, relation, _)| relation != "deliveries" || node != "Seq Scan"),
        "the list of one event does not look its deliveries up: {scans:?}"
    );
}
