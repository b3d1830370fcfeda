//! Signing keys: generated with aws-lc-rs, published as JWKs, and used through jsonwebtoken.
//!
//! aws-lc-rs exports an RSA private key only as PKCS#8 while jsonwebtoken signs with a PKCS#1
//! `RSAPrivateKey`; [`pkcs1_from_pkcs8`] unwraps the one from the other (three DER elements).

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::{Value, json};

use crate::IssuerError;

/// The two algorithms the platform accepts (ADR 0030); every other one is refused by verifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 over a 2048-bit key: Keycloak's default.
    Rs256,
    /// ECDSA over P-256 with SHA-256.
    Es256,
}

impl SigningAlgorithm {
    /// Both, in the order discovery lists them.
    pub const ALL: [Self; 2] = [Self::Rs256, Self::Es256];

    /// The JOSE name (`RS256`, `ES256`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }

    fn jwt(self) -> Algorithm {
        match self {
            Self::Rs256 => Algorithm::RS256,
            Self::Es256 => Algorithm::ES256,
        }
    }
}

/// How the RSA public key is written when it is (mis)used as an HMAC secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicKeyEncoding {
    /// `-----BEGIN PUBLIC KEY-----` PEM of the SubjectPublicKeyInfo, newline-terminated.
    Pem,
    /// The SubjectPublicKeyInfo DER bytes.
    Der,
}

/// One private key with its public JWK.
pub(crate) struct SigningKey {
    pub(crate) kid: String,
    pub(crate) algorithm: SigningAlgorithm,
    encoding: EncodingKey,
    pub(crate) jwk: Value,
    /// SubjectPublicKeyInfo DER of the public key.
    pub(crate) spki_der: Vec<u8>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never prints key material.
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh key for `algorithm`.
    pub(crate) fn generate(algorithm: SigningAlgorithm) -> Result<Self, IssuerError> {
        match algorithm {
            SigningAlgorithm::Rs256 => Self::generate_rsa(),
            SigningAlgorithm::Es256 => Self::generate_p256(),
        }
    }

    fn generate_rsa() -> Result<Self, IssuerError> {
        let failed = |what: &str| IssuerError::Key(format!("RSA key generation: {what}"));
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| failed("generate"))?;
        let pkcs8 = pair.as_der().map_err(|_| failed("PKCS#8 export"))?;
        let pkcs1 = pkcs1_from_pkcs8(pkcs8.as_ref()).ok_or_else(|| failed("PKCS#8 layout"))?;
        let spki_der = pair
            .public_key()
            .as_der()
            .map_err(|_| failed("public key export"))?
            .as_ref()
            .to_vec();
        let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
        let n = URL_SAFE_NO_PAD.encode(&components.n);
        let e = URL_SAFE_NO_PAD.encode(&components.e);
        // RFC 7638 thumbprint input: the required members in lexicographic order.
        let kid = thumbprint(&format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#));
        let jwk = json!({"kid": kid, "kty": "RSA", "alg": "RS256", "use": "sig", "n": n, "e": e});
        Ok(Self {
            kid,
            algorithm: SigningAlgorithm::Rs256,
            encoding: EncodingKey::from_rsa_der(&pkcs1),
            jwk,
            spki_der,
        })
    }

    fn generate_p256() -> Result<Self, IssuerError> {
        let failed = |what: &str| IssuerError::Key(format!("P-256 key generation: {what}"));
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| failed("generate"))?;
        let pkcs8 = pair.to_pkcs8v1().map_err(|_| failed("PKCS#8 export"))?;
        let spki_der = pair
            .public_key()
            .as_der()
            .map_err(|_| failed("public key export"))?
            .as_ref()
            .to_vec();
        // The uncompressed point: 0x04 || x || y, 32 bytes each on P-256.
        let point = pair.public_key().as_ref();
        let (x, y) = match point {
            [0x04, rest @ ..] if rest.len() == 64 => rest.split_at(32),
            _ => return Err(failed("unexpected public point encoding")),
        };
        let x = URL_SAFE_NO_PAD.encode(x);
        let y = URL_SAFE_NO_PAD.encode(y);
        let kid = thumbprint(&format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#
        ));
        let jwk = json!({
            "kid": kid, "kty": "EC", "alg": "ES256", "use": "sig", "crv": "P-256", "x": x, "y": y
        });
        Ok(Self {
            kid,
            algorithm: SigningAlgorithm::Es256,
            encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwk,
            spki_der,
        })
    }

    /// Signs `claims` with this key, naming it in the header's `kid`.
    pub(crate) fn sign(&self, claims: &impl Serialize) -> Result<String, IssuerError> {
        let mut header = Header::new(self.algorithm.jwt());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(IssuerError::Sign)
    }

    /// The public key in `encoding`.
    pub(crate) fn public_key(&self, encoding: PublicKeyEncoding) -> Vec<u8> {
        match encoding {
            PublicKeyEncoding::Der => self.spki_der.clone(),
            PublicKeyEncoding::Pem => pem("PUBLIC KEY", &self.spki_der).into_bytes(),
        }
    }
}

