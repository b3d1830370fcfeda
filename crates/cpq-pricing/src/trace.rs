//! The price trace: every step that moved a charge's amount, in order, so any cent of a quote
//! can be explained and a stored snapshot can be re-derived and compared byte for byte.
//!
//! The trace hash is SHA-256 over [`TRACE_HASH_DOMAIN`] followed by the trace's compact JSON
//! (the bytes [`PriceTrace::to_json`] writes), so anyone holding a stored trace can check it with
//! a plain SHA-256 tool.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use domain_kernel::money::RoundingMode;
use rust_decimal::Decimal;
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::amount::canonical;
use crate::model::{ChargeKind, DiscountValue, TierMode};
use crate::priced::{PricedCharge, PricedLine};
use crate::tiers::ListComputation;

/// Which rule produced a step. Serialised as a short stable id: `list-price`, `tier.RANGE`,
/// `tier.SLAB`, `discount.term.<n>m`, `discount.line`, `discount.quote`, `round`, `override`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StepRule {
    /// Flat unit price times quantity.
    ListPrice,
    /// A volume tier priced some units.
    Tier(TierMode),
    /// The term-policy row with this threshold applied.
    TermDiscount {
        /// The row's threshold in months.
        min_term_months: u32,
    },
    /// A line discount applied.
    LineDiscount,
    /// A quote discount (or this line's share of it) applied.
    QuoteDiscount,
    /// Rounding to the currency's minor units.
    Round,
    /// A manual override replaced the amount.
    Override,
}

impl fmt::Display for StepRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ListPrice => f.write_str("list-price"),
            Self::Tier(mode) => write!(f, "tier.{}", mode.as_str()),
            Self::TermDiscount { min_term_months } => write!(f, "discount.term.{min_term_months}m"),
            Self::LineDiscount => f.write_str("discount.line"),
            Self::QuoteDiscount => f.write_str("discount.quote"),
            Self::Round => f.write_str("round"),
            Self::Override => f.write_str("override"),
        }
    }
}

impl StepRule {
    /// Parses the stable id written by `Display`.
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value {
            "list-price" => Self::ListPrice,
            "tier.RANGE" => Self::Tier(TierMode::Range),
            "tier.SLAB" => Self::Tier(TierMode::Slab),
            "discount.line" => Self::LineDiscount,
            "discount.quote" => Self::QuoteDiscount,
            "round" => Self::Round,
            "override" => Self::Override,
            other => {
                let months = other.strip_prefix("discount.term.")?.strip_suffix('m')?;
                if months.starts_with('+') || (months.len() > 1 && months.starts_with('0')) {
                    return None;
                }
                Self::TermDiscount {
                    min_term_months: months.parse().ok()?,
                }
            }
        })
    }
}

impl Serialize for StepRule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StepRule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown step rule '{raw}'")))
    }
}

/// The few facts a reader needs to check a step by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum StepDetail {
    /// A flat price.
    #[serde(rename = "LIST_PRICE", rename_all = "camelCase")]
    ListPrice {
        /// Price per unit.
        unit_price: Decimal,
        /// Units.
        quantity: u64,
    },
    /// One volume tier's contribution.
    #[serde(rename = "TIER", rename_all = "camelCase")]
    Tier {
        /// Position of the tier (0-based).
        tier: u32,
        /// Its first quantity.
        from_quantity: u64,
        /// Its last quantity (`None` = open-ended).
        to_quantity: Option<u64>,
        /// Units priced by it.
        units: u64,
        /// Its unit price.
        unit_price: Decimal,
    },
    /// A discount.
    #[serde(rename = "DISCOUNT", rename_all = "camelCase")]
    Discount {
        /// The granting rule (a line or quote discount's rule id, or the term-policy row's).
        #[serde(with = "shared_str")]
        rule_id: Arc<str>,
        /// Why.
        #[serde(with = "shared_str")]
        reason: Arc<str>,
        /// The discount as granted (for a quote amount, the whole quote-level amount).
        value: DiscountValue,
        /// This charge's share of a quote-level amount.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        allocated: Option<Decimal>,
    },
    /// A rounding.
    #[serde(rename = "ROUND", rename_all = "camelCase")]
    Round {
        /// Midpoint rule.
        mode: RoundingMode,
        /// Decimals kept (the currency's minor units).
        scale: u32,
    },
    /// A manual override.
    #[serde(rename = "OVERRIDE", rename_all = "camelCase")]
    Override {
        /// Who.
        actor: String,
        /// Why.
        reason: String,
    },
}

