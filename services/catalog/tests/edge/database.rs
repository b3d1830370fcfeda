//! The database's own guards: state is set up through the API, then attacked with plain SQL as
//! a buggy service or a careless operator would. Every attack must be refused by PostgreSQL
//! itself (check constraints, unique indexes, foreign keys, triggers) and leave the rows as
//! they were.

use serde_json::{Value, json};
use sqlx::postgres::PgQueryResult;
use uuid::Uuid;

use crate::harness::{TENANT, TestApp};
use crate::price_books::{create_price_book, publish_price_book};

/// SQLSTATE raised by the catalog's guard triggers (`integrity_constraint_violation`).
const GUARD: &str = "23000";
const CHECK: &str = "23514";
const UNIQUE: &str = "23505";
const FOREIGN_KEY: &str = "23503";

/// The SQLSTATE and constraint of a refused statement; panics if it was accepted.
fn refusal(result: Result<PgQueryResult, sqlx::Error>) -> (String, String) {
    match result {
        Err(sqlx::Error::Database(db)) => (
            db.code().map(|c| c.into_owned()).unwrap_or_default(),
            db.constraint().unwrap_or_default().to_owned(),
        ),
        other => panic!("the database accepted the attack: {other:?}"),
    }
}

/// Runs `sql` (with `$1` bound to `id`) and expects the given SQLSTATE and constraint.
async fn attack(app: &TestApp, sql: &'static str, id: Uuid, code: &str, constraint: &str) {
    let result = sqlx::query(sql).bind(id).execute(&app.db).await;
    let (actual_code, actual_constraint) = refusal(result);
    assert_eq!(
        (actual_code.as_str(), actual_constraint.as_str()),
        (code, constraint),
        "{sql}"
    );
}

/// Every row of `table` whose `column` is `id`, as JSON, in a stable order.
async fn rows(app: &TestApp, table: &str, column: &str, id: Uuid) -> Value {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)::text), '[]') \
         FROM {table} t WHERE {column} = $1"
    )))
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// The offering's versions, relationships and history.
async fn offering_rows(app: &TestApp, id: Uuid) -> Value {
    json!({
        "root": rows(app, "product_offering", "product_offering_id", id).await,
        "versions": rows(app, "product_offering_version", "product_offering_id", id).await,
        "relationships": rows(app, "offering_relationship", "product_offering_id", id).await,
        "history": rows(app, "product_offering_history", "product_offering_id", id).await,
    })
}

/// The price book's root, versions, charges and history.
async fn price_book_rows(app: &TestApp, id: Uuid) -> Value {
    json!({
        "root": rows(app, "price_book", "price_book_id", id).await,
        "versions": rows(app, "price_book_version", "price_book_id", id).await,
        "charges": rows(app, "price_book_charge", "price_book_id", id).await,
        "history": rows(app, "price_book_history", "price_book_id", id).await,
    })
}

