//! The pricing run: list price, term discount, line discounts, quote discounts, one rounding,
//! overrides — per charge, in that order — then totals and the price hash. The trace is derived
//! from the priced charges on demand ([`PricedQuote::trace`]).
//!
//! Lines are processed in canonical order (by line id), so the output, the trace and the hash
//! do not depend on the order lines arrive in. Errors are collected across all lines and
//! returned together; a run either prices every line or returns every error it could find.
//!
//! Three phases, because a quote-level amount is split over all charges in scope and so needs
//! every charge's amount first: (1) per line, list price, term and line discounts; (2) the quote
//! discounts, over a flat list of charge amounts; (3) per line, the quote discounts recorded,
//! rounding, overrides, totals.

use std::collections::HashMap;
use std::sync::Arc;

use domain_kernel::money::{Currency, Money, RoundingStep};
use rust_decimal::Decimal;

use crate::ROUNDING_MODE;
use crate::amount::{canonical, to_scale};
use crate::book::PreparedPriceBook;
use crate::discounts::{self, ApplyError, TermPolicy};
use crate::error::{
    DiscountProblem, OverrideProblem, PriceBookProblem, PricingError, PricingErrors,
};
use crate::hash::PriceHasher;
use crate::model::{
    ChargeKind, Discount, DiscountValue, LineInput, ManualOverride, Period, PriceBook,
    PricingRequest,
};
use crate::priced::{
    AppliedDiscount, OverrideRecord, PricedCharge, PricedLine, PricedQuote, QuoteTotals,
    RecurringTotal,
};
use crate::tiers::{self, TierError};
use crate::trace::StepRule;

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
    let mut strings = Interner::default();
    let quote_discounts =
        checked_quote_discounts(&request.quote_discounts, scale, &mut strings, &mut errors);

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

    // Phase 1. `kinds` and `amounts` list every charge in canonical order, so phase 2 works on
    // two flat lists instead of visiting each line's records once per quote discount.
    let mut context = LineContext {
        book,
        policy: policy.as_ref(),
        quote_discounts: quote_discounts.len(),
        currency,
        strings,
        scratch: Vec::new(),
    };
    let mut work = Vec::with_capacity(lines.len());
    let mut kinds = Vec::with_capacity(lines.len() * 2);
    let mut amounts = Vec::with_capacity(lines.len() * 2);
    let mut hasher = PriceHasher::new(request);
    for line in &lines {
        hasher.line(line);
        match price_line(&mut context, line, &mut kinds, &mut amounts) {
            Ok(priced) => work.push(priced),
            Err(mut line_errors) => errors.append(&mut line_errors),
        }
    }
    fail_if_any(&mut errors)?;

    // Phase 2.
    let mut current = amounts.clone();
    let mut outcomes = Vec::with_capacity(quote_discounts.len());
    for discount in &quote_discounts {
        match apply_quote_discount(&kinds, &mut current, discount, scale) {
            Ok(outcome) => outcomes.push(outcome),
            Err(error) => errors.push(error),
        }
    }
    fail_if_any(&mut errors)?;

    // Phase 3.
    let quote = QuotePhase {
        discounts: &quote_discounts,
        outcomes: &outcomes,
        amounts: &amounts,
    };
    let mut priced_lines = Vec::with_capacity(work.len());
    let mut charge_index = 0;
    let mut totals = Totals::new(scale);
    for line in work {
        match finish_line(line, currency, &quote, &mut charge_index, &mut totals) {
            Ok(priced) => priced_lines.push(priced),
            Err(mut line_errors) => errors.append(&mut line_errors),
        }
    }
    fail_if_any(&mut errors)?;

    Ok(PricedQuote {
        price_book_id: request.price_book_id.clone(),
        price_book_version: request.price_book_version,
        currency,
        rounding_mode: ROUNDING_MODE,
        lines: priced_lines,
        totals: totals.finish(currency),
        price_hash: hasher.finish(request),
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

/// One shared copy of each rule id and reason of a run: the same discount on thousands of
/// lines costs one allocation, not one per line.
#[derive(Default)]
struct Interner<'a> {
    strings: HashMap<&'a str, Arc<str>>,
}

impl<'a> Interner<'a> {
    fn get(&mut self, value: &'a str) -> Arc<str> {
        Arc::clone(
            self.strings
                .entry(value)
                .or_insert_with(|| Arc::from(value)),
        )
    }
}

fn checked_quote_discounts<'a>(
    discounts: &'a [Discount],
    scale: u32,
    strings: &mut Interner<'a>,
    errors: &mut Vec<PricingError>,
) -> Vec<CheckedDiscount<'a>> {
    let mut checked = Vec::with_capacity(discounts.len());
    for discount in discounts {
        match discounts::check_discount(discount, scale) {
            Ok(value) => checked.push(CheckedDiscount::new(discount, value, strings)),
            Err(problem) => errors.push(PricingError::InvalidDiscount {
                line_id: None,
                rule_id: discount.rule_id.clone(),
                problem,
            }),
        }
    }
    checked
}

