//! Discovery, JWKS and the token endpoint, through the router (RFC 6749 §4.3, §4.4, §5.1, §5.2).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{Outcome, verify};
use dev_issuer::{Directory, Issuer};
use serde_json::{Value, json};
use tower::ServiceExt;

fn issuer() -> Outcome<Issuer> {
    let directory = Directory::demo().map_err(|e| e.to_string())?;
    Issuer::new("http://127.0.0.1:8079/", directory).map_err(|e| e.to_string())
}

/// One request through the router: status, headers and JSON body.
async fn call(
    issuer: &Issuer,
    request: Request<Body>,
) -> Outcome<(StatusCode, header::HeaderMap, Value)> {
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
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((status, headers, body))
}

fn get(path: &str) -> Outcome<Request<Body>> {
    Request::get(path)
        .body(Body::empty())
        .map_err(|e| e.to_string())
}

fn token_request(form: &str, basic: Option<&str>) -> Outcome<Request<Body>> {
    let mut request = Request::post("/token").header(
        header::CONTENT_TYPE,
        "application/x-www-form-urlencoded; charset=UTF-8",
    );
    if let Some(credentials) = basic {
        request = request.header(
            header::AUTHORIZATION,
            format!("Basic {}", STANDARD.encode(credentials)),
        );
    }
    request
        .body(Body::from(form.to_owned()))
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn discovery_names_the_issuer_and_its_endpoints() -> Outcome<()> {
    let issuer = issuer()?;
    let (status, _, body) = call(&issuer, get("/.well-known/openid-configuration")?).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["issuer"], "http://127.0.0.1:8079");
    assert_eq!(body["jwks_uri"], "http://127.0.0.1:8079/jwks");
    assert_eq!(body["token_endpoint"], "http://127.0.0.1:8079/token");
    assert_eq!(
        body["grant_types_supported"],
        json!(["password", "client_credentials", "authorization_code"])
    );
    assert_eq!(
        body["authorization_endpoint"],
        "http://127.0.0.1:8079/authorize"
    );
    assert_eq!(body["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        body["id_token_signing_alg_values_supported"],
        json!(["RS256", "ES256"])
    );
    Ok(())
}

#[tokio::test]
async fn jwks_publishes_one_rsa_and_one_ec_key() -> Outcome<()> {
    let issuer = issuer()?;
    let (status, _, body) = call(&issuer, get("/jwks")?).await?;
    assert_eq!(status, StatusCode::OK);
    let keys = body["keys"].as_array().ok_or("no keys array")?;
    assert_eq!(keys.len(), 2);
    let base64url = |value: &Value| {
        value.as_str().is_some_and(|text| {
            !text.is_empty()
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    };
    let rsa = keys
        .iter()
        .find(|k| k["kty"] == "RSA")
        .ok_or("no RSA key")?;
    assert_eq!((&rsa["alg"], &rsa["use"]), (&json!("RS256"), &json!("sig")));
    assert!(base64url(&rsa["kid"]) && base64url(&rsa["n"]) && rsa["e"] == "AQAB");
    // 2048 bits: 256 bytes, 342 base64url characters.
    assert_eq!(rsa["n"].as_str().map(str::len), Some(342));
    let ec = keys.iter().find(|k| k["kty"] == "EC").ok_or("no EC key")?;
    assert_eq!(
        (&ec["alg"], &ec["use"], &ec["crv"]),
        (&json!("ES256"), &json!("sig"), &json!("P-256"))
    );
    assert!(base64url(&ec["kid"]) && base64url(&ec["x"]) && base64url(&ec["y"]));
    assert_eq!(ec["x"].as_str().map(str::len), Some(43));
    assert_ne!(rsa["kid"], ec["kid"]);
    Ok(())
}

#[tokio::test]
async fn password_grant_issues_a_user_token() -> Outcome<()> {
    let issuer = issuer()?;
    let form = "grant_type=password&username=manager1&password=demo&client_id=cpq-portal";
    let (status, headers, body) = call(&issuer, token_request(form, None)?).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    let claims = verify(
        &issuer,
        body["access_token"].as_str().ok_or("no access_token")?,
    )?;
    assert_eq!(claims.iss, "http://127.0.0.1:8079");
    assert_eq!(claims.aud, "cpq-oms");
    assert_eq!(claims.preferred_username, "manager1");
    assert_eq!(claims.azp, "cpq-portal");
    assert_eq!(claims.tenant_id, "demo");
    assert_eq!(
        claims.realm_access.roles,
        ["sales-agent", "approver-manager"]
    );
    assert_eq!(claims.actor_type, "HUMAN_AGENT");
    assert_eq!(claims.discount_authority.as_deref(), Some("25"));
    assert_eq!(
        claims.sub,
        issuer
            .directory()
            .user("manager1")
            .map(|u| u.id.clone())
            .unwrap_or_default()
    );
    Ok(())
}

#[tokio::test]
async fn client_credentials_in_the_form_or_by_basic_auth() -> Outcome<()> {
    let issuer = issuer()?;
    for request in [
        token_request(
            "grant_type=client_credentials&client_id=cpq-service&client_secret=cpq-service-local-only",
            None,
        )?,
        token_request(
            "grant_type=client_credentials",
            Some("cpq-service:cpq-service-local-only"),
        )?,
    ] {
        let (status, _, body) = call(&issuer, request).await?;
        assert_eq!(status, StatusCode::OK, "{body}");
        let claims = verify(
            &issuer,
            body["access_token"].as_str().ok_or("no access_token")?,
        )?;
        assert_eq!(claims.preferred_username, "service-account-cpq-service");
        assert_eq!(claims.azp, "cpq-service");
        assert_eq!(claims.tenant_id, "demo");
        assert_eq!(claims.realm_access.roles, ["service"]);
        assert_eq!(claims.actor_type, "INTERNAL_SERVICE");
        assert_eq!(claims.discount_authority, None);
    }
    Ok(())
}

#[tokio::test]
async fn errors_follow_rfc_6749() -> Outcome<()> {
    let issuer = issuer()?;
    let cases = [
        (
            "grant_type=password&username=sales1&password=wrong&client_id=cpq-portal",
            None,
            400,
            "invalid_grant",
        ),
        (
            "grant_type=password&username=nobody&password=demo&client_id=cpq-portal",
            None,
            400,
            "invalid_grant",
        ),
        (
            "grant_type=password&username=sales1&password=demo&client_id=nobody",
            None,
            401,
            "invalid_client",
        ),
        (
            "grant_type=password&username=sales1&password=demo",
            None,
            401,
            "invalid_client",
        ),
        (
            "grant_type=password&username=sales1&password=demo&client_id=devstack",
            None,
            400,
            "unauthorized_client",
        ),
        (
            "grant_type=client_credentials&client_id=nobody&client_secret=x",
            None,
            401,
            "invalid_client",
        ),
        (
            "grant_type=client_credentials&client_id=devstack&client_secret=wrong",
            None,
            401,
            "invalid_client",
        ),
        (
            "grant_type=client_credentials",
            Some("devstack:wrong"),
            401,
            "invalid_client",
        ),
        ("grant_type=client_credentials", None, 401, "invalid_client"),
        (
            "grant_type=client_credentials&client_id=cpq-portal",
            None,
            400,
            "unauthorized_client",
        ),
        (
            "grant_type=client_credentials&client_secret=x",
            Some("devstack:devstack-local-only"),
            400,
            "invalid_request",
        ),
        (
            "grant_type=implicit&code=x",
            None,
            400,
            "unsupported_grant_type",
        ),
        (
            "grant_type=authorization_code&code=x",
            None,
            400,
            "invalid_request",
        ),
        ("username=sales1", None, 400, "invalid_request"),
        (
            "grant_type=password&grant_type=password",
            None,
            400,
            "invalid_request",
        ),
    ];
    for (form, basic, status, error) in cases {
        let (got, headers, body) = call(&issuer, token_request(form, basic)?).await?;
        assert_eq!(
            (got.as_u16(), body["error"].as_str()),
            (status, Some(error)),
            "{form}"
        );
        assert!(body["error_description"].is_string());
        assert_eq!(
            got == StatusCode::UNAUTHORIZED,
            headers.contains_key(header::WWW_AUTHENTICATE)
        );
    }
    let json_body = Request::post("/token")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"grant_type":"password"}"#))
        .map_err(|e| e.to_string())?;
    let (status, _, body) = call(&issuer, json_body).await?;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_request"))
    );
    Ok(())
}

#[tokio::test]
async fn a_rotated_issuer_serves_old_and_new_keys_over_http() -> Outcome<()> {
    let issuer = issuer()?;
    let old = issuer.token_for_user("sales1").map_err(|e| e.to_string())?;
    issuer.rotate_keys().map_err(|e| e.to_string())?;
    let (_, _, body) = call(&issuer, get("/jwks")?).await?;
    assert_eq!(body["keys"].as_array().map(Vec::len), Some(4));
    verify(&issuer, &old)?;
    Ok(())
}
