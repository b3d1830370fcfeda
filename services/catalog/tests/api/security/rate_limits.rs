//! Rate limits over the real catalog with tight budgets: a burst above the budget gets 429
//! problem+json with `Retry-After`; the budget is per tenant, client and route class and lives in
//! Redis; with Redis killed mid-test the process enforces the same limits itself and nothing
//! answers 5xx. Tenants are fresh per run, since Redis keys outlive a test.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;
use test_support::RedisProcess;
use uuid::Uuid;

use super::{Answer, read};
use crate::harness::TestApp;

/// Reads: 6 a minute (one per 10 s), 3 at once. Commands: 6 a minute, 2 at once. Redis gets a
/// generous timeout, so a slow moment on a busy machine does not hand the decision to the process.
fn tight() -> HashMap<&'static str, String> {
    HashMap::from([
        ("APP__RATE_LIMIT__READ_PER_MINUTE", "6".to_owned()),
        ("APP__RATE_LIMIT__READ_BURST", "3".to_owned()),
        ("APP__RATE_LIMIT__COMMAND_PER_MINUTE", "6".to_owned()),
        ("APP__RATE_LIMIT__COMMAND_BURST", "2".to_owned()),
        ("APP__RATE_LIMIT__REDIS_TIMEOUT_MS", "1000".to_owned()),
    ])
}

const READ_BURST: usize = 3;
const COMMAND_BURST: usize = 2;

/// The client id the test issuer's user tokens carry (`azp`).
const CLIENT: &str = "cpq-portal";

/// A tenant no earlier run used.
fn fresh_tenant(name: &str) -> String {
    format!("rl-{name}-{}", Uuid::now_v7().simple())
}

fn redis_key(tenant: &str, client: &str, class: &str) -> String {
    format!("rate-limit:catalog:{tenant}:{client}:{class}")
}

fn redis_has(url: &str, key: &str) -> bool {
    let output = Command::new("redis-cli")
        .args(["-u", url, "--raw", "EXISTS", key])
        .output()
        .expect("run redis-cli");
    String::from_utf8_lossy(&output.stdout).trim() == "1"
}

/// A caller of `tenant` (a catalog admin) through `client`.
struct Caller<'a> {
    app: &'a TestApp,
    token: String,
}

impl<'a> Caller<'a> {
    fn new(app: &'a TestApp, tenant: &str, client: &str) -> Self {
        let mut claims = app.issuer.claims_for("catalog1");
        tenant.clone_into(&mut claims.tenant_id);
        client.clone_into(&mut claims.azp);
        claims.realm_access.roles = vec!["catalog-admin".to_owned()];
        Self {
            app,
            token: app.issuer.token_with(&claims),
        }
    }

    async fn read(&self) -> Answer {
        let request = self
            .app
            .anonymous(Method::GET, "/product-offerings")
            .bearer_auth(&self.token);
        read(request.send().await.unwrap()).await
    }

    async fn command(&self) -> Answer {
        let code = format!("RL-{}", Uuid::now_v7().simple()).to_uppercase();
        let request = self
            .app
            .anonymous(Method::POST, "/product-specifications")
            .bearer_auth(&self.token)
            .json(&json!({"code": code, "name": "Limited", "characteristics": []}));
        read(request.send().await.unwrap()).await
    }

    /// `n` reads or commands in a row; their statuses.
    async fn statuses(&self, n: usize, command: bool) -> Vec<StatusCode> {
        let mut statuses = Vec::new();
        for _ in 0..n {
            let answer = if command {
                self.command().await
            } else {
                self.read().await
            };
            assert!(
                !answer.status.is_server_error(),
                "{} {}",
                answer.status,
                answer.body
            );
            if answer.status == StatusCode::TOO_MANY_REQUESTS {
                assert_limited(&answer);
            }
            statuses.push(answer.status);
        }
        statuses
    }
}

/// A 429 problem with a `Retry-After` within the 10 s a budget takes to refill by one.
fn assert_limited(answer: &Answer) {
    let correlation = answer.header("x-correlation-id").unwrap_or_default();
    answer.assert_problem(
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        correlation,
        "limited",
    );
    assert_eq!(answer.body["retryable"], true, "{}", answer.body);
    let seconds: u64 = answer
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("Retry-After in whole seconds: {:?}", answer.headers));
    assert!((1..=10).contains(&seconds), "Retry-After {seconds}");
}

