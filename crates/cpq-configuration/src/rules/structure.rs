//! Rules about the shape of the quote rather than any one offering: item ids, quantities,
//! parent links, and whether each item's offering version exists and may be sold. Also builds
//! the [`QuoteIndex`] every later rule reads, in one pass over the items.

use std::collections::HashMap;

use serde_json::json;

use super::Findings;
use crate::catalog::{IndexedOffering, OfferingCatalog};
use crate::model::{ItemId, OfferingId, QuoteItem};
use crate::violation::{ViolationCode as Code, path};

/// Most item ids listed in a cycle's details; longer cycles are summarised by their length.
const MAX_CYCLE_DETAIL: usize = 10;

/// Facts about the whole quote, computed once so relationship rules count instead of
/// scanning items (validation stays linear in the number of items).
#[derive(Debug)]
pub(crate) struct QuoteIndex<'a> {
    /// Position of each item's parent, when it names an existing item (the first holder of
    /// the id if ids repeat).
    pub(crate) parent: Vec<Option<usize>>,
    /// Whether following parents from the item returns to it.
    pub(crate) in_cycle: Vec<bool>,
    /// The snapshot each item was quoted from, when supplied.
    pub(crate) offering: Vec<Option<&'a IndexedOffering>>,
    /// Instances (sum of positive quantities) per offering, any version.
    pub(crate) instances_by_offering: HashMap<OfferingId, u64>,
    /// Instances per (offering, version).
    pub(crate) instances_by_version: HashMap<(OfferingId, i32), u64>,
    /// First item of each offering present in the quote (whatever its quantity).
    pub(crate) first_item_of_offering: HashMap<OfferingId, usize>,
}

/// The number of instances an item contributes to counts: its quantity when positive.
pub(crate) fn instances(quantity: i64) -> u64 {
    u64::try_from(quantity).unwrap_or(0)
}

/// Checks ids, quantities, parents and offering lookups, and indexes the quote.
pub(crate) fn check<'a>(
    catalog: &'a OfferingCatalog,
    items: &'a [QuoteItem],
    findings: &mut Findings<'_>,
) -> QuoteIndex<'a> {
    if items.is_empty() {
        findings.quote(
            Code::NoItems,
            "/items".to_owned(),
            "a quote needs at least one item",
            json!({ "minItems": 1 }),
        );
    }
    let mut first_by_id: HashMap<&ItemId, usize> = HashMap::with_capacity(items.len());
    let mut id_count: HashMap<&ItemId, usize> = HashMap::with_capacity(items.len());
    let mut instances_by_offering = HashMap::new();
    let mut instances_by_version = HashMap::new();
    let mut first_item_of_offering = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        first_by_id.entry(&item.id).or_insert(i);
        *id_count.entry(&item.id).or_insert(0) += 1;
        let n = instances(item.quantity);
        let total: &mut u64 = instances_by_offering.entry(item.offering_id).or_insert(0);
        *total = total.saturating_add(n);
        let total: &mut u64 = instances_by_version
            .entry((item.offering_id, item.offering_version))
            .or_insert(0);
        *total = total.saturating_add(n);
        first_item_of_offering.entry(item.offering_id).or_insert(i);
    }

    let mut parent = Vec::with_capacity(items.len());
    let mut offering = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let count = id_count.get(&item.id).copied().unwrap_or(1);
        if count > 1 {
            findings.item(
                i,
                Code::DuplicateItemId,
                path::item_field(i, "id"),
                format!("item id '{}' is used by {count} items", item.id),
                json!({ "itemId": item.id.as_str(), "occurrences": count }),
            );
        }
        if item.quantity < 1 {
            findings.item(
                i,
                Code::QuantityInvalid,
                path::item_field(i, "quantity"),
                "quantity must be at least 1",
                json!({ "min": 1, "actual": item.quantity }),
            );
        }
        parent.push(item.parent_id.as_ref().and_then(|parent_id| {
            let found = first_by_id.get(parent_id).copied();
            if found.is_none() {
                findings.item(
                    i,
                    Code::ParentNotFound,
                    path::item_field(i, "parentId"),
                    format!("parent item '{parent_id}' is not in the quote"),
                    json!({ "parentId": parent_id.as_str() }),
                );
            }
            found
        }));
        offering.push(lookup(catalog, item, i, findings));
    }

    let in_cycle = report_cycles(items, &parent, findings);
    QuoteIndex {
        parent,
        in_cycle,
        offering,
        instances_by_offering,
        instances_by_version,
        first_item_of_offering,
    }
}

fn lookup<'a>(
    catalog: &'a OfferingCatalog,
    item: &QuoteItem,
    i: usize,
    findings: &mut Findings<'_>,
) -> Option<&'a IndexedOffering> {
    let found = catalog.indexed(item.offering_id, item.offering_version);
    match found {
        None => findings.item(
            i,
            Code::OfferingNotFound,
            path::item_field(i, "offeringVersion"),
            format!(
                "offering {} version {} is unknown",
                item.offering_id, item.offering_version
            ),
            json!({
                "offeringId": item.offering_id.to_string(),
                "offeringVersion": item.offering_version,
            }),
        ),
        Some(o) if !o.snapshot.status.is_sellable() => findings.item(
            i,
            Code::OfferingNotSellable,
            path::item_field(i, "offeringVersion"),
            format!(
                "offering {} version {} is {} and cannot be sold new",
                item.offering_id, item.offering_version, o.snapshot.status
            ),
            json!({
                "offeringId": item.offering_id.to_string(),
                "offeringVersion": item.offering_version,
                "expected": "PUBLISHED",
                "actual": o.snapshot.status.as_str(),
            }),
        ),
        Some(_) => {}
    }
    found
}

/// Finds every parent cycle (each item has at most one parent, so the links form a functional
/// graph and one walk per item, never revisiting, finds them all) and reports each member.
fn report_cycles(
    items: &[QuoteItem],
    parent: &[Option<usize>],
    findings: &mut Findings<'_>,
) -> Vec<bool> {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let n = parent.len();
    let mut state = vec![NEW; n];
    let mut position = vec![0usize; n];
    let mut in_cycle = vec![false; n];
    let mut walk = Vec::new();
    for start in 0..n {
        walk.clear();
        let mut current = Some(start);
        while let Some(c) = current {
            match state.get(c).copied() {
                Some(NEW) => {
                    state[c] = ON_PATH;
                    position[c] = walk.len();
                    walk.push(c);
                    current = parent.get(c).copied().flatten();
                }
                Some(ON_PATH) => {
                    let cycle = walk.get(position[c]..).unwrap_or_default();
                    for (k, &member) in cycle.iter().enumerate() {
                        in_cycle[member] = true;
                        let rotated: Vec<&str> = cycle
                            .iter()
                            .cycle()
                            .skip(k)
                            .take(cycle.len().min(MAX_CYCLE_DETAIL))
                            .filter_map(|&m| items.get(m).map(|it| it.id.as_str()))
                            .collect();
                        findings.item(
                            member,
                            Code::ParentCycle,
                            path::item_field(member, "parentId"),
                            if cycle.len() == 1 {
                                "an item cannot be its own parent".to_owned()
                            } else {
                                format!("parent links form a cycle of {} items", cycle.len())
                            },
                            json!({ "cycle": rotated, "cycleLength": cycle.len() }),
                        );
                    }
                    break;
                }
                _ => break,
            }
        }
        for &w in &walk {
            state[w] = DONE;
        }
    }
    in_cycle
}
