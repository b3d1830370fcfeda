//! The configuration hash: a SHA-256 fingerprint of what a valid item configures, so a quote
//! snapshot, an order item and a re-validation can prove they speak of the same configuration.
//!
//! # Canonical encoding, version 1
//!
//! The hash is SHA-256 over a sequence of *atoms*, each written as a netstring
//! `<length>:<bytes>,` where `<length>` is the byte length of `<bytes>` in base-10 ASCII without
//! leading zeros. Length prefixes make the encoding unambiguous whatever bytes a name or value
//! contains. The atoms, in this order:
//!
//! 1. `cpq-configuration/v1` — the encoding version; any change to this list bumps it.
//! 2. offering id — lowercase hyphenated UUID.
//! 3. offering version — base-10 integer.
//! 4. quantity — base-10 integer.
//! 5. parent offering id — lowercase hyphenated UUID of the parent item's offering for an
//!    add-on, the empty atom `0:,` otherwise. The parent *item* id is not included (it is an
//!    identity, not configuration), nor the parent's version (the parent has its own hash).
//! 6. number of characteristics — base-10 integer.
//! 7. for each characteristic, ordered by name compared as UTF-8 bytes: the name, the value
//!    type's wire name (`STRING`, `INTEGER`, `DECIMAL`, `BOOLEAN`), and the value's canonical
//!    text ([`CharacteristicValue::canonical_text`]: strings verbatim, integers and normalised
//!    decimals in plain base-10, `true`/`false`).
//!
//! The characteristics are the *resolved* configuration: values the seller set plus the
//! defaults of characteristics left unset, so relying on a default and stating it explicitly
//! are the same configuration. The item id is never part of the hash, so two identical lines
//! share a hash.

use std::collections::BTreeMap;
use std::fmt;

use sha2::{Digest, Sha256};

use crate::model::OfferingId;
use crate::values::CharacteristicValue;

/// Tag of the canonical encoding; part of every hash so a future encoding cannot collide.
pub const ENCODING_VERSION: &str = "cpq-configuration/v1";

/// Everything a valid item configures, as it will be hashed and snapshotted. Characteristics
/// live in a `BTreeMap`, so iteration order is the canonical name order by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configuration {
    /// Offering configured.
    pub offering_id: OfferingId,
    /// Offering version configured.
    pub offering_version: i32,
    /// Number of instances.
    pub quantity: i64,
    /// Offering of the parent item, for add-ons.
    pub parent_offering_id: Option<OfferingId>,
    /// Resolved characteristic values (set values plus defaults).
    pub characteristics: BTreeMap<String, CharacteristicValue>,
}

impl Configuration {
    /// The canonical byte encoding described in the module documentation.
    pub fn canonical_encoding(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + 32 * self.characteristics.len());
        atom(&mut out, ENCODING_VERSION);
        atom(&mut out, &self.offering_id.to_string());
        atom(&mut out, &self.offering_version.to_string());
        atom(&mut out, &self.quantity.to_string());
        atom(
            &mut out,
            &self
                .parent_offering_id
                .map(|p| p.to_string())
                .unwrap_or_default(),
        );
        atom(&mut out, &self.characteristics.len().to_string());
        for (name, value) in &self.characteristics {
            atom(&mut out, name);
            atom(&mut out, value.value_type().as_str());
            atom(&mut out, &value.canonical_text());
        }
        out
    }

    /// SHA-256 of the canonical encoding.
    pub fn hash(&self) -> ConfigurationHash {
        ConfigurationHash(hex::encode(Sha256::digest(self.canonical_encoding())))
    }
}

fn atom(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(text.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(text.as_bytes());
    out.push(b',');
}

/// A configuration hash: 64 lowercase hex digits. Compared as text, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConfigurationHash(String);

impl ConfigurationHash {
    /// Reads a stored hash; `None` unless it is 64 lowercase hex digits, so a hash from
    /// storage compares equal exactly when it is the same hash.
    pub fn parse(value: &str) -> Option<Self> {
        (value.len() == 64
            && value
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| Self(value.to_owned()))
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConfigurationHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    fn sample() -> Configuration {
        Configuration {
            offering_id: "01900000-0000-7000-8000-000000000001".parse().unwrap(),
            offering_version: 3,
            quantity: 2,
            parent_offering_id: None,
            characteristics: BTreeMap::from([
                (
                    "bandwidthMbps".to_owned(),
                    CharacteristicValue::Integer(500),
                ),
                (
                    "ratio".to_owned(),
                    CharacteristicValue::decimal(Decimal::new(150, 2)),
                ),
                ("sla".to_owned(), CharacteristicValue::String("GOLD".into())),
                ("managed".to_owned(), CharacteristicValue::Boolean(true)),
            ]),
        }
    }

    /// The encoding is a contract with stored snapshots: this pins it byte for byte.
    #[test]
    fn the_encoding_is_pinned() {
        let expected = "20:cpq-configuration/v1,\
            36:01900000-0000-7000-8000-000000000001,\
            1:3,1:2,0:,1:4,\
            13:bandwidthMbps,7:INTEGER,3:500,\
            7:managed,7:BOOLEAN,4:true,\
            5:ratio,7:DECIMAL,3:1.5,\
            3:sla,6:STRING,4:GOLD,";
        assert_eq!(
            String::from_utf8(sample().canonical_encoding()).unwrap(),
            expected
        );
        assert_eq!(
            sample().hash().as_str(),
            hex::encode(Sha256::digest(expected.as_bytes()))
        );
    }

    #[test]
    fn every_part_changes_the_hash() {
        let base = sample().hash();
        let mut changed = Vec::new();
        let mut c = sample();
        c.offering_version = 4;
        changed.push(c);
        let mut c = sample();
        c.quantity = 3;
        changed.push(c);
        let mut c = sample();
        c.parent_offering_id = Some(c.offering_id);
        changed.push(c);
        let mut c = sample();
        c.characteristics
            .insert("sla".into(), CharacteristicValue::String("GOLD ".into()));
        changed.push(c);
        let mut c = sample();
        c.characteristics.remove("managed");
        changed.push(c);
        let mut c = sample();
        c.characteristics
            .insert("sla".into(), CharacteristicValue::Integer(0));
        changed.push(c);
        for c in changed {
            assert_ne!(c.hash(), base, "{c:?}");
        }
    }

    #[test]
    fn names_and_values_cannot_bleed_into_each_other() {
        let mut a = sample();
        a.characteristics =
            BTreeMap::from([("ab".into(), CharacteristicValue::String("c".into()))]);
        let mut b = sample();
        b.characteristics =
            BTreeMap::from([("a".into(), CharacteristicValue::String("bc".into()))]);
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn equal_decimals_hash_alike() {
        let mut a = sample();
        a.characteristics.insert(
            "ratio".into(),
            CharacteristicValue::Decimal(Decimal::new(15, 1)),
        );
        let mut b = sample();
        b.characteristics.insert(
            "ratio".into(),
            CharacteristicValue::Decimal(Decimal::new(1500, 3)),
        );
        assert_eq!(a.hash(), b.hash());
    }

    #[test]
    fn stored_hashes_are_read_strictly() {
        let h = sample().hash();
        assert_eq!(ConfigurationHash::parse(h.as_str()), Some(h.clone()));
        assert_eq!(ConfigurationHash::parse(&h.as_str().to_uppercase()), None);
        assert_eq!(ConfigurationHash::parse("abc"), None);
    }
}