/// One step of the trace. `input` and `output` are the charge's running amount (in the quote
/// currency, per period for recurring charges) before and after the step; a charge starts at 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceStep {
    /// Position in the whole trace, from 0.
    pub index: u32,
    /// The rule that produced it.
    pub rule: StepRule,
    /// The quote line (shared by all of its steps rather than copied into each).
    #[serde(with = "shared_str")]
    pub line_id: Arc<str>,
    /// The charge of the line.
    pub charge: ChargeKind,
    /// Running amount before.
    pub input: Decimal,
    /// Running amount after.
    pub output: Decimal,
    /// What the step used.
    pub detail: StepDetail,
}

/// The ordered steps of one pricing run: lines in canonical (line id) order, a line's charges
/// in [`ChargeKind::ALL`] order, a charge's steps in the order they applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PriceTrace {
    steps: Vec<TraceStep>,
}

/// Serde for shared strings (`Arc<str>`), written and read as plain JSON strings. Strings that
/// repeat across a quote — line ids, rule ids, reasons — are shared, not copied per step, which
/// keeps a 10,000-line trace affordable.
pub(crate) mod shared_str {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        value: &Arc<str>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Arc<str>, D::Error> {
        String::deserialize(deserializer).map(Arc::from)
    }
}

/// Domain tag prefixed to the trace hash input, versioned with the JSON shape.
pub const TRACE_HASH_DOMAIN: &str = "cpq-pricing/trace-hash/v1\n";

impl PriceTrace {
    /// Builds a trace from steps, renumbering them 0.. in the order given.
    pub fn from_steps(mut steps: Vec<TraceStep>) -> Self {
        for (i, step) in steps.iter_mut().enumerate() {
            step.index = u32::try_from(i).unwrap_or(u32::MAX);
        }
        Self { steps }
    }

    /// The trace of priced lines (see [`crate::PricedQuote::trace`]).
    pub(crate) fn of_lines(lines: &[PricedLine]) -> Self {
        let mut steps = Vec::with_capacity(step_count(lines));
        let done: Result<(), std::convert::Infallible> = try_for_each_step(lines, |step| {
            steps.push(step);
            Ok(())
        });
        match done {
            Ok(()) => Self { steps },
        }
    }

    /// The steps.
    pub fn steps(&self) -> &[TraceStep] {
        &self.steps
    }

    /// The steps, owned.
    pub fn into_steps(self) -> Vec<TraceStep> {
        self.steps
    }

    /// The compact JSON form. Byte-stable: fields are written in declaration order, there are no
    /// maps or floats, and amounts are decimal strings in one canonical form per value, so equal
    /// inputs give equal bytes.
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    /// SHA-256 (lowercase hex) of [`TRACE_HASH_DOMAIN`] followed by [`PriceTrace::to_json`],
    /// streamed into the hasher without building the JSON in memory.
    pub fn hash(&self) -> Result<String, serde_json::Error> {
        hash_json(self)
    }
}

/// SHA-256 of the domain tag and a value's compact JSON, streamed.
pub(crate) fn hash_json<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let mut hasher = HashWriter(Sha256::new());
    hasher.0.update(TRACE_HASH_DOMAIN.as_bytes());
    let mut out = io::BufWriter::with_capacity(64 * 1024, &mut hasher);
    serde_json::to_writer(&mut out, value)?;
    out.flush().map_err(serde_json::Error::io)?;
    drop(out);
    Ok(hex::encode(hasher.0.finalize()))
}

/// The trace of priced lines as a JSON array, produced step by step while serialising (the
/// same bytes as serialising the materialised [`PriceTrace`]).
pub(crate) struct StepsView<'a>(pub(crate) &'a [PricedLine]);

impl Serialize for StepsView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(step_count(self.0)))?;
        try_for_each_step(self.0, |step| seq.serialize_element(&step))?;
        seq.end()
    }
}

/// How many steps the trace of these lines has.
pub(crate) fn step_count(lines: &[PricedLine]) -> usize {
    lines
        .iter()
        .flat_map(|l| &l.charges)
        .map(|c| {
            let list = c.list.bands().len().max(1);
            list + c.discounts.len() + 1 + usize::from(c.manual_override.is_some())
        })
        .sum()
}

/// Calls `f` with every step of the trace of these lines, in order, numbered from 0. The trace
/// is a projection of the priced charges — list price or tier bands, each discount, the
/// rounding, the override — so the two can never disagree.
pub(crate) fn try_for_each_step<E>(
    lines: &[PricedLine],
    mut f: impl FnMut(TraceStep) -> Result<(), E>,
) -> Result<(), E> {
    let mut index = 0u32;
    for line in lines {
        for charge in &line.charges {
            charge_steps(&line.line_id, charge, &mut index, &mut f)?;
        }
    }
    Ok(())
}

