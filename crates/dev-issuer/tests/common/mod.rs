//! Verification as ADR 0030 describes it, written with jsonwebtoken directly so these tests check
//! the issuer against the standard rather than against itself.

#![allow(dead_code, reason = "each test binary uses a different part")]

use dev_issuer::{Claims, Issuer};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

/// Any failure, as text, so tests can show why a token was refused.
pub type Outcome<T> = Result<T, String>;

/// The JWKS key a token's `kid` names.
pub fn key_for(issuer: &Issuer, token: &str) -> Outcome<DecodingKey> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwks: JwkSet = serde_json::from_value(issuer.jwks()).map_err(|e| e.to_string())?;
    let jwk = jwks
        .find(&kid)
        .ok_or(format!("kid {kid} is not in the JWKS"))?;
    DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())
}

/// `algorithm` only (jsonwebtoken wants one key family per validation), `iss`, `aud`, `exp` and
/// `nbf` with 30 s of leeway.
pub fn validation(issuer: &Issuer, algorithm: Algorithm) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[issuer.url()]);
    validation.set_audience(&[issuer.audience()]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = 30;
    validation
}

/// Verifies `token` against the issuer's JWKS; the error names the defect.
pub fn verify(issuer: &Issuer, token: &str) -> Outcome<Claims> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
        return Err(format!("algorithm {:?} is refused", header.alg));
    }
    let key = key_for(issuer, token)?;
    jsonwebtoken::decode::<Claims>(token, &key, &validation(issuer, header.alg))
        .map(|data| data.claims)
        .map_err(|e| format!("{:?}", e.kind()))
}
