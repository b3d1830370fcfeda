//! The offering lifecycle over HTTP: the acceptance walk-through and the full transition matrix.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, expect_problem, expect_status, frozen_view};

#[tokio::test]
async fn create_submit_publish_then_edit_creates_v2_and_leaves_v1_unchanged() {
    let app = TestApp::spawn().await;
    let spec = app.create_spec("INTERNET-ACCESS").await;
    let offering = app
        .create_offering_with("INTERNET-BUSINESS", spec, json!([]))
        .await;

    let submitted = app.command(offering, "submit-for-review").await;
    assert_eq!(submitted["status"], "READY_FOR_REVIEW");
    let published = app.command(offering, "publish").await;
    assert_eq!(published["status"], "PUBLISHED");
    assert!(published["publishedAt"].is_string());
    let v1_before = frozen_view(app.version(offering, 1).await);

    let response = app
        .post(
            &format!("/product-offerings/{offering}/versions"),
            &json!({"name": "Business Internet (2027)"}),
        )
        .await;
    assert_eq!(
        response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some(format!("/product-offerings/{offering}/versions/2").as_str())
    );
    let v2 = expect_status(response, StatusCode::CREATED).await;
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["status"], "DRAFT");
    assert_eq!(v2["name"], "Business Internet (2027)");
    assert_eq!(
        v2["characteristics"], v1_before["characteristics"],
        "the draft copies the content"
    );

    let edited = app
        .patch(
            &format!("/product-offerings/{offering}/versions/2"),
            &json!({"description": "Now with IPv6"}),
        )
        .await;
    let edited = expect_status(edited, StatusCode::OK).await;
    assert_eq!(edited["description"], "Now with IPv6");

    assert_eq!(
        frozen_view(app.version(offering, 1).await),
        v1_before,
        "v1 is unchanged by v2's creation and edits"
    );

    // Editing the published version itself is refused with a stable code.
    let refused = app
        .patch(
            &format!("/product-offerings/{offering}/versions/1"),
            &json!({"name": "sneaky"}),
        )
        .await;
    expect_problem(refused, StatusCode::CONFLICT, "VERSION_IMMUTABLE").await;

    // Publishing v2 supersedes v1.
    app.command(offering, "submit-for-review").await;
    app.command(offering, "publish").await;
    let v1_after = app.version(offering, 1).await;
    assert_eq!(v1_after["status"], "RETIRED");
    assert_eq!(v1_after["name"], v1_before["name"]);
    let summary = expect_status(
        app.get(&format!("/product-offerings/{offering}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(summary["publishedVersion"], 2);
    assert_eq!(
        summary["versions"],
        json!([{"version": 1, "status": "RETIRED"}, {"version": 2, "status": "PUBLISHED"}])
    );

    // An illegal transition is a 409 problem with a stable code.
    let again = app
        .post_empty(&format!("/product-offerings/{offering}/publish"))
        .await;
    let problem = expect_problem(again, StatusCode::CONFLICT, "ILLEGAL_TRANSITION").await;
    assert_eq!(problem["retryable"], false);
    app.stop().await;
}

/// The states of the matrix and how to reach them from a fresh offering.
const STATES: [(&str, &[&str]); 5] = [
    ("DRAFT", &[]),
    ("READY_FOR_REVIEW", &["submit-for-review"]),
    ("PUBLISHED", &["submit-for-review", "publish"]),
    ("RETIRED", &["submit-for-review", "publish", "retire"]),
    (
        "ARCHIVED",
        &["submit-for-review", "publish", "retire", "archive"],
    ),
];

/// Every command the API offers on a version.
const COMMANDS: [&str; 7] = [
    "submit-for-review",
    "return-to-draft",
    "publish",
    "retire",
    "archive",
    "edit",
    "new-version",
];

/// Expected outcome written out independently of the domain table: (status code, error code,
/// state of version 1 afterwards).
fn expected(state: &str, command: &str) -> (StatusCode, Option<&'static str>, &'static str) {
    let conflict = |code| (StatusCode::CONFLICT, Some(code), "");
    match (state, command) {
        ("DRAFT", "submit-for-review") => (StatusCode::OK, None, "READY_FOR_REVIEW"),
        ("DRAFT", "edit") => (StatusCode::OK, None, "DRAFT"),
        ("DRAFT" | "READY_FOR_REVIEW", "new-version") => conflict("WORKING_VERSION_EXISTS"),
        ("READY_FOR_REVIEW", "return-to-draft") => (StatusCode::OK, None, "DRAFT"),
        ("READY_FOR_REVIEW", "publish") => (StatusCode::OK, None, "PUBLISHED"),
        ("PUBLISHED", "retire") => (StatusCode::OK, None, "RETIRED"),
        ("PUBLISHED", "new-version") => (StatusCode::CREATED, None, "PUBLISHED"),
        ("RETIRED", "archive") => (StatusCode::OK, None, "ARCHIVED"),
        ("RETIRED", "new-version") => (StatusCode::CREATED, None, "RETIRED"),
        (_, "edit") => conflict("VERSION_IMMUTABLE"),
        _ => conflict("ILLEGAL_TRANSITION"),
    }
}

async fn apply(app: &TestApp, offering: Uuid, command: &str) -> reqwest::Response {
    match command {
        "edit" => {
            app.patch(
                &format!("/product-offerings/{offering}/versions/1"),
                &json!({"name": "Edited"}),
            )
            .await
        }
        "new-version" => {
            app.post_empty(&format!("/product-offerings/{offering}/versions"))
                .await
        }
        lifecycle => {
            app.post(
                &format!("/product-offerings/{offering}/{lifecycle}"),
                &json!({"version": 1}),
            )
            .await
        }
    }
}

#[tokio::test]
async fn transition_matrix_every_state_times_every_command() {
    let app = TestApp::spawn().await;
    let spec = app.create_spec("MATRIX").await;
    let mut checked = 0;
    for (index, (state, path)) in STATES.iter().enumerate() {
        for (c, command) in COMMANDS.iter().enumerate() {
            let offering = app
                .create_offering_with(&format!("M-{index}-{c}"), spec, json!([]))
                .await;
            for step in *path {
                app.command(offering, step).await;
            }
            assert_eq!(app.version(offering, 1).await["status"], *state);
            let before = frozen_view(app.version(offering, 1).await);
            let events_before = app.count("outbox_event").await;

            let response = apply(&app, offering, command).await;
            let (status, code, after_state) = expected(state, command);
            match code {
                Some(code) => {
                    expect_problem(response, status, code).await;
                    assert_eq!(
                        frozen_view(app.version(offering, 1).await),
                        before,
                        "{state} x {command} changed nothing"
                    );
                    assert_eq!(
                        app.count("outbox_event").await,
                        events_before,
                        "{state} x {command} emitted nothing"
                    );
                }
                None => {
                    expect_status(response, status).await;
                    assert_eq!(
                        app.version(offering, 1).await["status"],
                        after_state,
                        "{state} x {command}"
                    );
                    assert!(
                        app.count("outbox_event").await > events_before,
                        "{state} x {command} emitted events"
                    );
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 35);
    app.stop().await;
}

#[tokio::test]
async fn stale_if_match_is_refused_and_current_one_accepted() {
    let app = TestApp::spawn().await;
    let offering = app.create_offering("OPTIMISTIC").await;
    let response = app
        .request(
            reqwest::Method::POST,
            &format!("/product-offerings/{offering}/submit-for-review"),
        )
        .header("If-Match", "\"7\"")
        .send()
        .await
        .unwrap();
    expect_problem(
        response,
        StatusCode::PRECONDITION_FAILED,
        "VERSION_MISMATCH",
    )
    .await;

    let response = app
        .request(
            reqwest::Method::POST,
            &format!("/product-offerings/{offering}/submit-for-review"),
        )
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some("\"2\"")
    );
    expect_status(response, StatusCode::OK).await;
    app.stop().await;
}

#[tokio::test]
async fn relationships_are_validated_against_existing_offerings() {
    let app = TestApp::spawn().await;
    let internet = app.published_offering("INTERNET").await;
    let spec = app.create_spec("STATIC-IP-SPEC").await;
    let rules = json!([
        {"type": "REQUIRES", "targetOfferingId": internet, "minCardinality": 1, "maxCardinality": 1},
        {"type": "ADD_ON_OF", "targetOfferingId": internet, "maxCardinality": 1}
    ]);
    let static_ip = app.create_offering_with("STATIC-IP", spec, rules).await;
    let v1 = app.version(static_ip, 1).await;
    let relationships = v1["relationships"].as_array().unwrap();
    assert_eq!(relationships.len(), 2);
    assert!(
        relationships
            .iter()
            .all(|r| r["targetOfferingCode"] == "INTERNET")
    );

    let unknown = Uuid::now_v7();
    let response = app
        .post(
            "/product-offerings",
            &json!({"code": "BROKEN", "name": "Broken", "productSpecificationId": spec,
                    "relationships": [{"type": "EXCLUDES", "targetOfferingId": unknown}, {"type": "REQUIRES", "targetOfferingId": internet}, {"type": "EXCLUDES", "targetOfferingId": internet}]}),
        )
        .await;
    let problem = expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    let fields: Vec<&Value> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["field"])
        .collect();
    assert!(
        fields.contains(&&json!("/relationships/0/targetOfferingId")),
        "{problem}"
    );
    assert!(
        problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["code"] == "CONTRADICTION"),
        "{problem}"
    );
    app.stop().await;
}

#[tokio::test]
async fn return_to_draft_allows_rework_before_publication() {
    let app = TestApp::spawn().await;
    let offering = app.create_offering("REWORK").await;
    app.command(offering, "submit-for-review").await;
    let refused = app
        .patch(
            &format!("/product-offerings/{offering}/versions/1"),
            &json!({"name": "Fix"}),
        )
        .await;
    expect_problem(refused, StatusCode::CONFLICT, "VERSION_IMMUTABLE").await;
    let back = app
        .post(
            &format!("/product-offerings/{offering}/return-to-draft"),
            &json!({"reason": "typo in name"}),
        )
        .await;
    assert_eq!(expect_status(back, StatusCode::OK).await["status"], "DRAFT");
    let fixed = app
        .patch(
            &format!("/product-offerings/{offering}/versions/1"),
            &json!({"name": "Fixed"}),
        )
        .await;
    assert_eq!(expect_status(fixed, StatusCode::OK).await["name"], "Fixed");
    let reason: Option<String> = sqlx::query_scalar(
        "SELECT reason FROM product_offering_history WHERE command = 'RETURN_TO_DRAFT'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(reason.as_deref(), Some("typo in name"));
    app.stop().await;
}
