//! The rate-limit layer: counts each request against its tenant's and client's budget for its
//! route class and answers 429 problem+json with `Retry-After` once the budget is spent.
//!
//! Who the caller is comes from the authentication layer, so the layer takes a key extractor
//! rather than reading headers itself; an extractor returning `None` leaves a route unlimited
//! (health, metrics, docs).

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::future::BoxFuture;
use http::request::Parts;
use tower::{Layer, Service};

use crate::error::{ApiError, problem_response};
use crate::rate_limit::{Decision, RATE_LIMITED, RateKey, RateLimiter, RouteClass};

/// Finds whose budget a request draws from; `None` leaves the request unlimited.
pub type KeyExtractor = Arc<dyn Fn(&Parts) -> Option<RateKey> + Send + Sync>;

/// A tower layer applying a [`RateLimiter`] to every request of a router
/// (`router.layer(RateLimitLayer::new(limiter, extractor))`).
#[derive(Clone)]
pub struct RateLimitLayer {
    limiter: RateLimiter,
    key: KeyExtractor,
}

impl RateLimitLayer {
    /// Limits requests by the key `key` finds in them.
    pub fn new(
        limiter: RateLimiter,
        key: impl Fn(&Parts) -> Option<RateKey> + Send + Sync + 'static,
    ) -> Self {
        Self {
            limiter,
            key: Arc::new(key),
        }
    }
}

impl fmt::Debug for RateLimitLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimit {
            inner,
            limiter: self.limiter.clone(),
            key: Arc::clone(&self.key),
        }
    }
}

/// The service [`RateLimitLayer`] wraps around a router or route.
#[derive(Clone)]
pub struct RateLimit<S> {
    inner: S,
    limiter: RateLimiter,
    key: KeyExtractor,
}

impl<S> fmt::Debug for RateLimit<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit")
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl<S> Service<Request> for RateLimit<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let (parts, body) = request.into_parts();
        let key = (self.key)(&parts);
        let request = Request::from_parts(parts, body);
        // The clone is not necessarily ready; the one `poll_ready` readied is the one to call.
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        let limiter = self.limiter.clone();
        Box::pin(async move {
            if let Some(key) = key
                && let Decision::Refused { retry_after } = limiter.check(&key).await
            {
                return Ok(too_many_requests(key.class, retry_after));
            }
            inner.call(request).await
        })
    }
}

/// `Retry-After` in whole seconds, rounded up and at least 1 (clients treat 0 as "now").
pub fn retry_after_seconds(retry_after: Duration) -> u64 {
    let seconds = retry_after.as_secs();
    let rounded = if retry_after.subsec_nanos() > 0 {
        seconds + 1
    } else {
        seconds
    };
    rounded.max(1)
}

/// The 429 problem response: code `RATE_LIMITED`, retryable, with `Retry-After`.
pub fn too_many_requests(class: RouteClass, retry_after: Duration) -> Response {
    let seconds = retry_after_seconds(retry_after);
    let what = match class {
        RouteClass::Read => "reads",
        RouteClass::Command => "commands",
    };
    let error = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        RATE_LIMITED,
        format!("Too many {what} from this client; retry after {seconds} s"),
    )
    .with_retryable(true);
    // Logged at DEBUG, not through `ApiError`'s INFO line: a client that ignores `Retry-After`
    // would otherwise write one log line per refused request; the refusals are counted in
    // `rate_limit_refused_total`.
    tracing::debug!(
        code = RATE_LIMITED,
        class = class.as_str(),
        seconds,
        "request rate limited"
    );
    let mut response = problem_response(error.status(), &error.to_problem());
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_micros(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1_001)), 2);
        assert_eq!(retry_after_seconds(Duration::from_secs(7)), 7);
    }

    #[test]
    fn the_refusal_is_a_retryable_problem() {
        let response = too_many_requests(RouteClass::Command, Duration::from_millis(1_500));
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            crate::error::PROBLEM_JSON
        );
    }
}
