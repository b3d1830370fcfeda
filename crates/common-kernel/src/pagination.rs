//! `limit`/`offset` pagination with the total in `X-Total-Count`.

use axum::Json;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, FieldError, codes};

/// Header carrying the total number of matching items.
pub const TOTAL_COUNT_HEADER: &str = "x-total-count";
/// Page size when the client does not ask.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest page a client may ask for.
pub const MAX_LIMIT: i64 = 500;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Items per page (1..=500).
    pub limit: i64,
    /// Items to skip (≥ 0).
    pub offset: i64,
}

impl PageRequest {
    /// Validates raw query values, reporting each bad one.
    pub fn new(limit: Option<i64>, offset: Option<i64>) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(FieldError::new(
                "query:limit",
                "OUT_OF_RANGE",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let offset = offset.unwrap_or(0);
        if offset < 0 {
            errors.push(FieldError::new(
                "query:offset",
                "OUT_OF_RANGE",
                "must not be negative",
            ));
        }
        if errors.is_empty() {
            Ok(Self { limit, offset })
        } else {
            Err(
                ApiError::bad_request(codes::INVALID_QUERY, "The paging parameters are invalid")
                    .with_errors(errors),
            )
        }
    }
}

/// One page of results; rendered with `X-Total-Count`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Page size asked for.
    pub limit: i64,
    /// Items skipped.
    pub offset: i64,
    /// Items matching the filter in total.
    pub total_count: i64,
}

impl<T> Page<T> {
    /// A page from query results.
    pub fn new(items: Vec<T>, request: PageRequest, total_count: i64) -> Self {
        Self {
            items,
            limit: request.limit,
            offset: request.offset,
            total_count,
        }
    }
}

impl<T: Serialize> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        let total = self.total_count;
        let mut response = Json(self).into_response();
        if let Ok(value) = HeaderValue::from_str(&total.to_string()) {
            response.headers_mut().insert(TOTAL_COUNT_HEADER, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_requests_are_bounded() {
        assert_eq!(
            PageRequest::new(None, None).expect("defaults"),
            PageRequest {
                limit: 50,
                offset: 0
            }
        );
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(Some(501), None).is_err());
        let err = PageRequest::new(Some(0), Some(-1)).expect_err("both bad");
        assert_eq!(err.to_problem().errors.len(), 2);
    }
}