/// A discount checked once per request (quote) or line, with the strings its records share.
struct CheckedDiscount<'a> {
    discount: &'a Discount,
    value: DiscountValue,
    rule_id: Arc<str>,
    reason: Arc<str>,
}

impl<'a> CheckedDiscount<'a> {
    fn new(discount: &'a Discount, value: DiscountValue, strings: &mut Interner<'a>) -> Self {
        Self {
            discount,
            value,
            rule_id: strings.get(&discount.rule_id),
            reason: strings.get(&discount.reason),
        }
    }

    fn applies_to(&self, kind: ChargeKind) -> bool {
        self.discount.applies_to.is_none_or(|k| k == kind)
    }

    fn grant(&self, rule: StepRule) -> Grant<'_> {
        Grant {
            rule,
            rule_id: &self.rule_id,
            reason: &self.reason,
            value: self.value,
        }
    }
}

/// Which discount a record is about (the same for every charge it applies to).
struct Grant<'s> {
    rule: StepRule,
    rule_id: &'s Arc<str>,
    reason: &'s Arc<str>,
    value: DiscountValue,
}

/// Records a discount on a charge; `after` is already canonical.
fn record(
    charge: &mut PricedCharge,
    grant: &Grant<'_>,
    allocated: Option<Decimal>,
    before: Decimal,
    after: Decimal,
) {
    charge.discounts.push(AppliedDiscount {
        rule: grant.rule,
        rule_id: Arc::clone(grant.rule_id),
        reason: Arc::clone(grant.reason),
        value: grant.value,
        allocated,
        before,
        after,
    });
}

/// What phase 1 needs besides the line.
struct LineContext<'b, 'a> {
    book: &'b PreparedPriceBook,
    policy: Option<&'b TermPolicy>,
    quote_discounts: usize,
    currency: Currency,
    strings: Interner<'a>,
    /// Reused for each line's checked discounts.
    scratch: Vec<CheckedDiscount<'a>>,
}

