//! Tenants isolated in the database (ADR 0030): CPQ's request-handling role `cpq_app` sees and
//! writes only the tenant its transaction names, whatever the SQL forgets; child rows cannot
//! claim another tenant than their quote's; another tenant's quote answers 404.

use common_kernel::db::begin_for_tenant;
use common_kernel::ids::TenantId;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::harness::{TENANT, TestApp, expect_problem, expect_status, id_of};

const OTHER: &str = "globex";

/// Every CPQ table a request reads, and the platform tables with a tenant it reads.
const TABLES: [&str; 8] = [
    "quote",
    "quote_item",
    "quote_price_snapshot",
    "quote_price_override",
    "quote_conversion",
    "quote_approval_request",
    "outbox_event",
    "idempotency_record",
];

fn tenant(value: &str) -> TenantId {
    TenantId::parse(value).unwrap()
}

/// SQLSTATE and constraint of a refused statement.
fn refusal<T: std::fmt::Debug>(result: Result<T, sqlx::Error>) -> (String, String) {
    match result {
        Err(sqlx::Error::Database(db)) => (
            db.code().unwrap_or_default().into_owned(),
            db.constraint().unwrap_or_default().to_owned(),
        ),
        other => panic!("expected a database refusal, got {other:?}"),
    }
}

