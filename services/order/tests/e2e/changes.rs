//! The installed base changes by order: a MODIFY raises bandwidth on an ACTIVE asset (version
//! +1 with a history row) while a second MODIFY of the same asset is refused as long as the
//! first is in flight; a DELETE of a parent disconnects its add-on first.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use super::actions::{Catalog, id, tasks};
use super::stack::Stack;

const CUSTOMER: &str = "CUST-CHANGES";

fn add_order(catalog: Catalog) -> Value {
    json!({"customerId": CUSTOMER, "currency": "USD", "captureEvidence": {"signedForm": "SF-1"},
           "items": [
               {"lineRef": "1", "action": "ADD", "offeringId": catalog.internet, "offeringVersion": 1,
                "characteristics": {"bandwidthMbps": 100}, "recurringCharge": "149.00"},
               {"lineRef": "2", "action": "ADD", "offeringId": catalog.static_ip, "offeringVersion": 1,
                "parentRef": "1", "characteristics": {"ipCount": 1}, "recurringCharge": "15.00"}]})
}

fn modify(catalog: Catalog, asset: &str, bandwidth: u32) -> Value {
    json!({"customerId": CUSTOMER, "currency": "USD", "captureEvidence": {"ticket": "T-7"},
           "items": [{"lineRef": "1", "action": "MODIFY", "offeringId": catalog.internet, "offeringVersion": 1,
                      "productInstanceId": asset, "characteristics": {"bandwidthMbps": bandwidth},
                      "recurringCharge": "199.00"}]})
}

async fn completed(stack: &Stack, created: (StatusCode, Value)) -> Value {
    let (status, body) = created;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let order = id(&body, "id");
    let done = stack
        .wait_order(order, &["COMPLETED", "FALLOUT", "FAILED"])
        .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    done
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn modify_bumps_the_version_one_at_a_time_and_delete_disconnects_add_ons_first() {
    let stack = Stack::start(true).await;
    let catalog = stack.seed_catalog().await;

    // A direct order needs its Idempotency-Key, and the same key replays the first answer.
    let (status, refused) = stack
        .call(
            "sales1",
            reqwest::Method::POST,
            format!("{}/orders", stack.order_base),
            Some(&add_order(catalog)),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["code"], "IDEMPOTENCY_KEY_REQUIRED");
    let first = stack
        .direct_order("sales1", "add-1", &add_order(catalog))
        .await;
    let again = stack
        .direct_order("sales1", "add-1", &add_order(catalog))
        .await;
    assert_eq!(first.1["id"], again.1["id"], "one key, one order");
    completed(&stack, first).await;
    let assets = stack.assets(CUSTOMER).await;
    let internet = assets
        .iter()
        .find(|a| a["parentId"].is_null())
        .expect("internet asset");
    let internet_id = internet["id"].as_str().unwrap().to_owned();
    assert_eq!(
        internet["version"], 2,
        "created PENDING_ACTIVATION, then ACTIVE"
    );

    // Hold the first MODIFY at provisioning, so it is in flight when the second arrives.
    stack
        .sim
        .add_fault(
            json!({"system": "provisioning", "operation": "modify", "mode": "DELAY",
                          "delayMs": 1500, "times": 1}),
        )
        .await;
    let (status, body) = stack
        .direct_order("sales1", "modify-1", &modify(catalog, &internet_id, 500))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let modify_order = id(&body, "id");
    let (second, refusal) = stack
        .direct_order("sales1", "modify-2", &modify(catalog, &internet_id, 1000))
        .await;
    assert_eq!(second, StatusCode::CONFLICT, "{refusal}");
    assert_eq!(refusal["code"], "ASSET_OPERATION_IN_PROGRESS");
    let done = stack
        .wait_order(modify_order, &["COMPLETED", "FALLOUT", "FAILED"])
        .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let asset = stack.asset(&internet_id).await;
    assert_eq!(asset["status"], "ACTIVE");
    assert_eq!(asset["characteristics"]["bandwidthMbps"], 500);
    let history = asset["history"].as_array().unwrap();
    assert_eq!(
        asset["version"], 4,
        "PENDING_MODIFICATION, then ACTIVE again: {asset}"
    );
    assert_eq!(history.len(), 4);
    assert_eq!(history.last().unwrap()["orderId"], modify_order.to_string());
    assert_eq!(
        history.last().unwrap()["characteristics"]["bandwidthMbps"],
        500
    );
    assert_eq!(
        history[1]["characteristics"]["bandwidthMbps"], 100,
        "the history keeps the before"
    );
    // Once the first is done, the guard is free again.
    completed(
        &stack,
        stack
            .direct_order("sales1", "modify-3", &modify(catalog, &internet_id, 1000))
            .await,
    )
    .await;

    // DELETE of the parent: the add-on's DELETE is added, and its deactivation runs first.
    let delete = json!({"customerId": CUSTOMER, "currency": "USD", "captureEvidence": {"ticket": "T-9"},
        "items": [{"lineRef": "1", "action": "DELETE", "offeringId": catalog.internet, "offeringVersion": 1,
                   "productInstanceId": internet_id}]});
    let done = completed(
        &stack,
        stack.direct_order("sales1", "delete-1", &delete).await,
    )
    .await;
    assert_eq!(
        done["items"].as_array().unwrap().len(),
        2,
        "the add-on's DELETE joined: {done}"
    );
    let order = id(&done, "id");
    let windows = stack.call_windows(order).await;
    let deactivations: Vec<(Uuid, bool)> = tasks(&done)
        .iter()
        .filter(|t| t["taskType"] == "DEACTIVATE_SERVICE")
        .map(|t| {
            let item = done["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["orderItemId"] == t["orderItemId"])
                .unwrap();
            (id(t, "taskId"), item["parentItemId"].is_string())
        })
        .collect();
    assert_eq!(deactivations.len(), 2);
    let add_on = deactivations.iter().find(|(_, child)| *child).unwrap().0;
    let parent = deactivations.iter().find(|(_, child)| !*child).unwrap().0;
    assert!(
        windows[&parent].0 >= windows[&add_on].1.unwrap(),
        "the add-on is disconnected first"
    );
    for asset in stack.assets(CUSTOMER).await {
        assert_eq!(asset["status"], "DISCONNECTED", "{asset}");
        assert!(asset["terminationDate"].is_string());
    }
    stack.stop().await;
}
