//! Operator REST views (`/v1/ops`) of the embedded engine: an incident listed with its cause,
//! resolved over REST (with retries), and the instance continuing; what each token waits for.
//! These endpoints are the embedded engine's own (Camunda 8 has Operate), so against
//! `ZEEBE_ADDRESS` the scenarios stop after the gRPC part.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Target, bpmn, complete, key_of};

const WAIT: Duration = Duration::from_secs(5);

fn items(page: &Value) -> Vec<Value> {
    page["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_incident_is_listed_with_its_cause_resolved_over_rest_and_the_instance_continues() {
    let target = Target::start().await;
    target.deploy("retry.bpmn", &bpmn("retry.bpmn")).await;
    let key = target.create("retry", json!({"orderId": "o-5"})).await;
    let job = target.activate("retry-flaky", WAIT).await.expect("job");
    target
        .client
        .fail_job()
        .with_job_key(job.key())
        .with_retries(0)
        .with_error_message("ledger down".to_owned())
        .send()
        .await
        .expect("fail without retries");
    if !target.is_embedded() {
        return; // the operator API is the embedded engine's (Operate on Camunda 8)
    }

    let (status, page) = target
        .call(
            Method::GET,
            &format!("/v1/ops/incidents?state=ACTIVE&processInstanceKey={key}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["totalCount"], json!(1), "{page}");
    let incident = &items(&page)[0];
    assert_eq!(incident["errorType"], json!("JOB_NO_RETRIES"));
    assert_eq!(incident["errorMessage"], json!("ledger down"));
    assert_eq!(incident["elementId"], json!("Task_Flaky"));
    assert_eq!(incident["bpmnProcessId"], json!("retry"));
    assert_eq!(incident["state"], json!("ACTIVE"));
    assert_eq!(key_of(&incident["jobKey"]), job.key());
    assert_eq!(key_of(&incident["processInstanceKey"]), key);
    assert!(
        chrono::DateTime::parse_from_rfc3339(incident["creationTime"].as_str().unwrap()).is_ok()
    );
    let incident_key = key_of(&incident["incidentKey"]);

    let (status, detail) = target
        .call(Method::GET, &format!("/v1/ops/process-instances/{key}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(
        (&detail["state"], &detail["activeIncidents"]),
        (&json!("ACTIVE"), &json!(1))
    );
    let element = &detail["activeElements"][0];
    assert_eq!(element["elementId"], json!("Task_Flaky"));
    assert_eq!(element["elementType"], json!("serviceTask"));
    assert_eq!(element["job"]["state"], json!("FAILED"));
    assert_eq!(element["job"]["retries"], json!(0));
    assert_eq!(key_of(&element["incidentKeys"][0]), incident_key);
    assert!(
        detail["variables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["name"] == "orderId"
                && v["value"] == "o-5"
                && key_of(&v["scopeKey"]) == key),
        "{detail}"
    );
    assert_eq!(detail["incidents"].as_array().unwrap().len(), 1);

    let (status, page) = target
        .call(
            Method::GET,
            "/v1/ops/process-instances?state=ACTIVE&bpmnProcessId=retry",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        items(&page)
            .iter()
            .any(|i| key_of(&i["processInstanceKey"]) == key)
    );

    let resolve = format!("/v1/ops/incidents/{incident_key}/resolve");
    let (status, problem) = target.post(&resolve, &json!({"retries": 0})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["code"], json!("INVALID_ARGUMENT"));
    assert_eq!(
        target.incidents(key).await.len(),
        1,
        "a refused resolve changes nothing"
    );

    let (status, body) = target.post(&resolve, &json!({"retries": 2})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let resumed = target
        .activate("retry-flaky", WAIT)
        .await
        .expect("job after resolution");
    assert_eq!((resumed.key(), resumed.retries()), (job.key(), 2));
    complete(&target.client, &resumed, json!({})).await;
    assert_eq!(target.instance_state(key).await, "COMPLETED");

    let (_, active) = target
        .call(
            Method::GET,
            &format!("/v1/ops/incidents?state=ACTIVE&processInstanceKey={key}"),
        )
        .await;
    assert_eq!(active["totalCount"], json!(0));
    let (_, resolved) = target
        .call(
            Method::GET,
            &format!("/v1/ops/incidents?state=RESOLVED&processInstanceKey={key}"),
        )
        .await;
    assert_eq!(resolved["totalCount"], json!(1));
    assert!(items(&resolved)[0]["resolutionTime"].is_string());
    let (status, problem) = target.post(&resolve, &json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert_eq!(problem["code"], json!("NOT_FOUND"));

    let (_, completed) = target
        .call(
            Method::GET,
            "/v1/ops/process-instances?state=COMPLETED&bpmnProcessId=retry&limit=10",
        )
        .await;
    let mine = items(&completed)
        .into_iter()
        .find(|i| key_of(&i["processInstanceKey"]) == key)
        .expect("listed as completed");
    assert!(mine["endDate"].is_string());
    for (path, expected) in [
        ("/v1/ops/process-instances/1", StatusCode::NOT_FOUND),
        ("/v1/ops/process-instances/abc", StatusCode::BAD_REQUEST),
        (
            "/v1/ops/process-instances?state=BOGUS",
            StatusCode::BAD_REQUEST,
        ),
        ("/v1/ops/incidents?limit=0", StatusCode::BAD_REQUEST),
    ] {
        let (status, problem) = target.call(Method::GET, path).await;
        assert_eq!(status, expected, "{path}: {problem}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn element_incident_is_resolved_over_rest_after_the_variables_are_fixed() {
    let target = Target::start().await;
    target.deploy("gateway.bpmn", &bpmn("gateway.bpmn")).await;
    let key = target.create("gateway", json!({})).await;
    if !target.is_embedded() {
        return; // the operator API is the embedded engine's (Operate on Camunda 8)
    }
    let (_, page) = target
        .call(
            Method::GET,
            &format!("/v1/ops/incidents?processInstanceKey={key}&errorType=CONDITION_ERROR"),
        )
        .await;
    let incident = &items(&page)[0];
    assert!(incident.get("jobKey").is_none(), "{incident}");
    let resolve = format!(
        "/v1/ops/incidents/{}/resolve",
        key_of(&incident["incidentKey"])
    );
    let (status, problem) = target.post(&resolve, &json!({"retries": 3})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    target
        .client
        .set_variables()
        .with_element_instance_key(key)
        .with_variable(json!({"amount": 5000}))
        .expect("variables")
        .send()
        .await
        .expect("set variables");
    let (status, body) = target.call(Method::POST, &resolve).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let big = target.activate("gw-big", WAIT).await.expect("big path");
    assert_eq!(big.process_instance_key(), key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_view_shows_what_each_token_waits_for() {
    let target = Target::start().await;
    if !target.is_embedded() {
        return; // the operator API is the embedded engine's (Operate on Camunda 8)
    }
    target
        .deploy(
            "user-task-escalation.bpmn",
            &bpmn("user-task-escalation.bpmn"),
        )
        .await;
    target
        .deploy("message-catch.bpmn", &bpmn("message-catch.bpmn"))
        .await;
    let review = target
        .create(
            "user-task-escalation",
            json!({"owner": "jane", "reviewTimeout": "PT1H", "reviewDue": null}),
        )
        .await;
    let (_, detail) = target
        .call(Method::GET, &format!("/v1/ops/process-instances/{review}"))
        .await;
    let element = &detail["activeElements"][0];
    assert_eq!(element["elementType"], json!("userTask"));
    assert!(element["userTaskKey"].is_string(), "{detail}");
    assert_eq!(element["timers"][0]["elementId"], json!("Boundary_Timeout"));
    let paid = target
        .create("message-catch", json!({"orderId": "o-77"}))
        .await;
    let (_, detail) = target
        .call(Method::GET, &format!("/v1/ops/process-instances/{paid}"))
        .await;
    let element = &detail["activeElements"][0];
    assert_eq!(element["elementType"], json!("intermediateCatchEvent"));
    assert_eq!(
        element["messageSubscriptions"][0],
        json!({"elementId": "Catch_Paid", "messageName": "paid", "correlationKey": "o-77"})
    );
}
