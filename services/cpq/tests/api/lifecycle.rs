//! The vertical slice: create → items → price → submit → approval outcome → accept → convert
//! → get, with the state, history, events and audit each step leaves.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TENANT, TestApp, expect_problem, expect_status, id_of, issuer};

#[tokio::test]
async fn a_quote_goes_from_draft_to_converted() {
    let app = TestApp::spawn().await;

    // Created without items: DRAFT, pinned to the published price book version.
    let body = app.create_body(3600, json!(null));
    let response = app.post("/quotes", &body).await;
    let location = response.headers().get("location").cloned();
    let etag = response.headers().get("etag").cloned();
    let created = expect_status(response, StatusCode::CREATED).await;
    let quote = id_of(&created, "id");
    assert_eq!(created["status"], "DRAFT");
    assert_eq!(created["revision"], 1);
    assert_eq!(created["pricingState"], "NOT_PRICED");
    assert_eq!(created["priceBook"]["version"], 1);
    assert_eq!(
        location.unwrap().to_str().unwrap(),
        format!("/quotes/{quote}")
    );
    assert_eq!(etag.unwrap().to_str().unwrap(), "\"1\"");

    // Items with a violation stay DRAFT and say why; valid items configure the quote.
    let invalid = json!({"items": [{"id": "a", "offeringId": app.fixture.offering, "quantity": 1,
        "characteristics": {"bandwidthMbps": 42}}]});
    let draft = expect_status(
        app.put(&format!("/quotes/{quote}/items"), &invalid).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(draft["status"], "DRAFT");
    assert_eq!(draft["items"][0]["configurationStatus"], "INVALID");
    assert_eq!(
        draft["items"][0]["violations"][0]["code"],
        "VALUE_NOT_ALLOWED"
    );
    assert_eq!(
        draft["items"][0]["offeringVersion"], 1,
        "the published version is pinned"
    );

    let valid = json!({"items": [app.item("a", 3), {"id": "b", "offeringId": app.fixture.offering,
        "quantity": 1, "termMonths": 24, "characteristics": {}}]});
    let stale_match = app
        .request(Method::PUT, &format!("/quotes/{quote}/items"))
        .header("If-Match", "\"1\"")
        .json(&valid)
        .send()
        .await
        .unwrap();
    expect_problem(
        stale_match,
        StatusCode::PRECONDITION_FAILED,
        "VERSION_MISMATCH",
    )
    .await;
    let configured = expect_status(
        app.put(&format!("/quotes/{quote}/items"), &valid).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(configured["status"], "CONFIGURED");
    assert!(
        configured["items"][0]["configurationHash"]
            .as_str()
            .unwrap()
            .len()
            == 64
    );

    // Priced: trace and hash stored; b's recurring charge has the 24-month term discount.
    let priced = app.command(quote, "price").await;
    assert_eq!(priced["status"], "PRICED");
    assert_eq!(priced["pricingState"], "PRICED");
    let hash = priced["priceHash"].as_str().unwrap().to_owned();
    assert_eq!(hash.len(), 64);
    assert_eq!(
        priced["price"]["totals"]["oneTime"]["amount"], "200.00",
        "{priced}"
    );
    let trace = expect_status(
        app.get(&format!("/quotes/{quote}/price-trace")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(trace["priceHash"], hash.as_str());
    let steps = trace["steps"].as_array().unwrap();
    assert!(
        steps.iter().any(|s| s["rule"] == "discount.term.24m"),
        "{trace}"
    );

    // Submitted by an agent without discounts: SUBMITTED until the approval service answers;
    // its policy requires no approval, so the quote is approved at that price, frozen.
    let submitted = app.command(quote, "submit").await;
    assert_eq!(submitted["status"], "SUBMITTED");
    assert_eq!(submitted["pricingState"], "PRICED");
    assert!(submitted["approval"].is_null() && submitted["approvalRequest"].is_null());
    let approved = app.approve(quote).await;
    assert_eq!(approved["status"], "APPROVED");
    assert_eq!(approved["pricingState"], "FROZEN");
    assert_eq!(approved["approval"]["approvedPriceHash"], hash.as_str());
    assert_eq!(approved["approvalRequest"]["status"], "NOT_REQUIRED");
    assert_eq!(approved["approvalRequest"]["priceHash"], hash.as_str());
    assert!(
        approved["policyEvaluation"].is_null(),
        "no in-process policy any more"
    );

    // Editing after submit is refused; only a revise opens edits.
    expect_problem(
        app.put(&format!("/quotes/{quote}/items"), &valid).await,
        StatusCode::CONFLICT,
        "ILLEGAL_TRANSITION",
    )
    .await;

    // Accepted with evidence; configurations frozen.
    let accepted = expect_status(
        app.request(Method::POST, &format!("/quotes/{quote}/accept"))
            .header("X-Channel", "CUSTOMER_PORTAL")
            .json(&json!({"reference": "PO-77"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(accepted["status"], "ACCEPTED");
    assert_eq!(accepted["acceptance"]["acceptedBy"], "rep-1");
    assert_eq!(accepted["acceptance"]["channel"], "CUSTOMER_PORTAL");
    assert_eq!(accepted["acceptance"]["reference"], "PO-77");
    assert!(
        accepted["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["configurationStatus"] == "FROZEN")
    );

    // Converted once, with the frozen snapshot; a repeat answers the same.
    let conversion = app.command(quote, "convert-to-order").await;
    let order = id_of(&conversion, "orderId");
    assert_eq!(conversion["priceHash"], hash.as_str());
    assert_eq!(conversion["snapshot"]["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        conversion["snapshot"]["pricing"]["priceHash"],
        hash.as_str()
    );
    let again = app.command(quote, "convert-to-order").await;
    assert_eq!(id_of(&again, "orderId"), order);
    assert_eq!(again, conversion);

    let converted = app.quote(quote).await;
    assert_eq!(converted["status"], "CONVERTED");
    expect_problem(
        app.post_empty(&format!("/quotes/{quote}/cancel")).await,
        StatusCode::CONFLICT,
        "ILLEGAL_TRANSITION",
    )
    .await;

    // One history row per transition, one event (plus its audit evidence) per transition.
    let history: Vec<(String, String)> = sqlx::query_as(
        "SELECT command, to_status FROM quote_history WHERE quote_id = $1 ORDER BY history_id",
    )
    .bind(quote)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let commands: Vec<&str> = history.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        commands,
        [
            "CREATE",
            "EDIT_ITEMS",
            "CONFIGURE_ITEMS",
            "PRICE",
            "SUBMIT",
            "APPROVAL_NOT_REQUIRED",
            "ACCEPT",
            "CONVERT_TO_ORDER"
        ]
    );
    let events: Vec<String> = app
        .outbox()
        .await
        .into_iter()
        .filter(|(topic, key, _, _)| topic == "cpq.quote.events.v1" && *key == quote.to_string())
        .map(|(_, _, event_type, _)| event_type)
        .collect();
    assert_eq!(
        events,
        [
            "cpq.quote.created.v1",
            "cpq.quote.items-replaced.v1",
            "cpq.quote.items-replaced.v1",
            "cpq.quote.priced.v1",
            "cpq.quote.submitted.v2",
            "cpq.quote.approved.v1",
            "cpq.quote.accepted.v1",
            "cpq.quote.converted.v1"
        ]
    );
    let audits = app
        .outbox()
        .await
        .into_iter()
        .filter(|(_, _, event_type, _)| event_type == "audit.evidence-submitted.v1")
        .count();
    assert_eq!(audits, 8);

    // Listing with filters and the total count.
    let listed = app.get("/quotes?status=CONVERTED&customerId=CUST-1").await;
    assert_eq!(listed.headers()["x-total-count"], "1");
    let page = expect_status(listed, StatusCode::OK).await;
    assert_eq!(page["items"][0]["id"], quote.to_string());
    expect_problem(
        app.get("/quotes?status=NOPE").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn commands_replay_with_the_same_idempotency_key() {
    let app = TestApp::spawn().await;
    let body = app.create_body(3600, json!([app.item("1", 1)]));
    let send = || {
        app.request(Method::POST, "/quotes")
            .header("Idempotency-Key", "create-1")
            .json(&body)
            .send()
    };
    let first = expect_status(send().await.unwrap(), StatusCode::CREATED).await;
    let replay = send().await.unwrap();
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let second = expect_status(replay, StatusCode::CREATED).await;
    assert_eq!(first, second);
    assert_eq!(app.count("quote").await, 1);
    app.stop().await;
}

/// The quote's CREATE history row (actor, via) and its evidence's envelope.
async fn creation_record(app: &TestApp, quote: uuid::Uuid) -> ((String, Option<String>), Value) {
    let history = sqlx::query_as(
        "SELECT actor_id, via FROM quote_history WHERE quote_id = $1 AND command = 'CREATE'",
    )
    .bind(quote)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let evidence = sqlx::query_scalar(
        "SELECT envelope FROM outbox_event WHERE event_type = 'audit.evidence-submitted.v1' \
         AND envelope->>'aggregateId' = $1 ORDER BY outbox_seq LIMIT 1",
    )
    .bind(quote.to_string())
    .fetch_one(&app.db)
    .await
    .unwrap();
    (history, evidence)
}

#[tokio::test]
async fn a_quote_a_service_creates_for_a_user_records_the_user_and_the_service() {
    let app = TestApp::spawn().await;
    let body = app.create_body(3600, json!([app.item("1", 1)]));

    // The seller calls directly: no `via`.
    let direct = expect_status(app.post("/quotes", &body).await, StatusCode::CREATED).await;
    let (history, envelope) = creation_record(&app, id_of(&direct, "id")).await;
    assert_eq!(history, ("rep-1".to_owned(), None));
    event_contracts::validate(&envelope).expect("the evidence keeps its contract");
    assert_eq!(envelope["payload"]["actor"]["actorId"], "rep-1");
    assert!(envelope["payload"].get("via").is_none(), "{envelope}");

    // order-service calls with its own token, acting for sales1: sales1 creates the quote (and
    // CPQ reads the catalog for sales1 in turn), order-service is recorded as the way it came.
    let sales1 = issuer().token_as(TENANT, "sales1", &["sales-agent"], Some("10"));
    let response = app
        .client
        .post(format!("{}/quotes", app.base))
        .bearer_auth(issuer().token_for_client("order-service"))
        .header("X-Acting-User", sales1)
        .json(&body)
        .send()
        .await
        .unwrap();
    let acting = expect_status(response, StatusCode::CREATED).await;
    assert_eq!(acting["status"], "CONFIGURED", "{acting}");
    let (history, envelope) = creation_record(&app, id_of(&acting, "id")).await;
    assert_eq!(
        history,
        ("sales1".to_owned(), Some("order-service".to_owned()))
    );
    event_contracts::validate(&envelope).expect("the evidence keeps its contract");
    assert_eq!(envelope["actorId"], "sales1");
    let evidence = &envelope["payload"];
    assert_eq!(evidence["actor"]["actorId"], "sales1");
    assert_eq!(evidence["actor"]["actorType"], "HUMAN_AGENT");
    assert_eq!(evidence["client"], "cpq-portal");
    assert_eq!(evidence["via"], "order-service");
    app.stop().await;
}
