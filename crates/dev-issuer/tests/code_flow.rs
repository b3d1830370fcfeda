//! The authorization code flow with PKCE through the router (RFC 6749 §4.1, RFC 7636): the
//! sign-in form, the redirect with a one-time code, the token exchange with the verifier, and
//! every refusal on the way.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Outcome, verify};
use dev_issuer::{Directory, Issuer};
use serde_json::Value;
use tower::ServiceExt;

const REDIRECT: &str = "http://127.0.0.1:8087/console/callback";
/// RFC 7636 Appendix B's verifier and its S256 challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn issuer() -> Outcome<Issuer> {
    let directory = Directory::demo().map_err(|e| e.to_string())?;
    Issuer::new("http://127.0.0.1:8079", directory).map_err(|e| e.to_string())
}

/// One request: status, headers and the body as text.
async fn send(
    issuer: &Issuer,
    request: Request<Body>,
) -> Outcome<(StatusCode, header::HeaderMap, String)> {
    let response = issuer
        .router()
        .oneshot(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .map_err(|e| e.to_string())?;
    Ok((
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    ))
}

fn form(path: &str, body: String) -> Outcome<Request<Body>> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .map_err(|e| e.to_string())
}

fn encode(pairs: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        query.append_pair(name, value);
    }
    query.finish()
}

fn authorize_query(redirect: &str, challenge: &str) -> String {
    encode(&[
        ("response_type", "code"),
        ("client_id", "ops-console"),
        ("redirect_uri", redirect),
        ("state", "st-1"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("nonce", "n-1"),
    ])
}

fn sign_in_form(username: &str, password: &str) -> String {
    encode(&[
        ("client_id", "ops-console"),
        ("redirect_uri", REDIRECT),
        ("state", "st-1"),
        ("code_challenge", CHALLENGE),
        ("nonce", "n-1"),
        ("username", username),
        ("password", password),
    ])
}

/// The code from a redirect's `Location`.
fn code_of(headers: &header::HeaderMap) -> Outcome<String> {
    let location = headers
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .ok_or("no Location")?;
    let (base, query) = location.split_once('?').ok_or("no query")?;
    if base != REDIRECT {
        return Err(format!("redirected to {base}"));
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if !pairs.iter().any(|(k, v)| k == "state" && v == "st-1") {
        return Err(format!("state not echoed: {location}"));
    }
    pairs
        .into_iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v)
        .ok_or_else(|| format!("no code in {location}"))
}

fn exchange(code: &str, verifier: &str) -> Outcome<Request<Body>> {
    form(
        "/token",
        encode(&[
            ("grant_type", "authorization_code"),
            ("client_id", "ops-console"),
            ("redirect_uri", REDIRECT),
            ("code", code),
            ("code_verifier", verifier),
        ]),
    )
}

#[tokio::test]
async fn a_browser_signs_in_with_a_code_and_its_verifier() -> Outcome<()> {
    let issuer = issuer()?;
    let (status, _, page) = send(
        &issuer,
        Request::get(format!(
            "/authorize?{}",
            authorize_query(REDIRECT, CHALLENGE)
        ))
        .body(Body::empty())
        .map_err(|e| e.to_string())?,
    )
    .await?;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"name="password""#) && page.contains("ops-console"));

    let (status, _, page) =
        send(&issuer, form("/authorize", sign_in_form("ops1", "wrong"))?).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(page.contains("wrong password"));

    let (status, headers, _) =
        send(&issuer, form("/authorize", sign_in_form("ops1", "demo"))?).await?;
    assert_eq!(status, StatusCode::FOUND);
    let code = code_of(&headers)?;
    let (status, _, body) = send(&issuer, exchange(&code, VERIFIER)?).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    let claims = verify(
        &issuer,
        answer["access_token"].as_str().ok_or("no access token")?,
    )?;
    assert_eq!(claims.preferred_username, "ops1");
    assert_eq!(claims.azp, "ops-console");
    assert!(claims.has_role("operator"));
    let id_token = answer["id_token"].as_str().ok_or("no id token")?;
    let payload = id_token.split('.').nth(1).ok_or("not a JWS")?;
    let payload =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .map_err(|e| e.to_string())?;
    let id: Value = serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["aud"], "ops-console");

    // A code is good once.
    let (status, _, body) = send(&issuer, exchange(&code, VERIFIER)?).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("invalid_grant"));
    Ok(())
}

#[tokio::test]
async fn a_wrong_verifier_an_unregistered_redirect_or_no_pkce_is_refused() -> Outcome<()> {
    let issuer = issuer()?;
    let (_, headers, _) = send(&issuer, form("/authorize", sign_in_form("ops1", "demo"))?).await?;
    let code = code_of(&headers)?;
    let (status, _, body) = send(&issuer, exchange(&code, &"x".repeat(43))?).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("code_verifier does not match"), "{body}");

    let stranger = authorize_query("http://evil.example/callback", CHALLENGE);
    let (status, headers, _) = send(
        &issuer,
        Request::get(format!("/authorize?{stranger}"))
            .body(Body::empty())
            .map_err(|e| e.to_string())?,
    )
    .await?;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "never redirect to an unregistered URI"
    );
    assert!(headers.get(header::LOCATION).is_none());

    let no_pkce = encode(&[
        ("response_type", "code"),
        ("client_id", "ops-console"),
        ("redirect_uri", REDIRECT),
        ("state", "st-1"),
    ]);
    let (status, _, _) = send(
        &issuer,
        Request::get(format!("/authorize?{no_pkce}"))
            .body(Body::empty())
            .map_err(|e| e.to_string())?,
    )
    .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // cpq-portal has no redirect URI: no browser sign-in.
    let portal = authorize_query(REDIRECT, CHALLENGE).replace("ops-console", "cpq-portal");
    let (status, _, _) = send(
        &issuer,
        Request::get(format!("/authorize?{portal}"))
            .body(Body::empty())
            .map_err(|e| e.to_string())?,
    )
    .await?;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    Ok(())
}
