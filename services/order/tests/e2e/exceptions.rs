//! Repairs over the real stack (issue 24's acceptance), with the simulator's fault injection: a
//! refusal is not retried as is but redone with corrected data; a spent retry budget on many
//! orders is repaired by one bulk retry, each effect once, and the repeat changes nothing; an
//! unknown outcome is raised and retried; the installed base is repaired by command.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use super::actions::{Catalog, id, tasks};
use super::stack::Stack;

pub(super) fn router_order(catalog: Catalog, customer: &str, model: &str) -> Value {
    json!({"customerId": customer, "currency": "USD", "captureEvidence": {"signedForm": "SF-24"},
           "items": [{"lineRef": "1", "action": "ADD", "offeringId": catalog.router, "offeringVersion": 1,
                      "characteristics": {"model": model}, "recurringCharge": "39.00"}]})
}

impl Stack {
    /// Places a direct order as `user` under `key`; it must be taken.
    pub(super) async fn place(&self, user: &str, key: &str, body: &Value) -> Uuid {
        let (status, answer) = self.direct_order(user, key, body).await;
        assert!(status.is_success(), "{answer}");
        id(&answer, "id")
    }

    /// The order's fallout records.
    pub(super) async fn fallouts_of(&self, order: Uuid) -> Vec<Value> {
        let page = self
            .ok(
                "ops1",
                Method::GET,
                format!("{}/fallouts?orderId={order}", self.order_base),
                None,
            )
            .await;
        page["items"].as_array().cloned().unwrap_or_default()
    }

    /// A workbench action as `ops1`.
    pub(super) async fn act(&self, fallout: Uuid, body: &Value) -> (StatusCode, Value) {
        self.call(
            "ops1",
            Method::POST,
            format!("{}/fallouts/{fallout}/actions", self.order_base),
            Some(body),
            None,
        )
        .await
    }

