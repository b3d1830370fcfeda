//! The explicit CORS policy: browsers on the configured origins may call the API with a bearer
//! token; every other origin gets no CORS headers, so browsers keep its scripts out.
//!
//! Only a request whose `Origin` is allowed goes through tower-http's CORS layer: it answers the
//! preflight itself (before authentication and rate limits, which a preflight never carries a
//! token for) and adds the allow and expose headers to the actual response. A request from any
//! other origin, or from no browser at all, is served exactly as without CORS; its response only
//! says `Vary: Origin`, so a cache never hands one origin's answer to another.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::{
    AUTHORIZATION, CONTENT_TYPE, ETAG, IF_MATCH, LOCATION, ORIGIN, RETRY_AFTER, VARY,
    WWW_AUTHENTICATE,
};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tower::{Layer, ServiceExt};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::correlation::CORRELATION_HEADER;
use crate::context::{
    BUSINESS_TRANSACTION_HEADER, CAUSATION_HEADER, CHANNEL_HEADER, IDEMPOTENCY_KEY_HEADER,
    TRACEPARENT_HEADER,
};
use crate::idempotency::REPLAYED_HEADER;
use crate::pagination::TOTAL_COUNT_HEADER;
use crate::settings::CorsSettings;

/// Methods the APIs route; GET, HEAD and POST need no preflight but are listed for clarity.
pub const ALLOWED_METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// Request headers the APIs read: the token, the body type, the command headers and the causal
/// chain. Not [`crate::auth::ACTING_USER_HEADER`]: only services act for a user, and they are no browsers.
pub const ALLOWED_HEADERS: [HeaderName; 9] = [
    AUTHORIZATION,
    CONTENT_TYPE,
    IF_MATCH,
    HeaderName::from_static(IDEMPOTENCY_KEY_HEADER),
    HeaderName::from_static(CORRELATION_HEADER),
    HeaderName::from_static(CHANNEL_HEADER),
    HeaderName::from_static(CAUSATION_HEADER),
    HeaderName::from_static(BUSINESS_TRANSACTION_HEADER),
    HeaderName::from_static(TRACEPARENT_HEADER),
];

/// Response headers a browser script may read: versions, created resources, the correlation id,
/// page totals, replays, and what a 401 or 429 tells the client to do.
pub const EXPOSED_HEADERS: [HeaderName; 7] = [
    ETAG,
    LOCATION,
    RETRY_AFTER,
    WWW_AUTHENTICATE,
    HeaderName::from_static(CORRELATION_HEADER),
    HeaderName::from_static(TOTAL_COUNT_HEADER),
    HeaderName::from_static(REPLAYED_HEADER),
];

/// How long a browser may reuse a preflight answer.
pub const MAX_AGE: Duration = Duration::from_secs(600);

/// The policy of one service: its allowed origins and the layer that answers them.
#[derive(Debug, Clone)]
pub struct CorsPolicy {
    origins: Arc<[HeaderValue]>,
    layer: CorsLayer,
}

impl CorsPolicy {
    /// The policy of `settings`; `None` when no origin is allowed (no CORS at all).
    pub fn new(settings: &CorsSettings) -> Option<Self> {
        let origins: Arc<[HeaderValue]> = settings
            .allowed_origins()
            .iter()
            .filter_map(|origin| HeaderValue::from_str(origin).ok())
            .collect();
        if origins.is_empty() {
            return None;
        }
        let layer = CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods(ALLOWED_METHODS)
            .allow_headers(ALLOWED_HEADERS)
            .expose_headers(EXPOSED_HEADERS)
            .max_age(MAX_AGE);
        Some(Self { origins, layer })
    }

    fn allows(&self, request: &Request) -> bool {
        request
            .headers()
            .get(ORIGIN)
            .is_some_and(|origin| self.origins.contains(origin))
    }
}

/// Middleware applying `policy`: allowed origins through the CORS layer, everything else as if
/// there were no CORS, with `Vary: Origin`.
pub async fn middleware(
    State(policy): State<CorsPolicy>,
    request: Request,
    next: Next,
) -> Response {
    if policy.allows(&request) {
        let answered: Result<Response, Infallible> =
            policy.layer.layer(next).oneshot(request).await;
        return answered.unwrap_or_else(|never| match never {});
    }
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .append(VARY, HeaderValue::from_static("origin"));
    response
}
