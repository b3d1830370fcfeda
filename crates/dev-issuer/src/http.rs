//! The HTTP face of the issuer: discovery, JWKS and the OAuth 2.0 token endpoint (RFC 6749 §4.3
//! password grant, §4.4 client credentials, §5.1 answers, §5.2 errors).

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::Issuer;

/// The routes, with the issuer as state.
pub(crate) fn router(issuer: Issuer) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route(
            "/authorize",
            get(crate::sign_in::authorize_form).post(crate::sign_in::authorize_submit),
        )
        .route("/token", post(token))
        .with_state(issuer)
}

async fn discovery(State(issuer): State<Issuer>) -> Response {
    axum::Json(issuer.discovery()).into_response()
}

async fn jwks(State(issuer): State<Issuer>) -> Response {
    axum::Json(issuer.jwks()).into_response()
}

/// An RFC 6749 §5.2 error.
#[derive(Debug)]
struct OAuthError {
    status: StatusCode,
    code: &'static str,
    description: String,
}

impl OAuthError {
    fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
        }
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.code, "error_description": self.description});
        let mut response = (self.status, no_store(), axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"cpq-oms\""),
            );
        }
        response
    }
}

/// RFC 6749 §5.1: token responses must not be cached.
fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

async fn token(State(issuer): State<Issuer>, headers: HeaderMap, body: Bytes) -> Response {
    match issue(&issuer, &headers, &body) {
        Ok((access_token, id_token)) => {
            let mut body = json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": issuer.token_lifetime().as_secs(),
            });
            if let Some(id_token) = id_token {
                body["id_token"] = json!(id_token);
            }
            (StatusCode::OK, no_store(), axum::Json(body)).into_response()
        }
        Err(error) => error.into_response(),
    }
}

fn server_error(error: impl std::fmt::Display) -> OAuthError {
    OAuthError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        error.to_string(),
    )
}

/// RFC 6749 §4.1.3 with RFC 7636 §4.5: a public client redeems its code with the verifier; the
/// answer carries the user's access token and an OpenID Connect ID token (audience: the client).
fn authorization_code_grant(
    issuer: &Issuer,
    form: &HashMap<String, String>,
) -> Result<(String, Option<String>), OAuthError> {
    let get = |name: &str| {
        form.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("{name} is missing")))
    };
    let client_id = get("client_id")?;
    if issuer.directory().public_client(client_id).is_none() {
        return Err(OAuthError::invalid_client(format!(
            "unknown client {client_id:?}"
        )));
    }
    let verifier = get("code_verifier")?;
    if !crate::authorize::valid_verifier(verifier) {
        return Err(OAuthError::invalid_request(
            "code_verifier must be 43 to 128 unreserved characters (RFC 7636)",
        ));
    }
    let redeemed = issuer
        .codes()
        .redeem(get("code")?, client_id, get("redirect_uri")?, verifier)
        .map_err(|error| {
            OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", error.to_string())
        })?;
    let mut claims = issuer
        .claims_for_user(&redeemed.username)
        .map_err(|error| {
            OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", error.to_string())
        })?;
    claims.azp = redeemed.client_id.clone();
    let id_token = issuer
        .sign(&json!({
            "iss": issuer.url(),
            "aud": redeemed.client_id,
            "sub": claims.sub,
            "preferred_username": claims.preferred_username,
            "tenant_id": claims.tenant_id,
            "iat": claims.iat,
            "exp": claims.exp,
            "nonce": redeemed.nonce,
        }))
        .map_err(server_error)?;
    let access = issuer.sign(&claims).map_err(server_error)?;
    Ok((access, Some(id_token)))
}

/// Authenticates the request and signs the token it asks for (and an ID token for a code).
fn issue(
    issuer: &Issuer,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(String, Option<String>), OAuthError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let form = parse_form(body)?;
    let basic = basic_credentials(headers)?;
    let grant_type = form
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is missing"))?;
    let claims = match grant_type.as_str() {
        "password" => password_grant(issuer, &form, basic)?,
        "client_credentials" => client_credentials_grant(issuer, &form, basic)?,
        "authorization_code" => return authorization_code_grant(issuer, &form),
        other => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!(
                    "grant_type {other:?} is not supported (password, client_credentials, authorization_code)"
                ),
            ));
        }
    };
    Ok((issuer.sign(&claims).map_err(server_error)?, None))
}