    /// Waits until the order's task of `task_type` is in `status`.
    pub(super) async fn wait_task(&self, order: Uuid, task_type: &str, status: &str) -> Value {
        let until = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let view = self.order(order).await.expect("order");
            if let Some(task) = tasks(&view)
                .into_iter()
                .find(|t| t["taskType"] == task_type && t["status"] == status)
            {
                return task;
            }
            assert!(
                tokio::time::Instant::now() < until,
                "{task_type} never {status}: {view}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The audit evidence the order service submitted of `event_type`.
    pub(super) async fn evidence_of(&self, event_type: &str) -> Vec<Value> {
        sqlx::query_scalar(
            "SELECT envelope->'payload' FROM order_schema.outbox_event \
             WHERE event_type = 'audit.evidence-submitted.v1' AND envelope->'payload'->>'eventType' = $1",
        )
        .bind(event_type)
        .fetch_all(&self.order_db)
        .await
        .expect("evidence")
    }
}

pub(super) fn task_of<'a>(order: &'a Value, task_type: &str) -> &'a Value {
    order["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["taskType"] == task_type)
        .unwrap_or_else(|| panic!("{task_type} in {order}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refusal_is_not_retried_as_is_but_redone_with_corrected_data() {
    let stack = Stack::start(true).await;
    let catalog = stack.seed_catalog().await;
    stack
        .sim
        .add_fault(json!({"system": "provisioning", "operation": "activate", "mode": "REJECT",
                          "code": "MODEL_NOT_SUPPORTED", "message": "SRX-550 is not sold at this site",
                          "bodyContains": "SRX-550"}))
        .await;
    let order = stack
        .place(
            "sales1",
            "redo-1",
            &router_order(catalog, "CUST-REDO", "SRX-550"),
        )
        .await;
    let fell = stack.wait_order(order, &["FALLOUT", "COMPLETED"]).await;
    assert_eq!(fell["status"], "FALLOUT", "{fell}");
    let fallouts = stack.fallouts_of(order).await;
    assert_eq!(fallouts.len(), 1, "{fallouts:?}");
    let fallout = &fallouts[0];
    assert_eq!(fallout["status"], "OPEN");
    assert_eq!(fallout["category"], "EXTERNAL_REJECTION");
    assert_eq!(fallout["severity"], "HIGH");
    assert_eq!(fallout["retryable"], false);
    let fallout_id = id(fallout, "falloutId");

    let (status, refused) = stack
        .act(
            fallout_id,
            &json!({"action": "RETRY", "reason": "try again", "evidence": {"ticket": "INC-24"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "RETRY_NOT_ALLOWED");

    let correction = json!({"action": "RETRY_WITH_CORRECTION",
        "reason": "the customer agreed to the SRX-300", "evidence": {"ticket": "INC-24", "customerCall": "2026-12-06"},
        "correctedCharacteristics": {"model": "SRX-300"}});
    let (status, done) = stack.act(fallout_id, &correction).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["changed"], true);
    assert_eq!(done["fallout"]["status"], "RETRY_SCHEDULED");
    let completed = stack.wait_order(order, &["COMPLETED", "FALLOUT"]).await;
    assert_eq!(completed["status"], "COMPLETED", "{completed}");
    assert_eq!(completed["items"][0]["characteristics"]["model"], "SRX-300");
    let refused_task = task_of(&completed, "ACTIVATE_SERVICE");
    assert_eq!(refused_task["status"], "CANCELLED");
    let redo = task_of(&completed, "ACTIVATE_SERVICE_R2");
    assert_eq!(redo["status"], "SUCCEEDED");
    assert_eq!(redo["purpose"], "REDO");
    assert_eq!(redo["refersTo"], refused_task["taskId"]);
    // One activation applied downstream: the refused request left no effect.
    let effects = stack.effects(order).await;
    assert_eq!(
        effects
            .get(&id(refused_task, "taskId"))
            .copied()
            .unwrap_or(0),
        0
    );
    assert_eq!(effects[&id(redo, "taskId")], 1);
    assert!(effects.values().all(|n| *n <= 1), "{effects:?}");
    let resolved = stack.fallouts_of(order).await;
    assert_eq!(resolved[0]["status"], "RESOLVED", "{resolved:?}");
    assert_eq!(resolved[0]["resolutionType"], "CORRECTED_AND_RETRIED");
    // The plan keeps both revisions; the repeat changes nothing.
    let plan = stack
        .ok(
            "ops1",
            Method::GET,
            format!("{}/orders/{order}/plan", stack.order_base),
            None,
        )
        .await;
    assert_eq!(plan["planRevision"], 2, "{plan}");
    assert_eq!(plan["revisions"].as_array().unwrap().len(), 2);
    let (status, again) = stack.act(fallout_id, &correction).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["changed"], false);
    // The repair's evidence names the operator, the reason and what it rests on.
    let evidence = stack
        .evidence_of("oms.fallout.retried-with-correction")
        .await;
    assert_eq!(evidence.len(), 1, "{evidence:?}");
    assert_eq!(evidence[0]["actor"]["actorId"], "ops1");
    assert_eq!(
        evidence[0]["businessReason"],
        "the customer agreed to the SRX-300"
    );
    assert_eq!(evidence[0]["after"]["evidence"]["ticket"], "INC-24");
    stack.stop().await;
}

/// Orders of the bulk scenario (the acceptance's figure).
const BULK_ORDERS: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn spent_retries_on_many_orders_are_repaired_by_one_bulk_retry() {
    // A hundred orders retrying at once keep calls in flight for seconds on a loaded machine:
    // the stack's 4 s stuck-call watchdog would file some of them as RECONCILIATION while they
    // are still retrying, so this scenario runs with the watchdog at a minute.
    let stack = Stack::start_with(
        true,
        vec![("APP__ORDER__STUCK_CALL_AFTER_SECONDS", "60".to_owned())],
    )
    .await;
    let catalog = stack.seed_catalog().await;
    stack
        .sim
        .add_fault(json!({"system": "provisioning", "operation": "activate", "mode": "ERROR_5XX"}))
        .await;
    let mut orders = Vec::new();
    for n in 0..BULK_ORDERS {
        let (status, body) = stack
            .direct_order(
                "sales1",
                &format!("bulk-{n}"),
                &router_order(catalog, &format!("CUST-BULK-{n}"), "SRX-300"),
            )
            .await;
        assert!(status.is_success(), "{body}");
        orders.push(id(&body, "id"));
    }
    for order in &orders {
        let fell = stack.wait_order(*order, &["FALLOUT", "COMPLETED"]).await;
        assert_eq!(fell["status"], "FALLOUT", "{fell}");
    }
    stack.sim.clear_faults().await;
    let bulk = json!({"action": "RETRY", "reason": "provisioning is back (INC-5XX closed)",
                      "evidence": {"incident": "INC-5XX"},
                      "filter": {"category": "RETRIES_EXHAUSTED", "status": "OPEN"}});
    let url = format!("{}/fallouts/bulk-actions", stack.order_base);
    let (status, first) = stack
        .call(
            "ops1",
            Method::POST,
            url.clone(),
            Some(&bulk),
            Some("bulk-retry-1"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["applied"], BULK_ORDERS, "{first}");
    assert_eq!(first["refused"], 0, "{first}");
    for order in &orders {
        let done = stack.wait_order(*order, &["COMPLETED"]).await;
        let effects = stack.effects(*order).await;
        assert_eq!(effects.len(), tasks(&done).len(), "{done}");
        assert!(
            effects.values().all(|n| *n == 1),
            "each effect once: {effects:?}"
        );
    }
    // The same request again: the key replays the answer; a new key finds nothing to do.
    let (status, replay) = stack
        .call(
            "ops1",
            Method::POST,
            url.clone(),
            Some(&bulk),
            Some("bulk-retry-1"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replay, first);
    let everything = json!({"action": "RETRY", "reason": "provisioning is back (INC-5XX closed)",
                            "evidence": {"incident": "INC-5XX"},
                            "falloutIds": first["results"].as_array().unwrap().iter()
                                .map(|r| r["falloutId"].clone()).collect::<Vec<_>>()});
    let (status, again) = stack
        .call(
            "ops1",
            Method::POST,
            url,
            Some(&everything),
            Some("bulk-retry-2"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["unchanged"], BULK_ORDERS, "{again}");
    for order in &orders {
        let effects = stack.effects(*order).await;
        assert!(effects.values().all(|n| *n == 1), "{effects:?}");
        let fallouts = stack.fallouts_of(*order).await;
        assert!(
            fallouts.iter().all(|f| f["resolutionType"] == "RETRIED"),
            "{fallouts:?}"
        );
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_installed_base_is_repaired_by_command_with_evidence() {
    let stack = Stack::start(true).await;
    let catalog = stack.seed_catalog().await;
    let order = stack
        .place(
            "sales1",
            "repair-1",
            &router_order(catalog, "CUST-REPAIR", "SRX-300"),
        )
        .await;
    stack.wait_order(order, &["COMPLETED"]).await;
    let asset = stack.assets("CUST-REPAIR").await[0].clone();
    let instance = id(&asset, "id");
    let url = format!("{}/assets/{instance}/repairs", stack.order_base);
    let attach = json!({"repair": "ATTACH_REFERENCE", "referenceKind": "cpe", "reference": "CPE-991",
                        "reason": "the CPE serial was missing after a provisioning outage",
                        "evidence": {"provisioningLookup": "CPE-991 bound to SVC"}});
    let (status, refused) = stack
        .call("ops1", Method::POST, url.clone(), Some(&attach), None)
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an operator is not an ops lead: {refused}"
    );
    let (status, done) = stack
        .call("opslead1", Method::POST, url.clone(), Some(&attach), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["changed"], true);
    assert_eq!(done["references"]["cpe"], "CPE-991");
    let (_, again) = stack
        .call("opslead1", Method::POST, url.clone(), Some(&attach), None)
        .await;
    assert_eq!(again["changed"], false, "{again}");
    let mut other = attach.clone();
    other["reference"] = json!("CPE-000");
    let (status, refused) = stack
        .call("opslead1", Method::POST, url.clone(), Some(&other), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "REFERENCE_ALREADY_SET");
    let history = stack.asset(&instance.to_string()).await;
    assert_eq!(
        history["history"].as_array().unwrap().last().unwrap()["change"],
        "REFERENCE",
        "{history}"
    );
    // Only the table's recovery moves: an ACTIVE instance is not disconnected by hand.
    let disconnect = json!({"repair": "CORRECT_STATUS", "targetStatus": "DISCONNECTED",
                            "reason": "looks gone", "evidence": {"ticket": "T-1"}});
    let (status, refused) = stack
        .call(
            "opslead1",
            Method::POST,
            url.clone(),
            Some(&disconnect),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "STATUS_CORRECTION_NOT_ALLOWED");

    // A MODIFY refused downstream holds the guard while its order is in fallout; aborting the
    // order releases it.
    stack
        .sim
        .add_fault(
            json!({"system": "provisioning", "operation": "modify", "mode": "REJECT",
                          "code": "PORT_LOCKED", "message": "the port is locked"}),
        )
        .await;
    let modify = json!({"customerId": "CUST-REPAIR", "currency": "USD", "captureEvidence": {"signedForm": "SF-27"},
        "items": [{"lineRef": "1", "action": "MODIFY", "offeringId": catalog.router, "offeringVersion": 1,
                   "productInstanceId": instance, "characteristics": {"model": "SRX-550"}}]});
    let second = stack.place("sales1", "repair-2", &modify).await;
    stack.wait_order(second, &["FALLOUT"]).await;
    let release = json!({"repair": "RELEASE_GUARD", "reason": "the modify is stuck",
                         "evidence": {"ticket": "T-2"}});
    let (status, refused) = stack
        .call("opslead1", Method::POST, url.clone(), Some(&release), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "GUARD_IN_USE");
    let fallout = stack.fallouts_of(second).await[0].clone();
    let (status, aborted) = stack
        .act(
            id(&fallout, "falloutId"),
            &json!({"action": "ABORT_ORDER", "reason": "the customer keeps the SRX-300",
                    "evidence": {"customerCall": "2026-12-06"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{aborted}");
    assert_eq!(aborted["orderStatus"], "FAILED");
    let (status, nothing) = stack
        .call("opslead1", Method::POST, url.clone(), Some(&release), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{nothing}");
    assert_eq!(
        nothing["changed"], false,
        "the abort released it: {nothing}"
    );
    assert_eq!(nothing["instance"]["status"], "ACTIVE");
    // A guard left behind (a crash between two commands) is released by the repair.
    let item: Uuid =
        sqlx::query_scalar("SELECT order_item_id FROM order_schema.order_item WHERE order_id = $1")
            .bind(second)
            .fetch_one(&stack.order_db)
            .await
            .unwrap();
    sqlx::query(
        "INSERT INTO order_schema.product_instance_guard (product_instance_id, tenant_id, order_id, order_item_id, action) \
         VALUES ($1, 'demo', $2, $3, 'MODIFY')",
    )
    .bind(instance)
    .bind(second)
    .bind(item)
    .execute(&stack.order_db)
    .await
    .unwrap();
    let (status, released) = stack
        .call("opslead1", Method::POST, url, Some(&release), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{released}");
    assert_eq!(released["changed"], true);
    let evidence = stack
        .evidence_of("oms.product-instance.guard-released")
        .await;
    assert_eq!(evidence[0]["actor"]["actorId"], "opslead1", "{evidence:?}");
    assert_eq!(evidence[0]["after"]["evidence"]["ticket"], "T-2");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_call_whose_outcome_stays_unknown_is_raised_and_repaired_by_retry() {
    let stack = Stack::start(true).await;
    let catalog = stack.seed_catalog().await;
    // The activation is applied but its answer is lost, and the status queries fail: nobody
    // can tell whether it happened.
    stack
        .sim
        .add_fault(
            json!({"system": "provisioning", "operation": "activate", "mode": "DROP_CONNECTION",
                          "times": 1}),
        )
        .await;
    stack
        .sim
        .add_fault(json!({"system": "provisioning", "operation": "status", "mode": "ERROR_5XX"}))
        .await;
    let order = stack
        .place(
            "sales1",
            "unknown-1",
            &router_order(catalog, "CUST-UNKNOWN", "SRX-300"),
        )
        .await;
    let until = tokio::time::Instant::now() + Duration::from_secs(60);
    let raised = loop {
        let fallouts = stack.fallouts_of(order).await;
        if let Some(found) = fallouts.iter().find(|f| f["category"] == "RECONCILIATION") {
            break found.clone();
        }
        assert!(tokio::time::Instant::now() < until, "{fallouts:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(raised["failureCode"], "OUTCOME_UNKNOWN");
    assert_eq!(raised["severity"], "CRITICAL");
    assert_eq!(raised["retryable"], true);
    let view = stack.order(order).await.unwrap();
    assert_eq!(
        view["status"], "IN_PROGRESS",
        "nothing was assumed failed: {view}"
    );
    // The operator checks the downstream, which answers again; the retry asks once more.
    stack.sim.clear_faults().await;
    let (status, retried) = stack
        .act(
            id(&raised, "falloutId"),
            &json!({"action": "RETRY", "reason": "provisioning's status API is back",
                    "evidence": {"ticket": "INC-STATUS"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    assert_eq!(retried["fallout"]["status"], "RETRY_SCHEDULED");
    let done = stack.wait_order(order, &["COMPLETED", "FALLOUT"]).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let effects = stack.effects(order).await;
    assert!(
        effects.values().all(|n| *n == 1),
        "applied once: {effects:?}"
    );
    let resolved = stack.fallouts_of(order).await;
    assert!(
        resolved
            .iter()
            .all(|f| f["status"] == "RESOLVED" && f["resolutionType"] == "RETRIED"),
        "{resolved:?}"
    );
    stack.stop().await;
}
