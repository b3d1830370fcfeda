//! Verifies a bearer token: an accepted algorithm (RS256 or ES256, read from the header before
//! anything else, so `none` and HS* never reach a key), a key the issuer publishes, the
//! signature, `iss`, `aud`, `exp` and `nbf`, then the claims that make a caller. The caller of
//! a token that verified is remembered for a minute at most (never past its `exp`), found again
//! only by the exact same token ([`TokenCache`]).

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::cache::{Fingerprint, TokenCache, Verified};
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
    verified: TokenCache,
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
            verified: TokenCache::default(),
        }
    }

    /// The caller a token proves, or why it proves nothing: from the cache when the very same
    /// token verified in the last minute and has not expired, else by full verification.
    pub async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let fingerprint = Fingerprint::of(token);
        // Read before the key: a refresh during verification leaves the entry already stale.
        let keys = self.keys.generation();
        if let Some(caller) = self.verified.get(&fingerprint, keys, Instant::now()) {
            return Ok(caller);
        }
        let (caller, exp) = self.verify_fully(token).await?;
        let verified = Verified {
            caller: caller.clone(),
            exp,
            keys,
        };
        self.verified.insert(fingerprint, verified, Instant::now());
        Ok(caller)
    }

    /// Verifies `token` without the cache: its caller and its `exp`.
    async fn verify_fully(&self, token: &str) -> Result<(Caller, Option<u64>), AuthError> {
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
        Ok((data.claims.caller()?, data.claims.exp))
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

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use test_support::TestIssuer;

    use super::*;

    fn verifier(issuer: &TestIssuer, leeway: Duration) -> Verifier {
        Verifier::with_keys(
            KeySet::new(&issuer.discovery_url()).unwrap(),
            &issuer.issuer_url(),
            issuer.audience(),
            leeway,
        )
    }

    #[tokio::test]
    async fn a_remembered_token_is_refused_once_it_expires() {
        let issuer = TestIssuer::start();
        let verifier = verifier(&issuer, Duration::ZERO);
        let now = dev_issuer::now_seconds();
        let token = issuer.token_with(&issuer.claims_for("sales1").valid_from(now, 1));
        let first = verifier.verify(&token).await.unwrap();
        assert_eq!(
            verifier.verified.len(),
            1,
            "the verified token is remembered"
        );
        assert_eq!(verifier.verify(&token).await.unwrap(), first);
        // `exp` is whole seconds and verification accepts its last second: wait past it.
        let expired_at = SystemTime::UNIX_EPOCH
            + Duration::from_secs(u64::try_from(now + 2).unwrap())
            + Duration::from_millis(50);
        if let Ok(wait) = expired_at.duration_since(SystemTime::now()) {
            tokio::time::sleep(wait).await;
        }
        assert!(matches!(
            verifier.verify(&token).await,
            Err(AuthError::Invalid("expired"))
        ));
    }

    #[tokio::test]
    async fn reading_the_keys_again_makes_every_token_verify_again() {
        let issuer = TestIssuer::start();
        let verifier = verifier(&issuer, Duration::from_secs(30));
        let before = issuer.token_for("sales1");
        verifier.verify(&before).await.unwrap();
        verifier.verify(&before).await.unwrap();
        let remembered = |generation| {
            verifier
                .verified
                .get(&Fingerprint::of(&before), generation, Instant::now())
                .is_some()
        };
        assert!(remembered(verifier.keys.generation()));
        issuer.rotate_keys();
        tokio::time::sleep(super::super::keys::MIN_REFRESH).await;
        verifier.verify(&issuer.token_for("sales1")).await.unwrap();
        assert!(
            !remembered(verifier.keys.generation()),
            "a token verified under the old key set is verified again"
        );
        // The issuer still publishes the old key, so the old token verifies in full again.
        verifier.verify(&before).await.unwrap();
        assert!(remembered(verifier.keys.generation()));
    }

    #[tokio::test]
    async fn the_same_claims_with_another_signature_are_not_the_remembered_token() {
        let issuer = TestIssuer::start();
        let verifier = verifier(&issuer, Duration::from_secs(30));
        let claims = issuer.claims_for("sales1");
        let good = issuer.token_with(&claims);
        let forged = issuer.issuer().forged_signature_token(&claims).unwrap();
        let head = |t: &str| t.rsplit_once('.').unwrap().0.to_owned();
        assert_eq!(head(&good), head(&forged), "same header and claims");
        assert_ne!(good, forged);
        verifier.verify(&good).await.unwrap();
        verifier.verify(&good).await.unwrap();
        assert!(matches!(
            verifier.verify(&forged).await,
            Err(AuthError::Invalid("the signature does not verify"))
        ));
        assert_eq!(verifier.verified.len(), 1, "refusals are not remembered");
    }
}
