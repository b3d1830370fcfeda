//! Correlation ids: accepted from `X-Correlation-Id` or generated, stored in the request, held in
//! a task-local for error rendering, recorded on the request span and echoed on every response.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// Header carrying the correlation id in both directions.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// The correlation id of the current request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationId(pub String);

impl CorrelationId {
    /// A fresh id for a request that arrived without one.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    /// Accepts a caller's id when it is 1–128 visible ASCII characters, else generates one.
    pub fn accept_or_generate(value: Option<&HeaderValue>) -> Self {
        value
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
            .map(|v| Self(v.to_owned()))
            .unwrap_or_else(Self::generate)
    }
}

tokio::task_local! {
    static CURRENT: String;
}

/// The correlation id of the request being served on this task, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Middleware: establishes the correlation id for the rest of the stack and echoes it.
pub async fn middleware(mut request: Request, next: Next) -> Response {
    let id = CorrelationId::accept_or_generate(request.headers().get(CORRELATION_HEADER));
    request.extensions_mut().insert(id.clone());
    let value = id.0.clone();
    let mut response = CURRENT.scope(value.clone(), next.run(request)).await;
    if let Ok(header) = HeaderValue::from_str(&value) {
        response.headers_mut().insert(CORRELATION_HEADER, header);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_ids_are_kept_when_sane() {
        let ok = HeaderValue::from_static("abc-123");
        assert_eq!(CorrelationId::accept_or_generate(Some(&ok)).0, "abc-123");
        let spaced = HeaderValue::from_static("has space");
        assert_ne!(
            CorrelationId::accept_or_generate(Some(&spaced)).0,
            "has space"
        );
        assert_eq!(CorrelationId::accept_or_generate(None).0.len(), 36);
    }
}
