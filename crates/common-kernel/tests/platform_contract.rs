//! The platform's part of every contract (`common_kernel::http::contract`): the bearer scheme,
//! which problems each operation declares (401, 403 and 429 on every business operation among
//! them), the header schemas, and that the committed contracts carry all of it.

#![expect(clippy::expect_used, reason = "tests fail loudly")]

use common_kernel::error::PROBLEM_JSON;
use common_kernel::http::contract::{
    BEARER_SCHEME, EdgeContract, contract_json, declare_platform_contract,
};
use serde_json::{Value, json};
use utoipa::Modify;
use utoipa::openapi::OpenApi;

/// A document with a command with a body and headers, a read by id, and an operational endpoint
/// that opts out of the token.
fn sample() -> OpenApi {
    serde_json::from_value(json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/things": {"post": {
                "operationId": "create",
                "parameters": [
                    {"name": "X-Channel", "in": "header", "required": false, "schema": {"type": ["string", "null"]}},
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
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}
                ],
                "responses": {"200": {"description": "The thing"}}
            }},
            "/health": {"get": {"operationId": "health", "security": [], "responses": {"200": {"description": "Up"}}}}
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
            "201", "400", "401", "403", "409", "412", "413", "415", "422", "429", "503"
        ]
    );
    assert_eq!(
        statuses(&doc, "/things/{id}", "get"),
        ["200", "400", "401", "403", "404", "429", "503"]
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
    assert!(bad.contains("INVALID_HEADER") && bad.contains("MALFORMED_JSON"));
    assert!(
        !bad.contains("MISSING_TENANT"),
        "identity comes from the token"
    );
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
    assert_eq!(params[0]["schema"]["pattern"], "^[!-~]([ -~]{0,62}[!-~])?$");
    assert_eq!(
        params[1]["schema"]["pattern"],
        "^[!-~]([ -~]{0,253}[!-~])?$"
    );
    assert_eq!(params[1]["schema"]["type"], "string");
    assert_eq!(
        params[2]["schema"]["pattern"],
        "^(W/)?\"[1-9][0-9]{0,17}\"$"
    );
}

#[test]
fn links_are_left_as_the_handler_declared_them() {
    let doc = applied();
    let link = &doc["paths"]["/things"]["post"]["responses"]["201"]["links"]["read"];
    assert_eq!(
        link["parameters"],
        json!({"id": "$response.body#/id"}),
        "the token, not a header, carries the tenant across a link"
    );
}

#[test]
fn the_document_requires_a_bearer_jwt_described_by_its_claims() {
    let doc = applied();
    assert_eq!(doc["security"], json!([{BEARER_SCHEME: []}]));
    let scheme = &doc["components"]["securitySchemes"][BEARER_SCHEME];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
    let description = scheme["description"].as_str().unwrap_or_default();
    for claim in [
        "tenant_id",
        "preferred_username",
        "azp",
        "actor_type",
        "realm_access.roles",
        "discount_authority",
        "cpq-oms",
        "RS256",
        "X-Acting-User",
    ] {
        assert!(description.contains(claim), "{claim} in {description}");
    }
    // The operation that opts out keeps its empty requirement.
    assert_eq!(doc["paths"]["/health"]["get"]["security"], json!([]));
}

#[test]
fn business_operations_declare_authentication_and_authorization_problems() {
    let doc = applied();
    for (path, method) in [("/things", "post"), ("/things/{id}", "get")] {
        let responses = &doc["paths"][path][method]["responses"];
        for (status, code) in [
            ("401", "UNAUTHENTICATED"),
            ("403", "FORBIDDEN_ACTION"),
            ("503", "AUTH_UNAVAILABLE"),
            ("503", "DATABASE_UNAVAILABLE"),
        ] {
            let response = &responses[status];
            assert!(
                response["description"]
                    .as_str()
                    .is_some_and(|d| d.contains(code)),
                "{path} {status}: {response}"
            );
            assert_eq!(
                response["content"][PROBLEM_JSON]["schema"]["$ref"],
                "#/components/schemas/ProblemDetails"
            );
        }
        assert_eq!(
            responses["401"]["headers"]["WWW-Authenticate"]["schema"],
            json!({"type": "string"})
        );
    }
    let health = &doc["paths"]["/health"]["get"]["responses"];
    assert!(health["401"].is_null() && health["403"].is_null());
    assert!(
        !health["503"]["description"]
            .as_str()
            .unwrap_or_default()
            .contains("AUTH_UNAVAILABLE")
    );
}

