//! Approval authority comes only from the token (ADR 0030): the former identity headers
//! (`X-Tenant-Id`, `X-Actor-Id`, `X-Actor-Type`) are ignored, so a sales agent who may grant
//! 10 % cannot raise its own limit. Since the approval service decides (ADR 0035), what CPQ
//! vouches for is the policy input its submit event carries: the same 30 % discount is
//! submitted with the 10 % agent's authority by the agent and the director's 50 % by the
//! director, whatever the headers claimed.

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

    // Both wait for the approval service; the policy input names the token's authority.
    assert_eq!(by_agent["status"], "SUBMITTED", "{by_agent}");
    assert_eq!(by_director["status"], "SUBMITTED", "{by_director}");
    let agents_input = policy_input(&app, agents).await;
    assert_eq!(
        agents_input["discountAuthorityPercent"], "10",
        "{agents_input}"
    );
    assert_eq!(agents_input["actorType"], "HUMAN_AGENT", "{agents_input}");
    assert_eq!(
        agents_input["lines"][0]["discountPercent"], "30",
        "{agents_input}"
    );
    let directors_input = policy_input(&app, directors).await;
    assert_eq!(
        directors_input["discountAuthorityPercent"], "50",
        "{directors_input}"
    );
    assert_eq!(
        directors_input["lines"][0]["discountPercent"], "30",
        "{directors_input}"
    );

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

/// The policy input the submit event of `quote` carried.
async fn policy_input(app: &TestApp, quote: Uuid) -> Value {
    app.outbox()
        .await
        .into_iter()
        .find(|(_, key, event_type, _)| {
            event_type == "cpq.quote.submitted.v2" && *key == quote.to_string()
        })
        .map(|(_, _, _, envelope)| envelope["payload"]["policyInput"].clone())
        .expect("the submit event")
}