/// Rows in every table for acme through the API (a converted quote — approved through the
/// approval consumer's handler —, a priced one with an override, an idempotent create), and a
/// quote of another tenant written by the owner.
async fn two_tenants(app: &TestApp) -> Uuid {
    let converted = app.accepted_quote().await;
    app.command(converted, "convert-to-order").await;
    let overridden = app.configured_quote().await;
    app.command(overridden, "price").await;
    let body = json!({"charge": "ONE_TIME", "originalPrice": "100.00", "newPrice": "90.00", "reason": "goodwill"});
    expect_status(
        app.post(
            &format!("/quotes/{overridden}/items/1/price-override"),
            &body,
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let keyed = app
        .request(Method::POST, "/quotes")
        .header("Idempotency-Key", "tenancy-1")
        .json(&app.create_body(3600, json!([app.item("1", 1)])))
        .send()
        .await
        .unwrap();
    expect_status(keyed, StatusCode::CREATED).await;

    let foreign = Uuid::now_v7();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "INSERT INTO quote (quote_id, tenant_id, customer_id, currency, status, valid_until, price_book_id, \
           price_book_version, created_by) \
         VALUES ('{foreign}', '{OTHER}', 'CUST-G', 'USD', 'DRAFT', now() + interval '1 day', gen_random_uuid(), 1, 'sql'); \
         INSERT INTO quote_item (tenant_id, quote_id, revision, item_id, position, offering_id, offering_version, \
           quantity, configuration_status) \
         VALUES ('{OTHER}', '{foreign}', 1, '1', 0, gen_random_uuid(), 1, 1, 'EMPTY'); \
         INSERT INTO quote_price_snapshot (tenant_id, quote_id, revision, price_hash, trace_hash, currency, \
           price_book_id, price_book_version, one_time_total, result, trace, priced_by) \
         VALUES ('{OTHER}', '{foreign}', 1, repeat('a', 64), 't', 'USD', gen_random_uuid(), 1, 0, '{{}}', '[]', 'sql'); \
         INSERT INTO quote_price_override (tenant_id, quote_id, revision, item_id, charge, currency, \
           original_price, new_price, actor_id, actor_type, reason) \
         VALUES ('{OTHER}', '{foreign}', 1, '1', 'ONE_TIME', 'USD', 1, 0, 'sql', 'HUMAN_AGENT', 'why'); \
         INSERT INTO quote_history (quote_id, revision, tenant_id, command, to_status, aggregate_version, \
           actor_id, actor_type, channel, correlation_id, command_id) \
         VALUES ('{foreign}', 1, '{OTHER}', 'CREATE', 'DRAFT', 1, 'sql', 'HUMAN_AGENT', 'API', 'c', gen_random_uuid()); \
         INSERT INTO quote_conversion (quote_id, tenant_id, order_id, revision, price_hash, snapshot, converted_by) \
         VALUES ('{foreign}', '{OTHER}', gen_random_uuid(), 1, repeat('a', 64), '{{}}', 'sql'); \
         INSERT INTO quote_approval_request (approval_request_id, tenant_id, quote_id, revision, price_hash, status, \
           policy_id, policy_version, levels, decisions, request_version, last_event_id, last_event_type, occurred_at) \
         VALUES (gen_random_uuid(), '{OTHER}', '{foreign}', 1, repeat('a', 64), 'PENDING', 'quote-approval', '1', \
           '[]', '[]', 1, gen_random_uuid(), 'approval.requested.v1', now()); \
         INSERT INTO outbox_event (event_id, topic, partition_key, event_type, event_version, aggregate_type, \
           aggregate_id, aggregate_version, tenant_id, envelope, occurred_at) \
         VALUES (gen_random_uuid(), 't', 'k', 'x.created.v1', 1, 'X', '1', 1, '{OTHER}', '{{}}', now()); \
         INSERT INTO idempotency_record (tenant_id, idempotency_key, command_type, request_hash, status, \
           lease_token, locked_until, expires_at) \
         VALUES ('{OTHER}', 'tenancy-1', 'c', 'h', 'IN_PROGRESS', gen_random_uuid(), now(), now() + interval '1 hour')"
    )))
    .execute(&app.db)
    .await
    .unwrap();
    foreign
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
    let app = TestApp::spawn().await;
    let foreign = two_tenants(&app).await;
    let app_pool = app.app_pool().await;
    for table in TABLES.into_iter().chain(["quote_history"]) {
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
        if table == "quote_history" {
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
    // History is append-only for the service: it may not even read it, and writes only its
    // transaction's tenant.
    let mut tx = begin_for_tenant(&app_pool, &tenant(TENANT)).await.unwrap();
    let read = sqlx::query("SELECT 1 FROM quote_history")
        .execute(&mut *tx)
        .await;
    assert_eq!(refusal(read).0, "42501");
    tx.rollback().await.unwrap();
    let mut tx = begin_for_tenant(&app_pool, &tenant(TENANT)).await.unwrap();
    let foreign = sqlx::query(
        "INSERT INTO quote_history (quote_id, revision, tenant_id, command, to_status, aggregate_version, \
         actor_id, actor_type, channel, correlation_id, command_id) \
         VALUES ($1, 1, $2, 'CANCEL', 'CANCELLED', 2, 'sql', 'HUMAN_AGENT', 'API', 'c', gen_random_uuid())",
    )
    .bind(foreign)
    .bind(OTHER)
    .execute(&mut *tx)
    .await;
    assert_eq!(refusal(foreign).0, "42501");
    tx.rollback().await.unwrap();
    app_pool.close().await;
    app.stop().await;
}

#[tokio::test]
async fn without_a_tenant_the_app_role_sees_nothing_and_cannot_write() {
    let app = TestApp::spawn().await;
    let quote = two_tenants(&app).await;
    let app_pool = app.app_pool().await;
    for table in TABLES {
        let seen: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&app_pool)
                .await
                .unwrap();
        assert_eq!(seen, 0, "{table}");
    }
    let insert = sqlx::query(
        "INSERT INTO quote (quote_id, tenant_id, customer_id, currency, status, valid_until, price_book_id, \
         price_book_version, created_by) VALUES ($1, $2, 'C', 'USD', 'DRAFT', now(), $1, 1, 'sql')",
    )
    .bind(Uuid::now_v7())
    .bind(TENANT)
    .execute(&app_pool)
    .await;
    assert_eq!(refusal(insert).0, "42501");
    let update = sqlx::query("UPDATE quote SET customer_id = 'X' WHERE quote_id = $1")
        .bind(quote)
        .execute(&app_pool)
        .await
        .unwrap();
    assert_eq!(update.rows_affected(), 0);
    let mut conn = app_pool.acquire().await.unwrap();
    for escape in [
        "ALTER TABLE quote DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE quote_item NO FORCE ROW LEVEL SECURITY",
        "SET ROLE postgres",
    ] {
        let refused = sqlx::raw_sql(sqlx::AssertSqlSafe(escape))
            .execute(&mut *conn)
            .await;
        assert_eq!(refusal(refused).0, "42501", "{escape}");
    }
    drop(conn);
    app_pool.close().await;
    app.stop().await;
}

