//! Discount arithmetic: validating a discount, applying it to a running amount, choosing the
//! term-policy row for a term, and splitting a quote-level amount over lines.
//!
//! Discounts compound: each applies to the amount left by the previous one, in a fixed order
//! (term, then line discounts in request order, then quote discounts in request order). Nothing
//! here rounds; the engine rounds once per charge after the last discount.

use std::sync::Arc;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::amount::to_scale;
use crate::error::DiscountProblem;
use crate::model::{Discount, DiscountValue, TermDiscountRule};

const HUNDRED: Decimal = Decimal::ONE_HUNDRED;

/// Why a discount could not be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApplyError {
    /// The discount does not fit the amount.
    Problem(DiscountProblem),
    /// The arithmetic overflowed.
    Overflow,
}

/// Checks a discount's own shape and returns its value in canonical form (percent normalised,
/// amount at the currency's scale), so equal values always trace identically.
pub(crate) fn check_discount(
    discount: &Discount,
    scale: u32,
) -> Result<DiscountValue, DiscountProblem> {
    if discount.rule_id.is_empty() {
        return Err(DiscountProblem::EmptyRuleId);
    }
    match discount.value {
        DiscountValue::Percent(p) => check_percent(p).map(DiscountValue::Percent),
        DiscountValue::Amount(a) => {
            if discount.applies_to.is_none() {
                return Err(DiscountProblem::AmountNeedsTarget);
            }
            check_amount(a, scale).map(DiscountValue::Amount)
        }
    }
}

/// A percentage in 0..=100, normalised.
pub(crate) fn check_percent(percent: Decimal) -> Result<Decimal, DiscountProblem> {
    if percent < Decimal::ZERO {
        Err(DiscountProblem::NegativePercent)
    } else if percent > HUNDRED {
        Err(DiscountProblem::PercentAbove100)
    } else {
        Ok(percent.normalize())
    }
}

/// A non-negative amount expressible in minor units, rescaled to them.
pub(crate) fn check_amount(amount: Decimal, scale: u32) -> Result<Decimal, DiscountProblem> {
    if amount < Decimal::ZERO {
        return Err(DiscountProblem::NegativeAmount);
    }
    to_scale(amount, scale).ok_or(DiscountProblem::AmountTooPrecise)
}

/// The running amount after a discount. A percentage takes that share of the running amount.
/// An amount may be as large as the running amount *as it would be charged* (rounded to minor
/// units); past that it is refused rather than clamped, because silently granting less than was
/// approved is worse than asking again. When it eats the sub-minor fraction as well, the result
/// is 0, never negative — so the rounded result is always exactly the rounded running amount
/// minus the amount.
pub(crate) fn apply(
    running: Decimal,
    value: DiscountValue,
    scale: u32,
) -> Result<Decimal, ApplyError> {
    match value {
        DiscountValue::Percent(p) => {
            let mut product = running
                .checked_mul(HUNDRED - p)
                .ok_or(ApplyError::Overflow)?;
            // Dividing by 100 is moving the decimal point: exact, and much cheaper than a
            // general division (which is only needed at the 28-digit limit).
            let shifted = product.scale() + 2;
            if shifted <= Decimal::MAX_SCALE {
                product
                    .set_scale(shifted)
                    .map_err(|_| ApplyError::Overflow)?;
                Ok(product)
            } else {
                product.checked_div(HUNDRED).ok_or(ApplyError::Overflow)
            }
        }
        DiscountValue::Amount(a) => {
            if a > charged(running, scale) {
                return Err(ApplyError::Problem(DiscountProblem::AmountExceedsPrice));
            }
            Ok(subtract_floored(running, a))
        }
    }
}

/// `running - amount`, or 0 when the amount eats the sub-minor fraction too.
pub(crate) fn subtract_floored(running: Decimal, amount: Decimal) -> Decimal {
    let after = running - amount;
    if after < Decimal::ZERO {
        Decimal::new(0, after.scale())
    } else {
        after
    }
}

