//! Rules between items, from the relationship rules of each item's offering version:
//! REQUIRES, EXCLUDES and ADD_ON_OF with their cardinalities. Every rule works from counts in
//! the [`QuoteIndex`], so the cost is items × rules per item, never items × items.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{Value, json};

use super::{Findings, QuoteIndex, structure::instances};
use crate::model::{OfferingId, QuoteItem, Relationship, RelationshipType};
use crate::violation::{ViolationCode as Code, path};

/// Runs the three relationship rule families.
pub(crate) fn check(items: &[QuoteItem], index: &QuoteIndex<'_>, findings: &mut Findings<'_>) {
    requires(items, index, findings);
    excludes(items, index, findings);
    add_ons(items, index, findings);
}

fn rules_of<'a>(
    index: &QuoteIndex<'a>,
    i: usize,
    kind: RelationshipType,
) -> impl Iterator<Item = &'a Relationship> {
    index
        .offering
        .get(i)
        .copied()
        .flatten()
        .into_iter()
        .flat_map(|o| o.snapshot.relationships.iter())
        .filter(move |r| r.relationship_type == kind)
}

fn bounds(rule: &Relationship, per: u64) -> (u64, Option<u64>) {
    (
        u64::from(rule.min_cardinality).saturating_mul(per),
        rule.max_cardinality
            .map(|max| u64::from(max).saturating_mul(per)),
    )
}

fn cardinality_details(rule: &Relationship, per: u64, actual: u64) -> Value {
    let (min, max) = bounds(rule, per);
    json!({
        "relationship": rule.relationship_type.as_str(),
        "targetOfferingId": rule.target.to_string(),
        "minCardinality": rule.min_cardinality,
        "maxCardinality": rule.max_cardinality,
        "perInstances": per,
        "expectedMin": min,
        "expectedMax": max,
        "actual": actual,
    })
}

/// REQUIRES A→B (min, max): the quote must contain at least one B instance, and — the catalog's
/// cardinality being "target instances per instance" — at least `min × n` and at most
/// `max × n` B instances, where n is the instance count of A at this version and B instances
/// are counted over all versions of B. Reported on every item of A.
fn requires(items: &[QuoteItem], index: &QuoteIndex<'_>, findings: &mut Findings<'_>) {
    for (i, item) in items.iter().enumerate() {
        let own = index
            .instances_by_version
            .get(&(item.offering_id, item.offering_version))
            .copied()
            .unwrap_or(0);
        for rule in rules_of(index, i, RelationshipType::Requires) {
            let present = index
                .instances_by_offering
                .get(&rule.target)
                .copied()
                .unwrap_or(0);
            let (min, max) = bounds(rule, own);
            if present == 0 {
                let mut details = cardinality_details(rule, own, present);
                details["expectedMin"] = json!(min.max(1));
                findings.item(
                    i,
                    Code::RequiresMissing,
                    path::item_field(i, "offeringId"),
                    format!(
                        "offering {} requires offering {} in the quote",
                        item.offering_id, rule.target
                    ),
                    details,
                );
            } else if own > 0 && present < min {
                findings.item(
                    i,
                    Code::CardinalityBelowMin,
                    path::item_field(i, "offeringId"),
                    format!(
                        "{own} instance(s) of offering {} require at least {min} of offering {}, the quote has {present}",
                        item.offering_id, rule.target
                    ),
                    cardinality_details(rule, own, present),
                );
            }
            if let Some(max) = max
                && own > 0
                && present > max
            {
                findings.item(
                    i,
                    Code::CardinalityExceeded,
                    path::item_field(i, "offeringId"),
                    format!(
                        "{own} instance(s) of offering {} allow at most {max} of offering {}, the quote has {present}",
                        item.offering_id, rule.target
                    ),
                    cardinality_details(rule, own, present),
                );
            }
        }
    }
}

