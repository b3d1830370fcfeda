//! The price-ladder check: refuses a price-book version whose volume tiers punish buying more.
//!
//! # Rule
//!
//! For every tiered charge and every tier boundary `b` (the last quantity of a tier, so `b + 1`
//! is the first quantity of the next), with `total(q)` the list amount of `q` units:
//!
//! * **`TOTAL_DECREASES_AT_BOUNDARY`** — `total(b + 1) < total(b)`: a ladder inversion. Buyers of
//!   some quantities in the lower tier would pay less by buying more, so they either pad their
//!   orders or feel cheated. Only RANGE tiers can invert (every unit costs `p(next) ≥ 0` more
//!   under SLAB). Within a tier `total` grows linearly, so `total` is non-decreasing over all
//!   quantities exactly when it is at every boundary; checking the boundaries (O(tiers)) is
//!   enough. The finding names the first lower-tier quantity that costs more than `b + 1`
//!   units (`dominatedFrom`). An equal total (`total(b + 1) = total(b)`) is allowed: the extra
//!   unit is free, which is a promotion, not a penalty.
//! * **`UNIT_PRICE_INCREASES_WITH_VOLUME`** — the next tier's unit price is higher than this
//!   tier's (RANGE or SLAB): buying more costs more per unit. Volume tiers exist to reward
//!   volume; a rising unit price is almost always a data-entry slip (overage pricing is not
//!   modelled with volume tiers).
//! * **`AMOUNT_OVERFLOW`** — the boundary total does not fit in a decimal, so it cannot be
//!   judged.
//!
//! Flat charges always pass. Every finding is returned, in book order then boundary order.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{ChargeKind, PriceBook, Pricing, TierMode};

/// Why a tier boundary is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LadderReason {
    /// Buying one more unit past the boundary lowers the total.
    #[serde(rename = "TOTAL_DECREASES_AT_BOUNDARY")]
    TotalDecreases,
    /// The next tier's unit price is higher.
    #[serde(rename = "UNIT_PRICE_INCREASES_WITH_VOLUME")]
    UnitPriceIncreases,
    /// The totals could not be computed.
    #[serde(rename = "AMOUNT_OVERFLOW")]
    Overflow,
}

impl LadderReason {
    /// Stable machine code.
    pub fn code(self) -> &'static str {
        match self {
            Self::TotalDecreases => "TOTAL_DECREASES_AT_BOUNDARY",
            Self::UnitPriceIncreases => "UNIT_PRICE_INCREASES_WITH_VOLUME",
            Self::Overflow => "AMOUNT_OVERFLOW",
        }
    }
}

impl fmt::Display for LadderReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One offending tier boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LadderFinding {
    /// Offering of the charge.
    pub offering_id: String,
    /// Its version.
    pub offering_version: i32,
    /// The charge.
    pub charge: ChargeKind,
    /// RANGE or SLAB.
    pub mode: TierMode,
    /// Position (0-based) of the tier below the boundary.
    pub tier: u32,
    /// Last quantity of that tier.
    pub boundary: u64,
    /// Why it is refused.
    pub reason: LadderReason,
    /// Unit price below the boundary.
    pub lower_unit_price: Decimal,
    /// Unit price above the boundary.
    pub upper_unit_price: Decimal,
    /// `total(boundary)`, when computable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_at_boundary: Option<Decimal>,
    /// `total(boundary + 1)`, when computable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_after_boundary: Option<Decimal>,
    /// For an inversion: the smallest quantity of the lower tier whose total exceeds
    /// `total(boundary + 1)` (every quantity from here to `boundary` is overpriced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dominated_from: Option<u64>,
}

/// A price-book version refused by the ladder check, with every offending boundary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("price book {price_book_id} v{price_book_version} has {} price-ladder finding(s)", .findings.len())]
#[serde(rename_all = "camelCase")]
pub struct PriceLadderRejection {
    /// Price book id.
    pub price_book_id: String,
    /// Its version.
    pub price_book_version: i32,
    /// Every offending boundary (never empty).
    pub findings: Vec<LadderFinding>,
}

impl PriceLadderRejection {
    /// Stable machine code of the rejection as a whole.
    pub fn code(&self) -> &'static str {
        "PRICE_LADDER_REJECTED"
    }
}

