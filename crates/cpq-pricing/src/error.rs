//! Why a pricing run was refused. Every error has a stable machine code (`code()`) that the CPQ
//! service puts in its problem+json responses; messages are for people and may change.

use std::fmt;

use domain_kernel::money::Currency;
use rust_decimal::Decimal;

use crate::model::ChargeKind;

/// What is wrong with one charge of a price book version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PriceBookProblem {
    /// The offering version is below 1.
    InvalidVersion,
    /// A unit price is negative.
    NegativePrice,
    /// A unit price has more decimals than the currency's minor units.
    TooPrecise,
    /// A tiered charge has no tiers.
    NoTiers,
    /// Tiers do not start at 1 and follow each other without gaps or overlaps.
    TiersNotContiguous,
    /// The last tier has an upper bound, or another tier has none.
    OpenTierNotLast,
    /// The offering version has two charges of the same kind.
    DuplicateCharge,
}

/// What is wrong with a discount or a term-discount policy row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscountProblem {
    /// The rule id is empty, so the trace could not cite it.
    EmptyRuleId,
    /// A percentage below zero.
    NegativePercent,
    /// A percentage above 100.
    PercentAbove100,
    /// An amount below zero.
    NegativeAmount,
    /// An amount with more decimals than the currency's minor units.
    AmountTooPrecise,
    /// An amount larger than the price it applies to.
    AmountExceedsPrice,
    /// An amount without `appliesTo`: it cannot be split across charge kinds.
    AmountNeedsTarget,
    /// `appliesTo` names a charge the line (or quote) does not have.
    NoSuchCharge,
    /// Two term-policy rows with the same threshold.
    DuplicateThreshold,
    /// A term-policy row with a zero-month threshold.
    ZeroThreshold,
}

/// What is wrong with a manual override.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverrideProblem {
    /// The line has no charge of that kind.
    NoSuchCharge,
    /// Two overrides for the same charge of the line.
    Duplicate,
    /// A negative original or new price.
    NegativePrice,
    /// A price with more decimals than the currency's minor units.
    TooPrecise,
    /// No actor: an override must say who made it.
    MissingActor,
    /// No reason: an override must say why.
    MissingReason,
}

macro_rules! problem_codes {
    ($t:ty { $($variant:ident => $code:literal, $text:literal),+ $(,)? }) => {
        impl $t {
            /// Stable machine code of the problem.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $code),+ }
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self { $(Self::$variant => $text),+ })
            }
        }
    };
}

problem_codes!(PriceBookProblem {
    InvalidVersion => "INVALID_VERSION", "the offering version must be at least 1",
    NegativePrice => "NEGATIVE_PRICE", "unit prices must not be negative",
    TooPrecise => "TOO_PRECISE", "unit prices must fit the currency's minor units",
    NoTiers => "NO_TIERS", "a tiered charge needs at least one tier",
    TiersNotContiguous => "TIERS_NOT_CONTIGUOUS", "tiers must start at 1 without gaps or overlaps",
    OpenTierNotLast => "OPEN_TIER_NOT_LAST", "exactly the last tier must be open-ended",
    DuplicateCharge => "DUPLICATE_CHARGE", "the offering version already has a charge of this kind",
});

problem_codes!(DiscountProblem {
    EmptyRuleId => "EMPTY_RULE_ID", "the rule id is empty",
    NegativePercent => "NEGATIVE_PERCENT", "the percentage is negative",
    PercentAbove100 => "PERCENT_ABOVE_100", "the percentage is above 100",
    NegativeAmount => "NEGATIVE_AMOUNT", "the amount is negative",
    AmountTooPrecise => "AMOUNT_TOO_PRECISE", "the amount has more decimals than the currency allows",
    AmountExceedsPrice => "AMOUNT_EXCEEDS_PRICE", "the amount is larger than the price it reduces",
    AmountNeedsTarget => "AMOUNT_NEEDS_TARGET", "an amount discount must name the charge it applies to",
    NoSuchCharge => "NO_SUCH_CHARGE", "there is no charge of that kind to discount",
    DuplicateThreshold => "DUPLICATE_THRESHOLD", "another term rule has the same threshold",
    ZeroThreshold => "ZERO_THRESHOLD", "a term threshold must be at least one month",
});

problem_codes!(OverrideProblem {
    NoSuchCharge => "NO_SUCH_CHARGE", "the line has no charge of that kind",
    Duplicate => "DUPLICATE", "the charge is overridden twice",
    NegativePrice => "NEGATIVE_PRICE", "override prices must not be negative",
    TooPrecise => "TOO_PRECISE", "override prices must fit the currency's minor units",
    MissingActor => "MISSING_ACTOR", "an override must name its actor",
    MissingReason => "MISSING_REASON", "an override must give a reason",
});

