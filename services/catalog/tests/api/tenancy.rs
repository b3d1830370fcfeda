//! Tenants isolated in the database (ADR 0030): the catalog's request-handling role
//! `catalog_app` sees and writes only the tenant its transaction names, whatever the SQL
//! forgets; a characteristic cannot claim another tenant than its specification's.

use common_kernel::db::begin_for_tenant;
use common_kernel::ids::TenantId;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::harness::{TENANT, TestApp, expect_status, id_of};

const OTHER: &str = "globex";

/// Every catalog table the service reads, and the platform tables with a tenant it reads.
const TABLES: [&str; 10] = [
    "product_specification",
    "characteristic_definition",
    "product_offering",
    "product_offering_version",
    "offering_relationship",
    "price_book",
    "price_book_version",
    "price_book_charge",
    "outbox_event",
    "idempotency_record",
];

/// Append-only history: the service writes it and never reads it.
const HISTORY: [&str; 2] = ["product_offering_history", "price_book_history"];

fn tenant(value: &str) -> TenantId {
    TenantId::parse(value).unwrap()
}

/// Through the API, as the current tenant: a published offering that requires another, a
/// published price book pricing it, and a keyed request.
async fn catalog_of_current_tenant(app: &TestApp) {
    let base = app.published_offering("BASE").await;
    let spec = app.create_spec("ADDON-SPEC").await;
    let relationships = json!([{"type": "REQUIRES", "targetOfferingId": base}]);
    app.create_offering_with("ADDON", spec, relationships).await;
    let book = expect_status(
        app.post(
            "/price-books",
            &json!({"code": "LIST", "name": "List", "currency": "USD", "entries": [{
                "offeringId": base, "offeringVersion": 1,
                "charges": [{"chargeType": "ONE_TIME", "unitPrice": "10.00"}]}]}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let book = id_of(&book, "priceBookId");
    expect_status(
        app.post(&format!("/price-books/{book}/publish"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let keyed = app
        .request(Method::POST, "/product-specifications")
        .header("Idempotency-Key", "tenancy-1")
        .json(&json!({"code": "KEYED", "name": "Keyed", "characteristics": []}))
        .send()
        .await
        .unwrap();
    expect_status(keyed, StatusCode::CREATED).await;
}

/// The distinct tenants of `table` an unscoped query sees in a transaction for `who`.
async fn tenants_seen(app_pool: &PgPool, who: &str, table: &str) -> Vec<String> {
    let mut tx = begin_for_tenant(app_pool, &tenant(who)).await.unwrap();
    // Deliberately no WHERE tenant_id.
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT tenant_id FROM {table}"
    )))
    .fetch_all(&mut *tx)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_query_that_forgets_its_tenant_still_sees_only_the_callers() {
    let mut app = TestApp::spawn().await;
    catalog_of_current_tenant(&app).await;
    app.tenant = OTHER.to_owned();
    catalog_of_current_tenant(&app).await;
    let app_pool = app.app_pool().await;
    for table in TABLES.into_iter().chain(HISTORY) {
        let owner_sees: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT DISTINCT tenant_id FROM {table} ORDER BY 1"
        )))
        .fetch_all(&app.db)
        .await
        .unwrap();
        assert_eq!(
            owner_sees,
            [TENANT, OTHER],
            "{table}: both tenants have rows"
        );
        if HISTORY.contains(&table) {
            let mut tx = begin_for_tenant(&app_pool, &tenant(TENANT)).await.unwrap();
            let read = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SELECT 1 FROM {table}")))
                .execute(&mut *tx)
                .await;
            assert!(
                matches!(&read, Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("42501")),
                "{table}: {read:?}"
            );
            continue;
        }
        assert_eq!(
            tenants_seen(&app_pool, TENANT, table).await,
            [TENANT],
            "{table}"
        );
        assert_eq!(
            tenants_seen(&app_pool, OTHER, table).await,
            [OTHER],
            "{table}"
        );
    }

    // Without a tenant the role sees nothing and cannot insert.
    for table in TABLES {
        let seen: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&app_pool)
                .await
                .unwrap();
        assert_eq!(seen, 0, "{table}");
    }
    let insert = sqlx::query(
        "INSERT INTO product_specification (product_specification_id, tenant_id, code, name, created_by) \
         VALUES ($1, $2, 'NOPE', 'Nope', 'sql')",
    )
    .bind(Uuid::now_v7())
    .bind(TENANT)
    .execute(&app_pool)
    .await;
    let refused = match insert {
        Err(sqlx::Error::Database(db)) => db.code().unwrap_or_default().into_owned(),
        other => panic!("insert without a tenant: {other:?}"),
    };
    assert_eq!(refused, "42501");
    app_pool.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_characteristic_cannot_claim_another_tenant_than_its_specifications() {
    let app = TestApp::spawn().await;
    let spec = app.create_spec("SPEC").await;
    let before = app.footprint().await;
    // As the owner, whom row-level security does not stop: only the composite key can refuse.
    let result = sqlx::query(
        "INSERT INTO characteristic_definition (tenant_id, product_specification_id, position, name, \
         value_type, required) VALUES ($1, $2, 9, 'stolen', 'STRING', false)",
    )
    .bind(OTHER)
    .bind(spec)
    .execute(&app.db)
    .await;
    let (code, constraint) = match result {
        Err(sqlx::Error::Database(db)) => (
            db.code().unwrap_or_default().into_owned(),
            db.constraint().unwrap_or_default().to_owned(),
        ),
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(
        (code.as_str(), constraint.as_str()),
        ("23503", "characteristic_definition_tenant_fk")
    );
    assert_eq!(app.footprint().await, before);
    app.stop().await;
}

/// Every table `catalog_app` can reach has a tenant, forced row-level security and the tenant
/// policy, so a table added without them fails here rather than leaking; the relay's queue is
/// the one tenantless table the role may touch, and only to enqueue.
#[tokio::test]
async fn every_table_the_request_role_reaches_is_tenant_isolated() {
    let app = TestApp::spawn().await;
    test_support::assert_schema_isolated(
        &app.db,
        "catalog_schema",
        "catalog_app",
        &[("outbox_pending", &["INSERT"])],
    )
    .await;
    test_support::assert_functions_pin_search_path(&app.db, "catalog_schema").await;
    // The check sees what it must refuse: a table granted to the role without isolation.
    sqlx::query("CREATE TABLE careless (tenant_id text, note text)")
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("GRANT SELECT ON careless TO catalog_app")
        .execute(&app.db)
        .await
        .unwrap();
    let facts = test_support::table_isolation(&app.db, "catalog_schema", "catalog_app").await;
    let careless = facts.iter().find(|t| t.table == "careless").unwrap();
    assert!(careless.has_tenant && !careless.forced_rls && careless.policies.is_empty());
    assert_eq!(careless.app_privileges, ["SELECT"]);
    let offerings = facts
        .iter()
        .find(|t| t.table == "product_offering")
        .unwrap();
    assert!(offerings.forced_rls);
    assert_eq!(
        offerings.policies,
        [(
            test_support::TENANT_POLICY.to_owned(),
            test_support::TENANT_POLICY.to_owned()
        )]
    );
    app.stop().await;
}
