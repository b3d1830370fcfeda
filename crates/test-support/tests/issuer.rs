//! TestIssuer serves discovery and JWKS over real HTTP on its own thread, its tokens verify
//! against what it serves, rotation keeps old tokens valid, and dropping it stops the server.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::Value;
use test_support::{Claims, PublicKeyEncoding, TestIssuer, port_open};

type Outcome<T = ()> = Result<T, Box<dyn std::error::Error>>;

async fn get_json(url: &str) -> Outcome<Value> {
    Ok(reqwest::get(url).await?.error_for_status()?.json().await?)
}

/// Verifies like a service would: keys from the served JWKS, RS256/ES256, iss, aud, exp, nbf.
async fn verify(issuer: &TestIssuer, token: &str) -> Outcome<Claims> {
    let header = jsonwebtoken::decode_header(token)?;
    if !matches!(
        header.alg,
        jsonwebtoken::Algorithm::RS256 | jsonwebtoken::Algorithm::ES256
    ) {
        return Err(format!("algorithm {:?} refused", header.alg).into());
    }
    let discovery = get_json(&issuer.discovery_url()).await?;
    let jwks_uri = discovery["jwks_uri"].as_str().ok_or("no jwks_uri")?;
    let jwks: JwkSet = serde_json::from_value(get_json(jwks_uri).await?)?;
    let kid = header.kid.ok_or("no kid")?;
    let key = DecodingKey::from_jwk(jwks.find(&kid).ok_or("unknown kid")?)?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer.issuer_url()]);
    validation.set_audience(&[issuer.audience()]);
    validation.validate_nbf = true;
    validation.leeway = 30;
    Ok(jsonwebtoken::decode::<Claims>(token, &key, &validation)?.claims)
}

#[tokio::test]
async fn tokens_verify_against_the_served_keys() -> Outcome {
    let issuer = TestIssuer::start();
    let discovery = get_json(&issuer.discovery_url()).await?;
    assert_eq!(discovery["issuer"], issuer.issuer_url().as_str());

    let sales = verify(&issuer, &issuer.token_for("sales1")).await?;
    assert_eq!(
        (sales.tenant_id.as_str(), sales.preferred_username.as_str()),
        ("demo", "sales1")
    );
    let globex = verify(&issuer, &issuer.token_for("sales9")).await?;
    assert_eq!(globex.tenant_id, "globex");
    let service = verify(&issuer, &issuer.token_for_client("order-service")).await?;
    assert_eq!(service.preferred_username, "service-account-order-service");

    let mut claims = issuer.claims_for("sales1");
    claims.discount_authority = Some("99".into());
    let custom = verify(&issuer, &issuer.token_with(&claims)).await?;
    assert_eq!(custom.discount_authority.as_deref(), Some("99"));
    Ok(())
}

#[tokio::test]
async fn rotation_and_negative_tokens() -> Outcome {
    let issuer = TestIssuer::start();
    let before = issuer.token_for("manager1");
    issuer.rotate_keys();
    let jwks = get_json(&format!("{}/jwks", issuer.issuer_url())).await?;
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(4));
    verify(&issuer, &before).await?;
    verify(&issuer, &issuer.token_for("manager1")).await?;

    for bad in [
        issuer.expired_token("sales1"),
        issuer.not_yet_valid_token("sales1"),
        issuer.wrong_audience_token("sales1"),
        issuer.foreign_issuer_token("sales1"),
        issuer.forged_signature_token("sales1"),
        issuer.alg_none_token("sales1"),
        issuer.hs256_with_public_key_token("sales1", PublicKeyEncoding::Pem),
        issuer.hs256_with_public_key_token("sales1", PublicKeyEncoding::Der),
    ] {
        assert!(verify(&issuer, &bad).await.is_err(), "accepted {bad}");
    }
    Ok(())
}

#[test]
fn dropping_the_issuer_stops_its_server() {
    let issuer = TestIssuer::start();
    let port = issuer
        .issuer_url()
        .rsplit(':')
        .next()
        .and_then(|port| port.parse::<u16>().ok())
        .unwrap_or_default();
    assert!(port_open(port));
    drop(issuer);
    assert!(!port_open(port));
}