/// One reason a pricing run was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    /// The request names another price book version than the one supplied.
    #[error(
        "the request is for price book {requested_id} v{requested_version}, \
         but {supplied_id} v{supplied_version} was supplied"
    )]
    PriceBookMismatch {
        /// Id in the request.
        requested_id: String,
        /// Version in the request.
        requested_version: i32,
        /// Id of the book supplied.
        supplied_id: String,
        /// Version of the book supplied.
        supplied_version: i32,
    },
    /// The quote currency is not the price book's.
    #[error("the quote is in {requested} but the price book is in {price_book}")]
    CurrencyMismatch {
        /// Currency of the request.
        requested: Currency,
        /// Currency of the price book.
        price_book: Currency,
    },
    /// A charge of the price book is malformed.
    #[error("price book charge {offering_id} v{offering_version} {charge}: {problem}")]
    InvalidPriceBook {
        /// Offering of the charge.
        offering_id: String,
        /// Offering version of the charge.
        offering_version: i32,
        /// The charge.
        charge: ChargeKind,
        /// What is wrong.
        problem: PriceBookProblem,
    },
    /// The price book has no charge for a line's pinned offering version.
    #[error("line {line_id}: no charge for offering {offering_id} v{offering_version}")]
    NoChargeForOffering {
        /// The line.
        line_id: String,
        /// Its offering.
        offering_id: String,
        /// Its offering version.
        offering_version: i32,
    },
    /// Two lines share an id.
    #[error("line id {line_id} appears more than once")]
    DuplicateLine {
        /// The repeated id.
        line_id: String,
    },
    /// A quantity of zero.
    #[error("line {line_id}: the quantity must be at least 1")]
    InvalidQuantity {
        /// The line.
        line_id: String,
    },
    /// A term of zero months.
    #[error("line {line_id}: the term must be at least one month")]
    InvalidTerm {
        /// The line.
        line_id: String,
    },
    /// A row of the term-discount policy is unusable.
    #[error("term discount rule {rule_id}: {problem}")]
    InvalidTermPolicy {
        /// The policy row.
        rule_id: String,
        /// What is wrong.
        problem: DiscountProblem,
    },
    /// A line or quote discount is unusable.
    #[error("discount {rule_id}{}: {problem}", line_suffix(.line_id.as_deref()))]
    InvalidDiscount {
        /// The line, or `None` for a quote-level discount.
        line_id: Option<String>,
        /// The discount's rule.
        rule_id: String,
        /// What is wrong.
        problem: DiscountProblem,
    },
    /// A manual override is unusable.
    #[error("line {line_id}: override of {charge}: {problem}")]
    InvalidOverride {
        /// The line.
        line_id: String,
        /// The charge it targets.
        charge: ChargeKind,
        /// What is wrong.
        problem: OverrideProblem,
    },
    /// A manual override was made against a price the engine no longer computes.
    #[error(
        "line {line_id}: override of {charge} was made against {original}, but the computed price is now {computed}"
    )]
    OverrideStale {
        /// The line.
        line_id: String,
        /// The charge it targets.
        charge: ChargeKind,
        /// The original price the override recorded.
        original: Decimal,
        /// The price computed now.
        computed: Decimal,
    },
    /// An amount does not fit in a decimal.
    #[error("amount overflow{}", line_suffix(.line_id.as_deref()))]
    Overflow {
        /// The line, or `None` for a quote-level computation.
        line_id: Option<String>,
    },
}

fn line_suffix(line_id: Option<&str>) -> String {
    line_id.map_or_else(String::new, |id| format!(" on line {id}"))
}

impl PricingError {
    /// Stable machine code for problem+json `code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PriceBookMismatch { .. } => "PRICE_BOOK_MISMATCH",
            Self::CurrencyMismatch { .. } => "CURRENCY_MISMATCH",
            Self::InvalidPriceBook { .. } => "INVALID_PRICE_BOOK",
            Self::NoChargeForOffering { .. } => "PRICE_NOT_FOUND",
            Self::DuplicateLine { .. } => "DUPLICATE_LINE",
            Self::InvalidQuantity { .. } => "INVALID_QUANTITY",
            Self::InvalidTerm { .. } => "INVALID_TERM",
            Self::InvalidTermPolicy { .. } => "INVALID_TERM_POLICY",
            Self::InvalidDiscount { .. } => "INVALID_DISCOUNT",
            Self::InvalidOverride { .. } => "INVALID_OVERRIDE",
            Self::OverrideStale { .. } => "OVERRIDE_STALE",
            Self::Overflow { .. } => "AMOUNT_OVERFLOW",
        }
    }

    /// The line the error is about, so the service can point `errors[]` at the item.
    pub fn line_id(&self) -> Option<&str> {
        match self {
            Self::NoChargeForOffering { line_id, .. }
            | Self::DuplicateLine { line_id }
            | Self::InvalidQuantity { line_id }
            | Self::InvalidTerm { line_id }
            | Self::InvalidOverride { line_id, .. }
            | Self::OverrideStale { line_id, .. } => Some(line_id),
            Self::InvalidDiscount { line_id, .. } | Self::Overflow { line_id } => {
                line_id.as_deref()
            }
            Self::PriceBookMismatch { .. }
            | Self::CurrencyMismatch { .. }
            | Self::InvalidPriceBook { .. }
            | Self::InvalidTermPolicy { .. } => None,
        }
    }
}

/// Every reason a pricing run was refused (never empty), so a user fixes all lines at once
/// instead of one per round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingErrors(Vec<PricingError>);

impl PricingErrors {
    /// Wraps the errors found; `None` when there are none, so callers cannot build an empty
    /// failure.
    pub fn from_vec(errors: Vec<PricingError>) -> Option<Self> {
        (!errors.is_empty()).then_some(Self(errors))
    }

    /// The errors, in the order found (request, then lines in canonical order).
    pub fn errors(&self) -> &[PricingError] {
        &self.0
    }

    /// The errors, owned.
    pub fn into_vec(self) -> Vec<PricingError> {
        self.0
    }

    /// The machine codes, in order (handy in tests and logs).
    pub fn codes(&self) -> Vec<&'static str> {
        self.0.iter().map(PricingError::code).collect()
    }
}

impl From<PricingError> for PricingErrors {
    fn from(error: PricingError) -> Self {
        Self(vec![error])
    }
}

impl std::error::Error for PricingErrors {}

impl fmt::Display for PricingErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pricing refused ({} error(s))", self.0.len())?;
        for (i, error) in self.0.iter().enumerate() {
            let sep = if i == 0 { ": " } else { "; " };
            write!(f, "{sep}{error}")?;
        }
        Ok(())
    }
}
