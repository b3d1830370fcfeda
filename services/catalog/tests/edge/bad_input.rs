//! Bad input at the HTTP edge: every refusal is a 4xx problem+json with a stable code, field
//! paths where a field is at fault, no internals leaked, and not a single row written.

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, expect_problem, expect_status, id_of};

/// Sends `request`, expects the problem and proves the database footprint did not move.
async fn refused(app: &TestApp, request: RequestBuilder, status: StatusCode, code: &str) -> Value {
    let before = app.footprint().await;
    let response = request.send().await.expect("send");
    let body = expect_problem(response, status, code).await;
    assert_eq!(
        app.footprint().await,
        before,
        "a refused request wrote rows: {body}"
    );
    body
}

/// A POST with a raw body and a JSON content type.
fn raw_post(app: &TestApp, path: &str, body: impl Into<reqwest::Body>) -> RequestBuilder {
    app.request(Method::POST, path)
        .header("content-type", "application/json")
        .body(body)
}

/// The `field`s of a problem's `errors[]`.
fn fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The error at `field`, if any.
fn error_at<'a>(problem: &'a Value, field: &str) -> Option<&'a Value> {
    problem["errors"]
        .as_array()?
        .iter()
        .find(|e| e["field"] == field)
}

/// A valid offering body on `spec`.
fn offering_body(spec: Uuid, code: &str, name: &str) -> Value {
    json!({"code": code, "name": name, "productSpecificationId": spec, "relationships": []})
}

#[tokio::test]
async fn malformed_json_is_a_400_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let spec = app.create_spec("SPEC").await;
    let valid = offering_body(spec, "OFF", "Offering").to_string();

    let truncated = &valid[..valid.len() / 2];
    let problem = refused(
        &app,
        raw_post(&app, "/product-offerings", truncated.to_owned()),
        StatusCode::BAD_REQUEST,
        "MALFORMED_JSON",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("line 1"));

    refused(
        &app,
        raw_post(&app, "/product-offerings", format!("{valid} trailing")),
        StatusCode::BAD_REQUEST,
        "MALFORMED_JSON",
    )
    .await;
    refused(
        &app,
        raw_post(&app, "/product-offerings", format!("{valid}{valid}")),
        StatusCode::BAD_REQUEST,
        "MALFORMED_JSON",
    )
    .await;
    refused(
        &app,
        raw_post(&app, "/product-specifications", ""),
        StatusCode::BAD_REQUEST,
        "MALFORMED_JSON",
    )
    .await;
    assert_eq!(app.count("product_offering").await, 0);
}

