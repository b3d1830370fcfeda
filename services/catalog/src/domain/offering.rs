//! The content of an offering version — name, description, specification, relationship
//! rules to other offerings and the fulfilment profile — and the rules it must satisfy.

use std::collections::HashSet;

use super::ProductOfferingId;
use super::fulfilment::{FulfilmentProfile, FulfilmentProfileInput, validate_profile};
use super::violation::{Violations, check_text};

/// Most relationships one offering version may declare.
pub const MAX_RELATIONSHIPS: usize = 50;

/// How an offering relates to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelationshipType {
    /// A quote containing this offering must also contain the target.
    Requires,
    /// A quote must not contain both.
    Excludes,
    /// This offering is sold only as an add-on of the target.
    AddOnOf,
}

impl RelationshipType {
    /// Wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requires => "REQUIRES",
            Self::Excludes => "EXCLUDES",
            Self::AddOnOf => "ADD_ON_OF",
        }
    }

    /// Parses the wire and storage name.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Requires, Self::Excludes, Self::AddOnOf]
            .into_iter()
            .find(|t| t.as_str() == value)
    }
}

/// A validated relationship rule with its cardinality (how many of the target per instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relationship {
    /// Kind of rule.
    pub relationship_type: RelationshipType,
    /// The other offering.
    pub target: ProductOfferingId,
    /// Fewest target instances.
    pub min_cardinality: u32,
    /// Most target instances; `None` is unbounded.
    pub max_cardinality: Option<u32>,
}

/// A relationship as submitted.
#[derive(Debug, Clone)]
pub struct RelationshipInput {
    /// Type name.
    pub relationship_type: String,
    /// Target offering.
    pub target: ProductOfferingId,
    /// Fewest.
    pub min_cardinality: u32,
    /// Most.
    pub max_cardinality: Option<u32>,
}

/// Validated content of an offering version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferingContent {
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Relationship rules.
    pub relationships: Vec<Relationship>,
    /// What it takes to fulfil the offering; `None` for versions without one.
    pub fulfilment_profile: Option<FulfilmentProfile>,
}

/// Validates name, description, relationships and fulfilment profile of offering `owner`.
pub fn validate_content(
    violations: &mut Violations,
    owner: ProductOfferingId,
    name: &str,
    description: Option<&str>,
    relationships: &[RelationshipInput],
    fulfilment_profile: Option<&FulfilmentProfileInput>,
) -> OfferingContent {
    check_text(violations, "/name", name, 200, false);
    if let Some(description) = description {
        check_text(violations, "/description", description, 4000, true);
    }
    let relationships = validate_relationships(violations, owner, relationships);
    let fulfilment_profile =
        fulfilment_profile.map(|p| validate_profile(violations, "/fulfilmentProfile", p));
    OfferingContent {
        name: name.trim().to_owned(),
        description: description.map(|d| d.trim().to_owned()),
        relationships,
        fulfilment_profile,
    }
}

fn validate_relationships(
    violations: &mut Violations,
    owner: ProductOfferingId,
    inputs: &[RelationshipInput],
) -> Vec<Relationship> {
    if inputs.len() > MAX_RELATIONSHIPS {
        violations.push(
            "/relationships",
            "TOO_MANY",
            format!("at most {MAX_RELATIONSHIPS} relationships"),
        );
        return Vec::new();
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let at = format!("/relationships/{i}");
        let Some(relationship_type) = RelationshipType::parse(&input.relationship_type) else {
            violations.push(
                format!("{at}/type"),
                "NOT_ALLOWED",
                "must be REQUIRES, EXCLUDES or ADD_ON_OF",
            );
            continue;
        };
        if input.target == owner {
            violations.push(
                format!("{at}/targetOfferingId"),
                "SELF_REFERENCE",
                "an offering cannot relate to itself",
            );
        }
        if !seen.insert((relationship_type, input.target)) {
            violations.push(at.clone(), "DUPLICATE", "the same rule is declared twice");
        }
        match input.max_cardinality {
            Some(0) => violations.push(
                format!("{at}/maxCardinality"),
                "OUT_OF_RANGE",
                "must be at least 1",
            ),
            Some(max) if max < input.min_cardinality => {
                violations.push(
                    format!("{at}/maxCardinality"),
                    "OUT_OF_RANGE",
                    "must not be below minCardinality",
                );
            }
            _ => {}
        }
        out.push(Relationship {
            relationship_type,
            target: input.target,
            min_cardinality: input.min_cardinality,
            max_cardinality: input.max_cardinality,
        });
    }
    let requires: HashSet<_> = out
        .iter()
        .filter(|r| r.relationship_type == RelationshipType::Requires)
        .map(|r| r.target)
        .collect();
    for (i, r) in out.iter().enumerate() {
        if r.relationship_type == RelationshipType::Excludes && requires.contains(&r.target) {
            violations.push(
                format!("/relationships/{i}"),
                "CONTRADICTION",
                "an offering cannot both require and exclude the same target",
            );
        }
    }
    out.sort_by_key(|r| (r.relationship_type, r.target));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(kind: &str, target: ProductOfferingId, min: u32, max: Option<u32>) -> RelationshipInput {
        RelationshipInput {
            relationship_type: kind.into(),
            target,
            min_cardinality: min,
            max_cardinality: max,
        }
    }

    #[test]
    fn valid_content_passes_and_is_normalised() {
        let owner = ProductOfferingId::generate();
        let internet = ProductOfferingId::generate();
        let mut v = Violations::new();
        let content = validate_content(
            &mut v,
            owner,
            " Static IP ",
            None,
            &[
                rel("ADD_ON_OF", internet, 0, Some(1)),
                rel("REQUIRES", internet, 1, Some(1)),
            ],
            None,
        );
        assert!(v.is_empty(), "{v:?}");
        assert_eq!(content.name, "Static IP");
        assert_eq!(
            content.relationships[0].relationship_type,
            RelationshipType::Requires,
            "sorted canonically"
        );
    }

    #[test]
    fn contradictions_self_references_and_cardinality_are_refused() {
        let owner = ProductOfferingId::generate();
        let other = ProductOfferingId::generate();
        let mut v = Violations::new();
        validate_content(
            &mut v,
            owner,
            "X",
            None,
            &[
                rel("REQUIRES", other, 1, None),
                rel("EXCLUDES", other, 0, None),
                rel("REQUIRES", owner, 0, Some(0)),
                rel("DEPENDS", other, 0, None),
                rel("ADD_ON_OF", other, 3, Some(2)),
            ],
            None,
        );
        let codes: Vec<&str> = v.into_vec().into_iter().map(|x| x.code).collect();
        for expected in [
            "SELF_REFERENCE",
            "OUT_OF_RANGE",
            "NOT_ALLOWED",
            "CONTRADICTION",
        ] {
            assert!(
                codes.contains(&expected),
                "{expected} missing from {codes:?}"
            );
        }
        assert_eq!(codes.iter().filter(|c| **c == "OUT_OF_RANGE").count(), 2);
    }
}
