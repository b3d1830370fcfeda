//! The cross-tenant probe: a caller of `globex` holding every role tries every operation of the
//! served contract on the harness tenant's catalog. What it addresses by path answers 404 (never
//! 403, never 2xx); what it references in a body is as unknown as an id that exists nowhere;
//! lists show and count only globex's content; no row of the harness tenant changes.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use uuid::Uuid;

use super::{Fixture, all_roles_token, planned, read, tenant_digest};
use crate::harness::{TENANT, TestApp};

const OTHER: &str = "globex";

/// The table whose rows a list endpoint pages through.
fn listed_table(template: &str) -> &'static str {
    match template {
        "/product-specifications" => "product_specification",
        "/product-offerings" => "product_offering",
        "/price-books" => "price_book",
        other => panic!("a list endpoint the probe does not know: {other}"),
    }
}

async fn rows_of(app: &TestApp, table: &str, tenant: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM {table} WHERE tenant_id = $1"
    )))
    .bind(tenant)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// Every id of the harness tenant's catalog, as strings.
async fn ids_of(app: &TestApp, tenant: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    for (table, column) in [
        ("product_specification", "product_specification_id"),
        ("product_offering", "product_offering_id"),
        ("price_book", "price_book_id"),
    ] {
        let found: Vec<Uuid> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT {column} FROM {table} WHERE tenant_id = $1"
        )))
        .bind(tenant)
        .fetch_all(&app.db)
        .await
        .unwrap();
        ids.extend(found.into_iter().map(|id| id.to_string()));
    }
    ids
}

/// `body` with every id of `ids` replaced by a fresh one that names nothing anywhere.
fn with_unknown_ids(body: &serde_json::Value, ids: &HashSet<String>) -> serde_json::Value {
    let mut text = body.to_string();
    for id in ids {
        text = text.replace(id.as_str(), &Uuid::now_v7().to_string());
    }
    serde_json::from_str(&text).unwrap()
}

/// The `(field, code)` of each field error of a problem.
fn reasons(problem: &serde_json::Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| (e["field"].to_string(), e["code"].to_string()))
        .collect()
}

#[tokio::test]
async fn another_tenants_catalog_does_not_exist_for_a_caller_with_every_role() {
    let mut app = TestApp::spawn().await;
    let fixture = Fixture::create(&app, "DEMO").await;
    app.tenant = OTHER.to_owned();
    Fixture::create(&app, "GLOBEX").await;
    app.tenant = TENANT.to_owned();
    let ours = ids_of(&app, TENANT).await;
    assert!(ours.contains(&fixture.published.to_string()));
    assert!(
        !ids_of(&app, OTHER)
            .await
            .contains(&fixture.spec.to_string())
    );
    let before = tenant_digest(&app, TENANT).await;

    let token = all_roles_token(&app, OTHER, "intruder");
    let calls = planned(&app, &fixture, "PROBE").await;
    for call in &calls {
        let send = |body: Option<&serde_json::Value>| {
            let mut request = app
                .anonymous(call.method.clone(), &call.path)
                .bearer_auth(&token);
            if let Some(body) = body {
                request = request.json(body);
            }
            async move { read(request.send().await.unwrap()).await }
        };
        let answer = send(call.body.as_ref()).await;
        let (status, body) = (answer.status, &answer.body);
        let at = format!("{} {} as {OTHER}: {status} {body}", call.method, call.path);
        assert_ne!(status, StatusCode::FORBIDDEN, "{at}");
        if call.is_list() {
            assert_eq!(status, StatusCode::OK, "{at}");
            let items = body["items"].as_array().unwrap();
            let seen: Vec<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
            assert_eq!(seen.len(), items.len(), "{at}");
            assert!(seen.iter().all(|id| !ours.contains(*id)), "{at}");
            let expected = rows_of(&app, listed_table(&call.operation.template), OTHER).await;
            assert!(expected > 0, "globex has content of its own: {at}");
            assert_eq!(body["totalCount"], expected, "{at}");
            assert_eq!(
                answer.header("x-total-count"),
                Some(expected.to_string().as_str()),
                "{at}"
            );
            continue;
        }
        if call.operation.template.contains('{') {
            assert_eq!(status, StatusCode::NOT_FOUND, "{at}");
            assert_eq!(
                answer.header("content-type"),
                Some("application/problem+json"),
                "{at}"
            );
            continue;
        }
        // A create: what it references of the harness tenant is unknown in globex, exactly as
        // an id that exists nowhere; with nothing to reference, it creates in globex.
        let body_text = call
            .body
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        if ours.iter().any(|id| body_text.contains(id.as_str())) {
            let unknown = with_unknown_ids(call.body.as_ref().unwrap(), &ours);
            let nowhere = send(Some(&unknown)).await;
            assert!(!status.is_success(), "{at}");
            assert_eq!(
                status, nowhere.status,
                "{at}; an unknown id: {}",
                nowhere.body
            );
            assert_eq!(body["code"], nowhere.body["code"], "{at}");
            assert_eq!(reasons(body), reasons(&nowhere.body), "{at}");
            assert!(!reasons(body).is_empty(), "{at}");
        } else {
            assert_eq!(status, StatusCode::CREATED, "{at}");
            let id = body["id"].as_str().unwrap();
            assert!(ids_of(&app, OTHER).await.contains(id), "{at}");
        }
    }

    // A code filter finds nothing of the harness tenant either.
    let filtered = read(
        app.anonymous(Method::GET, "/product-offerings?code=DEMO-PUBLISHED")
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(filtered.status, StatusCode::OK);
    assert_eq!(filtered.body["items"], serde_json::json!([]));
    assert_eq!(filtered.header("x-total-count"), Some("0"));
    assert_eq!(
        tenant_digest(&app, TENANT).await,
        before,
        "the harness tenant's rows changed"
    );
    app.stop().await;
}
