//! Why a request was not authenticated, mapped once to problem+json: 401 for the caller's
//! token, 503 when the issuer's keys cannot be read. The detail never repeats the token.

use axum::http::StatusCode;

use crate::error::ApiError;

/// Stable code of a refused token.
pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
/// Stable code when tokens cannot be checked right now.
pub const AUTH_UNAVAILABLE: &str = "AUTH_UNAVAILABLE";

/// A request that is not authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("a bearer token is required")]
    Missing,
    /// Not a JWT, or a header that cannot be read.
    #[error("the bearer token is malformed")]
    Malformed,
    /// An algorithm other than RS256 or ES256 (`none` and every HS* among them).
    #[error("the token's algorithm is not accepted")]
    Algorithm,
    /// A `kid` the issuer does not publish.
    #[error("the token was signed with a key the issuer does not publish")]
    UnknownKey,
    /// Signature, issuer, audience or validity period did not check out.
    #[error("the token is not valid: {0}")]
    Invalid(&'static str),
    /// The claims do not describe a caller.
    #[error("{0}")]
    Claims(String),
    /// Only a service may act on a user's behalf.
    #[error("only a service may act on a user's behalf")]
    ActingUserNotAllowed,
    /// The issuer's keys could not be read.
    #[error("the identity provider cannot be reached")]
    IssuerUnavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::IssuerUnavailable(_) => ApiError::unavailable(AUTH_UNAVAILABLE, error),
            AuthError::ActingUserNotAllowed => ApiError::new(
                StatusCode::FORBIDDEN,
                domain_kernel::access::FORBIDDEN_ACTION,
                error.to_string(),
            ),
            other => ApiError::new(StatusCode::UNAUTHORIZED, UNAUTHENTICATED, other.to_string())
                .with_retryable(false),
        }
    }
}

impl From<domain_kernel::access::Forbidden> for ApiError {
    fn from(refused: domain_kernel::access::Forbidden) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            domain_kernel::access::FORBIDDEN_ACTION,
            format!("Forbidden: {refused}"),
        )
        .with_retryable(false)
    }
}

/// The JSON the issuer answers `request` with (discovery, keys, a token); any failure on the way
/// (connection, status, body) means the issuer is unavailable, never that the caller is wrong.
pub(super) async fn issuer_json<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
) -> Result<T, AuthError> {
    let unavailable = |e: reqwest::Error| AuthError::IssuerUnavailable(Box::new(e));
    request
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(unavailable)?
        .json()
        .await
        .map_err(unavailable)
}