/// What an amount would be charged as: rounded to minor units with the engine's rule.
fn charged(amount: Decimal, scale: u32) -> Decimal {
    amount.round_dp_with_strategy(scale, RoundingStrategy::MidpointAwayFromZero)
}

/// One checked row of the term-discount policy, with the strings its trace steps share.
#[derive(Debug)]
pub(crate) struct TermRow {
    /// Smallest term the row applies to.
    pub(crate) min_term_months: u32,
    /// Normalised percent off.
    pub(crate) percent: Decimal,
    /// The policy row's id.
    pub(crate) rule_id: Arc<str>,
    /// Why it applies, for the trace.
    pub(crate) reason: Arc<str>,
}

/// The term-discount policy, checked and ordered for lookup.
#[derive(Debug)]
pub(crate) struct TermPolicy {
    /// Rows by descending threshold.
    rows: Vec<TermRow>,
}

impl TermPolicy {
    /// Checks every row, returning each problem found.
    pub(crate) fn new(rules: &[TermDiscountRule]) -> Result<Self, Vec<(String, DiscountProblem)>> {
        let mut problems = Vec::new();
        let mut rows = Vec::with_capacity(rules.len());
        for rule in rules {
            let checked = if rule.rule_id.is_empty() {
                Err(DiscountProblem::EmptyRuleId)
            } else if rule.min_term_months == 0 {
                Err(DiscountProblem::ZeroThreshold)
            } else {
                check_percent(rule.percent)
            };
            match checked {
                Ok(percent) => rows.push(TermRow {
                    min_term_months: rule.min_term_months,
                    percent,
                    rule_id: Arc::from(rule.rule_id.as_str()),
                    reason: Arc::from(format!(
                        "commitment of at least {} months",
                        rule.min_term_months
                    )),
                }),
                Err(problem) => problems.push((rule.rule_id.clone(), problem)),
            }
        }
        rows.sort_by(|a, b| {
            b.min_term_months
                .cmp(&a.min_term_months)
                .then_with(|| a.rule_id.cmp(&b.rule_id))
        });
        for pair in rows.windows(2) {
            if let [a, b] = pair
                && a.min_term_months == b.min_term_months
            {
                problems.push((b.rule_id.to_string(), DiscountProblem::DuplicateThreshold));
            }
        }
        if problems.is_empty() {
            Ok(Self { rows })
        } else {
            Err(problems)
        }
    }

    /// The row with the highest threshold `term_months` reaches.
    pub(crate) fn select(&self, term_months: u32) -> Option<&TermRow> {
        self.rows
            .iter()
            .find(|row| row.min_term_months <= term_months)
    }
}