/// Checks every tiered charge of a price-book version against the rule in the module docs.
pub fn check_price_ladder(book: &PriceBook) -> Result<(), PriceLadderRejection> {
    let mut findings = Vec::new();
    for charge in &book.charges {
        let Pricing::Tiered { mode, tiers } = &charge.pricing else {
            continue;
        };
        // SLAB: running total of all units up to the current tier's last quantity.
        let mut slab_total = Some(Decimal::ZERO);
        for (i, pair) in tiers.windows(2).enumerate() {
            let [lower, upper] = pair else { continue };
            let Some(boundary) = lower.to_quantity else {
                continue;
            };
            let finding = |reason, at: Option<Decimal>, after: Option<Decimal>, dominated_from| {
                LadderFinding {
                    offering_id: charge.offering_id.clone(),
                    offering_version: charge.offering_version,
                    charge: charge.kind,
                    mode: *mode,
                    tier: u32::try_from(i).unwrap_or(u32::MAX),
                    boundary,
                    reason,
                    lower_unit_price: lower.unit_price,
                    upper_unit_price: upper.unit_price,
                    total_at_boundary: at,
                    total_after_boundary: after,
                    dominated_from,
                }
            };
            let (at, after) = match mode {
                TierMode::Range => (
                    mul(lower.unit_price, boundary),
                    boundary
                        .checked_add(1)
                        .and_then(|next| mul(upper.unit_price, next)),
                ),
                TierMode::Slab => {
                    let units = boundary
                        .checked_sub(lower.from_quantity)
                        .and_then(|d| d.checked_add(1));
                    slab_total = slab_total
                        .zip(units.and_then(|u| mul(lower.unit_price, u)))
                        .and_then(|(t, band)| t.checked_add(band));
                    let after = slab_total.and_then(|t| t.checked_add(upper.unit_price));
                    (slab_total, after)
                }
            };
            match (at, after) {
                (Some(at), Some(after)) if after < at => {
                    let dominated_from =
                        dominated_from(after, lower.unit_price).map(|q| q.max(lower.from_quantity));
                    findings.push(finding(
                        LadderReason::TotalDecreases,
                        Some(at),
                        Some(after),
                        dominated_from,
                    ));
                }
                (Some(_), Some(_)) => {}
                (at, after) => findings.push(finding(LadderReason::Overflow, at, after, None)),
            }
            if upper.unit_price > lower.unit_price {
                findings.push(finding(LadderReason::UnitPriceIncreases, at, after, None));
            }
        }
    }
    if findings.is_empty() {
        Ok(())
    } else {
        Err(PriceLadderRejection {
            price_book_id: book.id.clone(),
            price_book_version: book.version,
            findings,
        })
    }
}

fn mul(unit_price: Decimal, units: u64) -> Option<Decimal> {
    unit_price.checked_mul(Decimal::from(units))
}

