//! Fulfilment profiles over HTTP (ADR 0040): written with a draft, frozen on publish, read back
//! by every version read, carried in the content events, refused field by field when invalid.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, expect_problem, expect_status, frozen_view, id_of};

/// Business Internet's ADD plan as a client sends it: defaults left out.
fn internet_profile() -> Value {
    json!({
        "startsSubscription": true,
        "actions": {
            "ADD": [
                {"taskType": "RESERVE_INVENTORY", "operation": "INVENTORY_RESERVE",
                 "reversible": true, "compensation": "INVENTORY_RELEASE"},
                {"taskType": "CONFIGURE_CPE", "operation": "PROVISIONING_MODIFY", "dependsOn": ["RESERVE_INVENTORY"],
                 "reversible": false, "compensation": null, "pointOfNoReturn": false},
                {"taskType": "ACTIVATE_SERVICE", "operation": "PROVISIONING_ACTIVATE", "dependsOn": ["RESERVE_INVENTORY"],
                 "dependsOnParent": [], "reversible": true, "compensation": "PROVISIONING_DEACTIVATE"},
                {"taskType": "START_BILLING", "operation": "BILLING_START", "dependsOn": ["ACTIVATE_SERVICE", "CONFIGURE_CPE"],
                 "reversible": true, "compensation": "BILLING_REVERSE", "pointOfNoReturn": true}
            ],
            "DELETE": [
                {"taskType": "DEACTIVATE_SERVICE", "operation": "PROVISIONING_DEACTIVATE",
                 "dependsOnChildren": ["DEACTIVATE_SERVICE"], "reversible": false, "pointOfNoReturn": true}
            ]
        }
    })
}

/// The same profile as the catalog answers it: every field present.
fn internet_profile_answered() -> Value {
    let task = |task_type: &str,
                operation: &str,
                depends_on: Value,
                compensation: Value,
                point_of_no_return: bool| {
        json!({
            "taskType": task_type, "operation": operation, "dependsOn": depends_on,
            "dependsOnParent": [], "dependsOnChildren": [],
            "reversible": !compensation.is_null(), "compensation": compensation,
            "pointOfNoReturn": point_of_no_return,
        })
    };
    let mut deactivate = task(
        "DEACTIVATE_SERVICE",
        "PROVISIONING_DEACTIVATE",
        json!([]),
        Value::Null,
        true,
    );
    deactivate["dependsOnChildren"] = json!(["DEACTIVATE_SERVICE"]);
    json!({
        "startsSubscription": true,
        "actions": {
            "ADD": [
                task("RESERVE_INVENTORY", "INVENTORY_RESERVE", json!([]), json!("INVENTORY_RELEASE"), false),
                task("CONFIGURE_CPE", "PROVISIONING_MODIFY", json!(["RESERVE_INVENTORY"]), Value::Null, false),
                task("ACTIVATE_SERVICE", "PROVISIONING_ACTIVATE", json!(["RESERVE_INVENTORY"]), json!("PROVISIONING_DEACTIVATE"), false),
                task("START_BILLING", "BILLING_START", json!(["ACTIVATE_SERVICE", "CONFIGURE_CPE"]), json!("BILLING_REVERSE"), true),
            ],
            "DELETE": [deactivate]
        }
    })
}

async fn create_with_profile(app: &TestApp, code: &str, profile: Value) -> reqwest::Response {
    let spec = app.create_spec(&format!("{code}-SPEC")).await;
    app.post(
        "/product-offerings",
        &json!({"code": code, "name": format!("Offering {code}"), "productSpecificationId": spec,
                "fulfilmentProfile": profile}),
    )
    .await
}

