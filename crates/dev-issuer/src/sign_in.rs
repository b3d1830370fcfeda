//! `GET /authorize` and `POST /authorize`: the browser half of the authorization code flow
//! ([`crate::authorize`]). Errors about the client or its redirect URI are shown here (400):
//! redirecting to an unregistered URI would hand codes to strangers (RFC 6749 §4.1.2.1); other
//! request errors go back to the client as `error=` on its redirect URI.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::Issuer;
use crate::authorize::{AuthorizeRequest, sign_in_page};

fn page_error(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><title>Sign-in refused</title><p>{}</p>",
            crate::authorize::html_escape(message)
        )),
    )
        .into_response()
}

fn redirect(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(location) => (
            StatusCode::FOUND,
            [
                (header::LOCATION, location),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => page_error("the redirect URI cannot be sent back"),
    }
}

fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{}", query.finish())
}

/// Whether `requested` is the registered URI; for a loopback one (`http://127.0.0.1:…`,
/// `http://localhost:…`) any port matches, as RFC 8252 §7.3 asks of servers: a console started on
/// another port (a test's) signs in with the same registration.
fn redirect_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let split = |uri: &str| -> Option<(String, String)> {
        let rest = uri.strip_prefix("http://")?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = authority
            .rsplit_once(':')
            .map_or(authority, |(host, port)| {
                if port.chars().all(|c| c.is_ascii_digit()) {
                    host
                } else {
                    authority
                }
            });
        matches!(host, "127.0.0.1" | "localhost" | "[::1]")
            .then(|| (host.to_owned(), path.to_owned()))
    };
    matches!((split(registered), split(requested)), (Some(a), Some(b)) if a == b)
}

/// Checks client and redirect URI first (errors shown here), then the rest (errors sent back).
fn checked(
    issuer: &Issuer,
    params: &HashMap<String, String>,
) -> Result<AuthorizeRequest, Box<Response>> {
    let get = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    let client_id = get("client_id");
    let Some(client) = issuer.directory().public_client(client_id) else {
        return Err(Box::new(page_error(&format!(
            "unknown client {client_id:?}"
        ))));
    };
    let redirect_uri = get("redirect_uri");
    if !client
        .redirect_uris
        .iter()
        .any(|uri| redirect_matches(uri, redirect_uri))
    {
        return Err(Box::new(page_error(&format!(
            "{redirect_uri:?} is not a redirect URI registered for {client_id:?}"
        ))));
    }
    let state = get("state");
    let back = |error: &str, description: &str| {
        Box::new(redirect(&with_query(
            redirect_uri,
            &[
                ("error", error),
                ("error_description", description),
                ("state", state),
            ],
        )))
    };
    if params.contains_key("response_type") && get("response_type") != "code" {
        return Err(back("unsupported_response_type", "only response_type=code"));
    }
    if get("code_challenge_method") != "S256" && params.contains_key("code_challenge_method") {
        return Err(back("invalid_request", "only code_challenge_method=S256"));
    }
    let challenge = get("code_challenge");
    if challenge.len() != 43 {
        return Err(back(
            "invalid_request",
            "a S256 code_challenge (PKCE) is required",
        ));
    }
    Ok(AuthorizeRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        state: state.to_owned(),
        code_challenge: challenge.to_owned(),
        nonce: params.get("nonce").filter(|n| !n.is_empty()).cloned(),
    })
}

/// `GET /authorize`: the sign-in form for a well-formed request.
pub(crate) async fn authorize_form(
    State(issuer): State<Issuer>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    if params.get("response_type").map(String::as_str) != Some("code") {
        return page_error("response_type=code is required");
    }
    if params.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return page_error("code_challenge_method=S256 is required");
    }
    match checked(&issuer, &params) {
        Ok(request) => Html(sign_in_page(&request, None)).into_response(),
        Err(refused) => *refused,
    }
}

/// `POST /authorize`: the form's answer; a good password redirects back with a code.
pub(crate) async fn authorize_submit(State(issuer): State<Issuer>, body: Bytes) -> Response {
    let params: HashMap<String, String> = form_urlencoded::parse(&body)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let request = match checked(&issuer, &params) {
        Ok(request) => request,
        Err(refused) => return *refused,
    };
    let username = params
        .get("username")
        .map(String::as_str)
        .unwrap_or_default();
    let password = params
        .get("password")
        .map(String::as_str)
        .unwrap_or_default();
    let signed_in = issuer
        .directory()
        .user(username)
        .is_some_and(|user| user.password == password);
    if !signed_in {
        return (
            StatusCode::UNAUTHORIZED,
            Html(sign_in_page(
                &request,
                Some("Unknown user or wrong password."),
            )),
        )
            .into_response();
    }
    match issuer.codes().issue(request.clone(), username) {
        Some(code) => redirect(&with_query(
            &request.redirect_uri,
            &[("code", &code), ("state", &request.state)],
        )),
        None => page_error("no randomness for a code: try again"),
    }
}

#[cfg(test)]
mod tests {
    use super::redirect_matches;

    #[test]
    fn loopback_redirects_match_on_any_port_and_nothing_else_is_loosened() {
        let registered = "http://127.0.0.1:8087/console/callback";
        assert!(redirect_matches(registered, registered));
        assert!(redirect_matches(
            registered,
            "http://127.0.0.1:41234/console/callback"
        ));
        assert!(!redirect_matches(
            registered,
            "http://127.0.0.1:41234/other"
        ));
        assert!(!redirect_matches(
            registered,
            "http://evil.example:8087/console/callback"
        ));
        assert!(!redirect_matches(
            "https://ops.example/console/callback",
            "https://ops.example:444/console/callback"
        ));
    }
}
