//! An order's and a quote's timelines in order; the same events replayed twice and interleaved
//! differently across topics (each key's order kept) give identical views; an older status
//! never overwrites a newer one.

use chrono::{Duration as Span, Utc};
use serde_json::{Value, json};

use crate::harness::{OpsStack, envelope, operator, order_moved, task_moved};

/// The steps of one order's life, oldest first, for `tenant`.
fn order_life(tenant: &str, order: &str) -> Vec<(&'static str, Value)> {
    let t0 = Utc::now() - Span::minutes(10);
    let at = |s: i64| t0 + Span::seconds(s);
    vec![
        order_moved(tenant, order, 1, "DRAFT", "ACKNOWLEDGED", at(0)),
        order_moved(tenant, order, 2, "ACKNOWLEDGED", "IN_PROGRESS", at(1)),
        task_moved(tenant, order, "t-1", "DISPATCHED", at(2)),
        (
            "integration.provisioning.events.v1",
            envelope(
                tenant,
                "integration.provisioning.activation-succeeded.v1",
                ("ExternalOperation", "x-1", 1),
                order,
                at(3),
                "integration-service",
                json!({
                "orderId": order, "system": "PROVISIONING", "operation": "PROVISIONING_ACTIVATE",
                "outcome": "SUCCEEDED", "status": "SUCCEEDED", "attempts": 2,
                "result": {"externalReference": "PRV-1", "externalState": "ACTIVE"}, "failure": null}),
            ),
        ),
        task_moved(tenant, order, "t-1", "SUCCEEDED", at(4)),
        (
            "audit.evidence.events.v1",
            envelope(
                tenant,
                "audit.evidence-submitted.v1",
                ("Order", order, 3),
                &format!("bt-{order}"),
                at(5),
                "ops1",
                json!({
                "eventType": "oms.order.task-retried", "actor": {"actorId": "ops1", "actorType": "HUMAN_AGENT"},
                "resource": {"resourceType": "Order", "resourceId": order, "resourceVersion": 3},
                "businessReason": "provisioning fixed upstream"}),
            ),
        ),
        order_moved(tenant, order, 3, "IN_PROGRESS", "COMPLETED", at(6)),
    ]
}

/// What the views say about one order, without per-tenant identifiers.
async fn views(
    stack: &OpsStack,
    tenant: &str,
    order: &str,
) -> (Value, Vec<(String, Option<String>, Value)>) {
    let state: (String, i64) = sqlx::query_as(
        "SELECT status, status_version FROM order_view WHERE tenant_id = $1 AND order_id = $2",
    )
    .bind(tenant)
    .bind(order)
    .fetch_one(&stack.owner)
    .await
    .unwrap();
    let timeline = stack
        .get(&format!("/timelines/orders/{order}"), &operator(tenant))
        .await;
    let steps = timeline["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["toStatus"].as_str().map(str::to_owned),
                e["summary"].clone(),
            )
        })
        .collect();
    (json!({"status": state.0, "version": state.1}), steps)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timelines_are_ordered_and_replays_or_reorderings_change_nothing() {
    let stack = OpsStack::start(&[]).await;
    let (calm, busy) = ("calm", "busy");
    let life = order_life(calm, "o-1");
    stack.publish(&life).await;
    stack
        .wait_count(
            "SELECT count(*) FROM projected_event WHERE tenant_id = 'calm'",
            7,
        )
        .await;

    // The same life in another tenant: topics interleaved the other way round (the order's own
    // events keep their order), and everything delivered twice.
    let mut other = order_life(busy, "o-1");
    let (orders, rest): (Vec<_>, Vec<_>) = other
        .drain(..)
        .partition(|(topic, _)| *topic == "oms.order.events.v1");
    let mut shuffled: Vec<(&str, Value)> = rest.into_iter().rev().collect();
    shuffled.extend(orders);
    let again = shuffled.clone();
    stack.publish(&shuffled).await;
    stack.publish(&again).await;
    stack
        .wait_count(
            "SELECT count(*) FROM projected_event WHERE tenant_id = 'busy'",
            7,
        )
        .await;
    stack
        .wait_count(
            "SELECT count(*) FROM inbox_message WHERE consumer_group = 'ops.projections'",
            14,
        )
        .await;

    let (calm_state, calm_steps) = views(&stack, calm, "o-1").await;
    let (busy_state, busy_steps) = views(&stack, busy, "o-1").await;
    assert_eq!(calm_state, json!({"status": "COMPLETED", "version": 3}));
    assert_eq!(
        busy_state, calm_state,
        "rebuilt by another interleaving, the state is the same"
    );
    assert_eq!(busy_steps, calm_steps, "and so is the timeline");
    let kinds: Vec<&str> = calm_steps.iter().map(|(k, _, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "ORDER_STATE",
            "ORDER_STATE",
            "TASK",
            "EXTERNAL_CALL",
            "TASK",
            "AUDIT_DECISION",
            "ORDER_STATE"
        ]
    );
    assert_eq!(calm_steps[3].2["externalReference"], "PRV-1");
    assert_eq!(calm_steps[5].2["reason"], "provisioning fixed upstream");

    // An older status delivered late does not move the order back.
    let late = order_moved(calm, "o-1", 2, "ACKNOWLEDGED", "IN_PROGRESS", Utc::now());
    stack.publish(&[late]).await;
    stack
        .wait_count(
            "SELECT count(*) FROM projected_event WHERE tenant_id = 'calm'",
            8,
        )
        .await;
    assert_eq!(views(&stack, calm, "o-1").await.0["status"], "COMPLETED");

    // A quote's timeline.
    let t0 = Utc::now() - Span::minutes(5);
    let quote_events: Vec<(&str, Value)> = [("cpq.quote.created.v1", "DRAFT", "DRAFT", 1), ("cpq.quote.priced.v1", "DRAFT", "PRICED", 2), ("cpq.quote.converted.v1", "ACCEPTED", "CONVERTED", 3)]
        .iter()
        .map(|(event_type, from, to, version)| {
            ("cpq.quote.events.v1", envelope(calm, event_type, ("Quote", "q-9", *version), "q-9", t0 + Span::seconds(*version), "sales1", json!({
                "quoteId": "q-9", "customerId": "CUST-1", "revision": 1, "fromStatus": from, "toStatus": to, "priceHash": "ab"})))
        })
        .collect();
    stack.publish(&quote_events).await;
    stack
        .wait_count(
            "SELECT count(*) FROM projected_event WHERE quote_id = 'q-9'",
            3,
        )
        .await;
    let quote = stack.get("/timelines/quotes/q-9", &operator(calm)).await;
    let statuses: Vec<&str> = quote["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["toStatus"].as_str())
        .collect();
    assert_eq!(statuses, ["DRAFT", "PRICED", "CONVERTED"]);
    // Tenants see only their own.
    let foreign = stack.get("/timelines/quotes/q-9", &operator(busy)).await;
    assert_eq!(foreign["entries"], json!([]));
    stack.stop().await;
}
