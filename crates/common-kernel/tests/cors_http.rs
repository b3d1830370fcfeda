//! The CORS policy of `platform::assemble` over real HTTP: an allowed origin gets the CORS
//! headers on its preflight (answered without a token and without spending the rate limit) and on
//! its actual requests, errors included; any other origin, and every origin by default, gets none.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use common_kernel::auth::{AuthSettings, Verifier};
use common_kernel::cache::Cache;
use common_kernel::http::health::HealthState;
use common_kernel::http::platform::{self, ServiceRoutes};
use common_kernel::rate_limit::RateLimiter;
use common_kernel::settings::{ClassLimit, CorsSettings, HttpSettings, RateLimitSettings};
use reqwest::Method;
use reqwest::header::HeaderMap;
use test_support::TestIssuer;

const PORTAL: &str = "https://portal.example.com";
const OTHER: &str = "https://evil.example.com";

/// A service with one business route (`/things`) behind the platform, allowing `origins`; one
/// read per minute, so a preflight that spent the budget would show.
struct Served {
    base: String,
    http: reqwest::Client,
    token: String,
    _issuer: TestIssuer,
}

impl Served {
    async fn start(origins: &[&str]) -> Self {
        let issuer = TestIssuer::start();
        let vars = HashMap::from([("OIDC_ISSUER", issuer.issuer_url())]);
        let auth = AuthSettings::from_lookup(|name| vars.get(name).cloned()).unwrap();
        let one_a_minute = ClassLimit {
            per_minute: 1,
            burst: 1,
        };
        let limits = RateLimitSettings {
            read: one_a_minute,
            command: one_a_minute,
            ..RateLimitSettings::default()
        };
        let api = Router::new().route(
            "/things",
            get(|| async { "things" }).post(|| async { StatusCode::CREATED }),
        );
        let routes = ServiceRoutes {
            api,
            open: Router::new(),
            openapi_json: "{}".to_owned(),
            health: HealthState {
                service: "cors-test",
                db: sqlx::postgres::PgPoolOptions::new()
                    .connect_lazy("postgres://nobody@127.0.0.1:1/none")
                    .unwrap(),
                cache: Cache::disabled(),
            },
            verifier: Arc::new(Verifier::new(&auth).unwrap()),
            limiter: RateLimiter::local_only(&limits),
        };
        let settings = HttpSettings {
            max_body_bytes: 1024,
            request_timeout: Duration::from_secs(5),
            cors: CorsSettings::new(origins).unwrap(),
        };
        let router = platform::assemble(routes, &settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            base,
            http: reqwest::Client::new(),
            token: issuer.token_for("sales1"),
            _issuer: issuer,
        }
    }

    /// A browser's preflight from `origin` for a POST with a token and a JSON body.
    async fn preflight(&self, origin: &str) -> reqwest::Response {
        self.http
            .request(Method::OPTIONS, format!("{}/things", self.base))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type,idempotency-key",
            )
            .send()
            .await
            .unwrap()
    }

    /// `GET /things` from `origin`, with the token when `authorized`.
    async fn get(&self, origin: &str, authorized: bool) -> reqwest::Response {
        let request = self
            .http
            .get(format!("{}/things", self.base))
            .header("Origin", origin);
        let request = if authorized {
            request.bearer_auth(&self.token)
        } else {
            request
        };
        request.send().await.unwrap()
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

fn has_no_cors_headers(headers: &HeaderMap) -> bool {
    !headers
        .keys()
        .any(|name| name.as_str().starts_with("access-control-"))
}

#[tokio::test]
async fn an_allowed_origin_gets_its_preflight_without_token_or_rate_limit() {
    let served = Served::start(&[PORTAL, "http://localhost:5173"]).await;
    for _ in 0..3 {
        let preflight = served.preflight(PORTAL).await;
        assert!(preflight.status().is_success(), "{}", preflight.status());
        let headers = preflight.headers();
        assert_eq!(header(headers, "access-control-allow-origin"), PORTAL);
        let methods = header(headers, "access-control-allow-methods");
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            assert!(methods.contains(method), "{methods}");
        }
        let allowed = header(headers, "access-control-allow-headers").to_ascii_lowercase();
        for name in [
            "authorization",
            "content-type",
            "idempotency-key",
            "if-match",
            "x-correlation-id",
        ] {
            assert!(allowed.contains(name), "{allowed}");
        }
        assert!(
            !allowed.contains("x-acting-user"),
            "services are no browsers"
        );
        assert_eq!(header(headers, "access-control-max-age"), "600");
        assert!(
            headers.get("access-control-allow-credentials").is_none(),
            "bearer tokens, not cookies"
        );
    }
    // Three preflights later the one read a minute is still there.
    let actual = served.get(PORTAL, true).await;
    assert_eq!(actual.status(), StatusCode::OK);
    assert_eq!(served.get(PORTAL, true).await.status(), 429);
}

#[tokio::test]
async fn an_allowed_origin_gets_the_headers_on_answers_and_refusals() {
    let served = Served::start(&[PORTAL]).await;
    let refused = served.get(PORTAL, false).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(refused.headers(), "access-control-allow-origin"),
        PORTAL
    );

    let answered = served.get(PORTAL, true).await;
    assert_eq!(answered.status(), StatusCode::OK);
    let headers = answered.headers();
    assert_eq!(header(headers, "access-control-allow-origin"), PORTAL);
    let exposed = header(headers, "access-control-expose-headers").to_ascii_lowercase();
    for name in [
        "etag",
        "location",
        "retry-after",
        "www-authenticate",
        "x-correlation-id",
        "x-total-count",
    ] {
        assert!(exposed.contains(name), "{exposed}");
    }
    assert!(headers.get("access-control-allow-credentials").is_none());
    assert!(
        header(headers, "vary")
            .to_ascii_lowercase()
            .contains("origin")
    );

    let limited = served.get(PORTAL, true).await;
    assert_eq!(limited.status(), 429);
    assert_eq!(
        header(limited.headers(), "access-control-allow-origin"),
        PORTAL
    );
}

#[tokio::test]
async fn another_origin_gets_no_cors_headers_and_is_served_as_without_cors() {
    let served = Served::start(&[PORTAL]).await;
    let preflight = served.preflight(OTHER).await;
    assert!(has_no_cors_headers(preflight.headers()));
    assert_eq!(
        preflight.status(),
        StatusCode::METHOD_NOT_ALLOWED,
        "an OPTIONS from elsewhere is routed as without CORS: no route answers OPTIONS"
    );
    let actual = served.get(OTHER, true).await;
    assert_eq!(actual.status(), StatusCode::OK);
    assert!(has_no_cors_headers(actual.headers()));
    assert!(
        header(actual.headers(), "vary")
            .to_ascii_lowercase()
            .contains("origin"),
        "a cache must not hand this answer to the allowed origin"
    );
    // An origin that only starts like an allowed one is another origin.
    let lookalike = served.get("https://portal.example.com.evil.io", true).await;
    assert!(has_no_cors_headers(lookalike.headers()));
}

#[tokio::test]
async fn by_default_no_origin_gets_cors_headers() {
    let served = Served::start(&[]).await;
    let preflight = served.preflight(PORTAL).await;
    assert!(has_no_cors_headers(preflight.headers()));
    assert_eq!(preflight.status(), StatusCode::METHOD_NOT_ALLOWED);
    let actual = served.get(PORTAL, true).await;
    assert_eq!(actual.status(), StatusCode::OK);
    assert!(has_no_cors_headers(actual.headers()));
    assert!(actual.headers().get("vary").is_none(), "no CORS at all");
}
