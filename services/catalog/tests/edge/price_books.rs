//! Price books over HTTP: create, publish, supersede, the tier and currency rules, references
//! to offering versions, conflicts, and the history, events and audit every command leaves.

use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, expect_problem, expect_status, id_of};

/// A price book body pricing one offering version with a flat recurring charge and a tiered
/// one-time charge.
pub(crate) fn price_book_body(code: &str, currency: &str, offering: Uuid, version: i32) -> Value {
    json!({
        "code": code,
        "name": format!("Price book {code}"),
        "currency": currency,
        "entries": [{
            "offeringId": offering,
            "offeringVersion": version,
            "charges": [
                {"chargeType": "RECURRING", "period": "MONTH", "unitPrice": "149.00"},
                {"chargeType": "ONE_TIME", "tierMode": "SLAB", "tiers": [
                    {"fromQuantity": 1, "toQuantity": 4, "unitPrice": "15.00"},
                    {"fromQuantity": 5, "toQuantity": null, "unitPrice": "12.00"}
                ]}
            ]
        }]
    })
}

/// A body with one charge on `offering` v1 in `currency`.
fn one_charge(currency: &str, offering: Uuid, charge: Value) -> Value {
    json!({
        "code": "ONE-CHARGE",
        "name": "One charge",
        "currency": currency,
        "entries": [{"offeringId": offering, "offeringVersion": 1, "charges": [charge]}]
    })
}

/// A tier as `(fromQuantity, toQuantity)`.
type Tier = (u64, Option<u64>);

/// version, command, from, to, aggregate version, reason, actor of a history row.
type HistoryRow = (
    i32,
    String,
    Option<String>,
    String,
    i64,
    Option<String>,
    String,
);

/// A tiered charge with the given `(from, to)` tiers.
fn tiered(tiers: &[Tier]) -> Value {
    let tiers: Vec<Value> = tiers
        .iter()
        .map(|(from, to)| json!({"fromQuantity": from, "toQuantity": to, "unitPrice": "1.00"}))
        .collect();
    json!({"chargeType": "RECURRING", "period": "MONTH", "tierMode": "RANGE", "tiers": tiers})
}

/// Creates a USD price book pricing `offering` v1; returns its id.
pub(crate) async fn create_price_book(app: &TestApp, code: &str, offering: Uuid) -> Uuid {
    let response = app
        .post("/price-books", &price_book_body(code, "USD", offering, 1))
        .await;
    let body = expect_status(response, StatusCode::CREATED).await;
    id_of(&body, "priceBookId")
}

/// Publishes the latest version of a price book.
pub(crate) async fn publish_price_book(app: &TestApp, id: Uuid) -> Value {
    let response = app.post_empty(&format!("/price-books/{id}/publish")).await;
    expect_status(response, StatusCode::OK).await
}

/// POSTs `body` to `path`, expects a problem and proves nothing was written.
async fn refused_post(
    app: &TestApp,
    path: &str,
    body: &Value,
    status: StatusCode,
    code: &str,
) -> Value {
    let before = app.footprint().await;
    let problem = expect_problem(app.post(path, body).await, status, code).await;
    assert_eq!(app.footprint().await, before, "rows written by {problem}");
    problem
}

/// A decimal string as a number (fails on anything else, floats included).
fn amount(value: &Value) -> Decimal {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a decimal string: {value}"))
}

/// The code of the error at `field`, if any.
fn code_at<'a>(problem: &'a Value, field: &str) -> Option<&'a str> {
    problem["errors"]
        .as_array()?
        .iter()
        .find(|e| e["field"] == field)
        .and_then(|e| e["code"].as_str())
}

