//! A canonical JSON encoding and its SHA-256, for documents that travel between services and
//! must be proved unchanged on arrival (the accepted quote snapshot an order is captured from).
//!
//! # Encoding, version 1
//! - objects: `{` members sorted by key (bytewise, UTF-8) `}`, each `"key":value`, separated by
//!   `,`; no whitespace anywhere;
//! - arrays: `[` elements in order `]`, separated by `,`;
//! - strings: JSON string escaping as `serde_json` writes it (`"`, `\\`, control characters);
//! - numbers: as `serde_json` prints them (integers without a fraction, other numbers in their
//!   shortest round-trip form); `true`, `false`, `null` literally.
//!
//! The hash is lowercase hex SHA-256 over `domain` (a tag naming the document kind and the
//! encoding version, e.g. `cpq-oms/quote-snapshot/v1\n`) followed by the encoding. Sorting is done
//! here rather than relying on the map type, so it holds whichever `serde_json` features the
//! build unifies.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The domain tag of an accepted quote's frozen snapshot (cpq computes, order verifies).
pub const QUOTE_SNAPSHOT_DOMAIN: &str = "cpq-oms/quote-snapshot/v1\n";

/// The canonical encoding of `value` (see the module documentation).
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value);
    out
}

/// Lowercase hex SHA-256 of `domain` followed by the canonical encoding of `value`.
pub fn canonical_hash(domain: &str, value: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(domain.as_bytes());
    hasher.update(canonical_json(value).as_bytes());
    hex::encode(hasher.finalize())
}

fn write(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, member)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write(out, member);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, item);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn members_are_sorted_and_whitespace_is_gone() {
        let value = json!({"b": [1, {"z": true, "a": null}], "a": "x\"y", "c": 1.5});
        assert_eq!(
            canonical_json(&value),
            r#"{"a":"x\"y","b":[1,{"a":null,"z":true}],"c":1.5}"#
        );
    }

    #[test]
    fn the_hash_names_its_domain_and_sees_every_change() {
        let value = json!({"items": [{"quantity": 1}], "customerId": "C-1"});
        let reordered = json!({"customerId": "C-1", "items": [{"quantity": 1}]});
        let changed = json!({"customerId": "C-1", "items": [{"quantity": 2}]});
        let hash = canonical_hash(QUOTE_SNAPSHOT_DOMAIN, &value);
        assert_eq!(hash.len(), 64);
        assert_eq!(hash, canonical_hash(QUOTE_SNAPSHOT_DOMAIN, &reordered));
        assert_ne!(hash, canonical_hash(QUOTE_SNAPSHOT_DOMAIN, &changed));
        assert_ne!(hash, canonical_hash("another/v1\n", &value));
    }
}