/// §4.3: a public client (no secret) signs a directory user in with username and password.
fn password_grant(
    issuer: &Issuer,
    form: &HashMap<String, String>,
    basic: Option<(String, String)>,
) -> Result<crate::Claims, OAuthError> {
    let client_id = basic
        .map(|(id, _)| id)
        .or_else(|| form.get("client_id").cloned())
        .ok_or_else(|| OAuthError::invalid_client("client_id is missing"))?;
    if issuer.directory().public_client(&client_id).is_none() {
        if issuer.directory().service_client(&client_id).is_some() {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                format!("client {client_id:?} may not use the password grant"),
            ));
        }
        return Err(OAuthError::invalid_client(format!(
            "unknown client {client_id:?}"
        )));
    }
    let (Some(username), Some(password)) = (form.get("username"), form.get("password")) else {
        return Err(OAuthError::invalid_request(
            "username and password are required",
        ));
    };
    let invalid_grant = || {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "invalid user credentials",
        )
    };
    match issuer.directory().user(username) {
        Some(user) if user.password == *password => {}
        _ => return Err(invalid_grant()),
    }
    let mut claims = issuer
        .claims_for_user(username)
        .map_err(|_| invalid_grant())?;
    claims.azp = client_id;
    Ok(claims)
}

/// §4.4: a confidential client authenticates (HTTP Basic or form) and gets a token for its
/// service account.
fn client_credentials_grant(
    issuer: &Issuer,
    form: &HashMap<String, String>,
    basic: Option<(String, String)>,
) -> Result<crate::Claims, OAuthError> {
    let in_form = (form.get("client_id"), form.get("client_secret"));
    let (client_id, secret) = match (basic, in_form) {
        (Some(_), (_, Some(_))) => {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not HTTP Basic and client_secret",
            ));
        }
        (Some(credentials), _) => credentials,
        (None, (Some(id), Some(secret))) => (id.clone(), secret.clone()),
        (None, (Some(id), None)) if issuer.directory().public_client(id).is_some() => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                format!("public client {id:?} cannot use client_credentials"),
            ));
        }
        (None, _) => {
            return Err(OAuthError::invalid_client(
                "client authentication is required (HTTP Basic or client_id and client_secret)",
            ));
        }
    };
    match issuer.directory().service_client(&client_id) {
        Some(client) if client.secret == secret => {}
        _ => {
            return Err(OAuthError::invalid_client(
                "unknown client or wrong client secret",
            ));
        }
    }
    issuer
        .claims_for_client(&client_id)
        .map_err(|error| OAuthError::invalid_client(error.to_string()))
}

/// The form parameters; §3.2 forbids sending one twice.
fn parse_form(body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let mut form = HashMap::new();
    for (name, value) in form_urlencoded::parse(body) {
        if form.insert(name.to_string(), value.into_owned()).is_some() {
            return Err(OAuthError::invalid_request(format!(
                "parameter {name} appears more than once"
            )));
        }
    }
    Ok(form)
}

/// §2.3.1: `Authorization: Basic base64(urlencode(id) ":" urlencode(secret))`.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || OAuthError::invalid_client("malformed HTTP Basic credentials");
    let text = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = text.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |part: &str| -> Option<String> {
        // form_urlencoded decodes `+` and `%XX` exactly as §2.3.1 asks; a lone value parses as
        // one name with an empty value.
        let escaped = part.replace('&', "%26").replace('=', "%3D");
        form_urlencoded::parse(escaped.as_bytes())
            .next()
            .map(|(name, _)| name.into_owned())
            .or_else(|| part.is_empty().then(String::new))
    };
    match (unescape(id), unescape(secret)) {
        (Some(id), Some(secret)) if !id.is_empty() => Ok(Some((id, secret))),
        _ => Err(malformed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(raw: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!("Basic {}", STANDARD.encode(raw));
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(header::AUTHORIZATION, value);
        }
        headers
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let decoded = basic_credentials(&basic("my%20client:s%3Acret+x"))
            .ok()
            .flatten();
        assert_eq!(decoded, Some(("my client".into(), "s:cret x".into())));
        let raw = basic_credentials(&basic("devstack:a=b&c")).ok().flatten();
        assert_eq!(raw, Some(("devstack".into(), "a=b&c".into())));
        assert!(basic_credentials(&basic("no-colon")).is_err());
        assert!(basic_credentials(&HeaderMap::new()).is_ok_and(|c| c.is_none()));
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(parse_form(b"grant_type=password&grant_type=password").is_err());
        assert!(parse_form(b"a=1&b=2").is_ok_and(|form| form.len() == 2));
    }
}