#[test]
fn the_edge_contract_adds_only_what_the_router_answers() {
    let mut doc = sample();
    EdgeContract.modify(&mut doc);
    let doc = serde_json::to_value(&doc).expect("json");
    assert!(doc["components"]["securitySchemes"][BEARER_SCHEME].is_object());
    assert_eq!(
        statuses(&doc, "/things", "post"),
        ["201", "401", "403", "409", "429", "503"],
        "no extractor rows: the handler maps its own refusals"
    );
    assert_eq!(
        statuses(&doc, "/things/{id}", "get"),
        ["200", "401", "403", "429", "503"]
    );
    let channel = &doc["paths"]["/things"]["post"]["parameters"][0]["schema"];
    assert_eq!(channel, &json!({"type": ["string", "null"]}), "left alone");
}

#[test]
fn an_optional_requirement_is_no_business_operation() {
    let mut doc: OpenApi = serde_json::from_value(json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/maybe": {"get": {
            "operationId": "maybe",
            "security": [{}, {"bearerAuth": []}],
            "responses": {"200": {"description": "Ok"}}
        }}}
    }))
    .expect("document");
    declare_platform_contract(&mut doc);
    let doc = serde_json::to_value(&doc).expect("json");
    assert_eq!(statuses(&doc, "/maybe", "get"), ["200", "503"]);
}

/// The committed contracts of every service and the engine, as their drift tests left them.
fn committed_contracts() -> Vec<(String, Value)> {
    [
        "catalog-api.json",
        "cpq-api.json",
        "workflow-engine-api.json",
    ]
    .into_iter()
    .map(|name| {
        let path = test_support::contract_path(name);
        let text = std::fs::read_to_string(&path).expect("committed contract");
        (name.to_owned(), serde_json::from_str(&text).expect("JSON"))
    })
    .collect()
}

#[test]
fn every_committed_operation_requires_a_token_and_documents_401_403_429() {
    for (name, doc) in committed_contracts() {
        assert_eq!(doc["security"], json!([{BEARER_SCHEME: []}]), "{name}");
        assert_eq!(
            doc["components"]["securitySchemes"][BEARER_SCHEME]["scheme"], "bearer",
            "{name}"
        );
        let paths = doc["paths"].as_object().expect("paths");
        assert!(!paths.is_empty(), "{name}");
        for (path, item) in paths {
            assert!(
                !path.starts_with("/health")
                    && !["/metrics", "/openapi.json", "/docs"].contains(&path.as_str()),
                "{name}: operational {path} is not in the contract"
            );
            let methods = ["get", "put", "post", "delete", "patch", "head", "options"];
            for method in methods.into_iter().filter(|m| item.get(*m).is_some()) {
                let operation = &item[method];
                let at = format!("{name} {method} {path}");
                for (status, code) in [
                    ("401", "UNAUTHENTICATED"),
                    ("403", "FORBIDDEN_ACTION"),
                    ("429", "RATE_LIMITED"),
                    ("503", "AUTH_UNAVAILABLE"),
                ] {
                    let response = &operation["responses"][status];
                    assert!(
                        response["description"]
                            .as_str()
                            .is_some_and(|d| d.contains(code)),
                        "{at} {status}"
                    );
                    assert_eq!(
                        response["content"][PROBLEM_JSON]["schema"]["$ref"],
                        "#/components/schemas/ProblemDetails",
                        "{at} {status}"
                    );
                }
                for parameter in operation["parameters"].as_array().into_iter().flatten() {
                    let parameter_name = parameter["name"].as_str().unwrap_or_default();
                    assert!(
                        !["x-tenant-id", "x-actor-id", "x-actor-type"]
                            .contains(&parameter_name.to_ascii_lowercase().as_str()),
                        "{at}: identity header {parameter_name}"
                    );
                }
            }
        }
    }
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
    assert!(doc["paths"]["/health"]["get"]["responses"]["401"].is_null());
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
    assert_eq!(
        statuses(&doc, "/secure", "get"),
        ["200", "401", "403", "429", "503"]
    );
}
