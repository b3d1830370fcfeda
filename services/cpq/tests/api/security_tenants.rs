//! The cross-tenant probe (ADR 0030): quotes of the harness tenant in every state, then a
//! caller of `globex` holding every role (and all the discount authority there is) tries every
//! operation of the served contract on them. Every one answers 404, never 403 or 2xx; the list
//! shows and counts only globex's quotes; an `Idempotency-Key` the other tenant used replays
//! nothing; the catalog it reaches through CPQ is its own; and no row of the harness tenant
//! changes.

use domain_kernel::access::Role;
use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{Fixture, TENANT, TestApp, expect_status, id_of, issuer, seed_tenant};
use crate::security_support::{
    Stage, answer, probe_of, quotes_in, request, served_operations, tenant_footprint,
};

const OTHER: &str = "globex";

/// A create body for `fixture`'s offering and price book.
fn create_body(fixture: Fixture, customer: &str) -> Value {
    json!({
        "customerId": customer,
        "currency": "USD",
        "priceBookId": fixture.price_book,
        "validUntil": chrono::Utc::now() + chrono::Duration::hours(1),
        "items": [{"id": "1", "offeringId": fixture.offering, "quantity": 1,
                   "characteristics": {"bandwidthMbps": 100}}],
    })
}

/// GET /quotes as `token` with `query`: the listed ids and `X-Total-Count`.
async fn list(app: &TestApp, token: &str, query: &str) -> (Vec<Uuid>, i64) {
    let response = app
        .client
        .get(format!("{}/quotes{query}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let total = response.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = expect_status(response, StatusCode::OK).await;
    let ids = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| id_of(q, "id"))
        .collect();
    (ids, total)
}

#[tokio::test]
async fn a_caller_of_another_tenant_with_every_role_finds_nothing_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let theirs = seed_tenant(OTHER, &app.client, &app.catalog.base).await;
    let stages = [
        Stage::Configured,
        Stage::Priced,
        Stage::Approved,
        Stage::Accepted,
        Stage::Accepted,
    ];
    let mut ours: Vec<Uuid> = quotes_in(&app, &stages.map(|s| (s, 1)))
        .await
        .into_iter()
        .flatten()
        .collect();
    app.command(ours[4], "convert-to-order").await;
    let keyed = app
        .request(Method::POST, "/quotes")
        .header("Idempotency-Key", "shared-key")
        .json(&app.create_body(3600, json!([app.item("1", 1)])))
        .send()
        .await
        .unwrap();
    ours.push(id_of(
        &expect_status(keyed, StatusCode::CREATED).await,
        "id",
    ));

    let every_role: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    let intruder = issuer().token_as(OTHER, "intruder", &every_role, Some("100"));
    let mut own = Vec::new();
    for customer in ["CUST-G1", "CUST-G2"] {
        let created = app
            .client
            .post(format!("{}/quotes", app.base))
            .bearer_auth(&intruder)
            .json(&create_body(theirs, customer))
            .send()
            .await
            .unwrap();
        own.push(id_of(
            &expect_status(created, StatusCode::CREATED).await,
            "id",
        ));
    }
    let before = tenant_footprint(&app, TENANT).await;

    // Every operation that names a quote, on every quote of the harness tenant: 404.
    let operations = served_operations(&app).await;
    let mut calls = Vec::new();
    for operation in operations.iter().filter(|o| o.template.contains("{id}")) {
        let probe = probe_of(&app, operation);
        for quote in &ours {
            let builder = request(&app, operation, &probe, *quote, Some(&intruder));
            let what = format!("{} {} on {quote}", operation.method, operation.template);
            calls.push(async move { (what, answer(builder.send().await.unwrap()).await) });
        }
    }
    assert!(
        calls.len() >= 10 * ours.len(),
        "every quote operation probed"
    );
    for (what, (status, content_type, body)) in join_all(calls).await {
        assert_eq!(status, 404, "{what}: {body}");
        assert_eq!(content_type, "application/problem+json", "{what}");
        assert_eq!(body["code"], "QUOTE_NOT_FOUND", "{what}: {body}");
    }

    // The list shows and counts globex's quotes only, however it is filtered or paged.
    let (ids, total) = list(&app, &intruder, "").await;
    assert_eq!((ids.len(), total), (2, 2), "{ids:?}");
    assert!(ids.iter().all(|id| own.contains(id)), "{ids:?}");
    assert_eq!(list(&app, &intruder, "?limit=1").await.1, 2);
    assert_eq!(list(&app, &intruder, "?offset=2").await, (vec![], 2));
    assert_eq!(
        list(&app, &intruder, "?customerId=CUST-1").await,
        (vec![], 0)
    );
    for status in ["APPROVED", "ACCEPTED", "CONVERTED", "PRICED"] {
        assert_eq!(
            list(&app, &intruder, &format!("?status={status}")).await,
            (vec![], 0),
            "{status}"
        );
    }

    // CPQ reads the catalog as the caller: the harness tenant's price book is not globex's.
    let borrowed = app
        .client
        .post(format!("{}/quotes", app.base))
        .bearer_auth(&intruder)
        .json(&app.create_body(3600, json!([app.item("1", 1)])))
        .send()
        .await
        .unwrap();
    let (status, _, body) = answer(borrowed).await;
    assert!(
        (400..500).contains(&status) && status != 403,
        "another tenant's price book: {status} {body}"
    );

    // The same Idempotency-Key in another tenant is another command: a new quote, not a replay.
    let replay = app
        .client
        .post(format!("{}/quotes", app.base))
        .bearer_auth(&intruder)
        .header("Idempotency-Key", "shared-key")
        .json(&create_body(theirs, "CUST-G3"))
        .send()
        .await
        .unwrap();
    let replayed = expect_status(replay, StatusCode::CREATED).await;
    assert!(!ours.contains(&id_of(&replayed, "id")), "{replayed}");
    assert_eq!(replayed["customerId"], "CUST-G3");

    assert!(
        tenant_footprint(&app, TENANT).await == before,
        "a row of the harness tenant changed"
    );
    // And the harness tenant still sees its own quotes, none of globex's.
    let (ids, total) = list(&app, &crate::harness::seller_token(), "?limit=500").await;
    assert_eq!(total, i64::try_from(ours.len()).unwrap());
    assert!(ids.iter().all(|id| ours.contains(id)), "{ids:?}");
    app.stop().await;
}