/// `allowed` successes, then refusals.
fn burst_then_refused(allowed: usize, total: usize, success: StatusCode) -> Vec<StatusCode> {
    let mut expected = vec![success; allowed];
    expected.resize(total, StatusCode::TOO_MANY_REQUESTS);
    expected
}

/// Until the limiter's connection to Redis is up, requests are decided in the process; waits
/// until a request of a tenant of its own has been counted in Redis.
async fn shared_limits_ready(app: &TestApp, redis: &str) {
    let tenant = fresh_tenant("warm");
    let caller = Caller::new(app, &tenant, CLIENT);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !redis_has(redis, &redis_key(&tenant, CLIENT, "read")) {
        assert!(Instant::now() < deadline, "the limiter never used Redis");
        caller.read().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn budgets_are_per_tenant_client_and_route_class_and_shared_through_redis() {
    let redis = test_support::redis_url();
    let app = TestApp::spawn_with(Some(redis.clone()), tight()).await;
    shared_limits_ready(&app, &redis).await;
    let tenant = fresh_tenant("a");
    let caller = Caller::new(&app, &tenant, CLIENT);

    // Reads: the burst passes, the next is refused; the budget is kept in Redis.
    assert_eq!(
        caller.statuses(READ_BURST + 2, false).await,
        burst_then_refused(READ_BURST, READ_BURST + 2, StatusCode::OK)
    );
    assert!(redis_has(&redis, &redis_key(&tenant, CLIENT, "read")));
    // Commands have their own budget, untouched by the reads.
    assert_eq!(
        caller.statuses(COMMAND_BURST + 1, true).await,
        burst_then_refused(COMMAND_BURST, COMMAND_BURST + 1, StatusCode::CREATED)
    );
    assert!(redis_has(&redis, &redis_key(&tenant, CLIENT, "command")));
    assert_eq!(caller.read().await.status, StatusCode::TOO_MANY_REQUESTS);

    // Another tenant, and another client of the same tenant, have budgets of their own.
    let other_tenant = Caller::new(&app, &fresh_tenant("b"), CLIENT);
    let other_client = Caller::new(&app, &tenant, "partner-gateway");
    for other in [&other_tenant, &other_client] {
        assert_eq!(other.read().await.status, StatusCode::OK);
        assert_eq!(other.command().await.status, StatusCode::CREATED);
    }
    app.stop().await;
}

#[tokio::test]
async fn with_redis_killed_the_process_enforces_the_limits_and_nothing_fails() {
    let mut redis = RedisProcess::start();
    let app = TestApp::spawn_with(Some(redis.url()), tight()).await;
    shared_limits_ready(&app, &redis.url()).await;
    let tenant = fresh_tenant("shared");
    let caller = Caller::new(&app, &tenant, CLIENT);
    assert_eq!(
        caller.statuses(READ_BURST + 1, false).await,
        burst_then_refused(READ_BURST, READ_BURST + 1, StatusCode::OK)
    );
    assert!(redis_has(&redis.url(), &redis_key(&tenant, CLIENT, "read")));

    redis.stop();
    // Decided in the process now: the same budgets, counted from the switch.
    let started = Instant::now();
    let fresh = Caller::new(&app, &fresh_tenant("local"), CLIENT);
    assert_eq!(
        fresh.statuses(READ_BURST + 2, false).await,
        burst_then_refused(READ_BURST, READ_BURST + 2, StatusCode::OK)
    );
    assert_eq!(
        fresh.statuses(COMMAND_BURST + 2, true).await,
        burst_then_refused(COMMAND_BURST, COMMAND_BURST + 2, StatusCode::CREATED)
    );
    // The tenant limited in Redis is limited by the process too (never unlimited).
    let statuses = caller.statuses(READ_BURST + 2, false).await;
    assert_eq!(
        statuses,
        burst_then_refused(READ_BURST, READ_BURST + 2, StatusCode::OK)
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "requests waited for the dead Redis: {:?}",
        started.elapsed()
    );
    app.stop().await;
}
