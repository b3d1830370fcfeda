//! Assembles a service's router with the platform's cross-cutting behaviour, so every service
//! answers errors, limits, CORS, health, metrics and docs the same way.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use super::contract::BEARER_SCHEME;
use super::correlation::{self, CorrelationId};
use super::cors::{self, CorsPolicy};
use super::health::{self, HealthState};
use super::rate_limit::RateLimitLayer;
use crate::auth::{self, Authenticated, Verifier};
use crate::error::{ApiError, codes};
use crate::rate_limit::{RateKey, RateLimiter, RouteClass};
use crate::settings::HttpSettings;

/// The service-specific parts the platform wraps.
#[derive(Debug)]
pub struct ServiceRoutes {
    /// Business endpoints (already given their state).
    pub api: Router,
    /// Endpoints that authenticate on their own or not at all (a browser console signing in
    /// with a session cookie); they skip the bearer check and the rate limits, keep the rest.
    pub open: Router,
    /// The OpenAPI document as served at `/openapi.json`.
    pub openapi_json: String,
    /// Health endpoint state.
    pub health: HealthState,
    /// Verifies the bearer token every business route requires (ADR 0030).
    pub verifier: Arc<Verifier>,
    /// Limits authenticated requests per tenant, client and route class (ADR 0030).
    pub limiter: RateLimiter,
}

/// Wraps business routes with authentication, health, metrics, OpenAPI, docs, fallbacks and
/// middleware. Only the business routes require a token: health, metrics, the contract and the
/// docs stay open. The CORS policy of `http` sits outside authentication and rate limits, so a
/// browser's preflight (which carries no token) is answered without either.
pub fn assemble(routes: ServiceRoutes, http: &HttpSettings) -> Router {
    let openapi = routes.openapi_json;
    let title = routes.health.service;
    let docs_page = Html(docs_html(title));
    let operational = Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .with_state(routes.health)
        .route("/metrics", get(super::metrics::render))
        .route(
            "/openapi.json",
            get(move || async move {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    openapi,
                )
            }),
        )
        .route("/docs", get(move || async move { docs_page }));

    let timeout = http.request_timeout;
    let router = routes
        .api
        .layer(RateLimitLayer::new(routes.limiter, move |parts| {
            rate_key(title, parts)
        }))
        .layer(middleware::from_fn_with_state(
            routes.verifier,
            auth::authenticate,
        ))
        .merge(operational)
        .merge(routes.open)
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(http.max_body_bytes))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            enforce_timeout(timeout, req, next)
        }))
        .layer(CatchPanicLayer::custom(
            |_panic: Box<dyn std::any::Any + Send>| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    codes::INTERNAL_ERROR,
                    "An unexpected error occurred; quote the correlation id to support",
                )
                .into_response()
            },
        ));
    let router = match CorsPolicy::new(&http.cors) {
        Some(policy) => router.layer(middleware::from_fn_with_state(policy, cors::middleware)),
        None => router,
    };
    router
        .layer(middleware::from_fn(super::metrics::middleware))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let correlation_id = request
                    .extensions()
                    .get::<CorrelationId>()
                    .map(|c| c.0.as_str())
                    .unwrap_or_default();
                tracing::info_span!(
                    "http_request",
                    method = %request.method(),
                    uri = %request.uri().path(),
                    correlation_id = %correlation_id,
                    tenant_id = tracing::field::Empty,
                    actor_id = tracing::field::Empty,
                    command_id = tracing::field::Empty,
                    idempotency_key = tracing::field::Empty,
                )
            }),
        )
        .layer(middleware::from_fn(correlation::middleware))
}

/// The budget an authenticated request spends at `service`: its tenant, its client (the calling
/// service when a service acts for a user) and its route class. Runs after authentication, so
/// every business request has one.
fn rate_key(service: &'static str, parts: &axum::http::request::Parts) -> Option<RateKey> {
    let caller = &parts.extensions.get::<Authenticated>()?.caller;
    let client = match (&caller.authority.via, caller.authority.client.as_str()) {
        (Some(service), _) => service.clone(),
        (None, "") => caller.actor.actor_id.as_str().to_owned(),
        (None, client) => client.to_owned(),
    };
    Some(RateKey {
        service,
        tenant: caller.tenant.clone(),
        client,
        class: RouteClass::of(&parts.method),
    })
}

async fn enforce_timeout(limit: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::REQUEST_TIMEOUT,
            "The request took too long; it may or may not have been applied — retry with the same Idempotency-Key",
        )
        .into_response(),
    }
}

async fn route_not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(
        codes::ROUTE_NOT_FOUND,
        format!("No route for {method} {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        codes::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

/// A self-contained docs page that renders `/openapi.json` with Scalar's API reference (ADR 0001).
/// Its authentication panel is the "Authorize" of ADR 0030: the contract's bearer scheme is
/// preselected, the token entered is sent on every "Test Request" and kept across reloads
/// (`persistAuth`, the browser's local storage of this origin). Requests go straight from the
/// browser to this service, never through a third-party proxy, so the token stays here.
fn docs_html(service: &str) -> String {
    format!(
        r#"<!doctype html>
<html>
  <head>
    <title>{service} API — cpq-oms</title>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
  </head>
  <body>
    <noscript>The interactive reference needs JavaScript; the raw contract is at <a href="/openapi.json">/openapi.json</a>.</noscript>
    <div id="api-reference"></div>
    <script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script>
    <script>
      Scalar.createApiReference('#api-reference', {{
        url: '/openapi.json',
        persistAuth: true,
        authentication: {{ preferredSecurityScheme: '{BEARER_SCHEME}' }},
      }})
    </script>
  </body>
</html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_page_offers_the_bearer_scheme_and_keeps_the_token_here() {
        let page = docs_html("catalog");
        assert!(page.contains("<title>catalog API"));
        assert!(page.contains("url: '/openapi.json'"));
        assert!(page.contains("persistAuth: true"));
        assert!(page.contains("preferredSecurityScheme: 'bearerAuth'"));
        assert!(
            !page.contains("proxyUrl"),
            "requests and their token go straight to this service"
        );
    }
}
