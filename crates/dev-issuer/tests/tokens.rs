//! Minted tokens verify against the published keys with both algorithms, rotation keeps old tokens
//! valid, and every negative mint has exactly the defect it claims.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Outcome, key_for, validation, verify};
use dev_issuer::{
    Directory, FOREIGN_ISSUER, Issuer, PublicKeyEncoding, SigningAlgorithm, WRONG_AUDIENCE,
    now_seconds,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

fn issuer() -> Outcome<Issuer> {
    let directory = Directory::demo().map_err(|e| e.to_string())?;
    Issuer::new("http://127.0.0.1:8079", directory).map_err(|e| e.to_string())
}

fn part(token: &str, index: usize) -> Outcome<Value> {
    let segment = token.split('.').nth(index).ok_or("missing segment")?;
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}

#[test]
fn user_and_client_tokens_verify_with_both_algorithms() -> Outcome<()> {
    let issuer = issuer()?;
    let claims = issuer
        .claims_for_user("manager1")
        .map_err(|e| e.to_string())?;
    for algorithm in SigningAlgorithm::ALL {
        let token = issuer
            .sign_with(algorithm, &claims)
            .map_err(|e| e.to_string())?;
        assert_eq!(part(&token, 0)?["alg"], algorithm.as_str());
        assert_eq!(part(&token, 0)?["kid"], issuer.current_kid(algorithm));
        assert_eq!(verify(&issuer, &token)?, claims);
    }
    let user = verify(
        &issuer,
        &issuer.token_for_user("sales1").map_err(|e| e.to_string())?,
    )?;
    assert_eq!(user.discount_authority.as_deref(), Some("10"));
    assert_eq!(user.azp, "cpq-portal");
    let worker = issuer
        .token_for_client("workflow-worker")
        .map_err(|e| e.to_string())?;
    let worker = verify(&issuer, &worker)?;
    assert_eq!(worker.preferred_username, "service-account-workflow-worker");
    assert_eq!(worker.actor_type, "WORKFLOW_WORKER");
    assert!(issuer.token_for_user("nobody").is_err());
    assert!(issuer.token_for_client("nobody").is_err());
    Ok(())
}

#[test]
fn tokens_carry_exactly_the_claims_of_adr_0030() -> Outcome<()> {
    let issuer = issuer()?;
    let token = issuer
        .token_for_user("director1")
        .map_err(|e| e.to_string())?;
    let payload = part(&token, 1)?;
    let mut names: Vec<&str> = payload
        .as_object()
        .ok_or("payload is no object")?
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "actor_type",
            "aud",
            "azp",
            "discount_authority",
            "exp",
            "iat",
            "iss",
            "nbf",
            "preferred_username",
            "realm_access",
            "sub",
            "tenant_id"
        ]
    );
    assert_eq!(
        payload["realm_access"],
        json!({"roles": ["sales-agent", "approver-director"]})
    );
    assert_eq!(payload["discount_authority"], "50");
    let lifetime = payload["exp"].as_i64().unwrap_or(0) - payload["iat"].as_i64().unwrap_or(0);
    assert_eq!(lifetime, 15 * 60);
    // No authority: no claim at all (absent = 0).
    let auditor = part(
        &issuer
            .token_for_user("auditor1")
            .map_err(|e| e.to_string())?,
        1,
    )?;
    assert!(auditor.get("discount_authority").is_none());
    // Arbitrary claims are signed as given.
    let custom = issuer
        .sign(&json!({"iss": issuer.url(), "sub": "x", "only": true}))
        .map_err(|e| e.to_string())?;
    assert_eq!(part(&custom, 1)?["only"], true);
    Ok(())
}

#[test]
fn rotation_signs_with_new_keys_and_keeps_serving_the_old() -> Outcome<()> {
    let issuer = issuer()?;
    let before = issuer.token_for_user("sales1").map_err(|e| e.to_string())?;
    let old_kids: Vec<String> = SigningAlgorithm::ALL
        .iter()
        .map(|a| issuer.current_kid(*a))
        .collect();
    issuer.rotate_keys().map_err(|e| e.to_string())?;
    let after = issuer.token_for_user("sales1").map_err(|e| e.to_string())?;
    let kids: Vec<Value> = issuer.jwks()["keys"]
        .as_array()
        .ok_or("no keys")?
        .iter()
        .map(|key| key["kid"].clone())
        .collect();
    assert_eq!(kids.len(), 4);
    for (algorithm, old) in SigningAlgorithm::ALL.iter().zip(&old_kids) {
        assert_ne!(&issuer.current_kid(*algorithm), old);
        assert!(kids.contains(&json!(old)));
        assert!(kids.contains(&json!(issuer.current_kid(*algorithm))));
    }
    assert_ne!(part(&before, 0)?["kid"], part(&after, 0)?["kid"]);
    verify(&issuer, &before)?;
    verify(&issuer, &after)?;
    Ok(())
}

