//! The checkpoint signing keys: the active one (from settings, never stored with the log) and
//! the public halves of retired ones, so checkpoints signed before a rotation keep verifying.

use audit_proof::bundle::{ALGORITHM, PublicKeyDocument};
use audit_proof::checkpoint::{SigningKey, key_id, to_base64};

/// Active and retired keys.
#[derive(Debug)]
pub struct Keyring {
    active: SigningKey,
    retired: Vec<Vec<u8>>,
}

/// A key as `GET /audit/signing-keys` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedKey {
    /// Id, algorithm, public key.
    pub document: PublicKeyDocument,
    /// Whether it signs new checkpoints.
    pub active: bool,
}

impl Keyring {
    /// The active key and the retired public keys (raw 32 bytes each).
    pub fn new(active: SigningKey, retired: Vec<Vec<u8>>) -> Self {
        Self { active, retired }
    }

    /// The key that signs new checkpoints.
    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    /// The public key with this id, active or retired.
    pub fn public_key(&self, id: &str) -> Option<Vec<u8>> {
        if self.active.key_id() == id {
            return Some(self.active.public_key());
        }
        self.retired.iter().find(|key| key_id(key) == id).cloned()
    }

    /// The document of the key with this id.
    pub fn document(&self, id: &str) -> Option<PublicKeyDocument> {
        self.public_key(id).map(|key| PublicKeyDocument {
            key_id: id.to_owned(),
            algorithm: ALGORITHM.to_owned(),
            public_key: to_base64(&key),
        })
    }

    /// Every key, the active one first.
    pub fn listed(&self) -> Vec<ListedKey> {
        std::iter::once((self.active.public_key(), true))
            .chain(self.retired.iter().map(|key| (key.clone(), false)))
            .map(|(key, active)| ListedKey {
                document: PublicKeyDocument {
                    key_id: key_id(&key),
                    algorithm: ALGORITHM.to_owned(),
                    public_key: to_base64(&key),
                },
                active,
            })
            .collect()
    }
}
