//! The database refuses what the domain never writes (spec: "insert the impossible row and see it
//! refused"): a status move outside its machine's table (each machine's SQL function agrees with
//! the Rust table pair for pair), an ACTIVE product instance without an activation date, an item
//! completed twice, a task started before its dependencies succeeded, a plan that changes, a
//! second order of one quote, a second operation guard on one instance, history that is edited;
//! and for exceptions: a redo or compensation without the task it refers to, two compensations
//! of one effect, characteristics changed outside a correction, a resolution without its
//! evidence, a fallout reopened from CLOSED, a cancellation that goes back.

#![expect(clippy::expect_used, reason = "test set-up fails loudly")]

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common_kernel::settings::{DatabaseSettings, Secret};
use order::domain::{
    asset_status, fallout_status, item_status, order_status, subscription_status, task_status,
};
use sqlx::PgPool;
use test_support::TestDatabase;
use uuid::Uuid;

async fn database() -> (TestDatabase, PgPool) {
    let platform = Path::new(messaging::schema::MIGRATIONS_DIR);
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/order");
    let settings = |url: &str| DatabaseSettings {
        url: Secret::new(url.to_owned()),
        max_connections: 4,
        acquire_timeout: Duration::from_secs(10),
    };
    let db = TestDatabase::from_template_of("order", &[platform, &migrations], |url| async move {
        let pool = common_kernel::db::connect(&settings(&url), order::SCHEMA)
            .await
            .expect("pool");
        messaging::schema::migrate(&pool, order::SCHEMA, &order::MIGRATOR)
            .await
            .expect("migrate");
        pool.close().await;
    })
    .await;
    let pool = common_kernel::db::connect(&settings(&db.url), order::SCHEMA)
        .await
        .expect("pool");
    (db, pool)
}

/// The constraint a refused statement names.
async fn refused(pool: &PgPool, sql: &str) -> String {
    match sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(pool)
        .await
    {
        Ok(_) => panic!("accepted: {sql}"),
        Err(sqlx::Error::Database(e)) => e
            .constraint()
            .map(str::to_owned)
            .unwrap_or_else(|| e.message().to_owned()),
        Err(other) => panic!("{other}"),
    }
}

async fn order_row(pool: &PgPool, quote: Option<Uuid>) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO customer_order (order_id, tenant_id, customer_id, status, origin, quote_id, quote_revision, \
         snapshot, snapshot_hash, capture_evidence, currency, created_by, correlation_id, business_transaction_id) \
         VALUES ($1, 'acme', 'C-1', 'ACKNOWLEDGED', $2, $3, $4, $5, $6, '{}', 'USD', 'test', 'c', 'b')",
    )
    .bind(id)
    .bind(if quote.is_some() { "QUOTE" } else { "DIRECT" })
    .bind(quote)
    .bind(quote.map(|_| 1))
    .bind(quote.map(|_| serde_json::json!({})))
    .bind(quote.map(|_| "0".repeat(64)))
    .execute(pool)
    .await
    .expect("order");
    id
}

async fn item_row(pool: &PgPool, order: Uuid) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO order_item (order_item_id, tenant_id, order_id, line_no, action, offering_id, offering_version, \
         quantity, characteristics, status) VALUES ($1, 'acme', $2, \
         (SELECT count(*) + 1 FROM order_item WHERE order_id = $2), 'ADD', $3, 1, 1, '{}', 'PENDING')",
    )
    .bind(id)
    .bind(order)
    .bind(Uuid::now_v7())
    .execute(pool)
    .await
    .expect("item");
    id
}

async fn task_row(
    pool: &PgPool,
    order: Uuid,
    item: Uuid,
    task_type: &str,
    depends_on: &[Uuid],
) -> Uuid {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO fulfilment_task (task_id, tenant_id, order_id, order_item_id, sequence_no, task_type, operation, \
         depends_on, reversible, status) VALUES ($1, 'acme', $2, $3, \
         (SELECT count(*) FROM fulfilment_task WHERE order_id = $2), $4, 'INVENTORY_RESERVE', $5, false, 'READY')",
    )
    .bind(id)
    .bind(order)
    .bind(item)
    .bind(task_type)
    .bind(depends_on)
    .execute(pool)
    .await
    .expect("task");
    id
}

/// A machine's SQL name, its Rust pairs and its states.
type Machine = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    Vec<&'static str>,
);

#[tokio::test]
async fn every_function_resolves_names_in_order_schema_whoever_calls_it() {
    let (_db, pool) = database().await;
    test_support::assert_functions_pin_search_path(&pool, order::SCHEMA).await;
}

