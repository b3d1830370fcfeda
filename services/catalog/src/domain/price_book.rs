//! Price book content: charges per offering version — one-time or recurring, flat or in volume
//! tiers with range or slab semantics — in the book's single currency.

use std::collections::HashSet;

use domain_kernel::money::{Currency, Money};
use rust_decimal::Decimal;

use super::ProductOfferingId;
use super::violation::{Violations, check_text};

/// Most charges one price book version may hold.
pub const MAX_CHARGES: usize = 5_000;
/// Most tiers one charge may have.
pub const MAX_TIERS: usize = 50;

/// When a charge is billed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChargeType {
    /// Once, at activation.
    OneTime,
    /// Every period.
    Recurring,
}

/// Billing period of a recurring charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// Monthly.
    Month,
    /// Quarterly.
    Quarter,
    /// Yearly.
    Year,
}

/// How volume tiers price a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TierMode {
    /// All units at the price of the tier the total quantity falls in.
    Range,
    /// Each unit at the price of the tier it falls in (graduated).
    Slab,
}

macro_rules! named_enum {
    ($t:ty { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $t {
            /// Wire and storage name.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }

            /// Parses the wire and storage name.
            pub fn parse(value: &str) -> Option<Self> {
                match value { $($name => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

named_enum!(ChargeType { OneTime => "ONE_TIME", Recurring => "RECURRING" });
named_enum!(Period { Month => "MONTH", Quarter => "QUARTER", Year => "YEAR" });
named_enum!(TierMode { Range => "RANGE", Slab => "SLAB" });

/// One volume tier: quantities `from..=to` (open-ended when `to` is `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// First quantity of the tier.
    pub from_quantity: u64,
    /// Last quantity of the tier; `None` for the last, open tier.
    pub to_quantity: Option<u64>,
    /// Price per unit within the tier.
    pub unit_price: Money,
}

/// How a charge is priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pricing {
    /// One price per unit.
    Flat(Money),
    /// Volume tiers.
    Tiered(TierMode, Vec<Tier>),
}

/// A validated charge of one offering version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// The offering priced.
    pub offering_id: ProductOfferingId,
    /// Its version.
    pub offering_version: i32,
    /// One-time or recurring.
    pub charge_type: ChargeType,
    /// Period of a recurring charge.
    pub period: Option<Period>,
    /// Price.
    pub pricing: Pricing,
}

/// A tier as submitted.
#[derive(Debug, Clone)]
pub struct TierInput {
    /// First quantity.
    pub from_quantity: u64,
    /// Last quantity.
    pub to_quantity: Option<u64>,
    /// Unit price text.
    pub unit_price: Decimal,
}

/// A charge as submitted.
#[derive(Debug, Clone)]
pub struct ChargeInput {
    /// Offering.
    pub offering_id: ProductOfferingId,
    /// Offering version.
    pub offering_version: i32,
    /// Charge type name.
    pub charge_type: String,
    /// Period name.
    pub period: Option<String>,
    /// Flat unit price.
    pub unit_price: Option<Decimal>,
    /// Tier mode name.
    pub tier_mode: Option<String>,
    /// Tiers.
    pub tiers: Option<Vec<TierInput>>,
}

/// Validates a price book version's name and charges in `currency`.
pub fn validate_price_book(
    violations: &mut Violations,
    name: &str,
    currency: Currency,
    charges: &[(String, ChargeInput)],
) -> Vec<Charge> {
    check_text(violations, "/name", name, 200, false);
    if charges.len() > MAX_CHARGES {
        violations.push(
            "/entries",
            "TOO_MANY",
            format!("at most {MAX_CHARGES} charges"),
        );
        return Vec::new();
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(charges.len());
    for (at, input) in charges {
        if let Some(charge) = validate_charge(violations, at, currency, input) {
            let key = (
                charge.offering_id,
                charge.offering_version,
                charge.charge_type,
                charge.period,
            );
            if seen.insert(key) {
                out.push(charge);
            } else {
                violations.push(
                    at.clone(),
                    "DUPLICATE",
                    "the offering version already has this charge type and period",
                );
            }
        }
    }
    out
}

fn price(
    violations: &mut Violations,
    at: &str,
    currency: Currency,
    amount: Decimal,
) -> Option<Money> {
    if amount.is_sign_negative() && !amount.is_zero() {
        violations.push(at, "NEGATIVE", "prices must not be negative");
        return None;
    }
    match Money::exact(amount, currency) {
        Ok(money) => Some(money),
        Err(error) => {
            violations.push(at, "TOO_PRECISE", error.to_string());
            None
        }
    }
}

fn validate_charge(
    violations: &mut Violations,
    at: &str,
    currency: Currency,
    input: &ChargeInput,
) -> Option<Charge> {
    let before = violations.len();
    if input.offering_version < 1 {
        violations.push(
            format!("{at}/offeringVersion"),
            "OUT_OF_RANGE",
            "must be at least 1",
        );
    }
    let charge_type = ChargeType::parse(&input.charge_type);
    if charge_type.is_none() {
        violations.push(
            format!("{at}/chargeType"),
            "NOT_ALLOWED",
            "must be ONE_TIME or RECURRING",
        );
    }
    let period = match (&input.period, charge_type) {
        (Some(raw), Some(ChargeType::Recurring)) => {
            let parsed = Period::parse(raw);
            if parsed.is_none() {
                violations.push(
                    format!("{at}/period"),
                    "NOT_ALLOWED",
                    "must be MONTH, QUARTER or YEAR",
                );
            }
            parsed
        }
        (None, Some(ChargeType::Recurring)) => {
            violations.push(
                format!("{at}/period"),
                "REQUIRED",
                "a recurring charge needs a period",
            );
            None
        }
        (Some(_), Some(ChargeType::OneTime)) => {
            violations.push(
                format!("{at}/period"),
                "NOT_APPLICABLE",
                "a one-time charge has no period",
            );
            None
        }
        _ => None,
    };
    let pricing = match (input.unit_price, &input.tier_mode, &input.tiers) {
        (Some(amount), None, None) => {
            price(violations, &format!("{at}/unitPrice"), currency, amount).map(Pricing::Flat)
        }
        (None, Some(mode), Some(tiers)) => {
            let mode = TierMode::parse(mode).or_else(|| {
                violations.push(
                    format!("{at}/tierMode"),
                    "NOT_ALLOWED",
                    "must be RANGE or SLAB",
                );
                None
            });
            let tiers = validate_tiers(violations, at, currency, tiers);
            mode.zip(tiers).map(|(m, t)| Pricing::Tiered(m, t))
        }
        _ => {
            violations.push(
                at,
                "PRICING_SHAPE",
                "give either unitPrice, or tierMode with tiers",
            );
            None
        }
    };
    if violations.len() != before {
        return None;
    }
    Some(Charge {
        offering_id: input.offering_id,
        offering_version: input.offering_version,
        charge_type: charge_type?,
        period,
        pricing: pricing?,
    })
}

fn validate_tiers(
    violations: &mut Violations,
    at: &str,
    currency: Currency,
    tiers: &[TierInput],
) -> Option<Vec<Tier>> {
    let before = violations.len();
    if tiers.is_empty() || tiers.len() > MAX_TIERS {
        violations.push(
            format!("{at}/tiers"),
            "OUT_OF_RANGE",
            format!("between 1 and {MAX_TIERS} tiers"),
        );
        return None;
    }
    let mut expected_from = 1u64;
    let mut out = Vec::with_capacity(tiers.len());
    for (i, tier) in tiers.iter().enumerate() {
        let path = format!("{at}/tiers/{i}");
        let last = i + 1 == tiers.len();
        if tier.from_quantity != expected_from {
            violations.push(
                format!("{path}/fromQuantity"),
                "NOT_CONTIGUOUS",
                format!("must be {expected_from}: tiers start at 1 and follow each other without gaps or overlaps"),
            );
        }
        match tier.to_quantity {
            None if !last => violations.push(
                format!("{path}/toQuantity"),
                "REQUIRED",
                "only the last tier is open-ended",
            ),
            Some(_) if last => violations.push(
                format!("{path}/toQuantity"),
                "MUST_BE_OPEN",
                "the last tier must be open-ended (null)",
            ),
            Some(to) if to < tier.from_quantity => {
                violations.push(
                    format!("{path}/toQuantity"),
                    "OUT_OF_RANGE",
                    "must not be below fromQuantity",
                );
            }
            _ => {}
        }
        expected_from = tier
            .to_quantity
            .map_or(expected_from, |to| to.saturating_add(1));
        if let Some(unit_price) = price(
            violations,
            &format!("{path}/unitPrice"),
            currency,
            tier.unit_price,
        ) {
            out.push(Tier {
                from_quantity: tier.from_quantity,
                to_quantity: tier.to_quantity,
                unit_price,
            });
        }
    }
    (violations.len() == before).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").expect("usd")
    }

    fn tier(from: u64, to: Option<u64>, price: &str) -> TierInput {
        TierInput {
            from_quantity: from,
            to_quantity: to,
            unit_price: price.parse().expect("decimal"),
        }
    }

    fn charge(kind: &str, period: Option<&str>) -> ChargeInput {
        ChargeInput {
            offering_id: ProductOfferingId::generate(),
            offering_version: 1,
            charge_type: kind.into(),
            period: period.map(Into::into),
            unit_price: Some("99.00".parse().expect("decimal")),
            tier_mode: None,
            tiers: None,
        }
    }

    #[test]
    fn flat_and_tiered_charges_validate() {
        let mut tiered = charge("RECURRING", Some("MONTH"));
        tiered.unit_price = None;
        tiered.tier_mode = Some("SLAB".into());
        tiered.tiers = Some(vec![tier(1, Some(4), "15.00"), tier(5, None, "12.00")]);
        let mut v = Violations::new();
        let charges = validate_price_book(
            &mut v,
            "List",
            usd(),
            &[
                ("/entries/0/charges/0".into(), charge("ONE_TIME", None)),
                ("/entries/1/charges/0".into(), tiered),
            ],
        );
        assert!(v.is_empty(), "{v:?}");
        assert!(matches!(&charges[1].pricing, Pricing::Tiered(TierMode::Slab, t) if t.len() == 2));
    }

    #[test]
    fn tier_gaps_overlaps_and_open_ends_are_refused() {
        let mut c = charge("RECURRING", Some("MONTH"));
        c.unit_price = None;
        c.tier_mode = Some("RANGE".into());
        c.tiers = Some(vec![
            tier(2, Some(4), "15.00"),
            tier(4, None, "12.00"),
            tier(9, Some(10), "1"),
        ]);
        let mut v = Violations::new();
        validate_price_book(&mut v, "List", usd(), &[("/e".into(), c)]);
        let codes: Vec<&str> = v.into_vec().into_iter().map(|x| x.code).collect();
        assert_eq!(
            codes,
            [
                "NOT_CONTIGUOUS",
                "NOT_CONTIGUOUS",
                "REQUIRED",
                "NOT_CONTIGUOUS",
                "MUST_BE_OPEN"
            ]
        );
    }

    #[test]
    fn shape_period_precision_and_sign_are_checked() {
        let mut both = charge("ONE_TIME", Some("MONTH"));
        both.tier_mode = Some("SLAB".into());
        let mut negative = charge("RECURRING", None);
        negative.unit_price = Some("-1".parse().expect("decimal"));
        let mut precise = charge("ONE_TIME", None);
        precise.unit_price = Some("1.001".parse().expect("decimal"));
        let mut v = Violations::new();
        validate_price_book(
            &mut v,
            "",
            usd(),
            &[
                ("/a".into(), both),
                ("/b".into(), negative),
                ("/c".into(), precise),
            ],
        );
        let codes: Vec<&str> = v.into_vec().into_iter().map(|x| x.code).collect();
        assert_eq!(
            codes,
            [
                "REQUIRED",
                "NOT_APPLICABLE",
                "PRICING_SHAPE",
                "REQUIRED",
                "NEGATIVE",
                "TOO_PRECISE"
            ]
        );
    }

    #[test]
    fn duplicate_charges_for_one_offering_version_are_refused() {
        let first = charge("RECURRING", Some("MONTH"));
        let mut second = charge("RECURRING", Some("MONTH"));
        second.offering_id = first.offering_id;
        let mut v = Violations::new();
        validate_price_book(
            &mut v,
            "List",
            usd(),
            &[("/a".into(), first), ("/b".into(), second)],
        );
        assert_eq!(v.into_vec()[0].code, "DUPLICATE");
    }
}
