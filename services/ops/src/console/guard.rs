//! What every console API call passes: a live session (its token verified again, so an expired
//! or revoked one stops at once) and, for anything that changes something, the CSRF guard: the
//! console's own header (a cross-site form cannot send it and no CORS policy lets a script) and,
//! when the browser names one, this console's origin. The session becomes the request's
//! authentication, so the ops handlers authorize exactly as for a bearer token.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use common_kernel::auth::{Authenticated, BearerToken};
use common_kernel::error::ApiError;

use super::ConsoleState;
use super::sessions::Session;

/// The cookie holding the session id.
pub const SESSION_COOKIE: &str = "ops_console_session";
/// The header every changing call must carry, with [`REQUESTED_BY`] as its value.
pub const REQUESTED_BY_HEADER: &str = "x-requested-by";
/// The console's value of [`REQUESTED_BY_HEADER`].
pub const REQUESTED_BY: &str = "ops-console";

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn refused(status: StatusCode, code: &'static str, detail: &str) -> Response {
    ApiError::new(status, code, detail.to_owned()).into_response()
}

/// Whether a changing request comes from the console itself.
pub fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let requested_by = headers
        .get(REQUESTED_BY_HEADER)
        .and_then(|v| v.to_str().ok())
        == Some(REQUESTED_BY);
    let origin_ok = match headers.get(axum::http::header::ORIGIN) {
        None => true,
        Some(origin) => origin.to_str().ok() == Some(public_url.trim_end_matches('/')),
    };
    requested_by && origin_ok
}

/// The session of the request's cookie, checked again with the issuer's keys.
pub async fn session_of(state: &ConsoleState, headers: &HeaderMap) -> Option<Session> {
    let id = cookie(headers, SESSION_COOKIE)?;
    let session = state.sessions.get(id)?;
    match state.verifier.verify(&session.access_token).await {
        Ok(_) => Some(session),
        Err(error) => {
            tracing::info!(%error, "a console session's token no longer verifies; signed out");
            state.sessions.close(id);
            None
        }
    }
}

/// The middleware of `/console/api/*`.
pub async fn require_session(
    State(state): State<ConsoleState>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::GET
        && request.method() != Method::HEAD
        && !same_origin(request.headers(), &state.settings.public_url)
    {
        return refused(
            StatusCode::FORBIDDEN,
            "CSRF_REFUSED",
            "a changing console call must come from the console (X-Requested-By: ops-console, same origin)",
        );
    }
    let Some(session) = session_of(&state, request.headers()).await else {
        return refused(
            StatusCode::UNAUTHORIZED,
            "SESSION_REQUIRED",
            "sign in to the console at /console/login",
        );
    };
    request.extensions_mut().insert(Authenticated {
        caller: session.caller.clone(),
        user_token: BearerToken::new(&session.access_token),
    });
    request.extensions_mut().insert(session);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn cookies_are_found_among_others_and_changing_calls_need_the_header_and_origin() {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            HeaderValue::from_static("a=1; ops_console_session=abc; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
        let public = "http://127.0.0.1:8087";
        assert!(!same_origin(&headers, public), "no X-Requested-By");
        headers.insert(REQUESTED_BY_HEADER, HeaderValue::from_static(REQUESTED_BY));
        assert!(same_origin(&headers, public));
        headers.insert(
            axum::http::header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!same_origin(&headers, public), "a foreign origin");
        headers.insert(
            axum::http::header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8087"),
        );
        assert!(same_origin(&headers, public));
    }
}