/// Splits a quote-level `amount` over `bases` (the running amounts of the charges in scope, in
/// canonical order) pro rata to what each would be charged (its base rounded to minor units),
/// in whole minor units: each share is first rounded down, then the units left over go one each
/// to the largest remainders (ties to the earlier charge). A share never exceeds its rounded
/// base and the shares sum to `amount` exactly; subtracting with [`subtract_floored`] and
/// rounding half-up then lowers the quote total by exactly `amount`.
///
/// The arithmetic is in integer minor units, so remainders compare exactly; a quote whose
/// amounts overflow that (beyond about 10^19 minor units) is reported as an overflow.
pub(crate) fn allocate(
    amount: Decimal,
    bases: &[Decimal],
    scale: u32,
) -> Result<Vec<Decimal>, ApplyError> {
    let minor_units = |value: Decimal| -> Result<i128, ApplyError> {
        let mut scaled = value;
        scaled.rescale(scale);
        if scaled.scale() == scale {
            Ok(scaled.mantissa())
        } else {
            Err(ApplyError::Overflow)
        }
    };
    let mut capacity = Vec::with_capacity(bases.len());
    let mut total: i128 = 0;
    for base in bases {
        let units = minor_units(charged(*base, scale))?;
        total = total.checked_add(units).ok_or(ApplyError::Overflow)?;
        capacity.push(units);
    }
    let amount = minor_units(amount)?;
    if amount > total {
        return Err(ApplyError::Problem(DiscountProblem::AmountExceedsPrice));
    }
    let mut shares = vec![0i128; bases.len()];
    let mut remainders = Vec::new();
    let mut left = amount;
    if amount > 0 {
        for (i, units) in capacity.iter().enumerate() {
            let product = amount.checked_mul(*units).ok_or(ApplyError::Overflow)?;
            shares[i] = product / total;
            left -= shares[i];
            let remainder = product % total;
            if remainder > 0 {
                remainders.push((remainder, i));
            }
        }
    }
    // The remainders sum to `left × total` and each is below `total`, so more charges have one
    // than there are units left, and each of them has room for one more unit.
    remainders.sort_unstable_by(|(ra, ia), (rb, ib)| rb.cmp(ra).then(ia.cmp(ib)));
    for (_, i) in &remainders {
        if left == 0 {
            break;
        }
        shares[*i] += 1;
        left -= 1;
    }
    if left != 0 {
        return Err(ApplyError::Problem(DiscountProblem::AmountExceedsPrice));
    }
    shares
        .into_iter()
        .map(|units| {
            Decimal::try_from_i128_with_scale(units, scale).map_err(|_| ApplyError::Overflow)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn percent_and_amount_discounts() {
        assert_eq!(
            apply(dec("200.00"), DiscountValue::Percent(dec("12.5")), 2),
            Ok(dec("175"))
        );
        assert_eq!(
            apply(dec("200.00"), DiscountValue::Amount(dec("25.00")), 2),
            Ok(dec("175.00"))
        );
        assert_eq!(
            apply(dec("20.00"), DiscountValue::Amount(dec("25.00")), 2),
            Err(ApplyError::Problem(DiscountProblem::AmountExceedsPrice))
        );
        assert_eq!(
            apply(dec("20.00"), DiscountValue::Percent(dec("100")), 2),
            Ok(Decimal::ZERO)
        );
        // 10.005 is charged as 10.01, so 10.01 off is allowed and leaves 0, not -0.005.
        assert_eq!(
            apply(dec("10.005"), DiscountValue::Amount(dec("10.01")), 2).map(|d| d.to_string()),
            Ok("0.000".to_owned())
        );
        assert_eq!(
            apply(dec("10.004"), DiscountValue::Amount(dec("10.01")), 2),
            Err(ApplyError::Problem(DiscountProblem::AmountExceedsPrice))
        );
    }

    #[test]
    fn discount_shape_is_checked() {
        let d = |value, applies_to| Discount {
            rule_id: "r".into(),
            reason: String::new(),
            value,
            applies_to,
        };
        let one_time = Some(crate::model::ChargeKind::OneTime);
        assert_eq!(
            check_discount(&d(DiscountValue::Percent(dec("-1")), None), 2),
            Err(DiscountProblem::NegativePercent)
        );
        assert_eq!(
            check_discount(&d(DiscountValue::Percent(dec("100.01")), None), 2),
            Err(DiscountProblem::PercentAbove100)
        );
        assert_eq!(
            check_discount(&d(DiscountValue::Amount(dec("5")), None), 2),
            Err(DiscountProblem::AmountNeedsTarget)
        );
        assert_eq!(
            check_discount(&d(DiscountValue::Amount(dec("5.001")), one_time), 2),
            Err(DiscountProblem::AmountTooPrecise)
        );
        assert_eq!(
            check_discount(&d(DiscountValue::Amount(dec("-5")), one_time), 2),
            Err(DiscountProblem::NegativeAmount)
        );
        assert_eq!(
            check_discount(&d(DiscountValue::Amount(dec("5.0")), one_time), 2)
                .map(|v| format!("{v:?}")),
            Ok("Amount(5.00)".to_owned())
        );
        let mut empty = d(DiscountValue::Percent(dec("1")), None);
        empty.rule_id.clear();
        assert_eq!(check_discount(&empty, 2), Err(DiscountProblem::EmptyRuleId));
    }

    #[test]
    fn term_policy_picks_the_highest_threshold_reached() {
        let rule = |id: &str, months, pct: &str| TermDiscountRule {
            rule_id: id.into(),
            min_term_months: months,
            percent: dec(pct),
        };
        let rules = [
            rule("t24", 24, "10"),
            rule("t12", 12, "5"),
            rule("t36", 36, "15"),
        ];
        let policy = TermPolicy::new(&rules).unwrap();
        assert_eq!(policy.select(11).map(|r| &*r.rule_id), None);
        assert_eq!(policy.select(12).map(|r| &*r.rule_id), Some("t12"));
        assert_eq!(policy.select(35).map(|r| &*r.rule_id), Some("t24"));
        assert_eq!(policy.select(60).map(|r| &*r.rule_id), Some("t36"));
        let bad = [
            rule("a", 12, "5"),
            rule("b", 12, "6"),
            rule("c", 0, "1"),
            rule("d", 6, "101"),
        ];
        let problems = TermPolicy::new(&bad).unwrap_err();
        assert_eq!(
            problems,
            vec![
                ("c".to_owned(), DiscountProblem::ZeroThreshold),
                ("d".to_owned(), DiscountProblem::PercentAbove100),
                ("b".to_owned(), DiscountProblem::DuplicateThreshold),
            ]
        );
    }

    #[test]
    fn allocation_by_largest_remainder() {
        let shares = allocate(
            dec("500.00"),
            &[dec("300.00"), dec("300.00"), dec("300.00")],
            2,
        )
        .unwrap();
        assert_eq!(shares, [dec("166.67"), dec("166.67"), dec("166.66")]);
        let shares = allocate(dec("2.00"), &[dec("1.00"), dec("3.00")], 2).unwrap();
        assert_eq!(shares, [dec("0.50"), dec("1.50")]);
        assert_eq!(
            allocate(dec("10.01"), &[dec("10.00")], 2),
            Err(ApplyError::Problem(DiscountProblem::AmountExceedsPrice))
        );
        assert_eq!(allocate(dec("0"), &[dec("0")], 0).unwrap(), [dec("0")]);
    }

    #[test]
    fn allocation_over_fractional_bases_follows_what_they_are_charged() {
        // Charged as 1.01 + 1.01 + 0.99 = 3.01: the whole of it may be granted.
        let bases = [dec("1.005"), dec("1.005"), dec("0.99")];
        let shares = allocate(dec("3.01"), &bases, 2).unwrap();
        assert_eq!(shares, [dec("1.01"), dec("1.01"), dec("0.99")]);
        let nets: Vec<_> = bases
            .iter()
            .zip(&shares)
            .map(|(b, s)| subtract_floored(*b, *s))
            .collect();
        assert!(
            nets.iter().all(|n| n.is_zero() && !n.is_sign_negative()),
            "{nets:?}"
        );
        assert_eq!(
            allocate(dec("3.02"), &bases, 2),
            Err(ApplyError::Problem(DiscountProblem::AmountExceedsPrice))
        );
    }

    proptest! {
        #[test]
        fn allocation_sums_exactly_and_never_exceeds_a_rounded_base(
            mills in proptest::collection::vec(0i64..10_000_000, 1..20),
            fraction in 0u32..=100,
        ) {
            let bases: Vec<Decimal> = mills.iter().map(|c| Decimal::new(*c, 3)).collect();
            let total: Decimal = bases.iter().map(|b| charged(*b, 2)).sum();
            let amount = (total * Decimal::from(fraction) / HUNDRED)
                .round_dp_with_strategy(2, RoundingStrategy::ToZero);
            let shares = allocate(amount, &bases, 2).unwrap();
            prop_assert_eq!(shares.iter().copied().sum::<Decimal>(), amount);
            let mut net_total = Decimal::ZERO;
            for (s, b) in shares.iter().zip(&bases) {
                prop_assert!(*s >= Decimal::ZERO && *s <= charged(*b, 2));
                prop_assert!(s.normalize().scale() <= 2, "whole minor units");
                let net = subtract_floored(*b, *s);
                prop_assert!(net >= Decimal::ZERO);
                net_total += charged(net, 2);
            }
            prop_assert_eq!(net_total, total - amount, "the total falls by exactly the amount");
        }
    }
}
