//! List price of a quantity: flat, or through RANGE / SLAB volume tiers, keeping which tiers
//! priced how many units so the trace can show the computation.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{Pricing, Tier, TierMode};

/// How many units one tier priced, and for how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TierBand {
    /// Position of the tier in the charge (0-based).
    pub tier: u32,
    /// First quantity of the tier.
    pub from_quantity: u64,
    /// Last quantity of the tier (`None` = open-ended).
    pub to_quantity: Option<u64>,
    /// Units priced at this tier's unit price.
    pub units: u64,
    /// The tier's unit price.
    pub unit_price: Decimal,
    /// `units × unit_price`.
    pub amount: Decimal,
}

/// How a list amount was computed: kept with each priced charge, and the source of its
/// `list-price` / `tier.*` trace steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ListComputation {
    /// Unit price × quantity.
    #[serde(rename = "FLAT", rename_all = "camelCase")]
    Flat {
        /// Price per unit.
        unit_price: Decimal,
        /// Units.
        quantity: u64,
    },
    /// RANGE tiers: the one tier the whole quantity falls in prices every unit.
    #[serde(rename = "RANGE", rename_all = "camelCase")]
    Range {
        /// That tier.
        band: TierBand,
    },
    /// SLAB tiers: one band per tier reached, in ascending quantity order.
    #[serde(rename = "SLAB", rename_all = "camelCase")]
    Slab {
        /// The bands.
        bands: Vec<TierBand>,
    },
}

impl ListComputation {
    /// The tier bands (none for a flat price).
    pub fn bands(&self) -> &[TierBand] {
        match self {
            Self::Flat { .. } => &[],
            Self::Range { band } => std::slice::from_ref(band),
            Self::Slab { bands } => bands,
        }
    }

    /// RANGE or SLAB for tiered prices.
    pub fn tier_mode(&self) -> Option<TierMode> {
        match self {
            Self::Flat { .. } => None,
            Self::Range { .. } => Some(TierMode::Range),
            Self::Slab { .. } => Some(TierMode::Slab),
        }
    }
}

/// The list amount of a quantity, before any discount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPrice {
    /// Extended list amount (exact when unit prices are in minor units).
    pub amount: Decimal,
    /// How it was computed.
    pub computation: ListComputation,
}

/// Why a list price could not be computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TierError {
    /// The tiers do not cover the quantity contiguously from 1.
    #[error("the tiers do not cover the quantity contiguously from 1")]
    Malformed,
    /// The amount does not fit in a decimal.
    #[error("amount overflow")]
    Overflow,
}

/// The list amount of `quantity` units. Tiers must be contiguous from 1 (as the catalog
/// validates them); anything else is reported rather than guessed at.
pub fn list_price(pricing: &Pricing, quantity: u64) -> Result<ListPrice, TierError> {
    match pricing {
        Pricing::Flat { unit_price } => Ok(ListPrice {
            amount: extend(*unit_price, quantity)?,
            computation: ListComputation::Flat {
                unit_price: *unit_price,
                quantity,
            },
        }),
        Pricing::Tiered {
            mode: TierMode::Range,
            tiers,
        } => {
            let band = range_band(tiers, quantity)?;
            Ok(ListPrice {
                amount: band.amount,
                computation: ListComputation::Range { band },
            })
        }
        Pricing::Tiered {
            mode: TierMode::Slab,
            tiers,
        } => {
            let bands = slab_bands(tiers, quantity)?;
            let mut amount = Decimal::ZERO;
            for band in &bands {
                amount = amount.checked_add(band.amount).ok_or(TierError::Overflow)?;
            }
            Ok(ListPrice {
                amount,
                computation: ListComputation::Slab { bands },
            })
        }
    }
}

/// `unit_price × units`, checked.
pub(crate) fn extend(unit_price: Decimal, units: u64) -> Result<Decimal, TierError> {
    unit_price
        .checked_mul(Decimal::from(units))
        .ok_or(TierError::Overflow)
}

fn contains(tier: &Tier, quantity: u64) -> bool {
    tier.from_quantity <= quantity && tier.to_quantity.is_none_or(|to| quantity <= to)
}

/// RANGE: the tier the whole quantity falls in prices every unit. Binary search, since tiers
/// are sorted by their lower bound.
fn range_band(tiers: &[Tier], quantity: u64) -> Result<TierBand, TierError> {
    let after = tiers.partition_point(|t| t.from_quantity <= quantity);
    let index = after.checked_sub(1).ok_or(TierError::Malformed)?;
    let tier = tiers.get(index).ok_or(TierError::Malformed)?;
    if !contains(tier, quantity) || tiers.first().is_none_or(|t| t.from_quantity != 1) {
        return Err(TierError::Malformed);
    }
    Ok(TierBand {
        tier: u32::try_from(index).map_err(|_| TierError::Malformed)?,
        from_quantity: tier.from_quantity,
        to_quantity: tier.to_quantity,
        units: quantity,
        unit_price: tier.unit_price,
        amount: extend(tier.unit_price, quantity)?,
    })
}

