//! CPQ's jobs role (ADR 0030): `cpq_jobs`, on which the quote expiry, the approval consumer,
//! the relay and the purge run, sees every tenant's quotes, holds exactly the grants its work
//! needs and runs no DDL. The expiry scenarios (`scenarios.rs`, `contracts.rs`) and every
//! approval outcome the tests deliver (`approval_support.rs`, `approval_outcomes.rs`) run on its
//! pool, which proves the grants suffice.

use std::time::Duration;

use common_kernel::db;
use common_kernel::settings::{DatabaseSettings, Secret, app_database_url};
use sqlx::PgPool;
use test_support::TestDatabase;

use crate::harness::cpq_database;

/// A pool on the test database as `role` (the owner's when `None`), as `service-host` opens one.
async fn pool(database: &TestDatabase, role: Option<&str>) -> PgPool {
    let url = role.map_or_else(
        || database.url.clone(),
        |role| app_database_url(&database.url, role),
    );
    let settings = DatabaseSettings {
        url: Secret::new(url),
        max_connections: 2,
        acquire_timeout: Duration::from_secs(5),
    };
    db::connect(&settings, cpq::SCHEMA).await.expect("pool")
}

/// The SQLSTATE of a refused statement.
fn refusal<T: std::fmt::Debug>(what: &str, result: Result<T, sqlx::Error>) -> String {
    match result {
        Err(sqlx::Error::Database(db)) => db.code().unwrap_or_default().into_owned(),
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn the_jobs_role_holds_exactly_what_the_relay_the_purge_the_expiry_and_the_consumer_run() {
    let database = cpq_database().await;
    let owner = pool(&database, None).await;
    let mut expected = test_support::PLATFORM_JOBS_GRANTS.to_vec();
    expected.extend([
        // The expiry's (migrations/cpq/20261208000001_jobs_role.sql).
        "outbox_event: INSERT",
        "outbox_pending: INSERT",
        "quote: SELECT",
        "quote: UPDATE",
        "quote_history: INSERT",
        "quote_item: SELECT",
        "quote_price_override: SELECT",
        "quote_price_snapshot: SELECT",
        // The approval consumer's (migrations/cpq/20261216000001_approval_outcomes.sql).
        "quote_approval_request: INSERT",
        "quote_approval_request: SELECT",
        "quote_approval_request: UPDATE",
        "quote_price_snapshot(frozen): UPDATE",
    ]);
    expected.sort_unstable();
    assert_eq!(
        test_support::role_grants(&owner, cpq::SCHEMA, "cpq_jobs").await,
        expected
    );
}

#[tokio::test]
async fn the_jobs_role_sees_every_tenants_quotes_and_can_neither_change_the_schema_nor_reach_further()
 {
    let database = cpq_database().await;
    let owner = pool(&database, None).await;
    let jobs = pool(&database, Some("cpq_jobs")).await;
    db::check_jobs_role(&jobs, cpq::SCHEMA)
        .await
        .expect("cpq_jobs is a safe jobs role");
    for tenant in ["acme", "globex"] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "INSERT INTO quote (quote_id, tenant_id, customer_id, currency, status, valid_until, \
               price_book_id, price_book_version, created_by) \
             VALUES (gen_random_uuid(), '{tenant}', 'CUST', 'USD', 'DRAFT', now() - interval '1 minute', \
               gen_random_uuid(), 1, 'sql')"
        )))
        .execute(&owner)
        .await
        .unwrap();
    }
    // No tenant set, as the expiry looks for due quotes.
    let tenants: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT tenant_id FROM quote ORDER BY 1")
            .fetch_all(&jobs)
            .await
            .unwrap();
    assert_eq!(tenants, ["acme", "globex"]);

    let mut conn = jobs.acquire().await.unwrap();
    for (what, statement) in [
        ("a table", "CREATE TABLE sneaky (id int)"),
        (
            "a function",
            "CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        ),
        ("a column", "ALTER TABLE quote ADD COLUMN sneaky int"),
        (
            "the isolation",
            "ALTER TABLE quote NO FORCE ROW LEVEL SECURITY",
        ),
        ("the guard", "ALTER TABLE quote DISABLE TRIGGER quote_guard"),
        ("a policy", "DROP POLICY tenant_isolation ON quote"),
        ("a table", "DROP TABLE quote_conversion"),
        ("every row", "TRUNCATE quote_history"),
        (
            "a new quote",
            "INSERT INTO quote (quote_id) VALUES (gen_random_uuid())",
        ),
        ("a deleted quote", "DELETE FROM quote"),
        ("an item", "UPDATE quote_item SET quantity = 2"),
        ("a snapshot", "DELETE FROM quote_price_snapshot"),
        (
            "a snapshot's price",
            "UPDATE quote_price_snapshot SET price_hash = repeat('0', 64)",
        ),
        ("approval evidence", "DELETE FROM quote_approval_request"),
        (
            "an override",
            "INSERT INTO quote_price_override DEFAULT VALUES",
        ),
        ("history", "SELECT * FROM quote_history"),
        ("conversions", "SELECT * FROM quote_conversion"),
        ("the owner", "SET ROLE postgres"),
    ] {
        let refused = sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
            .execute(&mut *conn)
            .await;
        assert_eq!(refusal(what, refused), "42501", "{what}: {statement}");
    }
}