/// EXCLUDES A→B: when both offerings are in the quote, every item of A and every item of B is
/// reported (neither side is "the wrong one", and order of items must not decide), once per
/// excluded partner however many versions declare the rule. Cardinalities do not apply.
fn excludes(items: &[QuoteItem], index: &QuoteIndex<'_>, findings: &mut Findings<'_>) {
    let mut conflicts: HashMap<OfferingId, BTreeSet<OfferingId>> = HashMap::new();
    let mut versions_seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        if !versions_seen.insert((item.offering_id, item.offering_version)) {
            continue;
        }
        for rule in rules_of(index, i, RelationshipType::Excludes) {
            if rule.target != item.offering_id
                && index.first_item_of_offering.contains_key(&rule.target)
            {
                conflicts
                    .entry(item.offering_id)
                    .or_default()
                    .insert(rule.target);
                conflicts
                    .entry(rule.target)
                    .or_default()
                    .insert(item.offering_id);
            }
        }
    }
    if conflicts.is_empty() {
        return;
    }
    for (i, item) in items.iter().enumerate() {
        let Some(partners) = conflicts.get(&item.offering_id) else {
            continue;
        };
        for partner in partners {
            let other = index
                .first_item_of_offering
                .get(partner)
                .and_then(|&j| items.get(j))
                .map(|other| other.id.as_str());
            findings.item(
                i,
                Code::ExcludedCombination,
                path::item_field(i, "offeringId"),
                format!(
                    "offerings {} and {partner} exclude each other",
                    item.offering_id
                ),
                json!({
                    "offeringId": item.offering_id.to_string(),
                    "excludedOfferingId": partner.to_string(),
                    "conflictingItemId": other,
                }),
            );
        }
    }
}

/// ADD_ON_OF A→B: an item of A needs a parent item of offering B (any of A's ADD_ON_OF targets
/// will do); an item with a parent whose offering is not an add-on is refused. Cardinality is
/// counted per parent: the A instances attached to one parent item (all versions of A, summing
/// quantities) must lie within `min × q` and `max × q`, q being the parent's quantity; each
/// attached item checks its own version's bounds and is reported itself.
fn add_ons(items: &[QuoteItem], index: &QuoteIndex<'_>, findings: &mut Findings<'_>) {
    let mut attached: HashMap<(usize, OfferingId), u64> = HashMap::new();
    let mut matched: Vec<(usize, usize, &Relationship)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if index.offering.get(i).copied().flatten().is_none() {
            continue;
        }
        let usable_parent = index
            .parent
            .get(i)
            .copied()
            .flatten()
            .filter(|_| !index.in_cycle.get(i).copied().unwrap_or(false));
        let mut rules = rules_of(index, i, RelationshipType::AddOnOf).peekable();
        if rules.peek().is_none() {
            if let Some(p) = usable_parent {
                findings.item(
                    i,
                    Code::ParentNotAllowed,
                    path::item_field(i, "parentId"),
                    format!(
                        "offering {} is not an add-on, so the item cannot have a parent",
                        item.offering_id
                    ),
                    json!({
                        "parentId": items.get(p).map(|parent| parent.id.as_str()),
                    }),
                );
            }
            continue;
        }
        let rules: Vec<&Relationship> = rules.collect();
        let targets = || -> Vec<String> { rules.iter().map(|r| r.target.to_string()).collect() };
        if item.parent_id.is_none() {
            findings.item(
                i,
                Code::AddOnWithoutParent,
                path::item_field(i, "parentId"),
                format!(
                    "offering {} is sold only as an add-on and needs a parent item",
                    item.offering_id
                ),
                json!({ "expectedParentOfferingIds": targets() }),
            );
            continue;
        }
        let Some((p, parent)) = usable_parent.and_then(|p| items.get(p).map(|it| (p, it))) else {
            continue;
        };
        match rules.iter().find(|r| r.target == parent.offering_id) {
            None => findings.item(
                i,
                Code::AddOnParentMismatch,
                path::item_field(i, "parentId"),
                format!(
                    "offering {} is not an add-on of offering {}",
                    item.offering_id, parent.offering_id
                ),
                json!({
                    "expectedParentOfferingIds": targets(),
                    "actual": parent.offering_id.to_string(),
                }),
            ),
            Some(rule) => {
                let total = attached.entry((p, item.offering_id)).or_insert(0);
                *total = total.saturating_add(instances(item.quantity));
                matched.push((i, p, rule));
            }
        }
    }

    for (i, p, rule) in matched {
        let (Some(item), Some(parent)) = (items.get(i), items.get(p)) else {
            continue;
        };
        let per = instances(parent.quantity);
        if per == 0 {
            continue;
        }
        let count = attached.get(&(p, item.offering_id)).copied().unwrap_or(0);
        let (min, max) = bounds(rule, per);
        if count < min {
            findings.item(
                i,
                Code::CardinalityBelowMin,
                path::item_field(i, "quantity"),
                format!(
                    "parent item '{}' needs at least {min} instance(s) of add-on offering {}, it has {count}",
                    parent.id, item.offering_id
                ),
                cardinality_details(rule, per, count),
            );
        }
        if let Some(max) = max
            && count > max
        {
            findings.item(
                i,
                Code::CardinalityExceeded,
                path::item_field(i, "quantity"),
                format!(
                    "parent item '{}' allows at most {max} instance(s) of add-on offering {}, it has {count}",
                    parent.id, item.offering_id
                ),
                cardinality_details(rule, per, count),
            );
        }
    }
}
