//! Verifies a bearer token: an accepted algorithm (RS256 or ES256, read from the header before
//! anything else, so `none` and HS* never reach a key), a key the issuer publishes, the
//! signature, `iss`, `aud`, `exp` and `nbf`, then the claims that make a caller.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::claims::{Caller, TokenClaims};
use super::error::AuthError;
use super::keys::{KeySet, validation};
use super::settings::AuthSettings;

/// The JOSE header fields the verifier reads itself.
#[derive(Debug, Deserialize)]
struct JoseHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// Verifies tokens of one issuer for one audience.
#[derive(Debug)]
pub struct Verifier {
    keys: KeySet,
    rs256: Validation,
    es256: Validation,
}

impl Verifier {
    /// A verifier for the configured issuer and audience.
    pub fn new(settings: &AuthSettings) -> Result<Self, reqwest::Error> {
        Ok(Self::with_keys(
            KeySet::new(&settings.discovery_url)?,
            &settings.issuer,
            &settings.audience,
            settings.leeway,
        ))
    }

    fn with_keys(keys: KeySet, issuer: &str, audience: &str, leeway: Duration) -> Self {
        Self {
            keys,
            rs256: validation(Algorithm::RS256, issuer, audience, leeway),
            es256: validation(Algorithm::ES256, issuer, audience, leeway),
        }
    }

    /// The caller a token proves, or why it proves nothing.
    pub async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let header = jose_header(token)?;
        let (algorithm, validation) = match header.alg.as_str() {
            "RS256" => (Algorithm::RS256, &self.rs256),
            "ES256" => (Algorithm::ES256, &self.es256),
            _ => return Err(AuthError::Algorithm),
        };
        let kid = header.kid.ok_or(AuthError::Malformed)?;
        let key = self.keys.key(&kid).await?;
        if key.algorithm != algorithm {
            return Err(AuthError::Algorithm);
        }
        let data = jsonwebtoken::decode::<TokenClaims>(token, &key.key, validation)
            .map_err(|e| AuthError::Invalid(reason(e.kind())))?;
        data.claims.caller()
    }
}

/// Reads the header without trusting it: only to pick the algorithm and key.
fn jose_header(token: &str) -> Result<JoseHeader, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)
}

fn reason(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not valid yet",
        ErrorKind::InvalidAudience => "not issued for this audience",
        ErrorKind::InvalidIssuer => "not from the configured issuer",
        ErrorKind::InvalidSignature => "the signature does not verify",
        ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
        ErrorKind::InvalidAlgorithm => "the algorithm does not match the key",
        _ => "the token cannot be read",
    }
}