fn charge_steps<E>(
    line_id: &Arc<str>,
    charge: &PricedCharge,
    index: &mut u32,
    f: &mut impl FnMut(TraceStep) -> Result<(), E>,
) -> Result<(), E> {
    let scale = charge.rounding.scale;
    let mut emit = |rule: StepRule, input: Decimal, output: Decimal, detail: StepDetail| {
        let step = TraceStep {
            index: *index,
            rule,
            line_id: Arc::clone(line_id),
            charge: charge.kind,
            input,
            output,
            detail,
        };
        *index = index.saturating_add(1);
        f(step)
    };
    let zero = Decimal::new(0, scale);
    match &charge.list {
        ListComputation::Flat {
            unit_price,
            quantity,
        } => {
            let detail = StepDetail::ListPrice {
                unit_price: *unit_price,
                quantity: *quantity,
            };
            emit(StepRule::ListPrice, zero, charge.list_price.amount, detail)?;
        }
        list @ (ListComputation::Range { .. } | ListComputation::Slab { .. }) => {
            let mode = list.tier_mode().unwrap_or(TierMode::Range);
            let mut running = zero;
            for band in list.bands() {
                let output = canonical(running + band.amount, scale);
                let detail = StepDetail::Tier {
                    tier: band.tier,
                    from_quantity: band.from_quantity,
                    to_quantity: band.to_quantity,
                    units: band.units,
                    unit_price: band.unit_price,
                };
                emit(StepRule::Tier(mode), running, output, detail)?;
                running = output;
            }
        }
    }
    for d in &charge.discounts {
        let detail = StepDetail::Discount {
            rule_id: Arc::clone(&d.rule_id),
            reason: Arc::clone(&d.reason),
            value: d.value,
            allocated: d.allocated,
        };
        emit(d.rule, d.before, d.after, detail)?;
    }
    let rounding = &charge.rounding;
    let detail = StepDetail::Round {
        mode: rounding.mode,
        scale,
    };
    emit(StepRule::Round, rounding.input, rounding.output, detail)?;
    if let Some(o) = &charge.manual_override {
        let detail = StepDetail::Override {
            actor: o.actor.clone(),
            reason: o.reason.clone(),
        };
        emit(
            StepRule::Override,
            o.original_price.amount,
            o.new_price.amount,
            detail,
        )?;
    }
    Ok(())
}

/// Feeds serialised bytes straight into a hasher.
struct HashWriter(Sha256);

impl io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_round_trip() {
        let rules = [
            StepRule::ListPrice,
            StepRule::Tier(TierMode::Range),
            StepRule::Tier(TierMode::Slab),
            StepRule::TermDiscount {
                min_term_months: 24,
            },
            StepRule::LineDiscount,
            StepRule::QuoteDiscount,
            StepRule::Round,
            StepRule::Override,
        ];
        for rule in rules {
            assert_eq!(StepRule::parse(&rule.to_string()), Some(rule), "{rule}");
        }
        assert_eq!(
            StepRule::TermDiscount {
                min_term_months: 24
            }
            .to_string(),
            "discount.term.24m"
        );
        for bad in [
            "discount.term.m",
            "discount.term.024m",
            "discount.term.+1m",
            "tier.range",
        ] {
            assert_eq!(StepRule::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn hash_streams_the_same_bytes_as_to_json() {
        let trace = PriceTrace::from_steps(vec![TraceStep {
            index: 7,
            rule: StepRule::Round,
            line_id: "l1".into(),
            charge: ChargeKind::OneTime,
            input: Decimal::new(1005, 3),
            output: Decimal::new(101, 2),
            detail: StepDetail::Round {
                mode: RoundingMode::HalfUp,
                scale: 2,
            },
        }]);
        assert_eq!(trace.steps()[0].index, 0, "renumbered");
        let mut expected = Sha256::new();
        expected.update(TRACE_HASH_DOMAIN.as_bytes());
        expected.update(trace.to_json().unwrap());
        assert_eq!(trace.hash().unwrap(), hex::encode(expected.finalize()));
        let json = String::from_utf8(trace.to_json().unwrap()).unwrap();
        assert_eq!(
            json,
            r#"[{"index":0,"rule":"round","lineId":"l1","charge":"ONE_TIME","input":"1.005","output":"1.01","detail":{"kind":"ROUND","mode":"HALF_UP","scale":2}}]"#
        );
        let back: PriceTrace = serde_json::from_str(&json).unwrap();
        assert_eq!(back, trace);
    }
}