/// A line between phases: the output line, whose charges are filled in as the phases run
/// (rounding, computed and net are set by [`finish_line`]), and its checked overrides.
struct WorkLine<'a> {
    /// What the output line repeats of the input line, copied while it is in cache.
    line: PricedLine,
    /// Checked overrides: the override and its new price at the currency's scale.
    overrides: Vec<(&'a ManualOverride, Decimal)>,
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

/// Phase 1 for one line: list price, term discount and line discounts of every charge, whose
/// kind and resulting amount are appended to `kinds` / `amounts`; checks the line's overrides
/// (their staleness can only be judged after rounding).
fn price_line<'a>(
    cx: &mut LineContext<'_, 'a>,
    line: &'a LineInput,
    kinds: &mut Vec<ChargeKind>,
    amounts: &mut Vec<Decimal>,
) -> Result<WorkLine<'a>, Vec<PricingError>> {
    let currency = cx.currency;
    let scale = currency.minor_units();
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
    let (offering_id, charges) = match cx.book.lookup(&line.offering_id, line.offering_version) {
        Some((offering_id, charges)) => (Some(Arc::clone(offering_id)), charges),
        None => (None, &[][..]),
    };
    if charges.is_empty() {
        errors.push(PricingError::NoChargeForOffering {
            line_id: id.to_owned(),
            offering_id: line.offering_id.clone(),
            offering_version: line.offering_version,
        });
    }
    let has = |kind: ChargeKind| charges.is_empty() || charges.iter().any(|c| c.kind == kind);

    let discounts = &mut cx.scratch;
    discounts.clear();
    for discount in &line.discounts {
        let checked = discounts::check_discount(discount, scale).and_then(|value| {
            match discount.applies_to {
                Some(kind) if !has(kind) => Err(DiscountProblem::NoSuchCharge),
                _ => Ok(value),
            }
        });
        match checked {
            Ok(value) => discounts.push(CheckedDiscount::new(discount, value, &mut cx.strings)),
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

    let term_row = line
        .term_months
        .zip(cx.policy)
        .and_then(|(term, policy)| policy.select(term));
    let mut priced = Vec::with_capacity(charges.len());
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
        let term = term_row.filter(|_| matches!(charge.kind, ChargeKind::Recurring(_)));
        let capacity = usize::from(term.is_some()) + discounts.len() + cx.quote_discounts;
        let mut running = canonical(list.amount, scale);
        let mut pc = PricedCharge {
            kind: charge.kind,
            list_price: Money::new(running, currency),
            list: list.computation,
            discounts: Vec::with_capacity(capacity),
            rounding: RoundingStep {
                input: Decimal::ZERO,
                output: Decimal::ZERO,
                scale,
                mode: ROUNDING_MODE,
            },
            computed: Money::zero(currency),
            manual_override: None,
            net: Money::zero(currency),
        };

        if let Some(row) = term {
            let value = DiscountValue::Percent(row.percent);
            let after = discounts::apply(running, value, scale)
                .map_err(|e| vec![line_error(line, e, &row.rule_id)])?;
            let after = canonical(after, scale);
            let grant = Grant {
                rule: StepRule::TermDiscount {
                    min_term_months: row.min_term_months,
                },
                rule_id: &row.rule_id,
                reason: &row.reason,
                value,
            };
            record(&mut pc, &grant, None, running, after);
            running = after;
        }

        for d in discounts.iter().filter(|d| d.applies_to(charge.kind)) {
            match discounts::apply(running, d.value, scale) {
                Ok(after) => {
                    let after = canonical(after, scale);
                    record(
                        &mut pc,
                        &d.grant(StepRule::LineDiscount),
                        None,
                        running,
                        after,
                    );
                    running = after;
                }
                Err(e) => errors.push(line_error(line, e, &d.discount.rule_id)),
            }
        }
        kinds.push(pc.kind);
        amounts.push(running);
        priced.push(pc);
    }
    if errors.is_empty() {
        Ok(WorkLine {
            line: PricedLine {
                line_id: Arc::from(id),
                offering_id: offering_id.unwrap_or_else(|| Arc::from(line.offering_id.as_str())),
                offering_version: line.offering_version,
                quantity: line.quantity,
                term_months: line.term_months,
                configuration_hash: line.configuration_hash.clone(),
                charges: priced,
            },
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
    if to_scale(o.original_price, scale).is_none() {
        return Err(OverrideProblem::TooPrecise);
    }
    to_scale(o.new_price, scale).ok_or(OverrideProblem::TooPrecise)
}

/// What one quote discount did to each charge (by canonical charge index): the amount after
/// it and, for an amount, the charge's share; `None` when the charge is out of scope.
type QuoteOutcome = Vec<Option<(Decimal, Option<Decimal>)>>;

/// Phase 2 for one quote discount, over every charge's current amount: a percentage applies to
/// each charge in scope, an amount is split pro rata in whole minor units (see
/// [`discounts::allocate`]).
fn apply_quote_discount(
    kinds: &[ChargeKind],
    amounts: &mut [Decimal],
    d: &CheckedDiscount<'_>,
    scale: u32,
) -> Result<QuoteOutcome, PricingError> {
    let quote_error = |e: ApplyError| match e {
        ApplyError::Problem(problem) => PricingError::InvalidDiscount {
            line_id: None,
            rule_id: d.discount.rule_id.clone(),
            problem,
        },
        ApplyError::Overflow => PricingError::Overflow { line_id: None },
    };
    if d.discount.applies_to.is_some() && !kinds.iter().any(|kind| d.applies_to(*kind)) {
        return Err(quote_error(ApplyError::Problem(
            DiscountProblem::NoSuchCharge,
        )));
    }
    let mut shares = match d.value {
        DiscountValue::Percent(_) => None,
        DiscountValue::Amount(amount) => {
            let bases: Vec<Decimal> = kinds
                .iter()
                .zip(amounts.iter())
                .filter(|(kind, _)| d.applies_to(**kind))
                .map(|(_, amount)| *amount)
                .collect();
            Some(
                discounts::allocate(amount, &bases, scale)
                    .map_err(quote_error)?
                    .into_iter(),
            )
        }
    };
    let mut outcome = Vec::with_capacity(amounts.len());
    for (kind, amount) in kinds.iter().zip(amounts.iter_mut()) {
        if !d.applies_to(*kind) {
            outcome.push(None);
            continue;
        }
        let (after, allocated) = match &mut shares {
            None => (
                discounts::apply(*amount, d.value, scale).map_err(quote_error)?,
                None,
            ),
            Some(shares) => {
                let share = shares.next().unwrap_or_default();
                (discounts::subtract_floored(*amount, share), Some(share))
            }
        };
        *amount = canonical(after, scale);
        outcome.push(Some((*amount, allocated)));
    }
    Ok(outcome)
}

/// The quote discounts, what each did, and every charge's amount before them.
struct QuotePhase<'q, 'a> {
    discounts: &'q [CheckedDiscount<'a>],
    outcomes: &'q [QuoteOutcome],
    amounts: &'q [Decimal],
}

/// Phase 3 for one line: records the quote discounts on each charge, rounds it once, applies
/// its override and adds it to the totals.
fn finish_line(
    work: WorkLine<'_>,
    currency: Currency,
    quote: &QuotePhase<'_, '_>,
    charge_index: &mut usize,
    totals: &mut Totals,
) -> Result<PricedLine, Vec<PricingError>> {
    let WorkLine {
        mut line,
        overrides,
    } = work;
    let mut errors = Vec::new();
    for charge in &mut line.charges {
        let index = *charge_index;
        *charge_index += 1;
        let mut running = quote.amounts.get(index).copied().unwrap_or_default();
        for (d, outcome) in quote.discounts.iter().zip(quote.outcomes) {
            if let Some(Some((after, allocated))) = outcome.get(index) {
                let grant = d.grant(StepRule::QuoteDiscount);
                record(charge, &grant, *allocated, running, *after);
                running = *after;
            }
        }
        let (computed, rounding) = Money::new(running, currency).round(ROUNDING_MODE);
        charge.rounding = rounding;
        charge.computed = computed;
        charge.net = computed;
        if let Some((o, new_price)) = overrides.iter().find(|(o, _)| o.charge == charge.kind) {
            if o.original_price == computed.amount {
                charge.net = Money::new(*new_price, currency);
                charge.manual_override = Some(Box::new(OverrideRecord {
                    original_price: computed,
                    new_price: charge.net,
                    actor: o.actor.clone(),
                    reason: o.reason.clone(),
                }));
            } else {
                errors.push(PricingError::OverrideStale {
                    line_id: line.line_id.to_string(),
                    charge: o.charge,
                    original: o.original_price,
                    computed: computed.amount,
                });
            }
        }
        if let Err(error) = totals.add(charge.kind, charge.net.amount) {
            errors.push(error);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(line)
}

/// Sums of rounded nets per charge kind, accumulated as lines finish (while their charges are
/// at hand); nothing is rounded again.
struct Totals {
    zero: Decimal,
    one_time: Decimal,
    recurring: [Option<Decimal>; 3],
}

impl Totals {
    fn new(scale: u32) -> Self {
        let zero = Decimal::new(0, scale);
        Self {
            zero,
            one_time: zero,
            recurring: [None; 3],
        }
    }

    fn add(&mut self, kind: ChargeKind, amount: Decimal) -> Result<(), PricingError> {
        let slot = match kind {
            ChargeKind::OneTime => &mut self.one_time,
            ChargeKind::Recurring(period) => {
                self.recurring[period_slot(period)].get_or_insert(self.zero)
            }
        };
        *slot = slot
            .checked_add(amount)
            .ok_or(PricingError::Overflow { line_id: None })?;
        Ok(())
    }

    fn finish(self, currency: Currency) -> QuoteTotals {
        QuoteTotals {
            one_time: Money::new(self.one_time, currency),
            recurring: Period::ALL
                .into_iter()
                .zip(self.recurring)
                .filter_map(|(period, amount)| {
                    amount.map(|amount| RecurringTotal {
                        period,
                        amount: Money::new(amount, currency),
                    })
                })
                .collect(),
        }
    }
}

fn period_slot(period: Period) -> usize {
    match period {
        Period::Month => 0,
        Period::Quarter => 1,
        Period::Year => 2,
    }
}