/// The smallest `q` with `q × unit_price > total`: `floor(total / unit_price) + 1`.
fn dominated_from(total: Decimal, unit_price: Decimal) -> Option<u64> {
    if unit_price <= Decimal::ZERO {
        return None;
    }
    let whole = total.checked_div(unit_price)?.floor();
    u64::try_from(whole).ok()?.checked_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Charge, Period, Tier};
    use crate::tiers::list_price;
    use domain_kernel::money::Currency;
    use proptest::prelude::*;

    fn tier(from: u64, to: Option<u64>, price: i64) -> Tier {
        Tier {
            from_quantity: from,
            to_quantity: to,
            unit_price: Decimal::new(price, 2),
        }
    }

    fn book(mode: TierMode, tiers: Vec<Tier>) -> PriceBook {
        PriceBook {
            id: "pb".into(),
            version: 1,
            currency: Currency::parse("USD").unwrap(),
            charges: vec![
                Charge {
                    offering_id: "flat".into(),
                    offering_version: 1,
                    kind: ChargeKind::OneTime,
                    pricing: Pricing::Flat {
                        unit_price: Decimal::ONE,
                    },
                },
                Charge {
                    offering_id: "o".into(),
                    offering_version: 2,
                    kind: ChargeKind::Recurring(Period::Month),
                    pricing: Pricing::Tiered { mode, tiers },
                },
            ],
        }
    }

    #[test]
    fn a_range_cliff_is_an_inversion() {
        // 99 × 10.00 = 990.00 but 100 × 9.00 = 900.00: buyers of 91..=99 should buy 100.
        let rejection = check_price_ladder(&book(
            TierMode::Range,
            vec![tier(1, Some(99), 1000), tier(100, None, 900)],
        ))
        .unwrap_err();
        assert_eq!(rejection.findings.len(), 1);
        let f = &rejection.findings[0];
        assert_eq!(f.reason, LadderReason::TotalDecreases);
        assert_eq!((f.tier, f.boundary), (0, 99));
        assert_eq!(f.total_at_boundary, Some(Decimal::new(99000, 2)));
        assert_eq!(f.total_after_boundary, Some(Decimal::new(90000, 2)));
        assert_eq!(
            f.dominated_from,
            Some(91),
            "90 × 10.00 = 900.00 is not more"
        );
        assert_eq!(f.offering_id, "o");
        assert_eq!(rejection.code(), "PRICE_LADDER_REJECTED");
    }

    #[test]
    fn a_gentle_range_step_and_any_falling_slab_pass() {
        // 10 × 10.00 = 100.00 ≤ 11 × 9.50 = 104.50.
        let gentle = vec![tier(1, Some(10), 1000), tier(11, None, 950)];
        assert_eq!(check_price_ladder(&book(TierMode::Range, gentle)), Ok(()));
        let steep = vec![tier(1, Some(10), 1000), tier(11, None, 100)];
        assert_eq!(check_price_ladder(&book(TierMode::Slab, steep)), Ok(()));
        // An equal total is a free unit, not a penalty: 10 × 11.00 = 11 × 10.00.
        let equal = vec![tier(1, Some(10), 1100), tier(11, None, 1000)];
        assert_eq!(check_price_ladder(&book(TierMode::Range, equal)), Ok(()));
    }

    #[test]
    fn rising_unit_prices_are_refused_in_both_modes() {
        for mode in [TierMode::Range, TierMode::Slab] {
            let rising = vec![
                tier(1, Some(10), 1000),
                tier(11, Some(20), 950),
                tier(21, None, 980),
            ];
            let rejection = check_price_ladder(&book(mode, rising)).unwrap_err();
            let reasons: Vec<_> = rejection
                .findings
                .iter()
                .map(|f| (f.boundary, f.reason.code()))
                .collect();
            assert_eq!(
                reasons,
                [(20, "UNIT_PRICE_INCREASES_WITH_VOLUME")],
                "{mode:?}"
            );
        }
    }

    #[test]
    fn every_offending_boundary_is_reported() {
        let tiers = vec![
            tier(1, Some(10), 1000),
            tier(11, Some(20), 500),
            tier(21, Some(30), 600),
            tier(31, None, 100),
        ];
        let rejection = check_price_ladder(&book(TierMode::Range, tiers)).unwrap_err();
        let reasons: Vec<_> = rejection
            .findings
            .iter()
            .map(|f| (f.boundary, f.reason.code()))
            .collect();
        assert_eq!(
            reasons,
            [
                (10, "TOTAL_DECREASES_AT_BOUNDARY"),
                (20, "UNIT_PRICE_INCREASES_WITH_VOLUME"),
                (30, "TOTAL_DECREASES_AT_BOUNDARY"),
            ]
        );
        let json = serde_json::to_value(&rejection.findings[1]).unwrap();
        assert_eq!(json["reason"], "UNIT_PRICE_INCREASES_WITH_VOLUME");
    }

    #[test]
    fn overflowing_boundaries_are_reported_not_skipped() {
        let huge = vec![
            Tier {
                from_quantity: 1,
                to_quantity: Some(u64::MAX - 1),
                unit_price: Decimal::MAX,
            },
            tier(u64::MAX, None, 1),
        ];
        let rejection = check_price_ladder(&book(TierMode::Range, huge)).unwrap_err();
        assert_eq!(rejection.findings[0].reason, LadderReason::Overflow);
    }

    fn contiguous_tiers(mode: TierMode) -> impl Strategy<Value = Pricing> {
        proptest::collection::vec((1u64..8, 0i64..2000), 1..6).prop_map(move |spec| {
            let mut from = 1;
            let last = spec.len() - 1;
            let tiers = spec
                .iter()
                .enumerate()
                .map(|(i, (width, cents))| {
                    let to = (i < last).then(|| from + width - 1);
                    let t = tier(from, to, *cents);
                    from += width;
                    t
                })
                .collect();
            Pricing::Tiered { mode, tiers }
        })
    }

    proptest! {
        /// The boundary check agrees with brute force over every quantity.
        #[test]
        fn boundary_check_matches_brute_force(
            pricing in prop_oneof![contiguous_tiers(TierMode::Range), contiguous_tiers(TierMode::Slab)],
        ) {
            let Pricing::Tiered { mode, tiers } = pricing.clone() else { unreachable!() };
            let result = check_price_ladder(&book(mode, tiers.clone()));
            let totals: Vec<Decimal> = (1..=50).map(|q| list_price(&pricing, q).unwrap().amount).collect();
            let inverts = totals.windows(2).any(|w| w[1] < w[0]);
            let rises = tiers.windows(2).any(|w| w[1].unit_price > w[0].unit_price);
            let findings = result.err().map(|r| r.findings).unwrap_or_default();
            prop_assert_eq!(inverts, findings.iter().any(|f| f.reason == LadderReason::TotalDecreases));
            prop_assert_eq!(rises, findings.iter().any(|f| f.reason == LadderReason::UnitPriceIncreases));
            for f in findings.iter().filter(|f| f.reason == LadderReason::TotalDecreases) {
                let after = totals[usize::try_from(f.boundary).unwrap()];
                let from = f.dominated_from.unwrap();
                for q in from..=f.boundary {
                    prop_assert!(totals[usize::try_from(q - 1).unwrap()] > after, "q={} is dominated", q);
                }
                let lower_from = tiers[usize::try_from(f.tier).unwrap()].from_quantity;
                if from > lower_from {
                    prop_assert!(totals[usize::try_from(from - 2).unwrap()] <= after, "q={} is not", from - 1);
                }
            }
        }
    }
}
