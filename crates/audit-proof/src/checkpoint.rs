//! Checkpoints: signed tree heads. A checkpoint states that a tenant's log had `size` entries
//! with root `root` at `issued`, signed with Ed25519 by a key named by its id. What is signed is
//! a short text note (format version 1), so the statement reads the same to a person, to this
//! crate and to any verifier:
//!
//! ```text
//! cpq-oms/audit-checkpoint/v1
//! tenant <tenantId>
//! size <decimal>
//! root <64 lowercase hex>
//! issued <YYYY-MM-DDTHH:MM:SS.ffffffZ>
//! key <keyId>
//! ```
//!
//! Every line ends with `\n`. The key id is the first 16 lowercase hex digits of SHA-256 over
//! the 32-byte raw public key.

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

use crate::tree::Hash;

/// The note's first line: format and version.
pub const NOTE_HEADER: &str = "cpq-oms/audit-checkpoint/v1";

/// A tree head before it is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeHead {
    /// The tenant whose log it is.
    pub tenant_id: String,
    /// Entries in the tree.
    pub size: u64,
    /// The tree's root hash.
    pub root: Hash,
    /// When it was signed, to the microsecond.
    pub issued: DateTime<Utc>,
}

/// The text form of a timestamp in a note: UTC, six fractional digits, `Z`.
pub fn note_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl TreeHead {
    /// The note a key signs for this head.
    pub fn note(&self, key_id: &str) -> String {
        format!(
            "{NOTE_HEADER}\ntenant {}\nsize {}\nroot {}\nissued {}\nkey {key_id}\n",
            self.tenant_id,
            self.size,
            hex::encode(self.root),
            note_time(self.issued)
        )
    }
}

/// The id of a public key: 16 hex digits of its SHA-256.
pub fn key_id(public_key: &[u8]) -> String {
    hex::encode(Sha256::digest(public_key))[..16].to_owned()
}

/// Why a signing key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not base64 of 32 bytes.
    #[error("the signing key must be the base64 of a 32-byte Ed25519 seed")]
    Malformed,
    /// The library refused the seed.
    #[error("the Ed25519 seed was refused")]
    Rejected,
}

/// The log's signing key (from settings; never stored with the log).
pub struct SigningKey {
    pair: Ed25519KeyPair,
    key_id: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads a base64 32-byte seed.
    pub fn from_base64_seed(seed: &str) -> Result<Self, KeyError> {
        let bytes = STANDARD
            .decode(seed.trim())
            .map_err(|_| KeyError::Malformed)?;
        if bytes.len() != 32 {
            return Err(KeyError::Malformed);
        }
        let pair = Ed25519KeyPair::from_seed_unchecked(&bytes).map_err(|_| KeyError::Rejected)?;
        let key_id = key_id(pair.public_key().as_ref());
        Ok(Self { pair, key_id })
    }

    /// The key's id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The raw 32-byte public key.
    pub fn public_key(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }

    /// Signs a head: its note and the 64-byte signature over it.
    pub fn sign(&self, head: &TreeHead) -> (String, Vec<u8>) {
        let note = head.note(&self.key_id);
        let signature = self.pair.sign(note.as_bytes()).as_ref().to_vec();
        (note, signature)
    }
}

/// A signature that does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the Ed25519 signature does not verify under that public key")]
pub struct BadSignature;

/// Checks an Ed25519 signature over a note.
pub fn verify_note(public_key: &[u8], note: &str, signature: &[u8]) -> Result<(), BadSignature> {
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(note.as_bytes(), signature)
        .map_err(|_| BadSignature)
}

/// Base64 (standard alphabet, padded), as every binary value outside hashes travels.
pub fn to_base64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Reads standard base64.
pub fn from_base64(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const SEED: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn head() -> TreeHead {
        TreeHead {
            tenant_id: "acme".into(),
            size: 10,
            root: [7; 32],
            issued: Utc.with_ymd_and_hms(2026, 12, 7, 1, 2, 3).unwrap(),
        }
    }

    #[test]
    fn the_note_is_the_documented_text_and_its_signature_verifies() {
        let key = SigningKey::from_base64_seed(SEED).unwrap();
        let (note, signature) = key.sign(&head());
        assert_eq!(
            note,
            format!(
                "cpq-oms/audit-checkpoint/v1\ntenant acme\nsize 10\nroot {}\nissued 2026-12-07T01:02:03.000000Z\nkey {}\n",
                "07".repeat(32),
                key.key_id()
            )
        );
        assert_eq!(key.key_id(), key_id(&key.public_key()));
        verify_note(&key.public_key(), &note, &signature).unwrap();
        let forged = note.replace("size 10", "size 11");
        assert_eq!(
            verify_note(&key.public_key(), &forged, &signature),
            Err(BadSignature)
        );
    }

    #[test]
    fn malformed_seeds_are_refused() {
        assert_eq!(
            SigningKey::from_base64_seed("not base64!").err(),
            Some(KeyError::Malformed)
        );
        assert_eq!(
            SigningKey::from_base64_seed("AAEC").err(),
            Some(KeyError::Malformed)
        );
    }
}