/// The keys an issuer publishes, and which of them sign from now on.
#[derive(Debug)]
pub(crate) struct KeyRing {
    /// Every key ever generated by this issuer, oldest first; all stay in the JWKS.
    published: Vec<Arc<SigningKey>>,
    current_rsa: Arc<SigningKey>,
    current_ec: Arc<SigningKey>,
}

impl KeyRing {
    /// One fresh key per algorithm.
    pub(crate) fn generate() -> Result<Self, IssuerError> {
        let current_rsa = Arc::new(SigningKey::generate(SigningAlgorithm::Rs256)?);
        let current_ec = Arc::new(SigningKey::generate(SigningAlgorithm::Es256)?);
        Ok(Self {
            published: vec![Arc::clone(&current_rsa), Arc::clone(&current_ec)],
            current_rsa,
            current_ec,
        })
    }

    /// Adds a fresh key per algorithm, signs with them from now on, keeps publishing the old.
    pub(crate) fn rotate(&mut self) -> Result<(), IssuerError> {
        let rsa = Arc::new(SigningKey::generate(SigningAlgorithm::Rs256)?);
        let ec = Arc::new(SigningKey::generate(SigningAlgorithm::Es256)?);
        self.published.push(Arc::clone(&rsa));
        self.published.push(Arc::clone(&ec));
        self.current_rsa = rsa;
        self.current_ec = ec;
        Ok(())
    }

    /// The key that signs with `algorithm` now.
    pub(crate) fn current(&self, algorithm: SigningAlgorithm) -> Arc<SigningKey> {
        match algorithm {
            SigningAlgorithm::Rs256 => Arc::clone(&self.current_rsa),
            SigningAlgorithm::Es256 => Arc::clone(&self.current_ec),
        }
    }

    /// The JWK Set document (`{"keys": [...]}`), newest keys first.
    pub(crate) fn jwks(&self) -> Value {
        let keys: Vec<&Value> = self.published.iter().rev().map(|key| &key.jwk).collect();
        json!({ "keys": keys })
    }
}

/// RFC 7638: base64url(SHA-256(canonical JWK)).
fn thumbprint(canonical: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// PEM armour (RFC 7468): base64 in 64-character lines between BEGIN and END lines.
fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        text.push_str(&String::from_utf8_lossy(line));
        text.push('\n');
    }
    text.push_str(&format!("-----END {label}-----\n"));
    text
}

/// The `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo`:
/// `SEQUENCE { INTEGER version, SEQUENCE algorithm, OCTET STRING privateKey, ... }`.
pub(crate) fn pkcs1_from_pkcs8(pkcs8: &[u8]) -> Option<Vec<u8>> {
    let (info, _) = der_element(pkcs8, 0x30)?;
    let (_version, rest) = der_element(info, 0x02)?;
    let (_algorithm, rest) = der_element(rest, 0x30)?;
    let (private_key, _) = der_element(rest, 0x04)?;
    Some(private_key.to_vec())
}

/// Reads one DER element with tag `tag`: its contents and what follows it.
fn der_element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        let length = bytes
            .iter()
            .fold(0_usize, |acc, byte| (acc << 8) | usize::from(*byte));
        (length, rest)
    };
    if rest.len() < length {
        return None;
    }
    Some(rest.split_at(length))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_short_and_long() {
        assert_eq!(
            der_element(&[0x04, 0x02, 1, 2, 9], 0x04),
            Some((&[1_u8, 2][..], &[9_u8][..]))
        );
        let long = [&[0x04_u8, 0x81, 0x80][..], &[7_u8; 0x80]].concat();
        assert_eq!(der_element(&long, 0x04).map(|(v, _)| v.len()), Some(0x80));
        assert_eq!(der_element(&[0x04, 0x05, 1], 0x04), None);
        assert_eq!(der_element(&[0x30, 0x00], 0x04), None);
    }

    #[test]
    fn pem_has_lines_of_64() {
        let text = pem("PUBLIC KEY", &[0_u8; 100]);
        assert!(text.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(text.ends_with("-----END PUBLIC KEY-----\n"));
        assert!(text.lines().all(|line| line.len() <= 64));
    }
}
