//! The rate-limit layer through a real server on a random port, with budgets shared through a
//! real Redis: 429 problem+json with `Retry-After`, separate budgets per tenant, client and route
//! class, unlimited routes, and the metrics.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod rate_limit_support;

use std::time::Duration;

use common_kernel::rate_limit::{RateLimiter, RouteClass};
use rate_limit_support::{
    TestServer, key, limiter, limits, redis, unique_tenant, wait_until_shared,
};
use serde_json::Value;

/// A server over the shared test Redis, once Redis decides.
async fn shared_server(read: (u32, u32), command: (u32, u32)) -> (TestServer, String) {
    let url = test_support::redis_url();
    let limiter = limiter(&limits(read, command), &url);
    wait_until_shared(&limiter, &url).await;
    (TestServer::start(limiter).await, url)
}

#[tokio::test]
async fn a_burst_above_the_limit_gets_429_with_retry_after_and_passes_after_waiting() {
    let (server, url) = shared_server((120, 3), (60, 1)).await;
    let tenant = unique_tenant();
    for _ in 0..3 {
        assert_eq!(server.status(RouteClass::Read, &tenant, "web").await, 200);
    }
    let refused = server.call(RouteClass::Read, &tenant, "web").await;
    assert_eq!(refused.status().as_u16(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(retry_after, 1, "half a second, rounded up to whole seconds");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["status"], 429);
    assert_eq!(problem["code"], "RATE_LIMITED");
    assert_eq!(problem["type"], "urn:cpq-oms:problem:rate-limited");
    assert_eq!(problem["retryable"], true);

    // The budget lives in Redis under the documented key, and expires on its own.
    let stored = key(&tenant, "web", RouteClass::Read);
    let ttl: i64 = redis::cmd("PTTL")
        .arg(stored.redis_key())
        .query(&mut redis(&url))
        .unwrap();
    assert!((1..=1_500).contains(&ttl), "TTL {ttl} ms");

    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(server.status(RouteClass::Read, &tenant, "web").await, 200);
}

#[tokio::test]
async fn other_tenants_and_other_clients_keep_their_budget() {
    let (server, _) = shared_server((60, 2), (60, 2)).await;
    let (tenant, other_tenant) = (unique_tenant(), unique_tenant());
    for _ in 0..2 {
        assert_eq!(server.status(RouteClass::Read, &tenant, "web").await, 200);
    }
    assert_eq!(server.status(RouteClass::Read, &tenant, "web").await, 429);
    for _ in 0..2 {
        assert_eq!(
            server.status(RouteClass::Read, &other_tenant, "web").await,
            200
        );
        assert_eq!(
            server.status(RouteClass::Read, &tenant, "mobile").await,
            200
        );
    }
    assert_eq!(server.status(RouteClass::Read, &tenant, "web").await, 429);
}

#[tokio::test]
async fn reads_and_commands_have_separate_budgets() {
    let (server, _) = shared_server((60, 3), (60, 1)).await;
    let tenant = unique_tenant();
    assert_eq!(
        server.status(RouteClass::Command, &tenant, "web").await,
        200
    );
    assert_eq!(
        server.status(RouteClass::Command, &tenant, "web").await,
        429
    );
    for _ in 0..3 {
        assert_eq!(server.status(RouteClass::Read, &tenant, "web").await, 200);
    }
    assert_eq!(server.status(RouteClass::Read, &tenant, "web").await, 429);
    assert_eq!(
        server.status(RouteClass::Command, &tenant, "web").await,
        429
    );
}

#[tokio::test]
async fn routes_without_a_key_are_not_limited() {
    let (server, _) = shared_server((60, 1), (60, 1)).await;
    for _ in 0..20 {
        let health = server
            .http
            .get(format!("{}/health", server.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status().as_u16(), 200);
    }
}

#[tokio::test]
async fn refusals_and_local_decisions_are_counted() {
    let metrics = common_kernel::http::metrics::recorder().unwrap();
    let server = TestServer::start(RateLimiter::local_only(&limits((60, 1), (60, 1)))).await;
    let tenant = unique_tenant();
    assert_eq!(
        server.status(RouteClass::Command, &tenant, "web").await,
        200
    );
    assert_eq!(
        server.status(RouteClass::Command, &tenant, "web").await,
        429
    );
    let text = metrics.render();
    assert!(
        text.contains("rate_limit_refused_total{class=\"command\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("rate_limit_fallback_total{class=\"command\"} 2"),
        "{text}"
    );
    assert!(text.contains("rate_limit_fallback_active 1"), "{text}");
}