#[test]
fn time_and_audience_defects() -> Outcome<()> {
    let issuer = issuer()?;
    let claims = issuer
        .claims_for_user("sales1")
        .map_err(|e| e.to_string())?;
    let now = now_seconds();

    let expired = issuer.expired_token(&claims).map_err(|e| e.to_string())?;
    assert_eq!(
        verify(&issuer, &expired).err().as_deref(),
        Some("ExpiredSignature")
    );
    assert!(part(&expired, 1)?["exp"].as_i64().unwrap_or(i64::MAX) < now - 30);
    let mut lenient = validation(&issuer, Algorithm::RS256);
    lenient.validate_exp = false;
    let key = key_for(&issuer, &expired)?;
    assert!(jsonwebtoken::decode::<Value>(&expired, &key, &lenient).is_ok());

    let early = issuer
        .not_yet_valid_token(&claims)
        .map_err(|e| e.to_string())?;
    assert_eq!(
        verify(&issuer, &early).err().as_deref(),
        Some("ImmatureSignature")
    );
    assert!(part(&early, 1)?["nbf"].as_i64().unwrap_or(0) > now + 30);

    let elsewhere = issuer
        .wrong_audience_token(&claims)
        .map_err(|e| e.to_string())?;
    assert_eq!(
        verify(&issuer, &elsewhere).err().as_deref(),
        Some("InvalidAudience")
    );
    assert_eq!(part(&elsewhere, 1)?["aud"], WRONG_AUDIENCE);
    Ok(())
}

#[test]
fn key_and_issuer_defects() -> Outcome<()> {
    let issuer = issuer()?;
    let claims = issuer
        .claims_for_user("sales1")
        .map_err(|e| e.to_string())?;

    let foreign = issuer
        .foreign_issuer_token(&claims)
        .map_err(|e| e.to_string())?;
    assert_eq!(part(&foreign, 1)?["iss"], FOREIGN_ISSUER);
    let refused = verify(&issuer, &foreign).err().unwrap_or_default();
    assert!(refused.contains("is not in the JWKS"), "{refused}");

    let forged = issuer
        .forged_signature_token(&claims)
        .map_err(|e| e.to_string())?;
    assert_eq!(
        part(&forged, 0)?["kid"],
        issuer.current_kid(SigningAlgorithm::Rs256)
    );
    assert_eq!(
        part(&forged, 1)?,
        serde_json::to_value(&claims).map_err(|e| e.to_string())?
    );
    assert_eq!(
        verify(&issuer, &forged).err().as_deref(),
        Some("InvalidSignature")
    );
    Ok(())
}

#[test]
fn algorithm_defects() -> Outcome<()> {
    let issuer = issuer()?;
    let claims = issuer
        .claims_for_user("sales1")
        .map_err(|e| e.to_string())?;

    let none = issuer.alg_none_token(&claims).map_err(|e| e.to_string())?;
    assert_eq!(part(&none, 0)?, json!({"alg": "none", "typ": "JWT"}));
    assert!(
        none.ends_with('.'),
        "an unsecured JWT has an empty signature"
    );
    assert!(verify(&issuer, &none).is_err());

    for encoding in [PublicKeyEncoding::Pem, PublicKeyEncoding::Der] {
        let confused = issuer
            .hs256_with_public_key_token(&claims, encoding)
            .map_err(|e| e.to_string())?;
        let header = part(&confused, 0)?;
        assert_eq!(header["alg"], "HS256");
        assert_eq!(header["kid"], issuer.current_kid(SigningAlgorithm::Rs256));
        // The HMAC really is keyed with the public key...
        let public_key = issuer.rsa_public_key(encoding);
        let secret = DecodingKey::from_secret(&public_key).map_err(|e| e.to_string())?;
        let mut hmac = Validation::new(Algorithm::HS256);
        hmac.set_audience(&[issuer.audience()]);
        assert!(jsonwebtoken::decode::<Value>(&confused, &secret, &hmac).is_ok());
        // ...and a verifier that allows only RS256/ES256 refuses it.
        assert!(verify(&issuer, &confused).is_err());
    }
    let pem = String::from_utf8(issuer.rsa_public_key(PublicKeyEncoding::Pem))
        .map_err(|e| e.to_string())?;
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    Ok(())
}
