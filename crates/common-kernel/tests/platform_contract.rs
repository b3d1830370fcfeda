//! The platform's part of every contract (`common_kernel::http::contract`): which problems each
//! operation declares, the header schemas, the links, and the 429 of rate limits.

#![expect(clippy::expect_used, reason = "tests fail loudly")]

use common_kernel::error::PROBLEM_JSON;
use common_kernel::http::contract::{contract_json, declare_platform_contract};
use serde_json::{Value, json};
use utoipa::openapi::OpenApi;

/// A two-operation document: a command with a body and headers, and a read by id.
fn sample() -> OpenApi {
    serde_json::from_value(json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {"post": {
                "operationId": "create",
                "parameters": [
                    {"name": "X-Tenant-Id", "in": "header", "required": true, "schema": {"type": "string"}},
                    {"name": "X-Actor-Id", "in": "header", "required": true, "schema": {"type": "string"}},
                    {"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": ["string", "null"]}},
                    {"name": "If-Match", "in": "header", "required": false, "schema": {"type": ["string", "null"]}}
                ],
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {
                    "201": {"description": "Created", "links": {"read": {"operationId": "read", "parameters": {"id": "$response.body#/id"}}}},
                    "409": {"description": "Code already used", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}}
                }
            }},
            "/things/{id}": {"get": {
                "operationId": "read",
                "parameters": [
                    {"name": "X-Tenant-Id", "in": "header", "required": true, "schema": {"type": "string"}},
                    {"name": "X-Actor-Id", "in": "header", "required": true, "schema": {"type": "string"}},
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}
                ],
                "responses": {"200": {"description": "The thing"}}
            }},
            "/health": {"get": {"operationId": "health", "responses": {"200": {"description": "Up"}}}}
        }
    }))
    .expect("sample document")
}

fn statuses(doc: &Value, path: &str, method: &str) -> Vec<String> {
    doc["paths"][path][method]["responses"]
        .as_object()
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default()
}

fn applied() -> Value {
    let mut doc = sample();
    declare_platform_contract(&mut doc);
    serde_json::to_value(&doc).expect("json")
}

#[test]
fn statuses_follow_what_each_operation_has() {
    let doc = applied();
    assert_eq!(
        statuses(&doc, "/things", "post"),
        [
            "201", "400", "409", "412", "413", "415", "422", "429", "503"
        ]
    );
    assert_eq!(
        statuses(&doc, "/things/{id}", "get"),
        ["200", "400", "404", "429", "503"]
    );
    assert_eq!(statuses(&doc, "/health", "get"), ["200", "503"]);
    let problem = &doc["paths"]["/things/{id}"]["get"]["responses"]["404"];
    assert_eq!(
        problem["content"][PROBLEM_JSON]["schema"]["$ref"],
        "#/components/schemas/ProblemDetails"
    );
    assert!(doc["components"]["schemas"]["ProblemDetails"].is_object());
    assert!(doc["components"]["schemas"]["FieldError"].is_object());
}

#[test]
fn handler_descriptions_are_kept_and_completed() {
    let doc = applied();
    let conflict = doc["paths"]["/things"]["post"]["responses"]["409"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(conflict.starts_with("Code already used; or `IDEMPOTENCY_IN_PROGRESS`"));
    let bad = doc["paths"]["/things"]["post"]["responses"]["400"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(bad.contains("MISSING_TENANT") && bad.contains("MALFORMED_JSON"));
    assert!(bad.contains("If-Match does not name a version"));
}

#[test]
fn applying_twice_changes_nothing() {
    let mut doc = sample();
    declare_platform_contract(&mut doc);
    let once = contract_json(&doc);
    declare_platform_contract(&mut doc);
    assert_eq!(once, contract_json(&doc));
}

#[test]
fn kernel_headers_get_the_schema_the_kernel_enforces() {
    let doc = applied();
    let params = &doc["paths"]["/things"]["post"]["parameters"];
    assert_eq!(params[0]["schema"]["pattern"], "^[A-Za-z0-9._-]{1,64}$");
    assert_eq!(
        params[1]["schema"]["pattern"],
        "^[!-~]([ -~]{0,126}[!-~])?$"
    );
    assert_eq!(params[2]["schema"]["type"], "string");
    assert_eq!(
        params[3]["schema"]["pattern"],
        "^(W/)?\"[1-9][0-9]{0,17}\"$"
    );
}

#[test]
fn links_carry_the_request_context() {
    let doc = applied();
    let link = &doc["paths"]["/things"]["post"]["responses"]["201"]["links"]["read"];
    assert_eq!(
        link["parameters"],
        json!({
            "id": "$response.body#/id",
            "header.X-Tenant-Id": "$request.header.X-Tenant-Id",
            "header.X-Actor-Id": "$request.header.X-Actor-Id"
        })
    );
}

#[test]
fn business_operations_declare_the_rate_limit_with_retry_after() {
    let doc = applied();
    for (path, method) in [("/things", "post"), ("/things/{id}", "get")] {
        let limited = &doc["paths"][path][method]["responses"]["429"];
        assert!(
            limited["description"]
                .as_str()
                .is_some_and(|d| d.contains("RATE_LIMITED")),
            "{limited}"
        );
        assert_eq!(
            limited["content"][PROBLEM_JSON]["schema"]["$ref"],
            "#/components/schemas/ProblemDetails"
        );
        assert_eq!(
            limited["headers"]["Retry-After"]["schema"],
            json!({"type": "integer", "minimum": 1})
        );
    }
    // Operational endpoints are not limited.
    assert!(doc["paths"]["/health"]["get"]["responses"]["429"].is_null());
}

#[test]
fn an_operation_with_a_security_requirement_is_a_business_operation() {
    let mut doc: OpenApi = serde_json::from_value(json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/secure": {"get": {
            "operationId": "secure",
            "security": [{"bearer": []}],
            "responses": {"200": {"description": "Ok"}}
        }}}
    }))
    .unwrap();
    declare_platform_contract(&mut doc);
    let doc = serde_json::to_value(&doc).unwrap();
    assert_eq!(statuses(&doc, "/secure", "get"), ["200", "429", "503"]);
}
