//! Approval authority comes only from the token (ADR 0030): the former identity headers
//! (`X-Tenant-Id`, `X-Actor-Id`, `X-Actor-Type`) are ignored, so a sales agent who may grant
//! 10 % cannot raise its own limit; the same 30 % discount waits for a manager when the 10 %
//! agent submits it and is approved by policy when a director with 50 % does.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TENANT, TestApp, expect_status, id_of, issuer};

/// Headers a caller might send to pose as someone mightier, elsewhere.
const POSING: [(&str, &str); 4] = [
    ("X-Tenant-Id", "globex"),
    ("X-Actor-Id", "director1"),
    ("X-Actor-Type", "ADMIN_OPERATOR"),
    ("X-Discount-Authority", "100"),
];

/// Creates, prices and submits a quote with one 30 % line discount as `token`'s holder,
/// sending the posing headers with every request; returns the quote id and the submit answer.
async fn submit_thirty_percent(app: &TestApp, token: &str) -> (Uuid, Value) {
    let call = |method: Method, path: String| {
        let mut request = app
            .client
            .request(method, format!("{}{path}", app.base))
            .bearer_auth(token);
        for (name, value) in POSING {
            request = request.header(name, value);
        }
        request
    };
    let mut item = app.item("1", 1);
    item["discountPercent"] = json!("30");
    let created = expect_status(
        call(Method::POST, "/quotes".to_owned())
            .json(&app.create_body(3600, json!([item])))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await;
    let quote = id_of(&created, "id");
    let priced = call(Method::POST, format!("/quotes/{quote}/price"));
    expect_status(priced.send().await.unwrap(), StatusCode::OK).await;
    let submitted = call(Method::POST, format!("/quotes/{quote}/submit"));
    let answer = expect_status(submitted.send().await.unwrap(), StatusCode::OK).await;
    (quote, answer)
}

#[tokio::test]
async fn the_discount_limit_is_the_tokens_and_headers_cannot_raise_it() {
    let app = TestApp::spawn().await;
    let agent = issuer().token_as(TENANT, "rep-1", &["sales-agent"], Some("10"));
    let director = issuer().token_as(
        TENANT,
        "director-1",
        &["sales-agent", "approver-director"],
        Some("50"),
    );
    let (agents, by_agent) = submit_thirty_percent(&app, &agent).await;
    let (directors, by_director) = submit_thirty_percent(&app, &director).await;

    // The agent's 10 % is what the policy used, whatever the headers claimed.
    assert_eq!(by_agent["status"], "APPROVAL_PENDING", "{by_agent}");
    let evaluation = &by_agent["policyEvaluation"];
    assert_eq!(evaluation["discountLimitPercent"], "10", "{evaluation}");
    assert_eq!(evaluation["actorType"], "HUMAN_AGENT", "{evaluation}");
    assert_eq!(evaluation["requiredLevel"], "MANAGER", "{evaluation}");
    let findings = evaluation["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{evaluation}");
    assert_eq!(findings[0]["rule"], "DISCOUNT_ABOVE_ROLE_LIMIT");
    assert_eq!(findings[0]["threshold"], "10");
    assert_eq!(findings[0]["actual"], "30");

    // The director's 50 % covers the same discount: approved by policy.
    assert_eq!(by_director["status"], "APPROVED", "{by_director}");
    let evaluation = &by_director["policyEvaluation"];
    assert_eq!(evaluation["discountLimitPercent"], "50", "{evaluation}");
    assert_eq!(evaluation["findings"], json!([]), "{evaluation}");
    assert_eq!(evaluation["requiredLevel"], "NONE", "{evaluation}");

    // Tenant and actor are the tokens' too: both quotes are the harness tenant's, created and
    // changed by the token's user, never by the one the headers named.
    let rows: Vec<(Uuid, String, String)> = sqlx::query_as(
        "SELECT quote_id, tenant_id, created_by FROM quote WHERE quote_id = ANY($1) ORDER BY created_by DESC",
    )
    .bind([agents, directors])
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            (agents, TENANT.to_owned(), "rep-1".to_owned()),
            (directors, TENANT.to_owned(), "director-1".to_owned()),
        ]
    );
    let actors: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT DISTINCT tenant_id, actor_id, actor_type FROM quote_history WHERE quote_id = $1",
    )
    .bind(agents)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        actors,
        [(
            TENANT.to_owned(),
            "rep-1".to_owned(),
            "HUMAN_AGENT".to_owned()
        )]
    );
    app.stop().await;
}
