//! The pricing run: list price, term discount, line discounts, quote discounts, one rounding,
//! overrides — per charge, in that order — then totals, trace and hash.
//!
//! Lines are processed in canonical order (by line id), so the output, the trace and the hash
//! do not depend on the order lines arrive in. Errors are collected across all lines and
//! returned together; a run either prices every line or returns every error it could find.

use common_kernel::money::{Currency, Money};
use rust_decimal::Decimal;

use crate::ROUNDING_MODE;
use crate::book::PreparedPriceBook;
use crate::discounts::{self, ApplyError, TermPolicy};
use crate::error::{
    DiscountProblem, OverrideProblem, PriceBookProblem, PricingError, PricingErrors,
};
use crate::hash::price_hash_of_sorted;
use crate::model::{
    ChargeKind, Discount, DiscountValue, LineInput, ManualOverride, Period, PriceBook,
    PricingRequest,
};
use crate::priced::{
    AppliedDiscount, OverrideRecord, PricedCharge, PricedLine, PricedQuote, QuoteTotals,
    RecurringTotal,
};
use crate::tiers::{self, TierComputation, TierError};
use crate::trace::{PriceTrace, StepDetail, StepRule, TraceStep};

/// Prices a request against a price book in one call (validating and indexing the book first).
/// Use [`PreparedPriceBook`] + [`price`] to reuse the index across quotes.
pub fn price_quote(
    book: PriceBook,
    request: &PricingRequest,
) -> Result<PricedQuote, PricingErrors> {
    price(&PreparedPriceBook::new(book)?, request)
}

/// Prices a request. Deterministic: the same request (up to line order) against the same book
/// gives the same result, trace and hash, byte for byte.
pub fn price(
    book: &PreparedPriceBook,
    request: &PricingRequest,
) -> Result<PricedQuote, PricingErrors> {
    check_book(book, request)?;
    let currency = book.currency();
    let scale = currency.minor_units();
    let mut errors = Vec::new();

    let policy =
        match TermPolicy::new(&request.term_discounts) {
            Ok(policy) => Some(policy),
            Err(problems) => {
                errors.extend(problems.into_iter().map(|(rule_id, problem)| {
                    PricingError::InvalidTermPolicy { rule_id, problem }
                }));
                None
            }
        };
    let quote_discounts = checked_quote_discounts(&request.quote_discounts, scale, &mut errors);

    let mut lines: Vec<&LineInput> = request.lines.iter().collect();
    lines.sort_by(|a, b| a.line_id.cmp(&b.line_id));
    for pair in lines.windows(2) {
        if let [a, b] = pair
            && a.line_id == b.line_id
        {
            errors.push(PricingError::DuplicateLine {
                line_id: b.line_id.clone(),
            });
        }
    }
    errors.dedup();

    let mut work = Vec::with_capacity(lines.len());
    for line in &lines {
        match price_line(book, line, policy.as_ref(), scale) {
            Ok(priced) => work.push(priced),
            Err(mut line_errors) => errors.append(&mut line_errors),
        }
    }
    fail_if_any(&mut errors)?;

    for (discount, value) in &quote_discounts {
        if let Err(error) = apply_quote_discount(&mut work, discount, *value, scale) {
            errors.push(error);
        }
    }
    fail_if_any(&mut errors)?;

    let mut priced_lines = Vec::with_capacity(work.len());
    let mut steps = Vec::with_capacity(work.iter().map(WorkLine::step_count).sum());
    for line in work {
        match finish_line(line, currency, &mut steps) {
            Ok(priced) => priced_lines.push(priced),
            Err(mut line_errors) => errors.append(&mut line_errors),
        }
    }
    fail_if_any(&mut errors)?;

    let totals = totals(&priced_lines, currency)?;
    Ok(PricedQuote {
        price_book_id: request.price_book_id.clone(),
        price_book_version: request.price_book_version,
        currency,
        rounding_mode: ROUNDING_MODE,
        lines: priced_lines,
        totals,
        price_hash: price_hash_of_sorted(request, &lines),
        trace: PriceTrace::from_steps(steps),
    })
}

