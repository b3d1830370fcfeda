//! Reads: tenant isolation, paging and filters, and correlation ids on every answer.

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TENANT, TestApp, expect_problem, expect_status};

const OTHER: &str = "globex";

/// A request as tenant `tenant`.
fn as_tenant(app: &TestApp, tenant: &str, method: Method, path: &str) -> RequestBuilder {
    app.anonymous(method, path)
        .bearer_auth(app.token(tenant, "intruder", crate::harness::ROLES))
}

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn codes(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["code"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn another_tenant_cannot_see_or_touch_an_offering() {
    let app = TestApp::spawn().await;
    let offering = app.published_offering("INTERNET").await;
    let v1 = app.version(offering, 1).await;
    let footprint = app.footprint().await;

    for (path, code) in [
        (
            format!("/product-offerings/{offering}"),
            "OFFERING_NOT_FOUND",
        ),
        (
            format!("/product-offerings/{offering}/versions/1"),
            "OFFERING_VERSION_NOT_FOUND",
        ),
    ] {
        let response = as_tenant(&app, OTHER, Method::GET, &path)
            .send()
            .await
            .unwrap();
        expect_problem(response, StatusCode::NOT_FOUND, code).await;
    }

    let response = as_tenant(&app, OTHER, Method::GET, "/product-offerings")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&response, "x-total-count").as_deref(), Some("0"));
    let page = expect_status(response, StatusCode::OK).await;
    assert_eq!(page["totalCount"], 0);
    assert_eq!(page["items"], json!([]));
    let response = as_tenant(&app, OTHER, Method::GET, "/product-offerings?code=INTERNET")
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_status(response, StatusCode::OK).await["totalCount"],
        0
    );

    for command in [
        "retire",
        "publish",
        "submit-for-review",
        "archive",
        "versions",
    ] {
        let response = as_tenant(
            &app,
            OTHER,
            Method::POST,
            &format!("/product-offerings/{offering}/{command}"),
        )
        .send()
        .await
        .unwrap();
        expect_problem(response, StatusCode::NOT_FOUND, "OFFERING_NOT_FOUND").await;
    }
    let response = as_tenant(
        &app,
        OTHER,
        Method::PATCH,
        &format!("/product-offerings/{offering}/versions/1"),
    )
    .json(&json!({"name": "Taken over"}))
    .send()
    .await
    .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND, "OFFERING_NOT_FOUND").await;

    assert_eq!(
        app.footprint().await,
        footprint,
        "nothing written for the intruder"
    );
    assert_eq!(
        app.version(offering, 1).await,
        v1,
        "the owner sees it unchanged"
    );

    // Specifications are just as private.
    let spec = v1["productSpecificationId"].as_str().unwrap().to_owned();
    let response = as_tenant(
        &app,
        OTHER,
        Method::GET,
        &format!("/product-specifications/{spec}"),
    )
    .send()
    .await
    .unwrap();
    expect_problem(response, StatusCode::NOT_FOUND, "SPECIFICATION_NOT_FOUND").await;
    // And the other tenant cannot build on them.
    let response = as_tenant(&app, OTHER, Method::POST, "/product-offerings")
        .json(
            &json!({"code": "PIGGYBACK", "name": "Piggyback", "productSpecificationId": spec,
                      "relationships": [{"type": "REQUIRES", "targetOfferingId": offering}]}),
        )
        .send()
        .await
        .unwrap();
    let problem = expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "/productSpecificationId",
            "/relationships/0/targetOfferingId"
        ]
    );
}

