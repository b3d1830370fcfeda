//! The engine's REST API under ADR 0030, swept over every operation its served contract
//! declares: every kind of bad token gets 401 problem+json, and every role gets 403
//! `FORBIDDEN_ACTION` exactly where the permission table refuses it (user tasks need
//! `WorkUserTasks`, reading `/v1/ops` needs `ViewWorkflow`, resolving an incident
//! `OperateWorkflow`). Embedded engine only: Camunda 8 brings
//! its own identity.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use domain_kernel::access::{Action, Role, roles_for};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{Target, issuer};
use test_support::Operation;

/// The action the permission table is asked for by an operation of the engine's REST API.
fn action_of(operation: &Operation) -> Action {
    if operation.template.starts_with("/v2/user-tasks") {
        Action::WorkUserTasks
    } else if operation.template.starts_with("/v1/ops") && operation.method == "GET" {
        Action::ViewWorkflow
    } else if operation.template.starts_with("/v1/ops") {
        Action::OperateWorkflow
    } else {
        panic!(
            "{} {}: map the new operation to its action",
            operation.method, operation.template
        )
    }
}

/// A body the operation accepts in shape, so a permitted caller gets past validation.
fn body_of(operation: &Operation) -> Option<Value> {
    operation.has_body.then(|| {
        if operation.template.ends_with("/assignment") {
            json!({ "assignee": "someone" })
        } else {
            json!({})
        }
    })
}

/// The path with every key a number that names nothing: the engine's keys are 64-bit integers
/// written as strings, so a caller the table permits reaches the handler (404), not a 400.
fn numeric_path(operation: &Operation) -> String {
    let mut path = String::new();
    let mut in_parameter = false;
    for c in operation.template.chars() {
        match c {
            '{' => {
                in_parameter = true;
                path.push_str("4242");
            }
            '}' => in_parameter = false,
            c if !in_parameter => path.push(c),
            _ => {}
        }
    }
    path
}

async fn served_operations(target: &Target) -> Vec<Operation> {
    let document: Value = target
        .http
        .get(format!("{}/openapi.json", target.rest()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let operations = test_support::operations(&document);
    assert!(
        operations.len() >= 8,
        "the contract lists the API: {operations:?}"
    );
    operations
}

async fn call(
    target: &Target,
    operation: &Operation,
    token: Option<&str>,
    correlation: &str,
) -> (StatusCode, Option<String>, Value) {
    let method = Method::from_bytes(operation.method.as_bytes()).unwrap();
    let mut request = target
        .http
        .request(
            method,
            format!("{}{}", target.rest(), numeric_path(operation)),
        )
        .header("x-correlation-id", correlation);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body_of(operation) {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.json().await.unwrap_or(Value::Null);
    (status, content_type, body)
}

#[tokio::test]
async fn every_operation_refuses_every_bad_token_with_401() {
    let target = Target::start().await;
    if !target.is_embedded() {
        return;
    }
    let issuer = issuer();
    let mut claims = issuer.claims_for("ops1");
    claims.realm_access.roles = Role::ALL.iter().map(|r| r.as_str().to_owned()).collect();
    let operations = served_operations(&target).await;
    for (what, token) in issuer.bad_tokens(&claims) {
        for operation in &operations {
            let at = format!("{} {} with {what}", operation.method, operation.template);
            let correlation = format!("engine-authn-{}", operation.operation_id);
            let (status, content_type, body) =
                call(&target, operation, token.as_deref(), &correlation).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{at}: {body}");
            assert_eq!(
                content_type.as_deref(),
                Some("application/problem+json"),
                "{at}"
            );
            assert_eq!(body["code"], "UNAUTHENTICATED", "{at}: {body}");
            assert_eq!(body["correlationId"], correlation, "{at}: {body}");
            if let Some(token) = &token {
                assert!(!body.to_string().contains(token.as_str()), "{at}");
            }
        }
    }
}

#[tokio::test]
async fn every_operation_answers_every_role_as_the_permission_table_says() {
    let target = Target::start().await;
    if !target.is_embedded() {
        return;
    }
    let issuer = issuer();
    let operations = served_operations(&target).await;
    for role in Role::ALL {
        // A client per role: the sweep's commands stay within each client's burst.
        let mut claims = issuer.claims_for("ops1");
        claims.realm_access.roles = vec![role.as_str().to_owned()];
        claims.discount_authority = None;
        claims.azp = format!("matrix-{}", role.as_str());
        let token = issuer.token_with(&claims);
        for operation in &operations {
            let action = action_of(operation);
            let permitted = roles_for(action).contains(&role);
            let at = format!(
                "{} {} as {}",
                operation.method,
                operation.template,
                role.as_str()
            );
            let (status, _, body) = call(&target, operation, Some(&token), "engine-matrix").await;
            if permitted {
                assert!(
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                    "{at} is permitted, got {status}: {body}"
                );
                assert!(!status.is_server_error(), "{at}: {status} {body}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{at}: {body}");
                assert_eq!(body["code"], "FORBIDDEN_ACTION", "{at}: {body}");
                assert!(
                    body["detail"]
                        .as_str()
                        .unwrap_or_default()
                        .contains(&action.name()),
                    "{at}: the refusal names {}: {body}",
                    action.name()
                );
            }
        }
    }
}