/// The `content` of the newest outbox event of `event_type`.
async fn event_content(app: &TestApp, event_type: &str) -> Value {
    sqlx::query_scalar(
        "SELECT envelope->'payload'->'content' FROM outbox_event WHERE event_type = $1 \
         ORDER BY outbox_seq DESC LIMIT 1",
    )
    .bind(event_type)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_profile_is_written_with_the_draft_frozen_on_publish_and_read_back() {
    let app = TestApp::spawn().await;
    let created = create_with_profile(&app, "FULFIL", internet_profile()).await;
    let offering = id_of(&expect_status(created, StatusCode::CREATED).await, "id");
    let expected = internet_profile_answered();

    let draft = app.version(offering, 1).await;
    assert_eq!(draft["fulfilmentProfile"], expected, "defaults filled in");
    assert_eq!(
        event_content(&app, "catalog.product-offering.created.v1").await["fulfilmentProfile"],
        expected
    );

    app.command(offering, "submit-for-review").await;
    let published = app.command(offering, "publish").await;
    assert_eq!(published["fulfilmentProfile"], expected);
    let published_content = event_content(&app, "catalog.product-offering.published.v1").await;
    assert_eq!(published_content["fulfilmentProfile"], expected);
    let v1 = frozen_view(app.version(offering, 1).await);
    assert_eq!(v1["fulfilmentProfile"], expected);
    // Read twice: the second read may come from the cache and must be the same.
    assert_eq!(frozen_view(app.version(offering, 1).await), v1);

    // A published version's profile cannot change, as any other content.
    let refused = app
        .patch(
            &format!("/product-offerings/{offering}/versions/1"),
            &json!({"fulfilmentProfile": null}),
        )
        .await;
    expect_problem(refused, StatusCode::CONFLICT, "VERSION_IMMUTABLE").await;

    // A change is a new version: derived with the profile copied, then edited.
    let v2 = app
        .post_empty(&format!("/product-offerings/{offering}/versions"))
        .await;
    let v2 = expect_status(v2, StatusCode::CREATED).await;
    assert_eq!(v2["fulfilmentProfile"], expected, "the draft copies it");
    assert_eq!(
        event_content(&app, "catalog.product-offering.version-created.v1").await["fulfilmentProfile"],
        expected
    );
    let mut changed = internet_profile();
    changed["startsSubscription"] = json!(false);
    changed["actions"].as_object_mut().unwrap().remove("DELETE");
    let edited = app
        .patch(
            &format!("/product-offerings/{offering}/versions/2"),
            &json!({"fulfilmentProfile": changed}),
        )
        .await;
    let edited = expect_status(edited, StatusCode::OK).await;
    assert_eq!(edited["fulfilmentProfile"]["startsSubscription"], false);
    assert!(edited["fulfilmentProfile"]["actions"]["DELETE"].is_null());
    let updated = event_content(&app, "catalog.product-offering.draft-updated.v1").await;
    assert_eq!(updated["fulfilmentProfile"], edited["fulfilmentProfile"]);

    // Other edits keep it; null removes it.
    let renamed = app
        .patch(
            &format!("/product-offerings/{offering}/versions/2"),
            &json!({"name": "Renamed"}),
        )
        .await;
    assert_eq!(
        expect_status(renamed, StatusCode::OK).await["fulfilmentProfile"],
        edited["fulfilmentProfile"]
    );
    let cleared = app
        .patch(
            &format!("/product-offerings/{offering}/versions/2"),
            &json!({"fulfilmentProfile": null}),
        )
        .await;
    assert!(
        expect_status(cleared, StatusCode::OK).await["fulfilmentProfile"].is_null(),
        "null removes the profile"
    );

    assert_eq!(
        frozen_view(app.version(offering, 1).await),
        v1,
        "v1 unchanged by v2"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_version_without_a_profile_answers_null() {
    let app = TestApp::spawn().await;
    let offering = app.published_offering("NO-PROFILE").await;
    let v1 = app.version(offering, 1).await;
    assert!(
        v1.get("fulfilmentProfile").is_some_and(Value::is_null),
        "present and null: {v1}"
    );
    assert!(
        event_content(&app, "catalog.product-offering.published.v1").await["fulfilmentProfile"]
            .is_null()
    );
    app.stop().await;
}

#[tokio::test]
async fn an_invalid_profile_is_refused_field_by_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let spec = app.create_spec("BAD-PROFILE-SPEC").await;
    let before = app.footprint().await;
    let profile = json!({
        "actions": {
            "NO_CHANGE": [{"taskType": "NOTHING", "operation": "NOTIFICATION_SEND", "reversible": false}],
            "ADD": [
                {"taskType": "RESERVE", "operation": "INVENTORY_RESERVE", "dependsOn": ["ACTIVATE"],
                 "reversible": true},
                {"taskType": "ACTIVATE", "operation": "TELEPORT", "dependsOn": ["NOWHERE"],
                 "reversible": false, "compensation": "PROVISIONING_DEACTIVATE"},
                {"taskType": "ACTIVATE", "operation": "PROVISIONING_ACTIVATE", "reversible": false}
            ]
        }
    });
    let response = app
        .post(
            "/product-offerings",
            &json!({"code": "BAD-PROFILE", "name": "Bad", "productSpecificationId": spec,
                    "fulfilmentProfile": profile}),
        )
        .await;
    let problem = expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    let mut errors: Vec<(String, String)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    errors.sort();
    let at = |suffix: &str, code: &str| {
        (
            format!("/fulfilmentProfile/actions/{suffix}"),
            code.to_owned(),
        )
    };
    let mut expected = vec![
        at("ADD/0/dependsOn/0", "FORWARD_REFERENCE"),
        at("ADD/0/compensation", "REQUIRED"),
        at("ADD/1/operation", "NOT_ALLOWED"),
        at("ADD/1/dependsOn/0", "UNKNOWN_TASK"),
        at("ADD/1/compensation", "NOT_ALLOWED"),
        at("ADD/2/taskType", "DUPLICATE"),
        at("NO_CHANGE", "NOT_ALLOWED"),
    ];
    expected.sort();
    assert_eq!(errors, expected, "{problem}");
    assert_eq!(app.footprint().await, before, "nothing written");

    // A template without `reversible` cannot be read at all; the field is named.
    let response = app
        .post(
            "/product-offerings",
            &json!({"code": "BAD-PROFILE", "name": "Bad", "productSpecificationId": spec,
                    "fulfilmentProfile": {"actions": {"ADD": [{"taskType": "X1", "operation": "BILLING_START"}]}}}),
        )
        .await;
    let problem = expect_problem(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    let error = &problem["errors"][0];
    assert_eq!(error["code"], "REQUIRED", "{problem}");
    assert!(
        error["field"]
            .as_str()
            .unwrap()
            .starts_with("/fulfilmentProfile/actions/ADD/0"),
        "{problem}"
    );
    assert_eq!(app.footprint().await, before, "nothing written");
    app.stop().await;
}

#[tokio::test]
async fn a_draft_can_gain_a_profile_before_review() {
    let app = TestApp::spawn().await;
    let offering: Uuid = app.create_offering("LATE-PROFILE").await;
    assert!(app.version(offering, 1).await["fulfilmentProfile"].is_null());
    let edited = app
        .patch(
            &format!("/product-offerings/{offering}/versions/1"),
            &json!({"fulfilmentProfile": internet_profile()}),
        )
        .await;
    assert_eq!(
        expect_status(edited, StatusCode::OK).await["fulfilmentProfile"],
        internet_profile_answered()
    );
    app.command(offering, "submit-for-review").await;
    let refused = app
        .patch(
            &format!("/product-offerings/{offering}/versions/1"),
            &json!({"fulfilmentProfile": null}),
        )
        .await;
    expect_problem(refused, StatusCode::CONFLICT, "VERSION_IMMUTABLE").await;
    app.stop().await;
}
