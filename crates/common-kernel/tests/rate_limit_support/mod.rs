//! Shared by the rate-limit tests: settings, keys, a tiny limited server on a random port, and
//! waiting until Redis decides.

#![allow(dead_code, reason = "each test file uses part of it")]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use common_kernel::http::rate_limit::RateLimitLayer;
use common_kernel::ids::TenantId;
use common_kernel::rate_limit::{RateKey, RateLimiter, RouteClass};
use common_kernel::settings::{ClassLimit, RateLimitSettings, RedisSettings, Secret};

/// The service the test budgets belong to.
pub const SERVICE: &str = "rate-limit-test";
/// Header the test key extractor reads the tenant from.
pub const TENANT: &str = "x-test-tenant";
/// Header the test key extractor reads the client from.
pub const CLIENT: &str = "x-test-client";

/// Limits with the given (per minute, burst) for reads and commands.
pub fn limits(read: (u32, u32), command: (u32, u32)) -> RateLimitSettings {
    RateLimitSettings {
        read: ClassLimit {
            per_minute: read.0,
            burst: read.1,
        },
        command: ClassLimit {
            per_minute: command.0,
            burst: command.1,
        },
        redis_timeout: Duration::from_millis(50),
        local_max_keys: 10_000,
    }
}

/// A limiter over the Redis at `url`.
pub fn limiter(settings: &RateLimitSettings, url: &str) -> RateLimiter {
    RateLimiter::new(
        settings,
        &RedisSettings {
            url: Some(Secret::new(url)),
            timeout: Duration::from_millis(150),
        },
    )
}

/// A tenant id no other test (or earlier run against the shared Redis) uses.
pub fn unique_tenant() -> String {
    format!("t-{}", uuid::Uuid::now_v7().simple())
}

/// A key of `tenant`'s `client`.
pub fn key(tenant: &str, client: &str, class: RouteClass) -> RateKey {
    RateKey {
        service: SERVICE,
        tenant: TenantId::parse(tenant).unwrap(),
        client: client.to_owned(),
        class,
    }
}

/// A synchronous connection to the Redis at `url`, to look at what the limiter stored.
pub fn redis(url: &str) -> redis::Connection {
    redis::Client::open(url).unwrap().get_connection().unwrap()
}

/// Whether `key` is stored in the Redis at `url`.
pub fn stored(url: &str, key: &RateKey) -> bool {
    redis::cmd("EXISTS")
        .arg(key.redis_key())
        .query::<bool>(&mut redis(url))
        .unwrap_or(false)
}

/// Checks a throwaway key until Redis (rather than this process) decides: the limiter connects
/// in the background, so its first decisions are local.
pub async fn wait_until_shared(limiter: &RateLimiter, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let probe = key(&unique_tenant(), "probe", RouteClass::Read);
    loop {
        limiter.check(&probe).await;
        if stored(url, &probe) {
            return;
        }
        assert!(Instant::now() < deadline, "Redis never decided");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A server on a random port: `GET|POST /things` limited by the tenant and client headers, and
/// `GET /health` unlimited (the extractor finds no key without the headers).
pub struct TestServer {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// A plain HTTP client.
    pub http: reqwest::Client,
}

impl TestServer {
    /// Serves the tiny router behind `limiter`.
    pub async fn start(limiter: RateLimiter) -> Self {
        let router = Router::new()
            .route(
                "/things",
                get(|| async { "read" }).post(|| async { "done" }),
            )
            .route("/health", get(|| async { "up" }))
            .layer(RateLimitLayer::new(limiter, |parts| {
                let header = |name: &str| parts.headers.get(name)?.to_str().ok();
                Some(RateKey {
                    service: SERVICE,
                    tenant: TenantId::parse(header(TENANT)?).ok()?,
                    client: header(CLIENT)?.to_owned(),
                    class: RouteClass::of(&parts.method),
                })
            }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            base: format!("http://{address}"),
            http: reqwest::Client::new(),
        }
    }

    /// `GET /things` (read) or `POST /things` (command) as `tenant`'s `client`.
    pub async fn call(&self, class: RouteClass, tenant: &str, client: &str) -> reqwest::Response {
        let url = format!("{}/things", self.base);
        let request = match class {
            RouteClass::Read => self.http.get(url),
            RouteClass::Command => self.http.post(url),
        };
        request
            .header(TENANT, tenant)
            .header(CLIENT, client)
            .send()
            .await
            .unwrap()
    }

    /// The status of [`TestServer::call`].
    pub async fn status(&self, class: RouteClass, tenant: &str, client: &str) -> u16 {
        self.call(class, tenant, client).await.status().as_u16()
    }
}
