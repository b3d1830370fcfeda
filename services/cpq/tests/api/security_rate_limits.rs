//! Rate limits over the real service (ADR 0030): a burst above a class's limit is refused with
//! 429 problem+json and `Retry-After`, per tenant, client and class; with Redis killed mid-test
//! each process still enforces the limits and nothing answers 5xx. On the CPQ → catalog path the
//! catalog's budget is the user's tenant's (with CPQ as the client), so one tenant spending it
//! does not refuse another tenant's quotes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::{Response, StatusCode};
use serde_json::json;
use test_support::RedisProcess;
use uuid::Uuid;

use crate::harness::{TENANT, TestApp, expect_status, issuer, seed_tenant, seller_token};
use crate::security_support::answer;

/// Read and command bursts of the tight service (one request a minute sustained, so nothing is
/// refilled during the test).
const READS: usize = 4;
const COMMANDS: usize = 2;

fn tight(redis: &RedisProcess) -> HashMap<&'static str, String> {
    HashMap::from([
        ("REDIS_URL", redis.url()),
        ("APP__RATE_LIMIT__READ_PER_MINUTE", "1".to_owned()),
        ("APP__RATE_LIMIT__READ_BURST", READS.to_string()),
        ("APP__RATE_LIMIT__COMMAND_PER_MINUTE", "1".to_owned()),
        ("APP__RATE_LIMIT__COMMAND_BURST", COMMANDS.to_string()),
        // Redis decides while it is up, however loaded the test machine is.
        ("APP__RATE_LIMIT__REDIS_TIMEOUT_MS", "1000".to_owned()),
    ])
}

/// A seller token of `tenant` issued to client `client`.
fn token(tenant: &str, client: &str) -> String {
    let mut claims = issuer().claims_for("sales1");
    claims.tenant_id = tenant.to_owned();
    claims.azp = client.to_owned();
    claims.preferred_username = format!("{client}-user");
    issuer().token_with(&claims)
}

/// Names unique to this run, so no other run's budget is shared.
fn fresh(prefix: &str) -> String {
    format!("{prefix}-{}", &Uuid::now_v7().simple().to_string()[24..])
}

async fn read(app: &TestApp, token: &str) -> Response {
    let url = format!("{}/quotes", app.base);
    app.client.get(url).bearer_auth(token).send().await.unwrap()
}

