//! A bundle built the way the service builds one, then broken in each way a verifier must notice.

use std::collections::HashMap;

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

use super::*;
use crate::checkpoint::{SigningKey, TreeHead, note_time, to_base64};
use crate::tree::{Subtree, append, append_needs, assemble, inclusion_plan, leaf_hash, root_plan};

const SEED: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn entry(i: usize, resource: &str) -> Value {
    json!({
        "formatVersion": 1,
        "auditEventId": format!("00000000-0000-7000-8000-{i:012}"),
        "tenantId": "acme",
        "resource": {"resourceType": "QUOTE", "resourceId": resource, "resourceVersion": i},
        "businessReason": "override approved by the customer's contract",
        "after": {"price": "12.50", "note": "ünïcode\n"},
    })
}

fn bundle() -> EvidenceBundle {
    let entries: Vec<Value> = (0..11)
        .map(|i| entry(i, if i % 3 == 0 { "q-1" } else { "q-2" }))
        .collect();
    let mut stored: HashMap<Subtree, Hash> = HashMap::new();
    for (size, value) in entries.iter().enumerate() {
        let hash = leaf_hash(canonical::entry_bytes(value).unwrap().as_bytes());
        let siblings: Vec<Hash> = append_needs(size as u64)
            .iter()
            .map(|needed| stored[needed])
            .collect();
        stored.insert(
            Subtree {
                level: 0,
                index: size as u64,
            },
            hash,
        );
        stored.extend(append(size as u64, hash, &siblings));
    }
    let size = entries.len() as u64;
    let root = assemble(&root_plan(size), &stored).unwrap()[0];
    let key = SigningKey::from_base64_seed(SEED).unwrap();
    let head = TreeHead {
        tenant_id: "acme".into(),
        size,
        root,
        issued: Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap(),
    };
    let (note, signature) = key.sign(&head);
    EvidenceBundle {
        format: BUNDLE_FORMAT.into(),
        tenant_id: "acme".into(),
        resource_type: "QUOTE".into(),
        resource_id: "q-1".into(),
        exported_at: note_time(head.issued),
        checkpoint: SignedCheckpoint {
            tenant_id: "acme".into(),
            tree_size: size,
            root_hash: hex::encode(root),
            issued_at: note_time(head.issued),
            key_id: key.key_id().into(),
            note,
            signature: to_base64(&signature),
        },
        signing_key: PublicKeyDocument {
            key_id: key.key_id().into(),
            algorithm: ALGORITHM.into(),
            public_key: to_base64(&key.public_key()),
        },
        entries: entries
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 == 0)
            .map(|(i, value)| BundleEntry {
                leaf_index: i as u64,
                leaf_hash: hex::encode(leaf_hash(
                    canonical::entry_bytes(value).unwrap().as_bytes(),
                )),
                entry: value.clone(),
                inclusion_proof: assemble(&inclusion_plan(size, i as u64).unwrap(), &stored)
                    .unwrap()
                    .iter()
                    .map(hex::encode)
                    .collect(),
            })
            .collect(),
        redacted: Vec::new(),
    }
}

#[test]
fn a_bundle_verifies_with_and_without_a_trusted_key() {
    let bundle = bundle();
    let key = SigningKey::from_base64_seed(SEED).unwrap();
    let verified = verify_bundle(&bundle, Some(&key.public_key())).unwrap();
    assert_eq!(verified.entries, 4);
    assert_eq!(verified.tree_size, 11);
    assert!(verify_bundle(&bundle, None).is_ok());
    let round_trip: EvidenceBundle =
        serde_json::from_str(&serde_json::to_string(&bundle).unwrap()).unwrap();
    assert_eq!(round_trip, bundle);
}

#[test]
fn altered_content_names_the_entry() {
    let mut bundle = bundle();
    bundle.entries[2].entry["businessReason"] = json!("no reason at all");
    match verify_bundle(&bundle, None) {
        Err(BundleFailure::Entry {
            leaf_index,
            audit_event_id,
            ..
        }) => {
            assert_eq!(leaf_index, 6);
            assert_eq!(audit_event_id, "00000000-0000-7000-8000-000000000006");
        }
        other => panic!("expected the entry to be named, got {other:?}"),
    }
}

#[test]
fn altered_content_with_a_matching_leaf_hash_is_not_in_the_tree() {
    let mut bundle = bundle();
    bundle.entries[1].entry["businessReason"] = json!("rewritten");
    bundle.entries[1].leaf_hash = hex::encode(leaf_hash(
        canonical::entry_bytes(&bundle.entries[1].entry)
            .unwrap()
            .as_bytes(),
    ));
    assert!(matches!(
        verify_bundle(&bundle, None),
        Err(BundleFailure::Entry { leaf_index: 3, reason, .. }) if reason.contains("not in the signed tree")
    ));
}

#[test]
fn another_key_a_forged_note_or_a_moved_entry_fail() {
    let other =
        SigningKey::from_base64_seed("Hx4dHBsaGRgXFhUUExIREA8ODQwLCgkIBwYFBAMCAQA=").unwrap();
    assert!(matches!(
        verify_bundle(&bundle(), Some(&other.public_key())),
        Err(BundleFailure::UntrustedKey(_))
    ));
    let mut forged = bundle();
    forged.checkpoint.tree_size = 12;
    assert_eq!(
        verify_bundle(&forged, None),
        Err(BundleFailure::NoteMismatch)
    );
    let mut resigned = bundle();
    resigned.checkpoint.note = resigned.checkpoint.note.replace("size 11", "size 12");
    resigned.checkpoint.tree_size = 12;
    assert!(matches!(
        verify_bundle(&resigned, None),
        Err(BundleFailure::Signature(_))
    ));
    let mut moved = bundle();
    moved.entries[0].leaf_index = 1;
    assert!(matches!(
        verify_bundle(&moved, None),
        Err(BundleFailure::Entry { .. })
    ));
    let mut foreign = bundle();
    foreign.entries[0].entry["tenantId"] = json!("globex");
    assert!(matches!(
        verify_bundle(&foreign, None),
        Err(BundleFailure::Entry { reason, .. }) if reason.contains("another tenant")
    ));
}