fn fail_if_any(errors: &mut Vec<PricingError>) -> Result<(), PricingErrors> {
    match PricingErrors::from_vec(std::mem::take(errors)) {
        Some(errors) => Err(errors),
        None => Ok(()),
    }
}

/// Pricing against another book or currency than requested is meaningless, so it stops here.
fn check_book(book: &PreparedPriceBook, request: &PricingRequest) -> Result<(), PricingErrors> {
    let mut errors = Vec::new();
    if book.id() != request.price_book_id || book.version() != request.price_book_version {
        errors.push(PricingError::PriceBookMismatch {
            requested_id: request.price_book_id.clone(),
            requested_version: request.price_book_version,
            supplied_id: book.id().to_owned(),
            supplied_version: book.version(),
        });
    }
    if book.currency() != request.currency {
        errors.push(PricingError::CurrencyMismatch {
            requested: request.currency,
            price_book: book.currency(),
        });
    }
    fail_if_any(&mut errors)
}

fn checked_quote_discounts<'a>(
    discounts: &'a [Discount],
    scale: u32,
    errors: &mut Vec<PricingError>,
) -> Vec<(&'a Discount, DiscountValue)> {
    let mut checked = Vec::with_capacity(discounts.len());
    for discount in discounts {
        match discounts::check_discount(discount, scale) {
            Ok(value) => checked.push((discount, value)),
            Err(problem) => errors.push(PricingError::InvalidDiscount {
                line_id: None,
                rule_id: discount.rule_id.clone(),
                problem,
            }),
        }
    }
    checked
}

/// A line between the line phase and rounding.
struct WorkLine<'a> {
    line: &'a LineInput,
    charges: Vec<WorkCharge>,
    /// Checked overrides: the override and its new price at the currency's scale.
    overrides: Vec<(&'a ManualOverride, Decimal)>,
}

impl WorkLine<'_> {
    fn step_count(&self) -> usize {
        self.charges.iter().map(|c| c.steps.len() + 2).sum()
    }
}

/// A charge between the line phase and rounding.
struct WorkCharge {
    kind: ChargeKind,
    /// The currency's minor units.
    scale: u32,
    list: Decimal,
    tiers: Option<TierComputation>,
    discounts: Vec<AppliedDiscount>,
    running: Decimal,
    steps: Vec<TraceStep>,
}

impl WorkCharge {
    /// Records a step; the output is written in canonical form (see [`canonical`]).
    fn step(&mut self, line_id: &str, rule: StepRule, output: Decimal, detail: StepDetail) {
        let output = canonical(output, self.scale);
        self.steps.push(TraceStep {
            index: 0,
            rule,
            line_id: line_id.to_owned(),
            charge: self.kind,
            input: self.running,
            output,
            detail,
        });
        self.running = output;
    }

    fn discount(&mut self, line_id: &str, rule: StepRule, applied: Applied<'_>) {
        let Applied {
            rule_id,
            reason,
            value,
            allocated,
            after,
        } = applied;
        let after = canonical(after, self.scale);
        self.discounts.push(AppliedDiscount {
            rule,
            rule_id: rule_id.to_owned(),
            reason: reason.clone(),
            value,
            before: self.running,
            after,
        });
        let detail = StepDetail::Discount {
            rule_id: rule_id.to_owned(),
            reason,
            value,
            allocated,
        };
        self.step(line_id, rule, after, detail);
    }
}

/// The one written form of an amount: trailing zeros dropped, but never fewer decimals than
/// the currency has (`1267.500` → `1267.50`, `12.18750` → `12.1875`, `1350` → `1350.00`).
/// Arithmetic alone would make the scale depend on the path taken; this makes the trace
/// depend only on values.
fn canonical(amount: Decimal, scale: u32) -> Decimal {
    let mut normal = amount.normalize();
    if normal.scale() < scale {
        normal.rescale(scale);
    }
    normal
}

/// What one discount did to one charge.
struct Applied<'a> {
    rule_id: &'a str,
    reason: String,
    value: DiscountValue,
    allocated: Option<Decimal>,
    after: Decimal,
}

