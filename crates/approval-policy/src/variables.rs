//! The variables the DMN table sees: aggregates over the lines, computed in Rust so the table
//! stays a plain table (no FEEL list functions, no per-line iteration in the engine), and the
//! direction of each one that an approval already given still covers.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::PolicyError;
use crate::input::PolicyInput;

/// One input variable of the decision (its DMN `inputData` name is [`Variable::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variable {
    /// The largest line discount, percent.
    MaxLineDiscountPercent,
    /// The quote-level discount, percent.
    QuoteDiscountPercent,
    /// The submitter's discount authority, percent.
    DiscountAuthorityPercent,
    /// Number of overridden charges.
    OverrideCount,
    /// What the overrides took off, summed.
    TotalOverrideAmount,
    /// The lowest net as percent of list.
    MinNetPercentOfList,
    /// One-time + monthly recurring × term.
    TotalContractValue,
}

/// A direction of change of a variable's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    /// The value goes down.
    Lower,
    /// The value goes up.
    Higher,
}

impl Variable {
    /// Every variable, in the table's order.
    pub const ALL: [Self; 7] = [
        Self::MaxLineDiscountPercent,
        Self::QuoteDiscountPercent,
        Self::DiscountAuthorityPercent,
        Self::OverrideCount,
        Self::TotalOverrideAmount,
        Self::MinNetPercentOfList,
        Self::TotalContractValue,
    ];

    /// The DMN `inputData` name, also the `input` a finding names.
    pub fn name(self) -> &'static str {
        match self {
            Self::MaxLineDiscountPercent => "maxLineDiscountPercent",
            Self::QuoteDiscountPercent => "quoteDiscountPercent",
            Self::DiscountAuthorityPercent => "discountAuthorityPercent",
            Self::OverrideCount => "overrideCount",
            Self::TotalOverrideAmount => "totalOverrideAmount",
            Self::MinNetPercentOfList => "minNetPercentOfList",
            Self::TotalContractValue => "totalContractValue",
        }
    }

    /// Reads a DMN name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }

    /// The direction in the seller's disfavour: a change this way (less discount, fewer or
    /// smaller overrides, a higher net, a smaller contract, more authority) only makes the
    /// deal safer for the company, so an approval already given for the old value still
    /// covers the new one. A change the other way must be approved again.
    pub fn disfavour(self) -> Direction {
        match self {
            Self::MaxLineDiscountPercent
            | Self::QuoteDiscountPercent
            | Self::OverrideCount
            | Self::TotalOverrideAmount
            | Self::TotalContractValue => Direction::Lower,
            Self::DiscountAuthorityPercent | Self::MinNetPercentOfList => Direction::Higher,
        }
    }

    /// Whether moving from `approved` to `now` stays within what was approved (equal, or in
    /// the [`Variable::disfavour`] direction).
    pub fn covered(self, approved: Decimal, now: Decimal) -> bool {
        match self.disfavour() {
            Direction::Lower => now <= approved,
            Direction::Higher => now >= approved,
        }
    }
}

impl fmt::Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The values the decision table is evaluated on; stored in the evaluation as evidence of
/// exactly what the table saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyVariables {
    /// Max over lines of the line discount (0 without lines).
    pub max_line_discount_percent: Decimal,
    /// The quote-level discount.
    pub quote_discount_percent: Decimal,
    /// The submitter's authority.
    pub discount_authority_percent: Decimal,
    /// Sum over lines of overridden charges.
    pub override_count: u32,
    /// Sum over lines of what overrides took off.
    pub total_override_amount: Decimal,
    /// Min over lines of the net as percent of list (100 when no charge has a list amount:
    /// nothing is below list).
    pub min_net_percent_of_list: Decimal,
    /// One-time total + monthly recurring total × term months.
    pub total_contract_value: Decimal,
}

impl PolicyVariables {
    /// Aggregates the input; checked arithmetic, so an absurd quote is refused rather than
    /// wrapped or rounded.
    pub fn from_input(input: &PolicyInput) -> Result<Self, PolicyError> {
        let overflow = |variable: Variable| PolicyError::Overflow {
            variable: variable.name(),
        };
        let max_line_discount_percent = input
            .lines
            .iter()
            .map(|l| l.discount_percent)
            .max()
            .unwrap_or(Decimal::ZERO);
        let override_count = input.lines.iter().try_fold(0u32, |sum, l| {
            sum.checked_add(l.override_count)
                .ok_or_else(|| overflow(Variable::OverrideCount))
        })?;
        let total_override_amount = input.lines.iter().try_fold(Decimal::ZERO, |sum, l| {
            sum.checked_add(l.override_amount)
                .ok_or_else(|| overflow(Variable::TotalOverrideAmount))
        })?;
        let min_net_percent_of_list = input
            .lines
            .iter()
            .filter_map(|l| l.min_net_percent_of_list)
            .min()
            .unwrap_or(Decimal::ONE_HUNDRED);
        let total_contract_value = input
            .recurring_monthly_total
            .checked_mul(Decimal::from(input.term_months))
            .and_then(|recurring| recurring.checked_add(input.one_time_total))
            .ok_or_else(|| overflow(Variable::TotalContractValue))?;
        Ok(Self {
            max_line_discount_percent,
            quote_discount_percent: input.quote_discount_percent,
            discount_authority_percent: input.discount_authority_percent,
            override_count,
            total_override_amount,
            min_net_percent_of_list,
            total_contract_value,
        })
    }

    /// The value of one variable.
    pub fn value(&self, variable: Variable) -> Decimal {
        match variable {
            Variable::MaxLineDiscountPercent => self.max_line_discount_percent,
            Variable::QuoteDiscountPercent => self.quote_discount_percent,
            Variable::DiscountAuthorityPercent => self.discount_authority_percent,
            Variable::OverrideCount => Decimal::from(self.override_count),
            Variable::TotalOverrideAmount => self.total_override_amount,
            Variable::MinNetPercentOfList => self.min_net_percent_of_list,
            Variable::TotalContractValue => self.total_contract_value,
        }
    }
}
