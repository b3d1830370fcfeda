//! `/console/api/order/*`: the operator's reads and repairs on the order service, sent on with
//! the session's token, so the order service authorizes, validates, records evidence and answers
//! exactly as for any client. The console adds nothing: method, path, query, body, content
//! type, idempotency key and correlation id pass through; the answer comes back as it is.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use common_kernel::error::ApiError;
use common_kernel::http::correlation::CorrelationId;

use super::ConsoleState;
use super::sessions::Session;

/// The order service's resources the console may reach.
const ALLOWED: &[&str] = &["orders", "fallouts", "assets"];
/// The largest body sent on (a bulk action over many records stays far below).
const MAX_BODY: usize = 1024 * 1024;
/// Request headers passed on.
const PASSED: &[&str] = &["content-type", "idempotency-key", "accept"];

fn refused(status: StatusCode, code: &'static str, detail: String) -> Response {
    ApiError::new(status, code, detail).into_response()
}

/// Sends the call on to the order service.
pub async fn to_order(
    State(state): State<ConsoleState>,
    Path(path): Path<String>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let (method, headers, query) = (parts.method, parts.headers, parts.uri.query());
    let (Some(session), Some(correlation)) = (
        parts.extensions.get::<Session>(),
        parts.extensions.get::<CorrelationId>(),
    ) else {
        return refused(
            StatusCode::UNAUTHORIZED,
            "SESSION_REQUIRED",
            "sign in to the console at /console/login".to_owned(),
        );
    };
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(_) => {
            return refused(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                format!("a console call carries at most {MAX_BODY} bytes"),
            );
        }
    };
    let first = path.split('/').next().unwrap_or_default();
    if !ALLOWED.contains(&first)
        || path
            .split('/')
            .any(|s| s == ".." || s == "." || s.is_empty())
    {
        return refused(
            StatusCode::NOT_FOUND,
            "ROUTE_NOT_FOUND",
            format!("the console reaches the order service's {ALLOWED:?} only"),
        );
    }
    if method != Method::GET && method != Method::POST {
        return refused(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "the console reads (GET) and asks for repairs (POST)".to_owned(),
        );
    }
    let mut url = format!("{}/{path}", state.settings.order_url);
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(query);
    }
    let mut call = state
        .http
        .request(method, &url)
        .bearer_auth(&session.access_token)
        .header("x-correlation-id", &correlation.0)
        .body(body);
    for name in PASSED {
        if let Some(value) = headers.get(*name) {
            call = call.header(*name, value);
        }
    }
    match call.send().await {
        Ok(answer) => {
            let status = answer.status();
            let content_type = answer.headers().get("content-type").cloned();
            match answer.bytes().await {
                Ok(bytes) => {
                    let mut response = Response::new(Body::from(bytes));
                    *response.status_mut() = status;
                    if let Some(content_type) = content_type {
                        response
                            .headers_mut()
                            .insert(axum::http::header::CONTENT_TYPE, content_type);
                    }
                    response
                }
                Err(error) => unavailable(error),
            }
        }
        Err(error) => unavailable(error),
    }
}

/// A call whose answer never came is unknown, not failed: the operator looks before repeating
/// (the same idempotency key makes a repeat safe).
fn unavailable(error: reqwest::Error) -> Response {
    tracing::warn!(%error, "the order service did not answer the console");
    ApiError::new(
        StatusCode::BAD_GATEWAY,
        "ORDER_SERVICE_UNAVAILABLE",
        "the order service did not answer; the outcome is unknown: look at the order, then repeat with the same idempotency key",
    )
    .with_retryable(true)
    .into_response()
}
