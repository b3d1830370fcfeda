//! A price-book version checked and indexed once, so pricing a quote looks each line's charges
//! up in constant time and can reuse the index across quotes (the service caches it per
//! immutable book version).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use domain_kernel::money::Currency;

use crate::amount::to_scale;
use crate::error::{PriceBookProblem, PricingError, PricingErrors};
use crate::model::{Charge, PriceBook, Pricing, Tier};

/// A validated price-book version with its charges indexed by (offering id, offering version).
#[derive(Debug, Clone)]
pub struct PreparedPriceBook {
    id: String,
    version: i32,
    currency: Currency,
    /// Charges sorted by offering id, offering version, kind; prices at the currency's scale.
    charges: Vec<Charge>,
    /// Offering id → (offering version, slice of `charges`). The key is shared with every
    /// priced line of the offering.
    index: HashMap<Arc<str>, Vec<(i32, Range<usize>)>>,
}

impl PreparedPriceBook {
    /// Validates every charge (non-negative prices in minor units, tiers contiguous from 1 with
    /// only the last open, one charge per kind and offering version) and builds the index.
    /// Returns every problem found, not just the first.
    pub fn new(book: PriceBook) -> Result<Self, PricingErrors> {
        let PriceBook {
            id,
            version,
            currency,
            mut charges,
        } = book;
        let scale = currency.minor_units();
        let mut errors = Vec::new();
        for charge in &mut charges {
            for problem in check_charge(charge, scale) {
                errors.push(PricingError::InvalidPriceBook {
                    offering_id: charge.offering_id.clone(),
                    offering_version: charge.offering_version,
                    charge: charge.kind,
                    problem,
                });
            }
        }
        charges.sort_by(|a, b| {
            (&a.offering_id, a.offering_version, a.kind).cmp(&(
                &b.offering_id,
                b.offering_version,
                b.kind,
            ))
        });
        for pair in charges.windows(2) {
            if let [a, b] = pair
                && a.offering_id == b.offering_id
                && a.offering_version == b.offering_version
                && a.kind == b.kind
            {
                errors.push(PricingError::InvalidPriceBook {
                    offering_id: b.offering_id.clone(),
                    offering_version: b.offering_version,
                    charge: b.kind,
                    problem: PriceBookProblem::DuplicateCharge,
                });
            }
        }
        if let Some(errors) = PricingErrors::from_vec(errors) {
            return Err(errors);
        }
        let mut index: HashMap<Arc<str>, Vec<(i32, Range<usize>)>> = HashMap::new();
        let mut start = 0;
        while start < charges.len() {
            let first = &charges[start];
            let end = charges[start..]
                .iter()
                .position(|c| {
                    c.offering_id != first.offering_id
                        || c.offering_version != first.offering_version
                })
                .map_or(charges.len(), |n| start + n);
            index
                .entry(Arc::from(first.offering_id.as_str()))
                .or_default()
                .push((first.offering_version, start..end));
            start = end;
        }
        Ok(Self {
            id,
            version,
            currency,
            charges,
            index,
        })
    }

    /// Price book id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Version number.
    pub fn version(&self) -> i32 {
        self.version
    }

    /// Currency of every charge.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The charges of one offering version, in [`crate::ChargeKind::ALL`] order; empty when the
    /// book does not price it.
    pub fn charges_for(&self, offering_id: &str, offering_version: i32) -> &[Charge] {
        self.lookup(offering_id, offering_version)
            .map_or(&[], |(_, charges)| charges)
    }

    /// The shared offering id and the charges of one offering version.
    pub(crate) fn lookup(
        &self,
        offering_id: &str,
        offering_version: i32,
    ) -> Option<(&Arc<str>, &[Charge])> {
        let (id, versions) = self.index.get_key_value(offering_id)?;
        let (_, range) = versions.iter().find(|(v, _)| *v == offering_version)?;
        Some((id, self.charges.get(range.clone())?))
    }
}

