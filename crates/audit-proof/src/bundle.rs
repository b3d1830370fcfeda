//! Evidence bundles: one resource's audit entries, each with its inclusion proof against one
//! signed checkpoint, in a JSON document that proves itself offline (format version 1,
//! `docs/audit-evidence-format.md`). A bundle exported before someone altered the log keeps
//! verifying — it carries the content as it was proved; one exported after names the altered
//! entry, because its content no longer hashes into the signed root.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::canonical;
use crate::checkpoint::{self, BadSignature, TreeHead};
use crate::tree::{self, Hash};

/// The bundle's `format`.
pub const BUNDLE_FORMAT: &str = "cpq-oms/audit-evidence-bundle/v1";
/// The signature algorithm named in key documents.
pub const ALGORITHM: &str = "Ed25519";

/// A signed checkpoint as the API serves it and a bundle carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignedCheckpoint {
    /// The tenant whose log it is.
    pub tenant_id: String,
    /// Entries in the tree.
    pub tree_size: u64,
    /// The root, lowercase hex.
    pub root_hash: String,
    /// When it was signed, as the note states it.
    pub issued_at: String,
    /// The signing key's id.
    pub key_id: String,
    /// The exact text that was signed.
    pub note: String,
    /// The Ed25519 signature over `note`, base64.
    pub signature: String,
}

/// A public key as the API serves it and a bundle carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyDocument {
    /// The key id (16 hex digits of the key's SHA-256).
    pub key_id: String,
    /// Always `Ed25519`.
    pub algorithm: String,
    /// The raw 32-byte key, base64.
    pub public_key: String,
}

/// One proved entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BundleEntry {
    /// Its position in the tenant's log.
    pub leaf_index: u64,
    /// Its leaf hash, lowercase hex.
    pub leaf_hash: String,
    /// The normalised entry whose canonical encoding is the leaf.
    pub entry: Value,
    /// Its audit path in the checkpoint's tree, bottom up, lowercase hex.
    pub inclusion_proof: Vec<String>,
}

/// The whole document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EvidenceBundle {
    /// [`BUNDLE_FORMAT`].
    pub format: String,
    /// The tenant.
    pub tenant_id: String,
    /// The resource's type, as entries name it (`QUOTE`).
    pub resource_type: String,
    /// The resource's id.
    pub resource_id: String,
    /// When it was exported.
    pub exported_at: String,
    /// The checkpoint every proof leads to.
    pub checkpoint: SignedCheckpoint,
    /// The key that signed it.
    pub signing_key: PublicKeyDocument,
    /// The resource's entries, in decision order.
    pub entries: Vec<BundleEntry>,
    /// Positions of the resource's entries whose content the documented redaction procedure
    /// replaced: they stay in the tree (their leaf hashes are kept) but carry nothing to prove.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redacted: Vec<u64>,
}

/// Why a bundle does not verify; the first failure found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleFailure {
    /// The document is not a version-1 bundle.
    #[error("not a {BUNDLE_FORMAT} document: {0}")]
    Format(String),
    /// A trusted key was given and the bundle was signed by another.
    #[error("the checkpoint was signed by key {0}, not by the trusted key")]
    UntrustedKey(String),
    /// The checkpoint names a key id other than its key's.
    #[error("the checkpoint names key {named}, the bundle carries key {carried}")]
    KeyIdMismatch {
        /// The id in the checkpoint.
        named: String,
        /// The id of the carried key.
        carried: String,
    },
    /// The note does not state the checkpoint's fields.
    #[error("the checkpoint note does not state the checkpoint's own fields")]
    NoteMismatch,
    /// The signature is wrong.
    #[error(transparent)]
    Signature(#[from] BadSignature),
    /// An entry fails: the one the verifier names.
    #[error("entry at leaf {leaf_index} (auditEventId {audit_event_id}): {reason}")]
    Entry {
        /// Its position.
        leaf_index: u64,
        /// Its audit event id, as the entry states it.
        audit_event_id: String,
        /// What is wrong.
        reason: String,
    },
}

/// What a valid bundle proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Entries proved.
    pub entries: usize,
    /// The checkpoint's tree size.
    pub tree_size: u64,
    /// The key that signed it.
    pub key_id: String,
}

/// Reads a lowercase or uppercase hex SHA-256.
pub fn parse_hash(text: &str) -> Option<Hash> {
    let bytes = hex::decode(text).ok()?;
    bytes.try_into().ok()
}