#[tokio::test]
async fn create_publish_and_supersede() {
    let app = TestApp::spawn().await;
    let offering = app.published_offering("INTERNET").await;

    let response = app
        .post(
            "/price-books",
            &price_book_body("LIST-USD", "USD", offering, 1),
        )
        .await;
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let created = expect_status(response, StatusCode::CREATED).await;
    let id = id_of(&created, "priceBookId");
    assert_eq!(
        location.as_deref(),
        Some(format!("/price-books/{id}/versions/1").as_str())
    );
    assert_eq!(created["status"], "DRAFT");
    assert_eq!(created["version"], 1);
    assert_eq!(created["code"], "LIST-USD");
    assert_eq!(created["currency"], "USD");
    assert_eq!(created["tenantId"], app.tenant);
    assert!(created["publishedAt"].is_null());
    let charges = &created["charges"];
    assert_eq!(charges.as_array().map(Vec::len), Some(2), "{created}");
    assert_eq!(charges[0]["offeringId"], offering.to_string());
    assert_eq!(charges[0]["offeringVersion"], 1);
    assert_eq!(charges[0]["chargeType"], "RECURRING");
    assert_eq!(charges[0]["period"], "MONTH");
    assert_eq!(amount(&charges[0]["unitPrice"]), "149".parse().unwrap());
    assert!(charges[0]["tierMode"].is_null());
    assert_eq!(charges[1]["tierMode"], "SLAB");
    assert!(charges[1]["unitPrice"].is_null());
    assert_eq!(
        charges[1]["tiers"],
        json!([
            {"fromQuantity": 1, "toQuantity": 4, "unitPrice": "15.00"},
            {"fromQuantity": 5, "toQuantity": null, "unitPrice": "12.00"}
        ])
    );
    let fetched = expect_status(
        app.get(&format!("/price-books/{id}/versions/1")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        fetched["charges"], created["charges"],
        "reads agree with the create"
    );

    let published = publish_price_book(&app, id).await;
    assert_eq!(published["status"], "PUBLISHED");
    assert!(published["publishedAt"].is_string());
    assert_eq!(published["charges"], created["charges"]);

    let mut entries = price_book_body("LIST-USD", "USD", offering, 1)["entries"].clone();
    entries[0]["charges"][0]["unitPrice"] = json!("159.00");
    let response = app
        .post(
            &format!("/price-books/{id}/versions"),
            &json!({"name": "List 2027", "entries": entries}),
        )
        .await;
    let v2 = expect_status(response, StatusCode::CREATED).await;
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["status"], "DRAFT");
    assert_eq!(v2["name"], "List 2027");
    assert_eq!(
        amount(&v2["charges"][0]["unitPrice"]),
        "159".parse().unwrap()
    );

    let v2 = publish_price_book(&app, id).await;
    assert_eq!(v2["status"], "PUBLISHED");
    assert_eq!(v2["version"], 2);
    let v1 = expect_status(
        app.get(&format!("/price-books/{id}/versions/1")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(v1["status"], "RETIRED");
    assert!(v1["retiredAt"].is_string());
    assert_eq!(v1["charges"], created["charges"], "v1's prices never moved");

    let book = expect_status(app.get(&format!("/price-books/{id}")).await, StatusCode::OK).await;
    assert_eq!(book["publishedVersion"], 2);
    assert_eq!(book["latestVersion"], 2);
    assert_eq!(book["status"], "PUBLISHED");
    assert_eq!(book["name"], "List 2027");
    assert_eq!(
        book["versions"],
        json!([{"version": 1, "status": "RETIRED"}, {"version": 2, "status": "PUBLISHED"}])
    );
    let listed = expect_status(app.get("/price-books?code=LIST-USD").await, StatusCode::OK).await;
    assert_eq!(listed["totalCount"], 1);
    assert_eq!(listed["items"][0], book);
}

/// Amounts come back as they were sent, at the currency's precision: a USD flat price of
/// "149.00" reads back "149.00", as the tier prices in the same response do, not with the
/// storage column's four decimal places.
#[tokio::test]
async fn flat_prices_are_echoed_at_the_currency_precision() {
    let app = TestApp::spawn().await;
    let offering = app.published_offering("INTERNET").await;
    let response = app
        .post(
            "/price-books",
            &price_book_body("LIST-USD", "USD", offering, 1),
        )
        .await;
    let created = expect_status(response, StatusCode::CREATED).await;
    assert_eq!(created["charges"][1]["tiers"][0]["unitPrice"], "15.00");
    let id = id_of(&created, "priceBookId");
    let read = expect_status(
        app.get(&format!("/price-books/{id}/versions/1")).await,
        StatusCode::OK,
    )
    .await;
    for body in [&created, &read] {
        assert_eq!(
            body["charges"][0]["unitPrice"], "149.00",
            "flat price echoed differently from the tiers next to it"
        );
    }
    let mut yen = one_charge(
        "JPY",
        offering,
        json!({"chargeType": "ONE_TIME", "unitPrice": "1500"}),
    );
    yen["code"] = json!("LIST-JPY");
    let created = expect_status(app.post("/price-books", &yen).await, StatusCode::CREATED).await;
    assert_eq!(created["charges"][0]["unitPrice"], "1500");
}

#[tokio::test]
async fn derived_versions_copy_the_charges_when_none_are_given() {
    let app = TestApp::spawn().await;
    let offering = app.published_offering("INTERNET").await;
    let id = create_price_book(&app, "LIST", offering).await;
    let v1 = publish_price_book(&app, id).await;
    let response = app.post_empty(&format!("/price-books/{id}/versions")).await;
    let v2 = expect_status(response, StatusCode::CREATED).await;
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["name"], v1["name"]);
    assert_eq!(v2["charges"], v1["charges"]);
}

#[tokio::test]
async fn invalid_tiers_are_422_with_field_paths() {
    let app = TestApp::spawn().await;
    let offering = app.published_offering("INTERNET").await;
    let cases: [(&str, &[Tier], &str, &str); 6] = [
        (
            "gap",
            &[(1, Some(4)), (6, None)],
            "/tiers/1/fromQuantity",
            "NOT_CONTIGUOUS",
        ),
        (
            "overlap",
            &[(1, Some(4)), (3, None)],
            "/tiers/1/fromQuantity",
            "NOT_CONTIGUOUS",
        ),
        (
            "open not last",
            &[(1, None), (5, None)],
            "/tiers/0/toQuantity",
            "REQUIRED",
        ),
        (
            "closed last",
            &[(1, Some(4)), (5, Some(9))],
            "/tiers/1/toQuantity",
            "MUST_BE_OPEN",
        ),
        (
            "not from 1",
            &[(2, None)],
            "/tiers/0/fromQuantity",
            "NOT_CONTIGUOUS",
        ),
        (
            "inverted",
            &[(1, Some(4)), (5, Some(3)), (4, None)],
            "/tiers/1/toQuantity",
            "OUT_OF_RANGE",
        ),
    ];
    for (case, tiers, suffix, code) in cases {
        let problem = refused_post(
            &app,
            "/price-books",
            &one_charge("USD", offering, tiered(tiers)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        let field = format!("/entries/0/charges/0{suffix}");
        assert_eq!(code_at(&problem, &field), Some(code), "{case}: {problem}");
    }
    // No tiers at all, and a charge that is both flat and tiered.
    let mut empty = tiered(&[]);
    empty["tiers"] = json!([]);
    let problem = refused_post(
        &app,
        "/price-books",
        &one_charge("USD", offering, empty),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(
        code_at(&problem, "/entries/0/charges/0/tiers"),
        Some("OUT_OF_RANGE")
    );
    let mut both = tiered(&[(1, None)]);
    both["unitPrice"] = json!("5.00");
    let problem = refused_post(
        &app,
        "/price-books",
        &one_charge("USD", offering, both),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(
        code_at(&problem, "/entries/0/charges/0"),
        Some("PRICING_SHAPE")
    );
}

#[tokio::test]
async fn priced_offering_versions_must_exist_for_the_tenant_and_not_be_archived() {
    let mut app = TestApp::spawn().await;
    let offering = app.published_offering("INTERNET").await;

    for (target, version) in [(offering, 9), (Uuid::now_v7(), 1)] {
        let problem = refused_post(
            &app,
            "/price-books",
            &price_book_body("LIST", "USD", target, version),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        assert_eq!(
            code_at(&problem, "/entries/0/offeringId"),
            Some("UNKNOWN_REFERENCE"),
            "{problem}"
        );
    }

    // Another tenant's offering is as unknown as a missing one.
    app.tenant = "globex".into();
    let foreign = app.published_offering("FOREIGN").await;
    app.tenant = crate::harness::TENANT.into();
    let problem = refused_post(
        &app,
        "/price-books",
        &price_book_body("LIST", "USD", foreign, 1),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(
        code_at(&problem, "/entries/0/offeringId"),
        Some("UNKNOWN_REFERENCE")
    );

    // A draft prices an offering version that is archived before the book is published.
    let book = create_price_book(&app, "DRAFT-BOOK", offering).await;
    app.command(offering, "retire").await;
    app.command(offering, "archive").await;
    let problem = refused_post(
        &app,
        "/price-books",
        &price_book_body("LIST", "USD", offering, 1),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(
        code_at(&problem, "/entries/0/offeringVersion"),
        Some("ARCHIVED"),
        "{problem}"
    );
    let problem = refused_post(
        &app,
        &format!("/price-books/{book}/publish"),
        &json!({}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(
        code_at(&problem, "/version"),
        Some("PRICES_ARCHIVED_OFFERING")
    );
}

#[tokio::test]
async fn currencies_and_precision_are_checked() {
    let app = TestApp::spawn().await;
    let offering = app.published_offering("INTERNET").await;
    let flat = |price: &str| json!({"chargeType": "ONE_TIME", "unitPrice": price});

    for currency in ["XYZ", "usd", "XAU", ""] {
        let problem = refused_post(
            &app,
            "/price-books",
            &one_charge(currency, offering, flat("1.00")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        assert_eq!(
            code_at(&problem, "/currency"),
            Some("UNKNOWN_CURRENCY"),
            "{currency}: {problem}"
        );
    }
    for (currency, price) in [
        ("USD", "1.001"),
        ("USD", "0.0001"),
        ("JPY", "1.5"),
        ("KWD", "1.0001"),
    ] {
        let problem = refused_post(
            &app,
            "/price-books",
            &one_charge(currency, offering, flat(price)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        assert_eq!(
            code_at(&problem, "/entries/0/charges/0/unitPrice"),
            Some("TOO_PRECISE"),
            "{currency} {price}: {problem}"
        );
    }
    let mut tier = tiered(&[(1, None)]);
    tier["tiers"][0]["unitPrice"] = json!("0.125");
    let problem = refused_post(
        &app,
        "/price-books",
        &one_charge("EUR", offering, tier),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(
        code_at(&problem, "/entries/0/charges/0/tiers/0/unitPrice"),
        Some("TOO_PRECISE")
    );
    let problem = refused_post(
        &app,
        "/price-books",
        &one_charge("USD", offering, flat("-1.00")),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(
        code_at(&problem, "/entries/0/charges/0/unitPrice"),
        Some("NEGATIVE")
    );
    // Floats are not money.
    let problem = refused_post(
        &app,
        "/price-books",
        &one_charge(
            "USD",
            offering,
            json!({"chargeType": "ONE_TIME", "unitPrice": 1.5}),
        ),
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(
        code_at(&problem, "/entries/0/charges/0/unitPrice"),
        Some("INVALID_TYPE"),
        "{problem}"
    );

    // Within the minor units (trailing zeros included) everything is accepted.
    for (i, (currency, price)) in [
        ("USD", "1.10"),
        ("USD", "1.1000"),
        ("JPY", "1500"),
        ("KWD", "1.001"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = one_charge(currency, offering, flat(price));
        body["code"] = json!(format!("OK-{i}"));
        let created =
            expect_status(app.post("/price-books", &body).await, StatusCode::CREATED).await;
        assert_eq!(created["currency"], currency);
        assert_eq!(
            amount(&created["charges"][0]["unitPrice"]),
            price.parse::<Decimal>().unwrap()
        );
    }
}

#[tokio::test]
async fn conflicts_are_409_and_change_nothing() {
    let app = TestApp::spawn().await;
    let offering = app.published_offering("INTERNET").await;
    let id = create_price_book(&app, "LIST", offering).await;

    let problem = refused_post(
        &app,
        "/price-books",
        &price_book_body("LIST", "EUR", offering, 1),
        StatusCode::CONFLICT,
        "CODE_ALREADY_EXISTS",
    )
    .await;
    assert_eq!(code_at(&problem, "/code"), Some("DUPLICATE"));

    refused_post(
        &app,
        &format!("/price-books/{id}/versions"),
        &json!({}),
        StatusCode::CONFLICT,
        "WORKING_VERSION_EXISTS",
    )
    .await;

    publish_price_book(&app, id).await;
    refused_post(
        &app,
        &format!("/price-books/{id}/publish"),
        &json!({}),
        StatusCode::CONFLICT,
        "ILLEGAL_TRANSITION",
    )
    .await;
    refused_post(
        &app,
        &format!("/price-books/{id}/publish"),
        &json!({"version": 1}),
        StatusCode::CONFLICT,
        "ILLEGAL_TRANSITION",
    )
    .await;
    refused_post(
        &app,
        &format!("/price-books/{id}/publish"),
        &json!({"version": 7}),
        StatusCode::NOT_FOUND,
        "PRICE_BOOK_VERSION_NOT_FOUND",
    )
    .await;
    refused_post(
        &app,
        &format!("/price-books/{}/publish", Uuid::now_v7()),
        &json!({}),
        StatusCode::NOT_FOUND,
        "PRICE_BOOK_NOT_FOUND",
    )
    .await;

    // After a derive, the new draft blocks another derive as well.
    let response = app.post_empty(&format!("/price-books/{id}/versions")).await;
    expect_status(response, StatusCode::CREATED).await;
    refused_post(
        &app,
        &format!("/price-books/{id}/versions"),
        &json!({}),
        StatusCode::CONFLICT,
        "WORKING_VERSION_EXISTS",
    )
    .await;
    let book = expect_status(app.get(&format!("/price-books/{id}")).await, StatusCode::OK).await;
    assert_eq!(book["publishedVersion"], 1);
    assert_eq!(book["latestVersion"], 2);
}

/// `(event_type, payload eventType)` of every outbox row of one aggregate, in commit order.
async fn events_of(app: &TestApp, id: Uuid) -> Vec<(String, Option<String>)> {
    sqlx::query_as(
        "SELECT event_type, envelope->'payload'->>'eventType' FROM outbox_event \
         WHERE aggregate_id = $1 ORDER BY outbox_seq",
    )
    .bind(id.to_string())
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn every_command_leaves_history_events_and_audit() {
    let app = TestApp::spawn().await;
    let offering = app.published_offering("INTERNET").await;
    let response = app
        .request(Method::POST, "/price-books")
        .header("X-Correlation-Id", "pb-create-1")
        .json(&price_book_body("LIST", "USD", offering, 1))
        .send()
        .await
        .unwrap();
    let id = id_of(
        &expect_status(response, StatusCode::CREATED).await,
        "priceBookId",
    );
    publish_price_book(&app, id).await;
    let response = app.post_empty(&format!("/price-books/{id}/versions")).await;
    expect_status(response, StatusCode::CREATED).await;
    let response = app
        .post(
            &format!("/price-books/{id}/publish"),
            &json!({"reason": "2027 list prices"}),
        )
        .await;
    expect_status(response, StatusCode::OK).await;

    let history: Vec<HistoryRow> = sqlx::query_as(
        "SELECT version, command, from_status, to_status, aggregate_version, reason, actor_id \
             FROM price_book_history WHERE price_book_id = $1 ORDER BY history_id",
    )
    .bind(id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let steps: Vec<(i32, &str, Option<&str>, &str)> = history
        .iter()
        .map(|h| (h.0, h.1.as_str(), h.2.as_deref(), h.3.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (1, "CREATE", None, "DRAFT"),
            (1, "PUBLISH", Some("DRAFT"), "PUBLISHED"),
            (2, "DERIVE_NEW_VERSION", None, "DRAFT"),
            (1, "SUPERSEDE", Some("PUBLISHED"), "RETIRED"),
            (2, "PUBLISH", Some("DRAFT"), "PUBLISHED"),
        ]
    );
    let versions: Vec<i64> = history.iter().map(|h| h.4).collect();
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "aggregate versions increase: {versions:?}"
    );
    assert_eq!(history[3].5.as_deref(), Some("superseded by version 2"));
    assert_eq!(history[4].5.as_deref(), Some("2027 list prices"));
    assert!(history.iter().all(|h| h.6 == "tester"));
    let correlation: String = sqlx::query_scalar(
        "SELECT correlation_id FROM price_book_history WHERE price_book_id = $1 AND command = 'CREATE'",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(correlation, "pb-create-1");

    let audit = "audit.evidence-submitted.v1";
    let events = events_of(&app, id).await;
    let types: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        types,
        [
            "catalog.price-book.created.v1",
            audit,
            "catalog.price-book.published.v1",
            audit,
            "catalog.price-book.version-created.v1",
            audit,
            "catalog.price-book.retired.v1",
            audit,
            "catalog.price-book.published.v1",
            audit,
        ]
    );
    let evidence: Vec<&str> = events
        .iter()
        .filter(|e| e.0 == audit)
        .filter_map(|e| e.1.as_deref())
        .collect();
    assert_eq!(
        evidence,
        [
            "catalog.price-book.created",
            "catalog.price-book.published",
            "catalog.price-book.version-created",
            "catalog.price-book.retired",
            "catalog.price-book.published",
        ]
    );
    let published_payload: Value = sqlx::query_scalar(
        "SELECT envelope->'payload' FROM outbox_event WHERE aggregate_id = $1 \
         AND event_type = 'catalog.price-book.published.v1' ORDER BY outbox_seq DESC LIMIT 1",
    )
    .bind(id.to_string())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(published_payload["version"], 2);
    assert_eq!(
        amount(&published_payload["content"]["charges"][0]["unitPrice"]),
        "149".parse().unwrap()
    );

    // A refused command leaves no trace at all.
    let before = (
        app.count("price_book_history").await,
        app.count("outbox_event").await,
    );
    let response = app.post_empty(&format!("/price-books/{id}/publish")).await;
    expect_problem(response, StatusCode::CONFLICT, "ILLEGAL_TRANSITION").await;
    assert_eq!(
        (
            app.count("price_book_history").await,
            app.count("outbox_event").await
        ),
        before
    );
}