#[tokio::test]
async fn tenants_may_use_the_same_codes() {
    let mut app = TestApp::spawn().await;
    let ours = app.published_offering("INTERNET").await;
    app.tenant = OTHER.into();
    let theirs = app.published_offering("INTERNET").await;
    assert_ne!(ours, theirs);
    let their_list = expect_status(app.get("/product-offerings").await, StatusCode::OK).await;
    assert_eq!(codes(&their_list), ["INTERNET"]);
    assert_eq!(their_list["items"][0]["id"], theirs.to_string());
    let specs = expect_status(
        app.get("/product-specifications?code=INTERNET-SPEC").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(specs["totalCount"], 1);

    app.tenant = TENANT.into();
    let our_list = expect_status(app.get("/product-offerings").await, StatusCode::OK).await;
    assert_eq!(our_list["totalCount"], 1);
    assert_eq!(our_list["items"][0]["id"], ours.to_string());
    // A code is still unique within one tenant.
    let spec = app.create_spec("ANOTHER-SPEC").await;
    let response = app
        .post(
            "/product-offerings",
            &json!({"code": "INTERNET", "name": "Again", "productSpecificationId": spec}),
        )
        .await;
    expect_problem(response, StatusCode::CONFLICT, "CODE_ALREADY_EXISTS").await;
}

#[tokio::test]
async fn pages_are_ordered_by_code_with_a_total() {
    let app = TestApp::spawn().await;
    let mut expected = Vec::new();
    for code in ["P-E", "P-B", "P-G", "P-A", "P-F", "P-C", "P-D"] {
        app.create_offering(code).await;
        expected.push(code.to_owned());
    }
    expected.sort();

    let mut seen = Vec::new();
    for (offset, size) in [(0, 3), (3, 3), (6, 1)] {
        let response = app
            .get(&format!("/product-offerings?limit=3&offset={offset}"))
            .await;
        assert_eq!(header(&response, "x-total-count").as_deref(), Some("7"));
        let page = expect_status(response, StatusCode::OK).await;
        assert_eq!(page["limit"], 3);
        assert_eq!(page["offset"], offset);
        assert_eq!(page["totalCount"], 7);
        let page_codes = codes(&page);
        assert_eq!(page_codes.len(), size, "{page}");
        seen.extend(page_codes);
    }
    assert_eq!(
        seen, expected,
        "pages cover every offering once, in code order"
    );

    let response = app.get("/product-offerings?limit=3&offset=7").await;
    assert_eq!(header(&response, "x-total-count").as_deref(), Some("7"));
    assert_eq!(
        expect_status(response, StatusCode::OK).await["items"],
        json!([])
    );

    let all = expect_status(app.get("/product-offerings").await, StatusCode::OK).await;
    assert_eq!(all["limit"], 50, "the default page size");
    assert_eq!(codes(&all), expected);
}

#[tokio::test]
async fn status_and_code_filters() {
    let app = TestApp::spawn().await;
    app.create_offering("DRAFT-ONLY").await;
    let in_review = app.create_offering("IN-REVIEW").await;
    app.command(in_review, "submit-for-review").await;
    app.published_offering("ON-SALE").await;
    let renewing = app.published_offering("RENEWING").await;
    let response = app
        .post_empty(&format!("/product-offerings/{renewing}/versions"))
        .await;
    expect_status(response, StatusCode::CREATED).await;
    let retired = app.published_offering("RETIRED").await;
    app.command(retired, "retire").await;

    for (status, expected) in [
        ("PUBLISHED", vec!["ON-SALE", "RENEWING"]),
        ("DRAFT", vec!["DRAFT-ONLY", "RENEWING"]),
        ("READY_FOR_REVIEW", vec!["IN-REVIEW"]),
        ("RETIRED", vec!["RETIRED"]),
        ("ARCHIVED", vec![]),
    ] {
        let response = app
            .get(&format!("/product-offerings?status={status}"))
            .await;
        assert_eq!(
            header(&response, "x-total-count"),
            Some(expected.len().to_string()),
            "{status}"
        );
        let page = expect_status(response, StatusCode::OK).await;
        assert_eq!(codes(&page), expected, "{status}");
        assert_eq!(page["totalCount"], expected.len());
    }
    let page = expect_status(
        app.get("/product-offerings?status=PUBLISHED").await,
        StatusCode::OK,
    )
    .await;
    for item in page["items"].as_array().unwrap() {
        assert!(item["publishedVersion"].is_i64(), "{item}");
    }
    let page = expect_status(
        app.get("/product-offerings?status=PUBLISHED&limit=1&offset=1")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(codes(&page), ["RENEWING"]);
    assert_eq!(page["totalCount"], 2);

    let page = expect_status(
        app.get("/product-offerings?code=RENEWING").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(codes(&page), ["RENEWING"]);
    assert_eq!(page["items"][0]["latestVersion"], 2);
    assert_eq!(page["items"][0]["publishedVersion"], 1);
    let page = expect_status(
        app.get("/product-offerings?code=NOPE").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["totalCount"], 0);
    let page = expect_status(
        app.get("/product-offerings?code=RETIRED&status=PUBLISHED")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["totalCount"], 0, "filters combine");
    let page = expect_status(
        app.get("/product-offerings?code=renewing").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["totalCount"], 0, "codes match exactly");
}

#[tokio::test]
async fn specifications_can_be_listed_and_found_by_code() {
    let app = TestApp::spawn().await;
    let internet = app.create_spec("INTERNET-ACCESS").await;
    app.create_spec("VOICE").await;
    app.create_spec("IPTV").await;

    let response = app
        .get("/product-specifications?code=INTERNET-ACCESS")
        .await;
    assert_eq!(header(&response, "x-total-count").as_deref(), Some("1"));
    let page = expect_status(response, StatusCode::OK).await;
    assert_eq!(page["items"][0]["id"], internet.to_string());
    assert_eq!(
        page["items"][0]["characteristics"][0]["name"],
        "bandwidthMbps"
    );
    let single = expect_status(
        app.get(&format!("/product-specifications/{internet}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["items"][0], single);

    let page = expect_status(app.get("/product-specifications").await, StatusCode::OK).await;
    assert_eq!(codes(&page), ["INTERNET-ACCESS", "IPTV", "VOICE"]);
    let page = expect_status(
        app.get("/product-specifications?limit=1&offset=2").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(codes(&page), ["VOICE"]);
    assert_eq!(page["totalCount"], 3);
    let page = expect_status(
        app.get("/product-specifications?code=MISSING").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(page["totalCount"], 0);
    let response = app
        .get(&format!("/product-specifications/{}", Uuid::now_v7()))
        .await;
    expect_problem(response, StatusCode::NOT_FOUND, "SPECIFICATION_NOT_FOUND").await;
}

#[tokio::test]
async fn correlation_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let offering = app.create_offering("INTERNET").await;

    let response = app
        .request(Method::GET, &format!("/product-offerings/{offering}"))
        .header("X-Correlation-Id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "x-correlation-id").as_deref(),
        Some("abc-123")
    );
    expect_status(response, StatusCode::OK).await;

    let response = app
        .request(
            Method::POST,
            &format!("/product-offerings/{offering}/submit-for-review"),
        )
        .header("X-Correlation-Id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&response, "x-correlation-id").as_deref(),
        Some("abc-123")
    );
    expect_status(response, StatusCode::OK).await;
    let recorded: String = sqlx::query_scalar(
        "SELECT correlation_id FROM product_offering_history WHERE product_offering_id = $1 \
         AND command = 'SUBMIT_FOR_REVIEW'",
    )
    .bind(offering)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(recorded, "abc-123", "the id reaches the history");

    for request in [
        app.request(
            Method::GET,
            &format!("/product-offerings/{}", Uuid::now_v7()),
        ),
        app.request(Method::GET, "/product-offerings?limit=0"),
        app.request(Method::GET, "/no-such-route"),
        app.client
            .get(format!("{}/product-offerings", app.base))
            .header("X-Actor-Id", "tester"),
    ] {
        let response = request
            .header("X-Correlation-Id", "abc-123")
            .send()
            .await
            .unwrap();
        assert_eq!(
            header(&response, "x-correlation-id").as_deref(),
            Some("abc-123")
        );
        let status = response.status();
        let body = response.json::<Value>().await.unwrap();
        assert!(status.is_client_error(), "{status}");
        assert_eq!(body["correlationId"], "abc-123", "{body}");
    }

    // Without one, each response gets a fresh id, on success and on error alike.
    let mut generated = Vec::new();
    for path in [
        format!("/product-offerings/{offering}"),
        format!("/product-offerings/{offering}"),
        format!("/product-offerings/{}", Uuid::now_v7()),
    ] {
        let response = app.get(&path).await;
        let id = header(&response, "x-correlation-id").expect("generated correlation id");
        assert!(!id.is_empty());
        if response.status().is_client_error() {
            let body = response.json::<Value>().await.unwrap();
            assert_eq!(body["correlationId"], id.as_str());
        }
        generated.push(id);
    }
    assert_ne!(generated[0], generated[1]);
    assert_ne!(generated[1], generated[2]);

    // A correlation id that is not visible ASCII is replaced, not echoed.
    let response = app
        .request(Method::GET, &format!("/product-offerings/{offering}"))
        .header("X-Correlation-Id", "x".repeat(200))
        .send()
        .await
        .unwrap();
    let id = header(&response, "x-correlation-id").unwrap();
    assert_ne!(id, "x".repeat(200));
    assert!(!id.is_empty());
}
