//! The middleware that authenticates every business request: it reads `Authorization: Bearer`,
//! verifies the token, lets a service act for a user who sent their own token in
//! [`ACTING_USER_HEADER`], and leaves the result in the request for the context extractor.
//! A refusal is 401 problem+json with `WWW-Authenticate: Bearer`.

use std::fmt;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain_kernel::access::Role;

use super::claims::Caller;
use super::error::AuthError;
use super::verifier::Verifier;
use crate::error::ApiError;

/// Header in which a service passes the token of the user it acts for.
pub const ACTING_USER_HEADER: &str = "x-acting-user";

/// A raw bearer token, kept to pass a user's identity on to another service. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(Arc<str>);

impl BearerToken {
    /// Wraps a token.
    pub fn new(token: &str) -> Self {
        Self(Arc::from(token))
    }

    /// The token itself, for the one header that carries it on.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(***)")
    }
}

/// What authentication left in the request: the caller, and the token that proves the user's
/// identity (to act for them downstream).
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The caller (the user when a service acts on a user's behalf).
    pub caller: Caller,
    /// The user's own token.
    pub user_token: BearerToken,
}

/// Authenticates the request or answers 401 (503 when the issuer cannot be read).
pub async fn authenticate(
    State(verifier): State<Arc<Verifier>>,
    mut request: Request,
    next: Next,
) -> Response {
    match authenticated(&verifier, request.headers()).await {
        Ok(authenticated) => {
            request.extensions_mut().insert(authenticated);
            next.run(request).await
        }
        Err(error) => refusal(error),
    }
}

async fn authenticated(
    verifier: &Verifier,
    headers: &HeaderMap,
) -> Result<Authenticated, AuthError> {
    let token = bearer(headers.get(AUTHORIZATION))?.ok_or(AuthError::Missing)?;
    let caller = verifier.verify(token).await?;
    let Some(acting) = bearer_value(headers.get(ACTING_USER_HEADER))? else {
        return Ok(Authenticated {
            caller,
            user_token: BearerToken::new(token),
        });
    };
    let service = &caller.authority;
    if !(service.has(Role::Service) || service.has(Role::WorkflowWorker)) {
        return Err(AuthError::ActingUserNotAllowed);
    }
    let mut user = verifier.verify(acting).await?;
    user.authority.via = Some(if service.client.is_empty() {
        caller.actor.actor_id.as_str().to_owned()
    } else {
        service.client.clone()
    });
    Ok(Authenticated {
        caller: user,
        user_token: BearerToken::new(acting),
    })
}

/// The token of an `Authorization: Bearer <token>` header; `None` when absent.
fn bearer(value: Option<&HeaderValue>) -> Result<Option<&str>, AuthError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| AuthError::Malformed)?;
    let (scheme, token) = text.trim().split_once(' ').ok_or(AuthError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Malformed);
    }
    Ok(Some(token.trim()))
}

/// The acting user's token: a bare token or `Bearer <token>`.
fn bearer_value(value: Option<&HeaderValue>) -> Result<Option<&str>, AuthError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| AuthError::Malformed)?.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(Some(token.trim())),
        Some(_) => Err(AuthError::Malformed),
        None => Ok(Some(text)),
    }
}

fn refusal(error: AuthError) -> Response {
    let challenge = match &error {
        AuthError::Missing => Some("Bearer realm=\"cpq-oms\""),
        AuthError::IssuerUnavailable(_) | AuthError::ActingUserNotAllowed => None,
        _ => Some("Bearer realm=\"cpq-oms\", error=\"invalid_token\""),
    };
    let mut response = ApiError::from(error).into_response();
    if let Some(challenge) = challenge {
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_headers_are_read_strictly_and_tokens_never_printed() {
        let header = |v: &str| HeaderValue::from_str(v).unwrap();
        assert_eq!(bearer(Some(&header("Bearer abc"))).unwrap(), Some("abc"));
        assert_eq!(bearer(Some(&header("bearer  abc "))).unwrap(), Some("abc"));
        assert_eq!(bearer(None).unwrap(), None);
        for bad in ["Basic abc", "Bearer", "abc", "Bearer "] {
            assert!(bearer(Some(&header(bad))).is_err(), "{bad}");
        }
        assert_eq!(bearer_value(Some(&header("abc"))).unwrap(), Some("abc"));
        assert_eq!(
            format!("{:?}", BearerToken::new("secret")),
            "BearerToken(***)"
        );
    }
}