/// SLAB: walk the tiers from 1, each pricing the units that fall inside it.
fn slab_bands(tiers: &[Tier], quantity: u64) -> Result<Vec<TierBand>, TierError> {
    let mut bands = Vec::new();
    let mut covered = 0u64;
    for (index, tier) in tiers.iter().enumerate() {
        if covered >= quantity {
            break;
        }
        // covered < quantity, so covered + 1 cannot overflow.
        if tier.from_quantity != covered + 1 {
            return Err(TierError::Malformed);
        }
        let last = tier.to_quantity.map_or(quantity, |to| to.min(quantity));
        if last < tier.from_quantity {
            return Err(TierError::Malformed);
        }
        let units = last - tier.from_quantity + 1;
        bands.push(TierBand {
            tier: u32::try_from(index).map_err(|_| TierError::Malformed)?,
            from_quantity: tier.from_quantity,
            to_quantity: tier.to_quantity,
            units,
            unit_price: tier.unit_price,
            amount: extend(tier.unit_price, units)?,
        });
        covered = last;
    }
    if covered < quantity {
        return Err(TierError::Malformed);
    }
    Ok(bands)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn tiers() -> Vec<Tier> {
        vec![
            Tier {
                from_quantity: 1,
                to_quantity: Some(10),
                unit_price: dec("10.00"),
            },
            Tier {
                from_quantity: 11,
                to_quantity: Some(50),
                unit_price: dec("8.00"),
            },
            Tier {
                from_quantity: 51,
                to_quantity: None,
                unit_price: dec("5.00"),
            },
        ]
    }

    fn tiered(mode: TierMode) -> Pricing {
        Pricing::Tiered {
            mode,
            tiers: tiers(),
        }
    }

    #[test]
    fn range_prices_every_unit_at_the_tier_of_the_total() {
        let at = |q| list_price(&tiered(TierMode::Range), q).unwrap().amount;
        assert_eq!(at(1), dec("10.00"));
        assert_eq!(at(10), dec("100.00"));
        assert_eq!(at(11), dec("88.00"));
        assert_eq!(at(50), dec("400.00"));
        assert_eq!(at(51), dec("255.00"));
        assert_eq!(at(1000), dec("5000.00"));
    }

    #[test]
    fn slab_prices_each_unit_at_its_own_tier() {
        let priced = list_price(&tiered(TierMode::Slab), 60).unwrap();
        // 10 × 10 + 40 × 8 + 10 × 5
        assert_eq!(priced.amount, dec("470.00"));
        let ListComputation::Slab { bands } = priced.computation else {
            panic!("tiered")
        };
        assert_eq!(
            bands.iter().map(|b| b.units).collect::<Vec<_>>(),
            [10, 40, 10]
        );
        let ten = list_price(&tiered(TierMode::Slab), 10).unwrap();
        assert_eq!(ten.amount, dec("100.00"));
        assert!(
            matches!(&ten.computation, ListComputation::Slab { bands } if bands.len() == 1),
            "stops at the tier reached"
        );
    }

    #[test]
    fn flat_is_unit_price_times_quantity() {
        let flat = Pricing::Flat {
            unit_price: dec("19.99"),
        };
        assert_eq!(list_price(&flat, 3).unwrap().amount, dec("59.97"));
    }

    #[test]
    fn malformed_tiers_are_reported_not_guessed() {
        let mut gap = tiers();
        gap[1].from_quantity = 12;
        for mode in [TierMode::Range, TierMode::Slab] {
            let pricing = Pricing::Tiered {
                mode,
                tiers: gap.clone(),
            };
            assert_eq!(list_price(&pricing, 11), Err(TierError::Malformed));
        }
        let mut closed = tiers();
        closed[2].to_quantity = Some(60);
        let pricing = Pricing::Tiered {
            mode: TierMode::Slab,
            tiers: closed,
        };
        assert_eq!(list_price(&pricing, 61), Err(TierError::Malformed));
    }

    #[test]
    fn huge_quantities_overflow_instead_of_wrapping() {
        let flat = Pricing::Flat {
            unit_price: Decimal::MAX,
        };
        assert_eq!(list_price(&flat, 2), Err(TierError::Overflow));
    }
}
