//! Wire names of [`ApprovalLevel`] for the evaluation's serde form. `domain-kernel` keeps its
//! level free of serde; these helpers use its own `as_str` names (`MANAGER`, `DIRECTOR`,
//! `FINANCE`), which are also the names the DMN table outputs.

use domain_kernel::access::ApprovalLevel;
use serde::{Deserialize, Deserializer, Serializer};

/// Every level, in chain order (the order approvals are collected in).
pub(crate) const CHAIN_ORDER: [ApprovalLevel; 3] = [
    ApprovalLevel::Manager,
    ApprovalLevel::Director,
    ApprovalLevel::Finance,
];

/// Reads a wire name (as the table writes it).
pub(crate) fn parse(name: &str) -> Option<ApprovalLevel> {
    CHAIN_ORDER.into_iter().find(|l| l.as_str() == name)
}

/// Serde for one level.
pub(crate) mod one {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(level: &ApprovalLevel, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(level.as_str())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ApprovalLevel, D::Error> {
        let name = String::deserialize(d)?;
        parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown approval level {name}")))
    }
}

/// Serde for a list of levels.
pub(crate) mod many {
    use super::*;
    use serde::ser::SerializeSeq;

    pub(crate) fn serialize<S: Serializer>(
        levels: &[ApprovalLevel],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(levels.len()))?;
        for level in levels {
            seq.serialize_element(level.as_str())?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<ApprovalLevel>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|name| {
                parse(name).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown approval level {name}"))
                })
            })
            .collect()
    }
}