async fn status_of(app: &TestApp, id: Uuid, version: i32) -> String {
    sqlx::query_scalar(
        "SELECT status FROM product_offering_version WHERE product_offering_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(version)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn impossible_and_non_draft_births_are_refused() {
    let app = TestApp::spawn().await;
    let offering = app.published_offering("INTERNET").await;
    let before = offering_rows(&app, offering).await;

    // 'SOLD' is refused; the born-DRAFT trigger fires before the CHECK constraint.
    attack(
        &app,
        "INSERT INTO product_offering_version (product_offering_id, version, tenant_id, status, name, \
         product_specification_id, created_by) SELECT product_offering_id, 5, tenant_id, 'SOLD', 'x', \
         product_specification_id, 'sql' FROM product_offering_version WHERE product_offering_id = $1 AND version = 1",
        offering,
        GUARD,
        "offering_version_transition",
    )
    .await;
    attack(
        &app,
        "INSERT INTO product_offering_version (product_offering_id, version, tenant_id, status, name, \
         product_specification_id, created_by, published_at) SELECT product_offering_id, 5, tenant_id, \
         'PUBLISHED', 'x', product_specification_id, 'sql', now() FROM product_offering_version \
         WHERE product_offering_id = $1 AND version = 1",
        offering,
        GUARD,
        "offering_version_transition",
    )
    .await;
    attack(
        &app,
        "UPDATE product_offering_version SET status = 'SOLD' WHERE product_offering_id = $1",
        offering,
        GUARD,
        "offering_version_transition",
    )
    .await;

    // Behind the trigger, the CHECK constraint refuses the status on its own.
    let mut tx = app.db.begin().await.unwrap();
    sqlx::query("ALTER TABLE product_offering_version DISABLE TRIGGER offering_version_born_draft")
        .execute(&mut *tx)
        .await
        .unwrap();
    let result = sqlx::query(
        "INSERT INTO product_offering_version (product_offering_id, version, tenant_id, status, name, \
         product_specification_id, created_by) SELECT product_offering_id, 5, tenant_id, 'SOLD', 'x', \
         product_specification_id, 'sql' FROM product_offering_version WHERE product_offering_id = $1 AND version = 1",
    )
    .bind(offering)
    .execute(&mut *tx)
    .await;
    assert_eq!(
        refusal(result),
        (CHECK.to_owned(), "offering_version_status_check".to_owned())
    );
    tx.rollback().await.unwrap();

    // Price book versions are born DRAFT too.
    let book = create_price_book(&app, "LIST", offering).await;
    attack(
        &app,
        "INSERT INTO price_book_version (price_book_id, version, tenant_id, status, name, created_by, published_at) \
         SELECT price_book_id, 2, tenant_id, 'PUBLISHED', 'x', 'sql', now() FROM price_book WHERE price_book_id = $1",
        book,
        GUARD,
        "price_book_version_transition",
    )
    .await;

    assert_eq!(offering_rows(&app, offering).await, before);
    assert_eq!(app.count("product_offering_version").await, 1);
}

#[tokio::test]
async fn frozen_versions_refuse_content_changes_and_deletes() {
    let app = TestApp::spawn().await;
    let in_review = app.create_offering("IN-REVIEW").await;
    app.command(in_review, "submit-for-review").await;
    let published = app.published_offering("PUBLISHED").await;
    let retired = app.published_offering("RETIRED").await;
    app.command(retired, "retire").await;
    let archived = app.published_offering("ARCHIVED").await;
    app.command(archived, "retire").await;
    app.command(archived, "archive").await;

    for offering in [in_review, published, retired, archived] {
        let before = offering_rows(&app, offering).await;
        attack(
            &app,
            "UPDATE product_offering_version SET name = 'Hacked' WHERE product_offering_id = $1",
            offering,
            GUARD,
            "offering_version_immutable",
        )
        .await;
        attack(
            &app,
            "UPDATE product_offering_version SET description = 'sneaky', \
             product_specification_id = product_specification_id WHERE product_offering_id = $1",
            offering,
            GUARD,
            "offering_version_immutable",
        )
        .await;
        attack(
            &app,
            "UPDATE product_offering_version SET created_by = 'someone-else' WHERE product_offering_id = $1",
            offering,
            GUARD,
            "offering_version_immutable",
        )
        .await;
        attack(
            &app,
            "UPDATE product_offering_version SET fulfilment_profile = '{\"startsSubscription\": true, \"actions\": {}}' \
             WHERE product_offering_id = $1",
            offering,
            GUARD,
            "offering_version_immutable",
        )
        .await;
        attack(
            &app,
            "DELETE FROM product_offering_version WHERE product_offering_id = $1",
            offering,
            GUARD,
            "offering_version_immutable",
        )
        .await;
        assert_eq!(offering_rows(&app, offering).await, before);
    }

    // Lifecycle dates are written once.
    attack(
        &app,
        "UPDATE product_offering_version SET published_at = published_at - interval '1 day' \
         WHERE product_offering_id = $1",
        published,
        GUARD,
        "offering_version_immutable",
    )
    .await;

    // The guard is aimed at frozen versions: a DRAFT's content may still change.
    let draft = app.create_offering("DRAFT").await;
    let changed = sqlx::query(
        "UPDATE product_offering_version SET name = 'Renamed draft' WHERE product_offering_id = $1",
    )
    .bind(draft)
    .execute(&app.db)
    .await
    .unwrap();
    assert_eq!(changed.rows_affected(), 1);
    assert_eq!(app.version(draft, 1).await["name"], "Renamed draft");
    // A stored profile is a JSON object or nothing.
    attack(
        &app,
        "UPDATE product_offering_version SET fulfilment_profile = '[]' WHERE product_offering_id = $1",
        draft,
        CHECK,
        "offering_version_fulfilment_profile_object",
    )
    .await;
}

#[tokio::test]
async fn lifecycle_jumps_outside_the_transition_table_are_refused() {
    let app = TestApp::spawn().await;
    let draft = app.create_offering("DRAFT").await;
    let published = app.published_offering("PUBLISHED").await;
    let retired = app.published_offering("RETIRED").await;
    app.command(retired, "retire").await;

    let cases: [(Uuid, &'static str); 6] = [
        (
            draft,
            "UPDATE product_offering_version SET status = 'PUBLISHED', published_at = now() WHERE product_offering_id = $1",
        ),
        (
            draft,
            "UPDATE product_offering_version SET status = 'RETIRED', published_at = now(), retired_at = now() \
             WHERE product_offering_id = $1",
        ),
        (
            published,
            "UPDATE product_offering_version SET status = 'DRAFT' WHERE product_offering_id = $1",
        ),
        (
            published,
            "UPDATE product_offering_version SET status = 'READY_FOR_REVIEW' WHERE product_offering_id = $1",
        ),
        (
            retired,
            "UPDATE product_offering_version SET status = 'PUBLISHED' WHERE product_offering_id = $1",
        ),
        (
            retired,
            "UPDATE product_offering_version SET status = 'DRAFT' WHERE product_offering_id = $1",
        ),
    ];
    for (offering, sql) in cases {
        let before = offering_rows(&app, offering).await;
        attack(&app, sql, offering, GUARD, "offering_version_transition").await;
        assert_eq!(offering_rows(&app, offering).await, before, "{sql}");
    }
    assert_eq!(status_of(&app, draft, 1).await, "DRAFT");
    assert_eq!(status_of(&app, published, 1).await, "PUBLISHED");
    assert_eq!(status_of(&app, retired, 1).await, "RETIRED");

    // Price book versions: PUBLISHED never returns to DRAFT, RETIRED never comes back.
    let book = create_price_book(&app, "LIST", published).await;
    publish_price_book(&app, book).await;
    let before = price_book_rows(&app, book).await;
    attack(
        &app,
        "UPDATE price_book_version SET status = 'DRAFT' WHERE price_book_id = $1",
        book,
        GUARD,
        "price_book_version_transition",
    )
    .await;
    attack(
        &app,
        "UPDATE price_book_version SET status = 'SOLD' WHERE price_book_id = $1",
        book,
        GUARD,
        "price_book_version_transition",
    )
    .await;
    assert_eq!(price_book_rows(&app, book).await, before);
}

#[tokio::test]
async fn one_published_and_one_working_version_per_offering() {
    let app = TestApp::spawn().await;
    let offering = app.published_offering("INTERNET").await;
    let response = app
        .post_empty(&format!("/product-offerings/{offering}/versions"))
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    app.command(offering, "submit-for-review").await;
    let before = offering_rows(&app, offering).await;

    // v2 is READY_FOR_REVIEW, so PUBLISHED is a legal step for it — but v1 is still on sale.
    attack(
        &app,
        "UPDATE product_offering_version SET status = 'PUBLISHED', published_at = now() \
         WHERE product_offering_id = $1 AND version = 2",
        offering,
        UNIQUE,
        "offering_one_published_version",
    )
    .await;
    // A second working version next to v2.
    attack(
        &app,
        "INSERT INTO product_offering_version (product_offering_id, version, tenant_id, status, name, \
         product_specification_id, created_by) SELECT product_offering_id, 3, tenant_id, 'DRAFT', 'x', \
         product_specification_id, 'sql' FROM product_offering_version WHERE product_offering_id = $1 AND version = 1",
        offering,
        UNIQUE,
        "offering_one_working_version",
    )
    .await;
    assert_eq!(offering_rows(&app, offering).await, before);
}

#[tokio::test]
async fn relationships_of_frozen_versions_cannot_change() {
    let app = TestApp::spawn().await;
    let target = app.published_offering("TARGET").await;
    let other = app.published_offering("OTHER").await;
    let spec = app.create_spec("ADDON-SPEC").await;
    let addon = app
        .create_offering_with(
            "ADDON",
            spec,
            json!([{"type": "ADD_ON_OF", "targetOfferingId": target, "minCardinality": 1, "maxCardinality": 1}]),
        )
        .await;
    app.command(addon, "submit-for-review").await;
    app.command(addon, "publish").await;
    let before = offering_rows(&app, addon).await;

    let result = sqlx::query(
        "INSERT INTO offering_relationship (product_offering_id, version, tenant_id, relationship_type, \
         target_offering_id, min_cardinality, max_cardinality) VALUES ($1, 1, $2, 'EXCLUDES', $3, 0, NULL)",
    )
    .bind(addon)
    .bind(TENANT)
    .bind(other)
    .execute(&app.db)
    .await;
    assert_eq!(
        refusal(result),
        (GUARD.to_owned(), "offering_version_immutable".to_owned())
    );
    attack(
        &app,
        "DELETE FROM offering_relationship WHERE product_offering_id = $1",
        addon,
        GUARD,
        "offering_version_immutable",
    )
    .await;
    attack(
        &app,
        "UPDATE offering_relationship SET max_cardinality = 5 WHERE product_offering_id = $1",
        addon,
        GUARD,
        "offering_version_immutable",
    )
    .await;
    assert_eq!(offering_rows(&app, addon).await, before);
    assert_eq!(
        app.version(addon, 1).await["relationships"][0]["maxCardinality"],
        1
    );
}

#[tokio::test]
async fn history_rows_are_append_only() {
    let app = TestApp::spawn().await;
    let offering = app.published_offering("INTERNET").await;
    let book = create_price_book(&app, "LIST", offering).await;
    publish_price_book(&app, book).await;
    let offering_before = offering_rows(&app, offering).await;
    let book_before = price_book_rows(&app, book).await;
    assert_eq!(offering_before["history"].as_array().map(Vec::len), Some(3));
    assert_eq!(book_before["history"].as_array().map(Vec::len), Some(2));

    attack(
        &app,
        "UPDATE product_offering_history SET actor_id = 'nobody' WHERE product_offering_id = $1",
        offering,
        GUARD,
        "product_offering_history_append_only",
    )
    .await;
    attack(
        &app,
        "DELETE FROM product_offering_history WHERE product_offering_id = $1",
        offering,
        GUARD,
        "product_offering_history_append_only",
    )
    .await;
    attack(
        &app,
        "UPDATE price_book_history SET reason = 'rewritten' WHERE price_book_id = $1",
        book,
        GUARD,
        "price_book_history_append_only",
    )
    .await;
    attack(
        &app,
        "DELETE FROM price_book_history WHERE price_book_id = $1",
        book,
        GUARD,
        "price_book_history_append_only",
    )
    .await;
    assert_eq!(offering_rows(&app, offering).await, offering_before);
    assert_eq!(price_book_rows(&app, book).await, book_before);
}

#[tokio::test]
async fn specifications_and_characteristics_are_immutable() {
    let app = TestApp::spawn().await;
    let spec = app.create_spec("INTERNET-ACCESS").await;
    let spec_before = rows(
        &app,
        "product_specification",
        "product_specification_id",
        spec,
    )
    .await;
    let chars_before = rows(
        &app,
        "characteristic_definition",
        "product_specification_id",
        spec,
    )
    .await;
    assert_eq!(chars_before.as_array().map(Vec::len), Some(2));

    attack(
        &app,
        "UPDATE product_specification SET name = 'Renamed' WHERE product_specification_id = $1",
        spec,
        GUARD,
        "product_specification_immutable",
    )
    .await;
    attack(
        &app,
        "DELETE FROM product_specification WHERE product_specification_id = $1",
        spec,
        GUARD,
        "product_specification_immutable",
    )
    .await;
    attack(
        &app,
        "UPDATE characteristic_definition SET allowed_values = '[1, 2, 3]' WHERE product_specification_id = $1",
        spec,
        GUARD,
        "characteristic_definition_immutable",
    )
    .await;
    attack(
        &app,
        "DELETE FROM characteristic_definition WHERE product_specification_id = $1",
        spec,
        GUARD,
        "characteristic_definition_immutable",
    )
    .await;
    assert_eq!(
        rows(
            &app,
            "product_specification",
            "product_specification_id",
            spec
        )
        .await,
        spec_before
    );
    assert_eq!(
        rows(
            &app,
            "characteristic_definition",
            "product_specification_id",
            spec
        )
        .await,
        chars_before
    );
}

#[tokio::test]
async fn price_book_identity_and_published_charges_are_frozen() {
    let app = TestApp::spawn().await;
    let offering = app.published_offering("INTERNET").await;
    let book = create_price_book(&app, "LIST", offering).await;
    publish_price_book(&app, book).await;
    let before = price_book_rows(&app, book).await;

    for sql in [
        "UPDATE price_book SET currency = 'EUR' WHERE price_book_id = $1",
        "UPDATE price_book SET code = 'RENAMED' WHERE price_book_id = $1",
        "UPDATE price_book SET tenant_id = 'globex' WHERE price_book_id = $1",
    ] {
        attack(&app, sql, book, GUARD, "price_book_immutable").await;
    }
    for sql in [
        "UPDATE price_book_charge SET unit_price = 0.01 WHERE price_book_id = $1 AND unit_price IS NOT NULL",
        "UPDATE price_book_charge SET tiers = '[{\"fromQuantity\": 1, \"toQuantity\": null, \"unitPrice\": \"0.01\"}]' \
         WHERE price_book_id = $1 AND tiers IS NOT NULL",
        "DELETE FROM price_book_charge WHERE price_book_id = $1",
        "INSERT INTO price_book_charge (price_book_id, version, position, tenant_id, product_offering_id, \
         offering_version, charge_type, period, unit_price) SELECT price_book_id, version, 99, tenant_id, \
         product_offering_id, offering_version, 'RECURRING', 'YEAR', 1 FROM price_book_charge \
         WHERE price_book_id = $1 AND position = 0",
        "UPDATE price_book_version SET name = 'Renamed' WHERE price_book_id = $1",
        "DELETE FROM price_book_version WHERE price_book_id = $1",
    ] {
        attack(&app, sql, book, GUARD, "price_book_version_immutable").await;
    }
    assert_eq!(price_book_rows(&app, book).await, before);
    // The API still serves the original prices.
    let response = app.get(&format!("/price-books/{book}/versions/1")).await;
    let version = crate::harness::expect_status(response, reqwest::StatusCode::OK).await;
    assert_eq!(version["charges"].as_array().map(Vec::len), Some(2));
    assert_eq!(version["currency"], "USD");
}

#[tokio::test]
async fn charges_must_be_either_flat_or_tiered() {
    let app = TestApp::spawn().await;
    let offering = app.published_offering("INTERNET").await;
    let book = create_price_book(&app, "LIST", offering).await; // v1 is still DRAFT
    let before = price_book_rows(&app, book).await;
    let insert = |unit_price: Option<&str>,
                  tier_mode: Option<&str>,
                  tiers: Option<&str>,
                  period: Option<&str>| {
        sqlx::query(
            "INSERT INTO price_book_charge (price_book_id, version, position, tenant_id, product_offering_id, \
             offering_version, charge_type, period, unit_price, tier_mode, tiers) \
             VALUES ($1, 1, 50, $2, $3, 1, 'RECURRING', $4, $5::numeric, $6, $7::jsonb)",
        )
        .bind(book)
        .bind(TENANT)
        .bind(offering)
        .bind(period.map(str::to_owned))
        .bind(unit_price.map(str::to_owned))
        .bind(tier_mode.map(str::to_owned))
        .bind(tiers.map(str::to_owned))
    };
    let tiers = r#"[{"fromQuantity": 1, "toQuantity": null, "unitPrice": "1.00"}]"#;
    let cases = [
        (
            (Some("10"), Some("RANGE"), Some(tiers), Some("MONTH")),
            CHECK,
            "price_charge_flat_or_tiered",
        ),
        (
            (None, None, None, Some("MONTH")),
            CHECK,
            "price_charge_flat_or_tiered",
        ),
        (
            (None, Some("RANGE"), None, Some("MONTH")),
            CHECK,
            "price_charge_tiers_with_mode",
        ),
        (
            (Some("10"), None, None, None),
            CHECK,
            "price_charge_period_matches_type",
        ),
        (
            (Some("-1"), None, None, Some("MONTH")),
            CHECK,
            "price_book_charge_unit_price_check",
        ),
        (
            (None, Some("RANGE"), Some("[]"), Some("MONTH")),
            CHECK,
            "price_book_charge_tiers_check",
        ),
    ];
    for ((unit_price, tier_mode, tiers, period), code, constraint) in cases {
        let result = insert(unit_price, tier_mode, tiers, period)
            .execute(&app.db)
            .await;
        assert_eq!(
            refusal(result),
            (code.to_owned(), constraint.to_owned()),
            "{unit_price:?} {tier_mode:?} {tiers:?} {period:?}"
        );
    }
    assert_eq!(price_book_rows(&app, book).await, before);
    // The same shape with only the flat price is accepted on a DRAFT (the control case).
    insert(Some("10"), None, None, Some("MONTH"))
        .execute(&app.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn references_across_tenants_are_foreign_key_violations() {
    let mut app = TestApp::spawn().await;
    app.tenant = "globex".into();
    let foreign = app.published_offering("FOREIGN").await;
    app.tenant = TENANT.into();
    let draft = app.create_offering("DRAFT").await;
    let book = create_price_book(&app, "LIST", app.published_offering("OWN").await).await;
    let offering_before = offering_rows(&app, draft).await;
    let book_before = price_book_rows(&app, book).await;

    let result = sqlx::query(
        "INSERT INTO offering_relationship (product_offering_id, version, tenant_id, relationship_type, \
         target_offering_id, min_cardinality) VALUES ($1, 1, $2, 'REQUIRES', $3, 0)",
    )
    .bind(draft)
    .bind(TENANT)
    .bind(foreign)
    .execute(&app.db)
    .await;
    let (code, constraint) = refusal(result);
    assert_eq!(code, FOREIGN_KEY, "{constraint}");
    assert!(
        constraint.starts_with("offering_relationship_"),
        "{constraint}"
    );

    let result = sqlx::query(
        "INSERT INTO price_book_charge (price_book_id, version, position, tenant_id, product_offering_id, \
         offering_version, charge_type, unit_price) VALUES ($1, 1, 50, $2, $3, 1, 'ONE_TIME', 1)",
    )
    .bind(book)
    .bind(TENANT)
    .bind(foreign)
    .execute(&app.db)
    .await;
    let (code, constraint) = refusal(result);
    assert_eq!(code, FOREIGN_KEY, "{constraint}");
    assert!(constraint.starts_with("price_book_charge_"), "{constraint}");

    // A version of another tenant's offering cannot be attached to this tenant's root either.
    let result = sqlx::query(
        "INSERT INTO product_offering_version (product_offering_id, version, tenant_id, status, name, \
         product_specification_id, created_by) SELECT $1, 9, $2, 'DRAFT', 'x', product_specification_id, 'sql' \
         FROM product_offering_version WHERE product_offering_id = $1 AND version = 1",
    )
    .bind(foreign)
    .bind(TENANT)
    .execute(&app.db)
    .await;
    assert_eq!(refusal(result).0, FOREIGN_KEY);

    assert_eq!(offering_rows(&app, draft).await, offering_before);
    assert_eq!(price_book_rows(&app, book).await, book_before);
}

/// A relationship or charge row that names another tenant in its own `tenant_id` must not be
/// able to hang a foreign offering off this tenant's version: the owner's tenant and the row's
/// tenant have to agree.
#[tokio::test]
async fn rows_cannot_claim_another_tenant_to_reach_its_offerings() {
    let mut app = TestApp::spawn().await;
    app.tenant = "globex".into();
    let foreign = app.published_offering("FOREIGN").await;
    app.tenant = TENANT.into();
    let draft = app.create_offering("DRAFT").await;
    let book = create_price_book(&app, "LIST", app.published_offering("OWN").await).await;

    let relationship = sqlx::query(
        "INSERT INTO offering_relationship (product_offering_id, version, tenant_id, relationship_type, \
         target_offering_id, min_cardinality) VALUES ($1, 1, 'globex', 'REQUIRES', $2, 0)",
    )
    .bind(draft)
    .bind(foreign)
    .execute(&app.db)
    .await;
    let charge = sqlx::query(
        "INSERT INTO price_book_charge (price_book_id, version, position, tenant_id, product_offering_id, \
         offering_version, charge_type, unit_price) VALUES ($1, 1, 50, 'globex', $2, 1, 'ONE_TIME', 1)",
    )
    .bind(book)
    .bind(foreign)
    .execute(&app.db)
    .await;
    let leaked_relationships =
        rows(&app, "offering_relationship", "product_offering_id", draft).await;
    let leaked_charges: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM price_book_charge WHERE price_book_id = $1 AND product_offering_id = $2",
    )
    .bind(book)
    .bind(foreign)
    .fetch_one(&app.db)
    .await
    .unwrap();
    // What acme's API would then show: globex's offering code inside acme's draft.
    let seen_by_acme = app.version(draft, 1).await["relationships"].clone();
    assert!(
        relationship.is_err() && charge.is_err(),
        "relationship accepted: {} ({leaked_relationships}; acme's API shows {seen_by_acme}); \
         charge accepted: {} ({leaked_charges} rows)",
        relationship.is_ok(),
        charge.is_ok(),
    );
}