/// Problems of one charge; rescales its prices to the currency's scale when they are exact, so
/// equal prices trace identically whatever their written precision.
fn check_charge(charge: &mut Charge, scale: u32) -> Vec<PriceBookProblem> {
    let mut problems = Vec::new();
    if charge.offering_version < 1 {
        problems.push(PriceBookProblem::InvalidVersion);
    }
    match &mut charge.pricing {
        Pricing::Flat { unit_price } => check_price(unit_price, scale, &mut problems),
        Pricing::Tiered { tiers, .. } => {
            if tiers.is_empty() {
                problems.push(PriceBookProblem::NoTiers);
            }
            check_tiers(tiers, &mut problems);
            for tier in tiers.iter_mut() {
                check_price(&mut tier.unit_price, scale, &mut problems);
            }
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

fn check_price(
    price: &mut rust_decimal::Decimal,
    scale: u32,
    problems: &mut Vec<PriceBookProblem>,
) {
    if price.is_sign_negative() && !price.is_zero() {
        problems.push(PriceBookProblem::NegativePrice);
    } else if let Some(scaled) = to_scale(*price, scale) {
        *price = scaled;
    } else {
        problems.push(PriceBookProblem::TooPrecise);
    }
}

fn check_tiers(tiers: &[Tier], problems: &mut Vec<PriceBookProblem>) {
    let mut expected = Some(1u64);
    for (i, tier) in tiers.iter().enumerate() {
        let last = i + 1 == tiers.len();
        if expected != Some(tier.from_quantity) {
            problems.push(PriceBookProblem::TiersNotContiguous);
        }
        match tier.to_quantity {
            None if !last => problems.push(PriceBookProblem::OpenTierNotLast),
            Some(_) if last => problems.push(PriceBookProblem::OpenTierNotLast),
            Some(to) if to < tier.from_quantity => {
                problems.push(PriceBookProblem::TiersNotContiguous);
            }
            _ => {}
        }
        expected = tier.to_quantity.and_then(|to| to.checked_add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChargeKind, Period, TierMode};
    use rust_decimal::Decimal;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn flat(offering: &str, version: i32, kind: ChargeKind, price: &str) -> Charge {
        Charge {
            offering_id: offering.into(),
            offering_version: version,
            kind,
            pricing: Pricing::Flat {
                unit_price: dec(price),
            },
        }
    }

    fn book(charges: Vec<Charge>) -> PriceBook {
        PriceBook {
            id: "pb".into(),
            version: 1,
            currency: Currency::parse("USD").unwrap(),
            charges,
        }
    }

    #[test]
    fn charges_are_indexed_by_offering_version_in_kind_order() {
        let monthly = ChargeKind::Recurring(Period::Month);
        let prepared = PreparedPriceBook::new(book(vec![
            flat("a", 1, monthly, "5"),
            flat("b", 1, ChargeKind::OneTime, "1"),
            flat("a", 1, ChargeKind::OneTime, "10.5"),
            flat("a", 2, ChargeKind::OneTime, "11"),
        ]))
        .unwrap();
        let kinds: Vec<_> = prepared
            .charges_for("a", 1)
            .iter()
            .map(|c| c.kind)
            .collect();
        assert_eq!(kinds, [ChargeKind::OneTime, monthly]);
        assert_eq!(
            prepared.charges_for("a", 1)[0].pricing,
            Pricing::Flat {
                unit_price: dec("10.50")
            }
        );
        assert_eq!(prepared.charges_for("a", 2).len(), 1);
        assert!(prepared.charges_for("a", 3).is_empty());
        assert!(prepared.charges_for("c", 1).is_empty());
    }

    #[test]
    fn every_problem_is_reported() {
        let tiered = |tiers: Vec<Tier>| Charge {
            offering_id: "t".into(),
            offering_version: 1,
            kind: ChargeKind::OneTime,
            pricing: Pricing::Tiered {
                mode: TierMode::Range,
                tiers,
            },
        };
        let tier = |from, to, price: &str| Tier {
            from_quantity: from,
            to_quantity: to,
            unit_price: dec(price),
        };
        let errors = PreparedPriceBook::new(book(vec![
            flat("a", 0, ChargeKind::OneTime, "1"),
            flat("b", 1, ChargeKind::OneTime, "-1"),
            flat("c", 1, ChargeKind::OneTime, "1.001"),
            flat("c", 1, ChargeKind::OneTime, "1"),
            tiered(vec![tier(2, Some(5), "1"), tier(6, None, "1")]),
        ]))
        .unwrap_err();
        let problems: Vec<_> = errors
            .errors()
            .iter()
            .map(|e| match e {
                PricingError::InvalidPriceBook { problem, .. } => problem.as_str(),
                other => other.code(),
            })
            .collect();
        assert_eq!(
            problems,
            [
                "INVALID_VERSION",
                "NEGATIVE_PRICE",
                "TOO_PRECISE",
                "TIERS_NOT_CONTIGUOUS",
                "DUPLICATE_CHARGE"
            ]
        );
        let errors = PreparedPriceBook::new(book(vec![
            tiered(vec![]),
            tiered(vec![tier(1, None, "1"), tier(2, Some(3), "1")]),
        ]))
        .unwrap_err();
        let problems: Vec<_> = errors
            .errors()
            .iter()
            .map(|e| match e {
                PricingError::InvalidPriceBook { problem, .. } => problem.as_str(),
                other => other.code(),
            })
            .collect();
        assert_eq!(
            problems,
            [
                "NO_TIERS",
                "TIERS_NOT_CONTIGUOUS",
                "OPEN_TIER_NOT_LAST",
                "DUPLICATE_CHARGE"
            ],
            "{errors}"
        );
    }
}
