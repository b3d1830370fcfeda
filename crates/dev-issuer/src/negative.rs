//! Tokens that must be refused, each with exactly one defect, for the negative tests of every
//! verifier (ADR 0030: signature, algorithm, issuer, audience, expiry and not-before checks).
//!
//! Each takes the claims of a good token (`Issuer::claims_for_user`), so a test can show that the
//! same claims verify when signed properly and fail with this one defect.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::claims::{Claims, now_seconds};
use crate::keys::{PublicKeyEncoding, SigningAlgorithm};
use crate::{Issuer, IssuerError};

/// How far outside the validity window the time-based defects lie: well beyond the 30 s of leeway
/// verifiers allow.
pub const CLOCK_MARGIN_SECONDS: i64 = 10 * 60;

/// The audience of [`Issuer::wrong_audience_token`]: some other API's.
pub const WRONG_AUDIENCE: &str = "some-other-api";

/// The issuer URL of [`Issuer::foreign_issuer_token`].
pub const FOREIGN_ISSUER: &str = "http://127.0.0.1:1/realms/someone-else";

impl Issuer {
    /// Properly signed, but expired [`CLOCK_MARGIN_SECONDS`] ago.
    pub fn expired_token(&self, claims: &Claims) -> Result<String, IssuerError> {
        let lifetime = claims.exp - claims.iat;
        let issued = now_seconds() - CLOCK_MARGIN_SECONDS - lifetime;
        self.sign(&claims.clone().valid_from(issued, lifetime))
    }

    /// Properly signed, but valid only from [`CLOCK_MARGIN_SECONDS`] in the future (`nbf`; `iat`
    /// is now, as an issuer with a skewed clock would write it).
    pub fn not_yet_valid_token(&self, claims: &Claims) -> Result<String, IssuerError> {
        let lifetime = claims.exp - claims.iat;
        let now = now_seconds();
        let mut future = claims
            .clone()
            .valid_from(now + CLOCK_MARGIN_SECONDS, lifetime);
        future.iat = now;
        self.sign(&future)
    }

    /// Properly signed, but for [`WRONG_AUDIENCE`].
    pub fn wrong_audience_token(&self, claims: &Claims) -> Result<String, IssuerError> {
        let mut other = claims.clone();
        WRONG_AUDIENCE.clone_into(&mut other.aud);
        self.sign(&other)
    }

    /// From another issuer: `iss` is [`FOREIGN_ISSUER`], signed (RS256) by that issuer's own key,
    /// which this issuer's JWKS does not contain.
    pub fn foreign_issuer_token(&self, claims: &Claims) -> Result<String, IssuerError> {
        let mut other = claims.clone();
        FOREIGN_ISSUER.clone_into(&mut other.iss);
        self.foreign_keys()?
            .current(SigningAlgorithm::Rs256)
            .sign(&other)
    }

    /// Claims this issuer would sign, with this issuer's current RS256 `kid`, signed by a key that
    /// is not this issuer's: a forgery only the signature check catches.
    pub fn forged_signature_token(&self, claims: &Claims) -> Result<String, IssuerError> {
        let forged = self
            .foreign_keys()?
            .current(SigningAlgorithm::Rs256)
            .sign(claims)?;
        let real = self.sign(claims)?;
        // Our header (alg RS256, our kid) and payload, the foreign signature.
        let (head, _) = real.rsplit_once('.').ok_or(IssuerError::Malformed)?;
        let (_, signature) = forged.rsplit_once('.').ok_or(IssuerError::Malformed)?;
        Ok(format!("{head}.{signature}"))
    }

    /// An unsecured JWT (`"alg": "none"`, RFC 7519 §6) with an empty signature.
    pub fn alg_none_token(&self, claims: &Claims) -> Result<String, IssuerError> {
        let header = json!({"alg": "none", "typ": "JWT"});
        let encode = |value: &serde_json::Value| {
            serde_json::to_vec(value)
                .map(|bytes| URL_SAFE_NO_PAD.encode(bytes))
                .map_err(|error| IssuerError::Key(format!("serialising claims: {error}")))
        };
        let payload = serde_json::to_value(claims)
            .map_err(|error| IssuerError::Key(format!("serialising claims: {error}")))?;
        Ok(format!("{}.{}.", encode(&header)?, encode(&payload)?))
    }

    /// The algorithm-confusion attack: HS256 whose HMAC secret is this issuer's current RSA public
    /// key in `encoding`, with the RSA key's `kid`. A verifier that lets the token pick the
    /// algorithm and feeds it the key bytes accepts it.
    pub fn hs256_with_public_key_token(
        &self,
        claims: &Claims,
        encoding: PublicKeyEncoding,
    ) -> Result<String, IssuerError> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current_kid(SigningAlgorithm::Rs256));
        let secret = self.rsa_public_key(encoding);
        let key = EncodingKey::from_secret(&secret).map_err(IssuerError::Sign)?;
        jsonwebtoken::encode(&header, claims, &key).map_err(IssuerError::Sign)
    }
}