#[tokio::test]
async fn each_status_function_is_its_rust_table_pair_for_pair() {
    let (_db, pool) = database().await;
    let machines: [Machine; 6] = [
        (
            "order",
            order_status::allowed_pairs(),
            order_status::OrderStatus::ALL
                .iter()
                .map(|s| s.as_str())
                .collect(),
        ),
        (
            "order_item",
            item_status::allowed_pairs(),
            item_status::ItemStatus::ALL
                .iter()
                .map(|s| s.as_str())
                .collect(),
        ),
        (
            "fulfilment_task",
            task_status::allowed_pairs(),
            task_status::TaskStatus::ALL
                .iter()
                .map(|s| s.as_str())
                .collect(),
        ),
        (
            "product_instance",
            asset_status::allowed_pairs(),
            asset_status::AssetStatus::ALL
                .iter()
                .map(|s| s.as_str())
                .collect(),
        ),
        (
            "order_fallout",
            fallout_status::allowed_pairs(),
            fallout_status::FalloutStatus::ALL
                .iter()
                .map(|s| s.as_str())
                .collect(),
        ),
        (
            "subscription",
            subscription_status::allowed_pairs(),
            subscription_status::SubscriptionStatus::ALL
                .iter()
                .map(|s| s.as_str())
                .collect(),
        ),
    ];
    for (machine, pairs, states) in machines {
        let allowed: BTreeSet<(&str, &str)> = pairs.into_iter().collect();
        for from in &states {
            for to in &states {
                let sql: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT order_schema.{machine}_transition_allowed($1, $2)"
                )))
                .bind(from)
                .bind(to)
                .fetch_one(&pool)
                .await
                .expect("query");
                let rust = from == to || allowed.contains(&(*from, *to));
                assert_eq!(sql, rust, "{machine}: {from} → {to}");
            }
        }
    }
}