fn line_error(line: &LineInput, error: ApplyError, rule_id: &str) -> PricingError {
    match error {
        ApplyError::Problem(problem) => PricingError::InvalidDiscount {
            line_id: Some(line.line_id.clone()),
            rule_id: rule_id.to_owned(),
            problem,
        },
        ApplyError::Overflow => PricingError::Overflow {
            line_id: Some(line.line_id.clone()),
        },
    }
}

/// List price, term discount and line discounts of every charge of one line; checks the line's
/// overrides (their staleness can only be judged after rounding).
fn price_line<'a>(
    book: &PreparedPriceBook,
    line: &'a LineInput,
    policy: Option<&TermPolicy<'_>>,
    scale: u32,
) -> Result<WorkLine<'a>, Vec<PricingError>> {
    let id = line.line_id.as_str();
    let mut errors = Vec::new();
    if line.quantity == 0 {
        errors.push(PricingError::InvalidQuantity {
            line_id: id.to_owned(),
        });
    }
    if line.term_months == Some(0) {
        errors.push(PricingError::InvalidTerm {
            line_id: id.to_owned(),
        });
    }
    let charges = book.charges_for(&line.offering_id, line.offering_version);
    if charges.is_empty() {
        errors.push(PricingError::NoChargeForOffering {
            line_id: id.to_owned(),
            offering_id: line.offering_id.clone(),
            offering_version: line.offering_version,
        });
    }
    let has = |kind: ChargeKind| charges.is_empty() || charges.iter().any(|c| c.kind == kind);

    let mut discounts = Vec::with_capacity(line.discounts.len());
    for discount in &line.discounts {
        let checked = discounts::check_discount(discount, scale).and_then(|value| {
            match discount.applies_to {
                Some(kind) if !has(kind) => Err(DiscountProblem::NoSuchCharge),
                _ => Ok(value),
            }
        });
        match checked {
            Ok(value) => discounts.push((discount, value)),
            Err(problem) => errors.push(PricingError::InvalidDiscount {
                line_id: Some(id.to_owned()),
                rule_id: discount.rule_id.clone(),
                problem,
            }),
        }
    }

    let mut overrides = Vec::with_capacity(line.overrides.len());
    for (i, o) in line.overrides.iter().enumerate() {
        match check_override(o, scale, &line.overrides[..i], has(o.charge)) {
            Ok(new_price) => overrides.push((o, new_price)),
            Err(problem) => errors.push(PricingError::InvalidOverride {
                line_id: id.to_owned(),
                charge: o.charge,
                problem,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let term_rule = match (line.term_months, policy) {
        (Some(term), Some(policy)) => policy.select(term).map(|rule| (term, rule)),
        _ => None,
    };
    let mut work = Vec::with_capacity(charges.len());
    for charge in charges {
        let list = tiers::list_price(&charge.pricing, line.quantity).map_err(|e| {
            vec![match e {
                TierError::Overflow => PricingError::Overflow {
                    line_id: Some(id.to_owned()),
                },
                TierError::Malformed => PricingError::InvalidPriceBook {
                    offering_id: charge.offering_id.clone(),
                    offering_version: charge.offering_version,
                    charge: charge.kind,
                    problem: PriceBookProblem::TiersNotContiguous,
                },
            }]
        })?;
        let mut wc = WorkCharge {
            kind: charge.kind,
            scale,
            list: list.amount,
            tiers: None,
            discounts: Vec::new(),
            running: Decimal::new(0, scale),
            steps: Vec::with_capacity(4 + line.discounts.len()),
        };
        match &list.tiers {
            None => {
                if let crate::model::Pricing::Flat { unit_price } = charge.pricing {
                    let detail = StepDetail::ListPrice {
                        unit_price,
                        quantity: line.quantity,
                    };
                    wc.step(id, StepRule::ListPrice, list.amount, detail);
                }
            }
            Some(computation) => {
                for band in &computation.bands {
                    let detail = StepDetail::Tier {
                        tier: band.tier,
                        from_quantity: band.from_quantity,
                        to_quantity: band.to_quantity,
                        units: band.units,
                        unit_price: band.unit_price,
                    };
                    let output = wc.running + band.amount;
                    wc.step(id, StepRule::Tier(computation.mode), output, detail);
                }
            }
        }
        wc.tiers = list.tiers;

        if let (ChargeKind::Recurring(_), Some((term, (rule, percent)))) = (charge.kind, term_rule)
        {
            let value = DiscountValue::Percent(percent);
            let after = discounts::apply(wc.running, value, scale)
                .map_err(|e| vec![line_error(line, e, &rule.rule_id)])?;
            let reason = format!(
                "term of {term} months reaches the {}-month threshold",
                rule.min_term_months
            );
            let applied = Applied {
                rule_id: &rule.rule_id,
                reason,
                value,
                allocated: None,
                after,
            };
            let step_rule = StepRule::TermDiscount {
                min_term_months: rule.min_term_months,
            };
            wc.discount(id, step_rule, applied);
        }

        for (discount, value) in &discounts {
            if discount.applies_to.is_some_and(|kind| kind != charge.kind) {
                continue;
            }
            match discounts::apply(wc.running, *value, scale) {
                Ok(after) => {
                    let applied = Applied {
                        rule_id: &discount.rule_id,
                        reason: discount.reason.clone(),
                        value: *value,
                        allocated: None,
                        after,
                    };
                    wc.discount(id, StepRule::LineDiscount, applied);
                }
                Err(e) => errors.push(line_error(line, e, &discount.rule_id)),
            }
        }
        work.push(wc);
    }
    if errors.is_empty() {
        Ok(WorkLine {
            line,
            charges: work,
            overrides,
        })
    } else {
        Err(errors)
    }
}

/// Checks an override's own shape; returns its new price at the currency's scale.
fn check_override(
    o: &ManualOverride,
    scale: u32,
    earlier: &[ManualOverride],
    charge_exists: bool,
) -> Result<Decimal, OverrideProblem> {
    if !charge_exists {
        return Err(OverrideProblem::NoSuchCharge);
    }
    if earlier.iter().any(|e| e.charge == o.charge) {
        return Err(OverrideProblem::Duplicate);
    }
    if o.actor.trim().is_empty() {
        return Err(OverrideProblem::MissingActor);
    }
    if o.reason.trim().is_empty() {
        return Err(OverrideProblem::MissingReason);
    }
    if o.original_price < Decimal::ZERO || o.new_price < Decimal::ZERO {
        return Err(OverrideProblem::NegativePrice);
    }
    if discounts::to_scale(o.original_price, scale).is_none() {
        return Err(OverrideProblem::TooPrecise);
    }
    discounts::to_scale(o.new_price, scale).ok_or(OverrideProblem::TooPrecise)
}

/// Applies one quote discount to every charge in scope: a percentage to each, an amount split
/// pro rata in whole minor units (see [`discounts::allocate`]).
fn apply_quote_discount(
    work: &mut [WorkLine<'_>],
    discount: &Discount,
    value: DiscountValue,
    scale: u32,
) -> Result<(), PricingError> {
    let quote_error = |e: ApplyError| match e {
        ApplyError::Problem(problem) => PricingError::InvalidDiscount {
            line_id: None,
            rule_id: discount.rule_id.clone(),
            problem,
        },
        ApplyError::Overflow => PricingError::Overflow { line_id: None },
    };
    let in_scope = |c: &WorkCharge| discount.applies_to.is_none_or(|kind| kind == c.kind);
    let scoped = work
        .iter()
        .flat_map(|l| &l.charges)
        .filter(|c| in_scope(c))
        .count();
    if scoped == 0 && discount.applies_to.is_some() {
        return Err(quote_error(ApplyError::Problem(
            DiscountProblem::NoSuchCharge,
        )));
    }
    let shares = match value {
        DiscountValue::Percent(_) => None,
        DiscountValue::Amount(amount) => {
            let bases: Vec<Decimal> = work
                .iter()
                .flat_map(|l| &l.charges)
                .filter(|c| in_scope(c))
                .map(|c| c.running)
                .collect();
            Some(discounts::allocate(amount, &bases, scale).map_err(quote_error)?)
        }
    };
    let mut share_index = 0;
    for line in work.iter_mut() {
        let id = line.line.line_id.as_str();
        for charge in line.charges.iter_mut().filter(|c| in_scope(c)) {
            let (after, allocated) = match &shares {
                None => (
                    discounts::apply(charge.running, value, scale).map_err(quote_error)?,
                    None,
                ),
                Some(shares) => {
                    let share = shares.get(share_index).copied().unwrap_or_default();
                    share_index += 1;
                    let after = discounts::subtract_floored(charge.running, share);
                    (after, Some(share))
                }
            };
            let applied = Applied {
                rule_id: &discount.rule_id,
                reason: discount.reason.clone(),
                value,
                allocated,
                after,
            };
            charge.discount(id, StepRule::QuoteDiscount, applied);
        }
    }
    Ok(())
}

/// Rounds each charge once, applies overrides, and moves the line's steps into the trace.
fn finish_line(
    work: WorkLine<'_>,
    currency: Currency,
    trace: &mut Vec<TraceStep>,
) -> Result<PricedLine, Vec<PricingError>> {
    let WorkLine {
        line,
        charges,
        overrides,
    } = work;
    let id = line.line_id.as_str();
    let mut errors = Vec::new();
    let mut priced = Vec::with_capacity(charges.len());
    for mut charge in charges {
        let (computed, rounding) = Money::new(charge.running, currency).round(ROUNDING_MODE);
        let detail = StepDetail::Round {
            mode: rounding.mode,
            scale: rounding.scale,
        };
        charge.step(id, StepRule::Round, computed.amount, detail);
        let mut net = computed;
        let mut manual_override = None;
        if let Some((o, new_price)) = overrides.iter().find(|(o, _)| o.charge == charge.kind) {
            if o.original_price == computed.amount {
                let detail = StepDetail::Override {
                    actor: o.actor.clone(),
                    reason: o.reason.clone(),
                };
                charge.step(id, StepRule::Override, *new_price, detail);
                net = Money::new(*new_price, currency);
                manual_override = Some(OverrideRecord {
                    original_price: computed,
                    new_price: net,
                    actor: o.actor.clone(),
                    reason: o.reason.clone(),
                });
            } else {
                errors.push(PricingError::OverrideStale {
                    line_id: id.to_owned(),
                    charge: o.charge,
                    original: o.original_price,
                    computed: computed.amount,
                });
            }
        }
        trace.append(&mut charge.steps);
        priced.push(PricedCharge {
            kind: charge.kind,
            list_price: Money::new(charge.list, currency),
            tiers: charge.tiers,
            discounts: charge.discounts,
            rounding,
            computed,
            manual_override,
            net,
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(PricedLine {
        line_id: line.line_id.clone(),
        offering_id: line.offering_id.clone(),
        offering_version: line.offering_version,
        quantity: line.quantity,
        term_months: line.term_months,
        configuration_hash: line.configuration_hash.clone(),
        charges: priced,
    })
}

/// Sums rounded nets per charge kind; nothing is rounded again.
fn totals(lines: &[PricedLine], currency: Currency) -> Result<QuoteTotals, PricingErrors> {
    let zero = Decimal::new(0, currency.minor_units());
    let mut one_time = zero;
    let mut recurring: [Option<Decimal>; 3] = [None; 3];
    let overflow = || PricingErrors::from(PricingError::Overflow { line_id: None });
    for charge in lines.iter().flat_map(|l| &l.charges) {
        let slot = match charge.kind {
            ChargeKind::OneTime => &mut one_time,
            ChargeKind::Recurring(period) => recurring[period_slot(period)].get_or_insert(zero),
        };
        *slot = slot.checked_add(charge.net.amount).ok_or_else(overflow)?;
    }
    Ok(QuoteTotals {
        one_time: Money::new(one_time, currency),
        recurring: Period::ALL
            .into_iter()
            .zip(recurring)
            .filter_map(|(period, amount)| {
                amount.map(|amount| RecurringTotal {
                    period,
                    amount: Money::new(amount, currency),
                })
            })
            .collect(),
    })
}

fn period_slot(period: Period) -> usize {
    match period {
        Period::Month => 0,
        Period::Quarter => 1,
        Period::Year => 2,
    }
}