impl SignedCheckpoint {
    /// Checks the signature and that the note states exactly these fields.
    pub fn verify(&self, public_key: &[u8]) -> Result<(), BundleFailure> {
        let carried = checkpoint::key_id(public_key);
        if carried != self.key_id {
            return Err(BundleFailure::KeyIdMismatch {
                named: self.key_id.clone(),
                carried,
            });
        }
        let root = parse_hash(&self.root_hash).ok_or(BundleFailure::NoteMismatch)?;
        let issued = chrono::DateTime::parse_from_rfc3339(&self.issued_at)
            .map_err(|_| BundleFailure::NoteMismatch)?
            .with_timezone(&chrono::Utc);
        let head = TreeHead {
            tenant_id: self.tenant_id.clone(),
            size: self.tree_size,
            root,
            issued,
        };
        if head.note(&self.key_id) != self.note {
            return Err(BundleFailure::NoteMismatch);
        }
        let signature = checkpoint::from_base64(&self.signature)
            .ok_or(BundleFailure::Signature(BadSignature))?;
        checkpoint::verify_note(public_key, &self.note, &signature)?;
        Ok(())
    }

    /// The root, once [`SignedCheckpoint::verify`] has passed.
    pub fn root(&self) -> Option<Hash> {
        parse_hash(&self.root_hash)
    }
}

/// Verifies a whole bundle: the signing key (against `trusted_key` when given), the checkpoint's
/// note and signature, then every entry: its canonical encoding, its leaf hash, that it is about
/// the bundle's tenant and resource, and its inclusion proof against the signed root.
pub fn verify_bundle(
    bundle: &EvidenceBundle,
    trusted_key: Option<&[u8]>,
) -> Result<Verified, BundleFailure> {
    if bundle.format != BUNDLE_FORMAT {
        return Err(BundleFailure::Format(format!(
            "format is {:?}",
            bundle.format
        )));
    }
    if bundle.signing_key.algorithm != ALGORITHM {
        return Err(BundleFailure::Format(format!(
            "algorithm is {:?}",
            bundle.signing_key.algorithm
        )));
    }
    let public_key = checkpoint::from_base64(&bundle.signing_key.public_key)
        .filter(|key| key.len() == 32)
        .ok_or_else(|| BundleFailure::Format("the public key is not 32 bytes of base64".into()))?;
    if let Some(trusted) = trusted_key
        && trusted != public_key.as_slice()
    {
        return Err(BundleFailure::UntrustedKey(
            bundle.checkpoint.key_id.clone(),
        ));
    }
    bundle.checkpoint.verify(&public_key)?;
    if bundle.checkpoint.tenant_id != bundle.tenant_id {
        return Err(BundleFailure::Format(
            "the checkpoint is another tenant's".into(),
        ));
    }
    let root = bundle
        .checkpoint
        .root()
        .ok_or(BundleFailure::NoteMismatch)?;
    for proved in &bundle.entries {
        verify_entry(bundle, &root, proved)?;
    }
    Ok(Verified {
        entries: bundle.entries.len(),
        tree_size: bundle.checkpoint.tree_size,
        key_id: bundle.checkpoint.key_id.clone(),
    })
}

fn verify_entry(
    bundle: &EvidenceBundle,
    root: &Hash,
    proved: &BundleEntry,
) -> Result<(), BundleFailure> {
    let failure = |reason: String| BundleFailure::Entry {
        leaf_index: proved.leaf_index,
        audit_event_id: proved
            .entry
            .get("auditEventId")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned(),
        reason,
    };
    let bytes = canonical::entry_bytes(&proved.entry).map_err(|e| failure(e.to_string()))?;
    let text = |pointer: &str| proved.entry.pointer(pointer).and_then(Value::as_str);
    if text("/tenantId") != Some(bundle.tenant_id.as_str())
        || text("/resource/resourceType") != Some(bundle.resource_type.as_str())
        || text("/resource/resourceId") != Some(bundle.resource_id.as_str())
    {
        return Err(failure(
            "the entry is about another tenant or resource than the bundle".into(),
        ));
    }
    let computed = tree::leaf_hash(bytes.as_bytes());
    if parse_hash(&proved.leaf_hash) != Some(computed) {
        return Err(failure(format!(
            "its content hashes to {}, not to the stated leaf hash {}",
            hex::encode(computed),
            proved.leaf_hash
        )));
    }
    let path = proved
        .inclusion_proof
        .iter()
        .map(|node| parse_hash(node))
        .collect::<Option<Vec<Hash>>>()
        .ok_or_else(|| failure("the inclusion proof holds a value that is not a hash".into()))?;
    tree::verify_inclusion(
        root,
        bundle.checkpoint.tree_size,
        proved.leaf_index,
        bytes.as_bytes(),
        &path,
    )
    .map_err(|error| failure(format!("it is not in the signed tree: {error}")))
}

#[cfg(test)]
#[path = "bundle_tests.rs"]
mod tests;