#[tokio::test]
async fn impossible_rows_are_refused() {
    let (_db, pool) = database().await;
    let quote = Uuid::now_v7();
    let order = order_row(&pool, Some(quote)).await;
    // One order per quote.
    assert_eq!(
        sqlx::query("INSERT INTO customer_order (order_id, tenant_id, customer_id, status, origin, quote_id, quote_revision, snapshot, snapshot_hash, capture_evidence, currency, created_by, correlation_id, business_transaction_id) VALUES (gen_random_uuid(), 'acme', 'C-1', 'ACKNOWLEDGED', 'QUOTE', $1, 1, '{}', repeat('0', 64), '{}', 'USD', 't', 'c', 'b')")
            .bind(quote).execute(&pool).await.err().and_then(|e| e.as_database_error().and_then(|d| d.constraint().map(str::to_owned))).as_deref(),
        Some("customer_order_one_per_quote")
    );
    // A status outside the table, and an order born COMPLETED.
    let skip = format!(
        "UPDATE customer_order SET status = 'COMPLETED', aggregate_version = aggregate_version + 1 WHERE order_id = '{order}'"
    );
    let constraint = refused(&pool, &skip).await;
    assert!(constraint.ends_with("status_transition"), "{constraint}");
    // The frozen snapshot never changes.
    let tamper = format!(
        "UPDATE customer_order SET snapshot = '{{\"x\": 1}}', aggregate_version = aggregate_version + 1 WHERE order_id = '{order}'"
    );
    assert_eq!(
        refused(&pool, &tamper).await,
        "customer_order_capture_immutable"
    );

    let item = item_row(&pool, order).await;
    let first = task_row(&pool, order, item, "RESERVE_INVENTORY", &[]).await;
    let second = task_row(&pool, order, item, "ACTIVATE_SERVICE", &[first]).await;
    // No task starts before its dependencies succeeded.
    let early = format!(
        "UPDATE fulfilment_task SET status = 'DISPATCHED', aggregate_version = aggregate_version + 1 WHERE task_id = '{second}'"
    );
    assert_eq!(
        refused(&pool, &early).await,
        "fulfilment_task_dependencies_first"
    );
    // The plan never changes silently.
    let replan = format!(
        "UPDATE fulfilment_task SET operation = 'BILLING_START', aggregate_version = aggregate_version + 1 WHERE task_id = '{first}'"
    );
    assert_eq!(
        refused(&pool, &replan).await,
        "fulfilment_task_plan_immutable"
    );
    // An item completes once.
    for status in ["VALIDATED", "READY", "IN_PROGRESS"] {
        sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE order_item SET status = '{status}', aggregate_version = aggregate_version + 1 WHERE order_item_id = '{item}'")))
            .execute(&pool).await.expect("query");
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE order_item SET status = 'COMPLETED', completed_at = now(), aggregate_version = aggregate_version + 1 WHERE order_item_id = '{item}'")))
        .execute(&pool).await.expect("query");
    let again = format!(
        "UPDATE order_item SET completed_at = now() + interval '1 hour', aggregate_version = aggregate_version + 1 WHERE order_item_id = '{item}'"
    );
    assert_eq!(refused(&pool, &again).await, "order_item_completes_once");
    let no_date = format!(
        "UPDATE order_item SET completed_at = NULL, aggregate_version = aggregate_version + 1 WHERE order_item_id = '{item}'"
    );
    assert_eq!(refused(&pool, &no_date).await, "order_item_completes_once");

    // No ACTIVE asset without an activation date.
    let asset = Uuid::now_v7();
    let active = format!(
        "INSERT INTO product_instance (product_instance_id, tenant_id, customer_id, offering_id, offering_version, \
         characteristics, status, origin_order_id, origin_item_id, last_order_id, last_item_id) \
         VALUES ('{asset}', 'acme', 'C-1', gen_random_uuid(), 1, '{{}}', 'ACTIVE', '{order}', '{item}', '{order}', '{item}')"
    );
    let constraint = refused(&pool, &active).await;
    assert!(
        constraint == "product_instance_active_has_activation"
            || constraint.contains("initial_status"),
        "{constraint}"
    );
    let mut tx = pool.begin().await.expect("query");
    sqlx::query(sqlx::AssertSqlSafe(
        active.replace("'ACTIVE'", "'PENDING_ACTIVATION'"),
    ))
    .execute(&mut *tx)
    .await
    .expect("query");
    sqlx::query(sqlx::AssertSqlSafe(format!("INSERT INTO product_instance_history (product_instance_id, tenant_id, version, status, change, characteristics, order_id, order_item_id, changed_at) VALUES ('{asset}', 'acme', 1, 'PENDING_ACTIVATION', 'ADD', '{{}}', '{order}', '{item}', now())")))
        .execute(&mut *tx).await.expect("query");
    tx.commit().await.expect("query");
    let undated = format!(
        "UPDATE product_instance SET status = 'ACTIVE', aggregate_version = 2 WHERE product_instance_id = '{asset}'"
    );
    assert_eq!(
        refused(&pool, &undated).await,
        "product_instance_active_has_activation"
    );
    // Every version has its history row (checked at commit).
    let unhistoried = format!(
        "UPDATE product_instance SET status = 'ACTIVE', activation_date = now(), aggregate_version = 2 WHERE product_instance_id = '{asset}'"
    );
    assert_eq!(
        refused(&pool, &unhistoried).await,
        "product_instance_history_per_version"
    );
    // History is append-only.
    let edit = format!(
        "UPDATE product_instance_history SET status = 'ACTIVE' WHERE product_instance_id = '{asset}'"
    );
    assert_eq!(
        refused(&pool, &edit).await,
        "product_instance_history_append_only"
    );
    // One operation in flight per instance.
    let guard = format!(
        "INSERT INTO product_instance_guard (product_instance_id, tenant_id, order_id, order_item_id, action) VALUES ('{asset}', 'acme', '{order}', '{item}', 'MODIFY')"
    );
    sqlx::query(sqlx::AssertSqlSafe(guard.clone()))
        .execute(&pool)
        .await
        .expect("query");
    assert_eq!(
        refused(&pool, &guard.replace("'MODIFY'", "'DELETE'")).await,
        "product_instance_guard_pkey"
    );
}

#[tokio::test]
async fn impossible_exception_rows_are_refused() {
    let (_db, pool) = database().await;
    let order = order_row(&pool, None).await;
    let item = item_row(&pool, order).await;
    let first = task_row(&pool, order, item, "RESERVE_INVENTORY", &[]).await;
    // A compensation names the effect it undoes; a plain step names none.
    let insert = |task_type: &str, purpose: &str, refers: &str| {
        format!(
            "INSERT INTO fulfilment_task (task_id, tenant_id, order_id, order_item_id, sequence_no, task_type, operation, \
             reversible, status, purpose, refers_to) VALUES (gen_random_uuid(), 'acme', '{order}', '{item}', \
             (SELECT count(*) FROM fulfilment_task WHERE order_id = '{order}'), '{task_type}', 'INVENTORY_RELEASE', false, \
             'READY', '{purpose}', {refers})"
        )
    };
    assert_eq!(
        refused(&pool, &insert("UNDO_X", "COMPENSATE", "NULL")).await,
        "fulfilment_task_refers"
    );
    assert_eq!(
        refused(&pool, &insert("PLAIN_X", "FULFIL", &format!("'{first}'"))).await,
        "fulfilment_task_refers"
    );
    sqlx::query(sqlx::AssertSqlSafe(insert(
        "UNDO_RESERVE",
        "COMPENSATE",
        &format!("'{first}'"),
    )))
    .execute(&pool)
    .await
    .expect("query");
    assert_eq!(
        refused(
            &pool,
            &insert("UNDO_AGAIN", "COMPENSATE", &format!("'{first}'"))
        )
        .await,
        "fulfilment_task_one_compensation"
    );
    // A task's purpose never changes.
    let repurpose = format!(
        "UPDATE fulfilment_task SET purpose = 'REDO', refers_to = task_id, aggregate_version = aggregate_version + 1 \
         WHERE task_id = '{first}'"
    );
    assert_eq!(
        refused(&pool, &repurpose).await,
        "fulfilment_task_plan_immutable"
    );
    // An undo by hand is only asked of a succeeded effect.
    let manual = format!(
        "UPDATE fulfilment_task SET handling = 'MANUAL_UNDO_REQUIRED', aggregate_version = aggregate_version + 1 \
         WHERE task_id = '{first}'"
    );
    assert_eq!(refused(&pool, &manual).await, "fulfilment_task_handling");
    // Characteristics change only by a correction, which bumps their revision.
    let silent = format!(
        "UPDATE order_item SET characteristics = '{{\"bandwidth\": 500}}', aggregate_version = aggregate_version + 1 \
         WHERE order_item_id = '{item}'"
    );
    assert_eq!(
        refused(&pool, &silent).await,
        "order_item_characteristics_by_correction"
    );
    sqlx::query(sqlx::AssertSqlSafe(silent.replace(
        "aggregate_version = aggregate_version + 1",
        "characteristics_revision = 2, aggregate_version = aggregate_version + 1",
    )))
    .execute(&pool)
    .await
    .expect("a correction");

    // Fallout: a resolution carries its type, time and author; CLOSED is the end.
    let fallout = Uuid::now_v7();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO order_fallout (fallout_id, tenant_id, order_id, severity, category, failure_code, message, \
         retryable, owner_team) VALUES ('{fallout}', 'acme', '{order}', 'HIGH', 'EXTERNAL_REJECTION', 'X', 'm', false, 't')"
    )))
    .execute(&pool)
    .await
    .expect("fallout");
    let bare = format!(
        "UPDATE order_fallout SET status = 'RESOLVED', aggregate_version = aggregate_version + 1 WHERE fallout_id = '{fallout}'"
    );
    assert_eq!(refused(&pool, &bare).await, "order_fallout_resolution");
    let closed_early = format!(
        "UPDATE order_fallout SET status = 'CLOSED', aggregate_version = aggregate_version + 1 WHERE fallout_id = '{fallout}'"
    );
    assert!(
        refused(&pool, &closed_early)
            .await
            .ends_with("status_transition")
    );
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE order_fallout SET status = 'RESOLVED', resolved_at = now(), resolution_type = 'MANUAL', \
         resolution_note = 'n', resolved_by = 'ops1', aggregate_version = aggregate_version + 1 WHERE fallout_id = '{fallout}'"
    )))
    .execute(&pool)
    .await
    .expect("resolve");
    let rewrite = format!(
        "UPDATE order_fallout SET resolution_note = 'other', aggregate_version = aggregate_version + 1 WHERE fallout_id = '{fallout}'"
    );
    assert_eq!(
        refused(&pool, &rewrite).await,
        "order_fallout_resolution_immutable"
    );
    let delete = format!("DELETE FROM order_fallout WHERE fallout_id = '{fallout}'");
    assert_eq!(refused(&pool, &delete).await, "order_fallout_never_deleted");

    // A cancellation moves forward only.
    let cancellation = Uuid::now_v7();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO order_cancellation (cancellation_id, tenant_id, order_id, whole_order, reason, requested_by, state, \
         impact, completed_at) VALUES ('{cancellation}', 'acme', '{order}', true, 'r', 'ops1', 'DONE', '{{}}', now())"
    )))
    .execute(&pool)
    .await
    .expect("cancellation");
    let back = format!(
        "UPDATE order_cancellation SET state = 'PENDING', completed_at = NULL WHERE cancellation_id = '{cancellation}'"
    );
    assert_eq!(refused(&pool, &back).await, "order_cancellation_state");
    // The plan revision and the fulfilment run only go up.
    let down = format!(
        "UPDATE customer_order SET fulfilment_run = 0, aggregate_version = aggregate_version + 1 WHERE order_id = '{order}'"
    );
    let constraint = refused(&pool, &down).await;
    assert!(
        constraint == "customer_order_revision_monotonic" || constraint.contains("fulfilment_run"),
        "{constraint}"
    );
}