async fn command(app: &TestApp, token: &str) -> Response {
    let url = format!("{}/quotes/{}/cancel", app.base, Uuid::now_v7());
    app.client
        .post(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// Asserts a 429 problem with a `Retry-After` of at most a minute.
async fn assert_limited(response: Response, what: &str) {
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .unwrap_or_else(|| panic!("{what}: 429 without Retry-After"))
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let (status, content_type, body) = answer(response).await;
    assert_eq!(status, 429, "{what}: {body}");
    assert_eq!(content_type, "application/problem+json", "{what}");
    assert_eq!(body["code"], "RATE_LIMITED", "{what}: {body}");
    assert_eq!(body["retryable"], true, "{what}: {body}");
    assert!((1..=60).contains(&retry_after), "{what}: {retry_after}");
}

/// Sends reads as `token` until one is refused; every answer before is 200. Returns how many
/// were allowed.
async fn reads_until_limited(app: &TestApp, token: &str, what: &str) -> usize {
    for allowed in 0..=READS {
        let response = read(app, token).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_limited(response, what).await;
            return allowed;
        }
        expect_status(response, StatusCode::OK).await;
    }
    panic!("{what}: more than {READS} reads allowed in a burst of {READS}")
}

#[tokio::test]
async fn bursts_are_refused_per_tenant_client_and_class_with_or_without_redis() {
    let mut redis = RedisProcess::start();
    let app = TestApp::spawn_with(tight(&redis)).await;
    let (tenant, client) = (fresh("rl"), fresh("client"));

    // Until Redis has answered once, the first requests are decided in the process: wait for a
    // shared decision with a tenant of its own.
    let warm = token(&fresh("warm"), &client);
    let deadline = Instant::now() + Duration::from_secs(10);
    while redis.keys("rate-limit:cpq:warm-*").is_empty() {
        assert!(Instant::now() < deadline, "Redis never decided");
        assert!(!read(&app, &warm).await.status().is_server_error());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Commands: the burst, then 429.
    let mine = token(&tenant, &client);
    for _ in 0..COMMANDS {
        assert_eq!(command(&app, &mine).await.status(), StatusCode::NOT_FOUND);
    }
    assert_limited(command(&app, &mine).await, "command burst").await;
    // Reads have their own budget: the burst, then 429.
    assert_eq!(reads_until_limited(&app, &mine, "read burst").await, READS);
    // The budgets were Redis's, under the tenant's and client's names.
    for class in ["read", "command"] {
        let key = format!("rate-limit:cpq:{tenant}:{client}:{class}");
        assert_eq!(redis.keys(&key), vec![key.clone()]);
    }
    // Another tenant with the same client, and another client of the same tenant, are not
    // affected.
    let neighbour = token(&fresh("rl"), &client);
    expect_status(read(&app, &neighbour).await, StatusCode::OK).await;
    assert_eq!(
        command(&app, &neighbour).await.status(),
        StatusCode::NOT_FOUND
    );
    let colleague = token(&tenant, &fresh("client"));
    expect_status(read(&app, &colleague).await, StatusCode::OK).await;

    // Redis dies: this process enforces the same limits alone, and nothing fails.
    redis.stop();
    assert_eq!(
        reads_until_limited(&app, &mine, "read burst without Redis").await,
        READS,
        "the process's own budget for the tenant, as large as the shared one"
    );
    for _ in 0..COMMANDS {
        assert_eq!(command(&app, &mine).await.status(), StatusCode::NOT_FOUND);
    }
    assert_limited(command(&app, &mine).await, "command burst without Redis").await;
    let stranger = token(&fresh("rl"), &fresh("client"));
    assert_eq!(
        reads_until_limited(&app, &stranger, "another tenant without Redis").await,
        READS
    );
    app.stop().await;
}

#[tokio::test]
async fn one_tenant_spending_the_catalogs_budget_leaves_other_tenants_theirs() {
    let redis = RedisProcess::start();
    let catalog_reads = 6;
    let catalog = HashMap::from([
        ("REDIS_URL", redis.url()),
        ("APP__RATE_LIMIT__READ_PER_MINUTE", "1".to_owned()),
        ("APP__RATE_LIMIT__READ_BURST", catalog_reads.to_string()),
        ("APP__RATE_LIMIT__REDIS_TIMEOUT_MS", "1000".to_owned()),
    ]);
    let app =
        TestApp::spawn_with_catalog(HashMap::from([("REDIS_URL", redis.url())]), catalog).await;
    let other = "globex";
    let theirs = seed_tenant(other, &app.client, &app.catalog.base).await;

    // The harness tenant's seller creates quotes until the catalog refuses CPQ's reads for it.
    let mut created = 0;
    let refusal = loop {
        let body = app.create_body(3600, json!([app.item("1", 1)]));
        let (status, content_type, answer) = answer(app.post("/quotes", &body).await).await;
        if status != 201 {
            break (status, content_type, answer);
        }
        created += 1;
        assert!(created <= catalog_reads, "the catalog never refused");
    };
    let (status, content_type, body) = refusal;
    assert!(created >= 1, "the first quote fits the budget");
    assert!(
        matches!(status, 502 | 503) && content_type == "application/problem+json",
        "{status} {body}"
    );
    assert_eq!(body["retryable"], true, "{body}");
    // The budget the catalog spent is the user's tenant's, drawn by CPQ as the client (the
    // service token is of tenant `demo`: the tenant came from the acting user's token).
    assert_eq!(
        redis.keys("rate-limit:catalog:*:read"),
        [format!("rate-limit:catalog:{TENANT}:cpq-service:read")]
    );
    // CPQ's own budget is untouched by the catalog's: the seller still reads.
    expect_status(read(&app, &seller_token()).await, StatusCode::OK).await;

    // Another tenant's seller is not refused because of it.
    let globex = issuer().token_as(other, "rep-g", &["sales-agent"], Some("10"));
    let body = json!({
        "customerId": "CUST-G", "currency": "USD", "priceBookId": theirs.price_book,
        "validUntil": chrono::Utc::now() + chrono::Duration::hours(1),
        "items": [{"id": "1", "offeringId": theirs.offering, "quantity": 1,
                   "characteristics": {"bandwidthMbps": 100}}],
    });
    let response = app
        .client
        .post(format!("{}/quotes", app.base))
        .bearer_auth(&globex)
        .json(&body)
        .send()
        .await
        .unwrap();
    let quote = expect_status(response, StatusCode::CREATED).await;
    let priced = app
        .client
        .post(format!(
            "{}/quotes/{}/price",
            app.base,
            quote["id"].as_str().unwrap()
        ))
        .bearer_auth(&globex)
        .send()
        .await
        .unwrap();
    expect_status(priced, StatusCode::OK).await;
    assert!(
        !redis
            .keys(&format!("rate-limit:catalog:{other}:cpq-service:read"))
            .is_empty()
    );
    app.stop().await;
}
