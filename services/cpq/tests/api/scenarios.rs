//! Transition scenarios of the spec: approval superseded by a price change, an override
//! waiting for an approver, expiry before acceptance, one conversion under concurrency, a stale
//! catalog version, and the database refusing what the application never writes.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::approval_support::ApprovalEvent;
use crate::harness::{TestApp, expect_problem, expect_status, id_of};

/// The policy input the submit event of revision `revision` of `quote` carried.
async fn policy_input(app: &TestApp, quote: uuid::Uuid) -> Value {
    app.outbox()
        .await
        .into_iter()
        .rev()
        .find(|(_, key, event_type, _)| {
            event_type == "cpq.quote.submitted.v2" && *key == quote.to_string()
        })
        .map(|(_, _, _, envelope)| envelope["payload"]["policyInput"].clone())
        .expect("a submit event")
}

#[tokio::test]
async fn a_revise_after_approval_supersedes_it_and_the_new_price_needs_its_own() {
    let app = TestApp::spawn().await;
    let quote = app.approved_quote().await;
    let approved = app.quote(quote).await;
    let old_hash = approved["approval"]["approvedPriceHash"]
        .as_str()
        .unwrap()
        .to_owned();

    let revised = expect_status(
        app.post(
            &format!("/quotes/{quote}/revise"),
            &json!({"reason": "customer wants 5"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(revised["status"], "DRAFT");
    assert_eq!(revised["revision"], 2);
    assert_eq!(revised["pricingState"], "NOT_PRICED");
    assert!(revised["approval"].is_null() && revised["priceHash"].is_null());
    assert_eq!(
        revised["items"].as_array().unwrap().len(),
        1,
        "items carried over"
    );
    // The superseded approval cannot be used any more.
    expect_problem(
        app.post_empty(&format!("/quotes/{quote}/accept")).await,
        StatusCode::CONFLICT,
        "ILLEGAL_TRANSITION",
    )
    .await;

    let changed = json!({"items": [app.item("1", 5)]});
    let configured = expect_status(
        app.put(&format!("/quotes/{quote}/items"), &changed).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(configured["status"], "CONFIGURED");
    let repriced = app.command(quote, "price").await;
    let new_hash = repriced["priceHash"].as_str().unwrap().to_owned();
    assert_ne!(new_hash, old_hash, "a price change changes the hash");
    let resubmitted = app.command(quote, "submit").await;
    assert_eq!(resubmitted["status"], "SUBMITTED");
    let reapproved = app.approve(quote).await;
    assert_eq!(
        reapproved["approval"]["approvedPriceHash"],
        new_hash.as_str()
    );
    let accepted = app.command(quote, "accept").await;
    assert_eq!(accepted["status"], "ACCEPTED");
    assert_eq!(accepted["priceHash"], new_hash.as_str());

    let superseded: Value = sqlx::query_scalar(
        "SELECT details FROM quote_history WHERE quote_id = $1 AND command = 'REVISE'",
    )
    .bind(quote)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(superseded["supersededApprovedPriceHash"], old_hash.as_str());
    app.stop().await;
}

#[tokio::test]
async fn overrides_and_large_discounts_wait_for_an_approver() {
    let app = TestApp::spawn().await;
    let quote = app.configured_quote().await;
    let priced = app.command(quote, "price").await;
    let monthly = priced["price"]["lines"][0]["charges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "RECURRING_MONTH")
        .unwrap()["net"]["amount"]
        .clone();
    assert_eq!(monthly, "200.00");

    let path = format!("/quotes/{quote}/items/1/price-override");
    let stale = json!({"charge": "RECURRING_MONTH", "originalPrice": "199.00", "newPrice": "150.00", "reason": "match competitor"});
    let before = app.footprint().await;
    expect_problem(
        app.post(&path, &stale).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "OVERRIDE_STALE",
    )
    .await;
    assert_eq!(
        app.footprint().await,
        before,
        "a refused override writes nothing"
    );
    let no_reason = json!({"charge": "RECURRING_MONTH", "originalPrice": "200.00", "newPrice": "150.00", "reason": " "});
    expect_problem(
        app.post(&path, &no_reason).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    expect_problem(
        app.post(
            &format!("/quotes/{quote}/items/nope/price-override"),
            &stale,
        )
        .await,
        StatusCode::NOT_FOUND,
        "ITEM_NOT_FOUND",
    )
    .await;

    let ok = json!({"charge": "RECURRING_MONTH", "originalPrice": "200.00", "newPrice": "150.00", "reason": "match competitor"});
    let overridden = expect_status(app.post(&path, &ok).await, StatusCode::OK).await;
    assert_eq!(overridden["pricingState"], "OVERRIDE_PENDING_APPROVAL");
    let stored: (String, String, String) = sqlx::query_as(
        "SELECT original_price::text, new_price::text, actor_id FROM quote_price_override WHERE quote_id = $1",
    )
    .bind(quote)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(stored, ("200.00".into(), "150.00".into(), "rep-1".into()));

    // The approval service weighs the override: CPQ states it in the policy input and waits.
    let submitted = app.command(quote, "submit").await;
    assert_eq!(submitted["status"], "SUBMITTED");
    let input = policy_input(&app, quote).await;
    assert_eq!(input["lines"][0]["overrideCount"], 1, "{input}");
    assert_eq!(input["lines"][0]["overrideAmount"], "50.00", "{input}");
    app.deliver(&ApprovalEvent::requested(&submitted, "PENDING"))
        .await;
    let pending = app.quote(quote).await;
    assert_eq!(pending["status"], "APPROVAL_PENDING");
    assert_eq!(pending["approvalRequest"]["status"], "PENDING");
    assert_eq!(pending["approvalRequest"]["levels"][0]["level"], "MANAGER");
    assert!(pending["approval"].is_null());
    expect_problem(
        app.post_empty(&format!("/quotes/{quote}/accept")).await,
        StatusCode::CONFLICT,
        "ILLEGAL_TRANSITION",
    )
    .await;

    // A discount beyond the agent's 10 % limit also needs a manager.
    let discounted = json!({"customerId": "CUST-2", "currency": "USD", "priceBookId": app.fixture.price_book,
        "validUntil": chrono::Utc::now() + chrono::Duration::hours(1),
        "items": [{"offeringId": app.fixture.offering, "quantity": 1, "discountPercent": "15"}]});
    let created = expect_status(app.post("/quotes", &discounted).await, StatusCode::CREATED).await;
    let other = id_of(&created, "id");
    app.command(other, "price").await;
    let submitted = app.command(other, "submit").await;
    app.deliver(&ApprovalEvent::requested(&submitted, "PENDING"))
        .await;
    assert_eq!(app.quote(other).await["status"], "APPROVAL_PENDING");
    let input = policy_input(&app, other).await;
    assert_eq!(input["lines"][0]["discountPercent"], "15", "{input}");
    assert_eq!(input["discountAuthorityPercent"], "10", "{input}");
    app.stop().await;
}

#[tokio::test]
async fn a_quote_that_expires_before_acceptance_cannot_be_accepted() {
    let app = TestApp::spawn().await;
    let body = app.create_body(3, json!([app.item("1", 1)]));
    let created = expect_status(app.post("/quotes", &body).await, StatusCode::CREATED).await;
    let quote = id_of(&created, "id");
    app.command(quote, "price").await;
    app.command(quote, "submit").await;
    let approved = app.approve(quote).await;
    assert_eq!(approved["status"], "APPROVED");

    let mut status = String::new();
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        status = app.quote(quote).await["status"]
            .as_str()
            .unwrap()
            .to_owned();
        if status == "EXPIRED" {
            break;
        }
    }
    assert_eq!(status, "EXPIRED", "the expiry job moved the quote");
    expect_problem(
        app.post_empty(&format!("/quotes/{quote}/accept")).await,
        StatusCode::CONFLICT,
        "ILLEGAL_TRANSITION",
    )
    .await;
    let (actor, command): (String, String) = sqlx::query_as(
        "SELECT actor_id, command FROM quote_history WHERE quote_id = $1 ORDER BY history_id DESC LIMIT 1",
    )
    .bind(quote)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (actor.as_str(), command.as_str()),
        ("cpq-expiry-job", "EXPIRE")
    );
    let expired_events = app
        .outbox()
        .await
        .iter()
        .filter(|(_, _, t, _)| t == "cpq.quote.expired.v1")
        .count();
    assert_eq!(expired_events, 1);
    app.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_conversions_make_one_and_answer_the_same() {
    let app = TestApp::spawn().await;
    let quote = app.accepted_quote().await;
    let calls = (0..50).map(|i| {
        let mut request = app.request(Method::POST, &format!("/quotes/{quote}/convert-to-order"));
        if i % 2 == 0 {
            request = request.header("Idempotency-Key", format!("convert-{i}"));
        }
        async move {
            let response = request.send().await.unwrap();
            expect_status(response, StatusCode::OK).await
        }
    });
    let answers = join_all(calls).await;
    let order = id_of(&answers[0], "orderId");
    for answer in &answers {
        assert_eq!(id_of(answer, "orderId"), order);
        assert_eq!(answer, &answers[0]);
    }
    assert_eq!(app.count("quote_conversion").await, 1);
    let converted = app
        .outbox()
        .await
        .iter()
        .filter(|(_, _, t, _)| t == "cpq.quote.converted.v1")
        .count();
    assert_eq!(converted, 1);
    assert_eq!(app.quote(quote).await["status"], "CONVERTED");

    // The database itself refuses a second conversion, a customer change and history edits.
    let second = sqlx::query(
        "INSERT INTO quote_conversion (quote_id, tenant_id, order_id, revision, price_hash, snapshot, converted_by) \
         SELECT quote_id, tenant_id, gen_random_uuid(), revision, price_hash, '{}', 'x' FROM quote_conversion",
    )
    .execute(&app.db)
    .await;
    assert!(second.is_err(), "one conversion per quote");
    let customer = sqlx::query(
        "UPDATE quote SET customer_id = 'OTHER', aggregate_version = aggregate_version + 1",
    )
    .execute(&app.db)
    .await
    .unwrap_err();
    assert!(
        customer.to_string().contains("keeps its customer"),
        "{customer}"
    );
    assert!(
        sqlx::query("DELETE FROM quote_history")
            .execute(&app.db)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("UPDATE quote_price_snapshot SET price_hash = repeat('0', 64)")
            .execute(&app.db)
            .await
            .is_err()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_stale_catalog_version_is_refused_clearly() {
    let app = TestApp::spawn().await;
    let offering = app.fixture.offering;
    // Publish version 2 in the catalog: version 1 is retired.
    let created = app
        .catalog_request(
            Method::POST,
            &format!("/product-offerings/{offering}/versions"),
        )
        .json(&json!({"name": "Internet v2"}))
        .send()
        .await
        .unwrap();
    expect_status(created, StatusCode::CREATED).await;
    for command in ["submit-for-review", "publish"] {
        let response = app
            .catalog_request(
                Method::POST,
                &format!("/product-offerings/{offering}/{command}"),
            )
            .send()
            .await
            .unwrap();
        expect_status(response, StatusCode::OK).await;
    }
    let before = app.footprint().await;
    let pinned = app.create_body(
        3600,
        json!([{"offeringId": offering, "offeringVersion": 1, "quantity": 1}]),
    );
    let problem = expect_problem(
        app.post("/quotes", &pinned).await,
        StatusCode::CONFLICT,
        "OFFERING_VERSION_STALE",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "/items/0/offeringVersion");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("published version is 2")
    );
    assert_eq!(app.footprint().await, before);
    app.stop().await;
}