#[tokio::test]
async fn child_rows_cannot_claim_another_tenant_than_their_quotes() {
    let app = TestApp::spawn().await;
    let quote = app.configured_quote().await;
    app.command(quote, "price").await;
    // As the owner, whom row-level security does not stop: only the composite keys can refuse.
    let attempts = [
        (
            "INSERT INTO quote_item (tenant_id, quote_id, revision, item_id, position, offering_id, \
             offering_version, quantity, configuration_status) \
             VALUES ($1, $2, 1, '9', 9, gen_random_uuid(), 1, 1, 'EMPTY')",
            "quote_item_tenant_fk",
        ),
        (
            "UPDATE quote_price_snapshot SET tenant_id = $1 WHERE quote_id = $2",
            "quote_price_snapshot_tenant_fk",
        ),
        (
            "INSERT INTO quote_price_override (tenant_id, quote_id, revision, item_id, charge, currency, \
             original_price, new_price, actor_id, actor_type, reason) \
             VALUES ($1, $2, 1, '1', 'ONE_TIME', 'USD', 1, 0, 'sql', 'HUMAN_AGENT', 'why')",
            "quote_price_override_tenant_fk",
        ),
        (
            "INSERT INTO quote_history (quote_id, revision, tenant_id, command, to_status, aggregate_version, \
             actor_id, actor_type, channel, correlation_id, command_id) \
             VALUES ($2, 1, $1, 'PRICE', 'PRICED', 9, 'sql', 'HUMAN_AGENT', 'API', 'c', gen_random_uuid())",
            "quote_history_tenant_fk",
        ),
        (
            "INSERT INTO quote_conversion (quote_id, tenant_id, order_id, revision, price_hash, snapshot, converted_by) \
             VALUES ($2, $1, gen_random_uuid(), 1, repeat('a', 64), '{}', 'sql')",
            "quote_conversion_tenant_fk",
        ),
    ];
    let before = app.footprint().await;
    for (sql, constraint) in attempts {
        let result = sqlx::query(sql)
            .bind(OTHER)
            .bind(quote)
            .execute(&app.db)
            .await;
        assert_eq!(
            refusal(result),
            ("23503".to_owned(), constraint.to_owned()),
            "{sql}"
        );
    }
    assert_eq!(app.footprint().await, before);
    app.stop().await;
}

#[tokio::test]
async fn another_tenants_quote_answers_404() {
    let mut app = TestApp::spawn().await;
    let foreign = two_tenants(&app).await;
    let own = app.configured_quote().await;
    for path in [
        format!("/quotes/{foreign}"),
        format!("/quotes/{foreign}/price-trace"),
    ] {
        expect_problem(
            app.get(&path).await,
            StatusCode::NOT_FOUND,
            "QUOTE_NOT_FOUND",
        )
        .await;
    }
    expect_problem(
        app.post_empty(&format!("/quotes/{foreign}/price")).await,
        StatusCode::NOT_FOUND,
        "QUOTE_NOT_FOUND",
    )
    .await;
    app.tenant = OTHER.to_owned();
    expect_problem(
        app.get(&format!("/quotes/{own}")).await,
        StatusCode::NOT_FOUND,
        "QUOTE_NOT_FOUND",
    )
    .await;
    expect_problem(
        app.post_empty(&format!("/quotes/{own}/cancel")).await,
        StatusCode::NOT_FOUND,
        "QUOTE_NOT_FOUND",
    )
    .await;
    let listed = expect_status(app.get("/quotes").await, StatusCode::OK).await;
    let ids: Vec<Uuid> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| id_of(q, "id"))
        .collect();
    assert_eq!(ids, [foreign]);
    app.stop().await;
}

/// Every table `cpq_app` can reach has a tenant, forced row-level security and the tenant
/// policy, so a table added without them fails here rather than leaking; the relay's queue is
/// the one tenantless table the role may touch, and only to enqueue.
#[tokio::test]
async fn every_table_the_request_role_reaches_is_tenant_isolated() {
    let app = TestApp::spawn().await;
    test_support::assert_schema_isolated(
        &app.db,
        "cpq_schema",
        "cpq_app",
        &[("outbox_pending", &["INSERT"])],
    )
    .await;
    test_support::assert_functions_pin_search_path(&app.db, "cpq_schema").await;
    app.stop().await;
}