#[tokio::test]
async fn wrong_types_are_422_pointing_at_the_field() {
    let app = TestApp::spawn().await;
    let spec = app.create_spec("SPEC").await;
    let target = app.create_offering("TARGET").await;

    let mut body = offering_body(spec, "OFF", "Offering");
    body["code"] = json!(5);
    let problem = refused(
        &app,
        app.request(Method::POST, "/product-offerings").json(&body),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(fields(&problem), ["/code"]);
    assert_eq!(problem["errors"][0]["code"], "INVALID_TYPE");

    let mut body = offering_body(spec, "OFF", "Offering");
    body["productSpecificationId"] = json!("not-a-uuid");
    let problem = refused(
        &app,
        app.request(Method::POST, "/product-offerings").json(&body),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(fields(&problem), ["/productSpecificationId"]);

    let mut body = offering_body(spec, "OFF", "Offering");
    body["relationships"] =
        json!([{"type": "REQUIRES", "targetOfferingId": target, "minCardinality": -1}]);
    let problem = refused(
        &app,
        app.request(Method::POST, "/product-offerings").json(&body),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(fields(&problem), ["/relationships/0/minCardinality"]);

    let mut body = offering_body(spec, "OFF", "Offering");
    body.as_object_mut().unwrap().remove("name");
    let problem = refused(
        &app,
        app.request(Method::POST, "/product-offerings").json(&body),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(problem["errors"][0]["code"], "REQUIRED");

    // A JSON value of the wrong shape altogether (serde reads a struct from an array
    // positionally, so the first element is the one at fault).
    let problem = refused(
        &app,
        app.request(Method::POST, "/product-offerings")
            .json(&json!([1, 2, 3])),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(fields(&problem), ["/0"]);
    assert_eq!(problem["errors"][0]["code"], "INVALID_TYPE");
}

#[tokio::test]
async fn unknown_fields_are_refused_with_unknown_field() {
    let app = TestApp::spawn().await;
    let spec = app.create_spec("SPEC").await;

    let mut body = offering_body(spec, "OFF", "Offering");
    body["price"] = json!("10.00");
    let problem = refused(
        &app,
        app.request(Method::POST, "/product-offerings").json(&body),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(problem["errors"][0]["code"], "UNKNOWN_FIELD");
    assert_eq!(fields(&problem), ["/price"]);

    // Nested objects refuse unknown fields too.
    let problem = refused(
        &app,
        app.request(Method::POST, "/product-specifications").json(
            &json!({"code": "S2", "name": "S2", "characteristics": [
                {"name": "x", "valueType": "STRING", "colour": "red"}
            ]}),
        ),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(problem["errors"][0]["code"], "UNKNOWN_FIELD");
    assert_eq!(fields(&problem), ["/characteristics/0/colour"]);
}

#[tokio::test]
async fn a_token_is_required_and_identity_comes_from_it() {
    let app = TestApp::spawn().await;
    let spec = app.create_spec("SPEC").await;
    let body = offering_body(spec, "OFF", "Offering");

    // No token, a token for another issuer or audience: 401, nothing written.
    let issuer = &app.issuer;
    for token in [
        None,
        Some(issuer.expired_token("catalog1")),
        Some(issuer.wrong_audience_token("catalog1")),
        Some(issuer.foreign_issuer_token("catalog1")),
        Some(issuer.alg_none_token("catalog1")),
    ] {
        let mut request = app
            .anonymous(Method::POST, "/product-offerings")
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let problem = refused(&app, request, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        assert!(problem["correlationId"].as_str().is_some(), "{problem}");
    }
    let response = app
        .anonymous(Method::GET, "/product-offerings")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer realm=\"cpq-oms\"")
    );
    expect_problem(response, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;

    // The identity headers no longer say who calls: the token does.
    let created = expect_status(
        app.request(Method::POST, "/product-offerings")
            .header("X-Tenant-Id", "globex")
            .header("X-Actor-Id", "mallory")
            .header("X-Actor-Type", "ADMIN_OPERATOR")
            .json(&body)
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let tenant: String =
        sqlx::query_scalar("SELECT tenant_id FROM product_offering WHERE product_offering_id = $1")
            .bind(created["id"].as_str().unwrap().parse::<Uuid>().unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(tenant, app.tenant);

    // A caller without the catalog-admin role reads but does not change the catalog.
    let seller = app.token(&app.tenant, "sales1", &["sales-agent"]);
    let other = offering_body(spec, "OFF-2", "Other");
    let problem = refused(
        &app,
        app.anonymous(Method::POST, "/product-offerings")
            .bearer_auth(&seller)
            .json(&other),
        StatusCode::FORBIDDEN,
        "FORBIDDEN_ACTION",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("ManageCatalog"),
        "{problem}"
    );
    let listed = app
        .anonymous(Method::GET, "/product-offerings")
        .bearer_auth(&seller)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);

    // The chain headers are still checked.
    let problem = refused(
        &app,
        app.request(Method::POST, "/product-offerings")
            .header("X-Channel", "x".repeat(65))
            .json(&other),
        StatusCode::BAD_REQUEST,
        "INVALID_HEADER",
    )
    .await;
    assert_eq!(fields(&problem), ["header:X-Channel"]);
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = TestApp::spawn().await;
    let spec = app.create_spec("SPEC").await;
    let body = offering_body(spec, "OFF", &"x".repeat(10 * 1024 * 1024)).to_string();
    assert!(body.len() > 10 * 1024 * 1024);
    refused(
        &app,
        raw_post(&app, "/product-offerings", body),
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
    )
    .await;
    // The server is still healthy afterwards.
    let response = app.get("/product-offerings").await;
    expect_status(response, StatusCode::OK).await;
}

#[tokio::test]
async fn non_json_content_types_are_415() {
    let app = TestApp::spawn().await;
    let spec = app.create_spec("SPEC").await;
    let body = offering_body(spec, "OFF", "Offering").to_string();

    refused(
        &app,
        app.request(Method::POST, "/product-offerings")
            .header("content-type", "text/plain")
            .body(body.clone()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    refused(
        &app,
        app.request(Method::POST, "/product-offerings").body(body),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
    // Lifecycle commands take an optional body, but a present non-JSON one is still refused.
    let offering = app.create_offering("LIFE").await;
    refused(
        &app,
        app.request(
            Method::POST,
            &format!("/product-offerings/{offering}/submit-for-review"),
        )
        .header("content-type", "text/plain")
        .body("please"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    )
    .await;
}

#[tokio::test]
async fn broken_unicode_is_refused() {
    let app = TestApp::spawn().await;
    let spec = app.create_spec("SPEC").await;

    // Invalid UTF-8 inside a string.
    let mut bytes = br#"{"code":"OFF","name":""#.to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    bytes.extend_from_slice(format!(r#"","productSpecificationId":"{spec}"}}"#).as_bytes());
    refused(
        &app,
        raw_post(&app, "/product-offerings", bytes),
        StatusCode::BAD_REQUEST,
        "MALFORMED_JSON",
    )
    .await;

    // A lone surrogate escape is not a character.
    let lone = format!(r#"{{"code":"OFF","name":"a\ud800b","productSpecificationId":"{spec}"}}"#);
    refused(
        &app,
        raw_post(&app, "/product-offerings", lone),
        StatusCode::BAD_REQUEST,
        "MALFORMED_JSON",
    )
    .await;

    // NUL is syntactically fine JSON but never accepted.
    let nul = format!(r#"{{"code":"OFF","name":"a\u0000b","productSpecificationId":"{spec}"}}"#);
    let problem = refused(
        &app,
        raw_post(&app, "/product-offerings", nul),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(fields(&problem), ["/name"]);
    assert_eq!(problem["errors"][0]["code"], "INVALID_CHARACTER");

    // Control characters in a one-line name.
    for name in [
        "bell\u{7}",
        "line\nbreak",
        "tab\there",
        "esc\u{1b}[31m",
        "del\u{7f}",
    ] {
        let problem = refused(
            &app,
            app.request(Method::POST, "/product-offerings")
                .json(&offering_body(spec, "OFF", name)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        let error = error_at(&problem, "/name").unwrap_or_else(|| panic!("{name:?}: {problem}"));
        assert_eq!(error["code"], "INVALID_CHARACTER", "{name:?}");
    }
    // The same on a specification's name.
    let problem = refused(
        &app,
        app.request(Method::POST, "/product-specifications")
            .json(&json!({"code": "S2", "name": "bad\u{8}name"})),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(fields(&problem), ["/name"]);
}

#[tokio::test]
async fn legitimate_unicode_round_trips_exactly() {
    let app = TestApp::spawn().await;
    let names = [
        "Fibre 🚀 Business 👩‍💻",
        "إنترنت الأعمال السريع",
        "Cafe\u{301} e\u{301}le\u{300}ve n\u{303}",
        "企业宽带 光纤 ビジネス 인터넷",
        "Mixed עברית and English ‏RTL‏ 🇩🇪",
    ];
    for (i, name) in names.iter().enumerate() {
        let spec_response = app
            .post(
                "/product-specifications",
                &json!({"code": format!("UNI-{i}"), "name": name, "description": name}),
            )
            .await;
        let spec_body = expect_status(spec_response, StatusCode::CREATED).await;
        assert_eq!(spec_body["name"], *name);
        let spec = id_of(&spec_body, "id");
        let fetched_spec = app.get(&format!("/product-specifications/{spec}")).await;
        let fetched_spec = expect_status(fetched_spec, StatusCode::OK).await;
        assert_eq!(fetched_spec["name"], *name);
        assert_eq!(fetched_spec["description"], *name);

        let response = app
            .post(
                "/product-offerings",
                &offering_body(spec, &format!("UNI-OFF-{i}"), name),
            )
            .await;
        let created = expect_status(response, StatusCode::CREATED).await;
        assert_eq!(created["name"], *name, "create echoes the name exactly");
        let offering = id_of(&created, "id");
        let fetched = app.get(&format!("/product-offerings/{offering}")).await;
        assert_eq!(expect_status(fetched, StatusCode::OK).await["name"], *name);
        let version = app.version(offering, 1).await;
        assert_eq!(version["name"], *name);
        let stored: String = sqlx::query_scalar(
            "SELECT name FROM product_offering_version WHERE product_offering_id = $1",
        )
        .bind(offering)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(stored, *name, "stored byte for byte, not normalised");
    }
}

#[tokio::test]
async fn bad_paths_routes_and_methods() {
    let app = TestApp::spawn().await;
    let offering = app.create_offering("OFF").await;

    let problem = refused(
        &app,
        app.request(Method::GET, "/product-offerings/not-a-uuid"),
        StatusCode::BAD_REQUEST,
        "INVALID_PATH_PARAMETER",
    )
    .await;
    assert!(!problem["detail"].as_str().unwrap_or_default().is_empty());
    refused(
        &app,
        app.request(Method::POST, "/product-offerings/12345/publish"),
        StatusCode::BAD_REQUEST,
        "INVALID_PATH_PARAMETER",
    )
    .await;
    refused(
        &app,
        app.request(
            Method::GET,
            &format!("/product-offerings/{offering}/versions/one"),
        ),
        StatusCode::BAD_REQUEST,
        "INVALID_PATH_PARAMETER",
    )
    .await;
    refused(
        &app,
        app.request(Method::GET, "/price-books/%00"),
        StatusCode::BAD_REQUEST,
        "INVALID_PATH_PARAMETER",
    )
    .await;

    refused(
        &app,
        app.request(Method::GET, "/products"),
        StatusCode::NOT_FOUND,
        "ROUTE_NOT_FOUND",
    )
    .await;
    refused(
        &app,
        app.request(Method::POST, &format!("/product-offerings/{offering}/sell")),
        StatusCode::NOT_FOUND,
        "ROUTE_NOT_FOUND",
    )
    .await;

    refused(
        &app,
        app.request(Method::DELETE, "/product-offerings"),
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
    )
    .await;
    refused(
        &app,
        app.request(Method::DELETE, &format!("/product-offerings/{offering}")),
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
    )
    .await;
    refused(
        &app,
        app.request(
            Method::PUT,
            &format!("/product-offerings/{offering}/versions/1"),
        )
        .json(&json!({"name": "x"})),
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
    )
    .await;
    // The offering is untouched by all of that.
    assert_eq!(app.version(offering, 1).await["status"], "DRAFT");
}

#[tokio::test]
async fn bad_query_strings_are_400_invalid_query() {
    let app = TestApp::spawn().await;
    app.create_offering("OFF").await;
    for query in [
        "limit=0",
        "limit=501",
        "limit=abc",
        "limit=-1",
        "offset=-1",
        "offset=1.5",
        "status=BOGUS",
        "status=published",
        "colour=red",
    ] {
        let problem = refused(
            &app,
            app.request(Method::GET, &format!("/product-offerings?{query}")),
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
        )
        .await;
        assert!(
            problem["errors"].as_array().is_some_and(|e| !e.is_empty()),
            "{query}: {problem}"
        );
    }
    let problem = refused(
        &app,
        app.request(Method::GET, "/product-offerings?limit=0&offset=-3"),
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
    )
    .await;
    assert_eq!(fields(&problem), ["query:limit", "query:offset"]);
    for path in ["/product-specifications?limit=0", "/price-books?page=2"] {
        refused(
            &app,
            app.request(Method::GET, path),
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
        )
        .await;
    }
    // The boundaries themselves are fine.
    let response = app.get("/product-offerings?limit=500&offset=0").await;
    expect_status(response, StatusCode::OK).await;
    let response = app.get("/product-offerings?limit=1").await;
    expect_status(response, StatusCode::OK).await;
}

#[tokio::test]
async fn domain_validation_reports_every_problem_at_once() {
    let app = TestApp::spawn().await;
    let target = app.create_offering("TARGET").await;
    let missing_target = Uuid::now_v7();
    let problem = refused(
        &app,
        app.request(Method::POST, "/product-offerings").json(&json!({
            "code": "bad code!",
            "name": "   ",
            "productSpecificationId": Uuid::now_v7(),
            "relationships": [
                {"type": "REQUIRES", "targetOfferingId": target, "minCardinality": 2, "maxCardinality": 1},
                {"type": "REQUIRES", "targetOfferingId": missing_target}
            ]
        })),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    let expected = [
        ("/code", "INVALID_CODE"),
        ("/name", "REQUIRED"),
        ("/productSpecificationId", "UNKNOWN_REFERENCE"),
        ("/relationships/0/maxCardinality", "OUT_OF_RANGE"),
        ("/relationships/1/targetOfferingId", "UNKNOWN_REFERENCE"),
    ];
    for (field, code) in expected {
        let error = error_at(&problem, field).unwrap_or_else(|| panic!("{field}: {problem}"));
        assert_eq!(error["code"], code, "{field}");
    }
    assert_eq!(
        problem["errors"].as_array().unwrap().len(),
        expected.len(),
        "{problem}"
    );
    assert_eq!(problem["detail"], "5 fields are invalid");
}

#[tokio::test]
async fn characteristic_rules_are_422_with_field_paths() {
    let app = TestApp::spawn().await;
    let problem = refused(
        &app,
        app.request(Method::POST, "/product-specifications").json(&json!({
            "code": "BAD-CHARS",
            "name": "Bad characteristics",
            "characteristics": [
                {"name": "bandwidthMbps", "valueType": "INTEGER", "allowedValues": [100, 500], "defaultValue": 250},
                {"name": "latencyMs", "valueType": "INTEGER", "range": {"min": "50", "max": "10"}},
                {"name": "ratio", "valueType": "DECIMAL", "allowedValues": ["0.5", 0.75]},
                {"name": "discount", "valueType": "DECIMAL", "defaultValue": 1.25},
                {"name": "label", "valueType": "STRING", "range": {"min": "1"}},
                {"name": "9lives", "valueType": "COLOUR"}
            ]
        })),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    for (field, code) in [
        ("/characteristics/0/defaultValue", "NOT_ALLOWED"),
        ("/characteristics/1/range", "EMPTY_RANGE"),
        ("/characteristics/2/allowedValues/1", "INVALID_TYPE"),
        ("/characteristics/3/defaultValue", "INVALID_TYPE"),
        ("/characteristics/4/range", "NOT_APPLICABLE"),
        ("/characteristics/5/name", "INVALID_NAME"),
        ("/characteristics/5/valueType", "NOT_ALLOWED"),
    ] {
        let error = error_at(&problem, field).unwrap_or_else(|| panic!("{field}: {problem}"));
        assert_eq!(error["code"], code, "{field}");
    }
    assert!(
        error_at(&problem, "/characteristics/2/allowedValues/0").is_none(),
        "a decimal string is a fine DECIMAL value: {problem}"
    );
    assert_eq!(app.count("product_specification").await, 0);
}
