//! The entry point: validates every item of a quote against the offering versions it was
//! quoted from and reports every violation, so a seller fixes a quote in one round trip.

use std::collections::BTreeMap;
use std::fmt;

use crate::catalog::OfferingCatalog;
use crate::config_state::ConfigurationCommand;
use crate::hash::{Configuration, ConfigurationHash};
use crate::model::{ItemId, QuoteItem};
use crate::rules::{self, Findings};
use crate::violation::Violation;

/// Outcome status of one item; drives the item's configuration state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemStatus {
    /// No rule is broken.
    Valid,
    /// At least one rule is broken.
    Invalid,
}

impl ItemStatus {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "VALID",
            Self::Invalid => "INVALID",
        }
    }

    /// The configuration command this outcome feeds to the item's state machine.
    pub fn command(self) -> ConfigurationCommand {
        match self {
            Self::Valid => ConfigurationCommand::ValidatePassed,
            Self::Invalid => ConfigurationCommand::ValidateFailed,
        }
    }
}

impl fmt::Display for ItemStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A valid item's configuration and its hash; exists only for valid items, so a hash can never
/// be taken from an invalid one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidConfiguration {
    /// What the item configures, resolved (defaults applied): the configuration snapshot.
    pub configuration: Configuration,
    /// Hash of `configuration`.
    pub hash: ConfigurationHash,
}

/// Result for one item: valid with its configuration, or invalid with every violation.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemResult {
    /// Every rule holds.
    Valid(ValidConfiguration),
    /// The broken rules, ordered by path then code.
    Invalid(Vec<Violation>),
}

/// One item's outcome, in the position the item had in the input.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemOutcome {
    /// The item's id as given.
    pub item_id: ItemId,
    /// Valid configuration or violations.
    pub result: ItemResult,
}

impl ItemOutcome {
    /// VALID or INVALID.
    pub fn status(&self) -> ItemStatus {
        match self.result {
            ItemResult::Valid(_) => ItemStatus::Valid,
            ItemResult::Invalid(_) => ItemStatus::Invalid,
        }
    }

    /// The hash, for valid items.
    pub fn hash(&self) -> Option<&ConfigurationHash> {
        match &self.result {
            ItemResult::Valid(valid) => Some(&valid.hash),
            ItemResult::Invalid(_) => None,
        }
    }

    /// The violations (empty for valid items).
    pub fn violations(&self) -> &[Violation] {
        match &self.result {
            ItemResult::Valid(_) => &[],
            ItemResult::Invalid(violations) => violations,
        }
    }
}

/// Everything the engine found about a quote.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationReport {
    /// Violations of the quote as a whole (for example: no items).
    pub quote_violations: Vec<Violation>,
    /// One outcome per item, in input order.
    pub items: Vec<ItemOutcome>,
}

impl ValidationReport {
    /// Whether the quote may move on to CONFIGURED: no violation anywhere.
    pub fn is_valid(&self) -> bool {
        self.quote_violations.is_empty()
            && self.items.iter().all(|i| i.status() == ItemStatus::Valid)
    }

    /// Every violation: quote-level first, then per item in input order.
    pub fn violations(&self) -> impl Iterator<Item = &Violation> {
        self.quote_violations
            .iter()
            .chain(self.items.iter().flat_map(ItemOutcome::violations))
    }
}

/// Validates every item of a quote against `catalog` and reports every violation. Linear in
/// the number of items (times the rules and characteristics of each item's offering).
pub fn validate_quote(catalog: &OfferingCatalog, items: &[QuoteItem]) -> ValidationReport {
    let mut findings = Findings::new(items);
    let index = rules::structure::check(catalog, items, &mut findings);
    let mut resolved: Vec<BTreeMap<_, _>> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        resolved.push(match index.offering.get(i).copied().flatten() {
            Some(offering) => rules::characteristics::check(offering, item, i, &mut findings),
            None => BTreeMap::new(),
        });
    }
    rules::relationships::check(items, &index, &mut findings);

    let Findings {
        per_item, quote, ..
    } = findings;
    let outcomes = items
        .iter()
        .zip(per_item)
        .zip(resolved)
        .enumerate()
        .map(|(i, ((item, mut violations), characteristics))| {
            let result = if violations.is_empty() {
                let configuration = Configuration {
                    offering_id: item.offering_id,
                    offering_version: item.offering_version,
                    quantity: item.quantity,
                    parent_offering_id: index
                        .parent
                        .get(i)
                        .copied()
                        .flatten()
                        .and_then(|p| items.get(p))
                        .map(|parent| parent.offering_id),
                    characteristics,
                };
                let hash = configuration.hash();
                ItemResult::Valid(ValidConfiguration {
                    configuration,
                    hash,
                })
            } else {
                violations.sort_by(|a, b| (&a.path, a.code).cmp(&(&b.path, b.code)));
                ItemResult::Invalid(violations)
            };
            ItemOutcome {
                item_id: item.id.clone(),
                result,
            }
        })
        .collect();
    ValidationReport {
        quote_violations: quote,
        items: outcomes,
    }
}
