//! An optional bearer-token check in front of the Zeebe gateway (gRPC), for an embedded engine
//! that is reachable beyond the developer's machine (`WORKFLOW_GRPC_REQUIRE_TOKEN=true`).
//!
//! In production Camunda 8's own identity protects Zeebe; locally the gateway serves the stack
//! without tokens (ADR 0030). With the check on, every call needs `authorization: Bearer <JWT>`
//! from the configured issuer, verified exactly as the REST API verifies it (algorithm, key,
//! signature, `iss`, `aud`, `exp`, `nbf`); a call without one ends `UNAUTHENTICATED` before any
//! engine code runs. It authenticates the client and does not authorize per RPC, as Zeebe's own
//! gateway does with Identity: the gRPC surface is for workers and services, never users.

use std::sync::Arc;
use std::task::{Context, Poll};

use common_kernel::auth::Verifier;
use futures::future::BoxFuture;
use tonic::body::Body;

/// Wraps the gateway's routes with the token check.
#[derive(Debug, Clone)]
pub struct RequireToken {
    verifier: Arc<Verifier>,
}

impl RequireToken {
    /// Verifies tokens with `verifier`.
    pub fn new(verifier: Arc<Verifier>) -> Self {
        Self { verifier }
    }
}

impl<S> tower::Layer<S> for RequireToken {
    type Service = TokenChecked<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TokenChecked {
            inner,
            verifier: Arc::clone(&self.verifier),
        }
    }
}

/// The gateway behind the token check.
#[derive(Debug, Clone)]
pub struct TokenChecked<S> {
    inner: S,
    verifier: Arc<Verifier>,
}

impl<S> tower::Service<http::Request<Body>> for TokenChecked<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        // The clone that was polled ready serves this call; the fresh clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = Arc::clone(&self.verifier);
        Box::pin(async move {
            let token = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "))
                .map(str::trim)
                .filter(|token| !token.is_empty());
            let refusal = match token {
                None => Some("a bearer token is required".to_owned()),
                Some(token) => match verifier.verify(token).await {
                    Ok(_) => None,
                    Err(error) => {
                        // The reason, never the token.
                        tracing::info!(path = %request.uri().path(), %error, "gateway call refused");
                        Some(error.to_string())
                    }
                },
            };
            match refusal {
                Some(reason) => Ok(tonic::Status::unauthenticated(reason).into_http()),
                None => inner.call(request).await,
            }
        })
    }
}
