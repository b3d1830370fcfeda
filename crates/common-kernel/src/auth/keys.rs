//! The issuer's public keys: read through its discovery document, kept in the process, and
//! read again when a token names a `kid` the process has not seen — how a key rotation is
//! picked up without a restart. Re-reads are spaced by [`MIN_REFRESH`], so tokens with made-up
//! `kid`s cannot make the service hammer the issuer.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use super::error::{AuthError, issuer_json};

/// Shortest interval between two reads of the issuer's keys.
pub const MIN_REFRESH: Duration = Duration::from_secs(2);
/// Upper bound of one call to the issuer.
const ISSUER_TIMEOUT: Duration = Duration::from_secs(5);

/// One published key, ready to verify a token signed with its algorithm.
#[derive(Debug)]
pub struct VerificationKey {
    /// RS256 or ES256.
    pub algorithm: Algorithm,
    /// The key.
    pub key: DecodingKey,
}

#[derive(Debug, Default)]
struct Published {
    by_kid: HashMap<String, Arc<VerificationKey>>,
    read_at: Option<Instant>,
}

/// The part of the discovery document the verifier needs.
#[derive(Debug, Deserialize)]
struct Discovery {
    jwks_uri: String,
}

/// The issuer's keys by `kid`.
#[derive(Debug)]
pub struct KeySet {
    http: reqwest::Client,
    discovery_url: String,
    published: RwLock<Published>,
    reading: Mutex<()>,
    /// How many times the keys were read: what a token verified with may be remembered by.
    generation: AtomicU64,
}

impl KeySet {
    /// Keys of the issuer whose discovery document is at `discovery_url`; nothing is read
    /// until the first token arrives, so a service starts while its issuer does not answer.
    pub fn new(discovery_url: &str) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(ISSUER_TIMEOUT)
                .connect_timeout(Duration::from_secs(2))
                .build()?,
            discovery_url: discovery_url.to_owned(),
            published: RwLock::default(),
            reading: Mutex::new(()),
            generation: AtomicU64::new(0),
        })
    }

    /// Changes every time the issuer's keys are read again: a token verified under an earlier
    /// generation may have been signed by a key the issuer no longer publishes.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The key named `kid`, reading the issuer's keys again when it is not known yet.
    pub async fn key(&self, kid: &str) -> Result<Arc<VerificationKey>, AuthError> {
        if let Some(key) = self.published.read().await.by_kid.get(kid) {
            return Ok(Arc::clone(key));
        }
        let _one_reader = self.reading.lock().await;
        {
            let published = self.published.read().await;
            if let Some(key) = published.by_kid.get(kid) {
                return Ok(Arc::clone(key));
            }
            if published
                .read_at
                .is_some_and(|at| at.elapsed() < MIN_REFRESH)
            {
                return Err(AuthError::UnknownKey);
            }
        }
        let by_kid = self.read_keys().await?;
        let mut published = self.published.write().await;
        *published = Published {
            by_kid,
            read_at: Some(Instant::now()),
        };
        self.generation.fetch_add(1, Ordering::AcqRel);
        published
            .by_kid
            .get(kid)
            .map(Arc::clone)
            .ok_or(AuthError::UnknownKey)
    }

    async fn read_keys(&self) -> Result<HashMap<String, Arc<VerificationKey>>, AuthError> {
        let discovery: Discovery = issuer_json(self.http.get(&self.discovery_url)).await?;
        let set: JwkSet = issuer_json(self.http.get(&discovery.jwks_uri)).await?;
        let keys: HashMap<_, _> = set
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                Some((kid, Arc::new(verification_key(jwk)?)))
            })
            .collect();
        tracing::info!(keys = keys.len(), "read the issuer's signing keys");
        Ok(keys)
    }
}

/// The verification key of an RSA or P-256 signing key; other keys (HMAC secrets, other
/// curves, encryption keys) are never used to verify.
fn verification_key(jwk: &Jwk) -> Option<VerificationKey> {
    if jwk
        .common
        .public_key_use
        .as_ref()
        .is_some_and(|u| !matches!(u, jsonwebtoken::jwk::PublicKeyUse::Signature))
    {
        return None;
    }
    let algorithm = match (&jwk.algorithm, jwk.common.key_algorithm) {
        (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
        (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
            if ec.curve == EllipticCurve::P256 =>
        {
            Algorithm::ES256
        }
        _ => return None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(VerificationKey { algorithm, key })
}

/// The checks every token gets besides its signature.
pub fn validation(
    algorithm: Algorithm,
    issuer: &str,
    audience: &str,
    leeway: Duration,
) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.validate_nbf = true;
    validation.leeway = leeway.as_secs();
    validation
}
