//! Money with an ISO-4217 currency and explicit, recorded rounding.
//!
//! Amounts are `rust_decimal::Decimal`, never floating point. Arithmetic keeps full precision;
//! rounding to the currency's minor units is a separate step that reports what it did, so a price
//! trace can show it.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a money value could not be built or combined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not an ISO-4217 code, or a code without minor units (gold, testing codes).
    #[error("'{0}' is not an ISO-4217 currency with minor units")]
    UnknownCurrency(String),
    /// Two amounts in different currencies were combined.
    #[error("cannot combine {left} with {right}")]
    CurrencyMismatch {
        /// Currency of the left operand.
        left: Currency,
        /// Currency of the right operand.
        right: Currency,
    },
    /// The amount has more decimal places than the currency allows.
    #[error("{currency} allows at most {minor_units} decimal places")]
    TooPrecise {
        /// The currency whose precision was exceeded.
        currency: Currency,
        /// Its number of minor units.
        minor_units: u32,
    },
    /// The result does not fit in a decimal.
    #[error("amount overflow")]
    Overflow,
}

/// An ISO-4217 currency that has minor units (so it can price something).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Parses an upper-case ISO-4217 alphabetic code such as `USD`.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        iso_currency::Currency::from_code(code)
            .filter(|c| c.exponent().is_some())
            .map(Self)
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))
    }

    /// The three-letter code.
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Decimal places of the minor unit (USD 2, JPY 0, KWD 3).
    pub fn minor_units(self) -> u32 {
        u32::from(self.0.exponent().unwrap_or(0))
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

/// How a midpoint is resolved when rounding to minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RoundingMode {
    /// Commercial rounding: 0.5 goes away from zero (the default for invoices and quotes).
    HalfUp,
    /// Banker's rounding: 0.5 goes to the even neighbour (used by some ledgers).
    HalfEven,
    /// Truncation toward zero (used for discounts that must never over-grant).
    Down,
}

impl RoundingMode {
    fn strategy(self) -> RoundingStrategy {
        match self {
            Self::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            Self::HalfEven => RoundingStrategy::MidpointNearestEven,
            Self::Down => RoundingStrategy::ToZero,
        }
    }
}

/// An amount in a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// The amount, full precision until rounded.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// The currency the amount is in.
    pub currency: Currency,
}

/// What one rounding did: kept with a price trace so the cents can be explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoundingStep {
    /// The amount before rounding.
    #[serde(with = "rust_decimal::serde::str")]
    pub input: Decimal,
    /// The amount after rounding.
    #[serde(with = "rust_decimal::serde::str")]
    pub output: Decimal,
    /// Decimal places rounded to.
    pub scale: u32,
    /// The midpoint rule applied.
    pub mode: RoundingMode,
}

impl Money {
    /// An amount in a currency, unrounded.
    pub const fn new(amount: Decimal, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// Zero in the currency.
    pub const fn zero(currency: Currency) -> Self {
        Self::new(Decimal::ZERO, currency)
    }

    /// An amount that must already be expressible in minor units (a list price, a payment).
    pub fn exact(amount: Decimal, currency: Currency) -> Result<Self, MoneyError> {
        if amount.normalize().scale() > currency.minor_units() {
            return Err(MoneyError::TooPrecise {
                currency,
                minor_units: currency.minor_units(),
            });
        }
        Ok(Self::new(amount, currency))
    }

    /// Whether the amount is already expressed in whole minor units.
    pub fn is_rounded(&self) -> bool {
        self.amount.normalize().scale() <= self.currency.minor_units()
    }

    /// Sum of two amounts in the same currency.
    pub fn checked_add(self, other: Self) -> Result<Self, MoneyError> {
        self.same_currency(other)?;
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self::new(amount, self.currency))
    }

    /// The amount times a factor (a quantity, a term, a percentage as a fraction).
    pub fn checked_mul(self, factor: Decimal) -> Result<Self, MoneyError> {
        let amount = self
            .amount
            .checked_mul(factor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self::new(amount, self.currency))
    }

    /// Rounds to the currency's minor units and reports the step taken.
    pub fn round(self, mode: RoundingMode) -> (Self, RoundingStep) {
        let scale = self.currency.minor_units();
        let rounded = self.amount.round_dp_with_strategy(scale, mode.strategy());
        let mut output = rounded;
        output.rescale(scale);
        let step = RoundingStep {
            input: self.amount,
            output,
            scale,
            mode,
        };
        (Self::new(output, self.currency), step)
    }

    fn same_currency(self, other: Self) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap_or_else(|e| panic!("{e}"))
    }

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn currencies_know_their_minor_units() {
        assert_eq!(usd().minor_units(), 2);
        assert_eq!(Currency::parse("JPY").map(Currency::minor_units), Ok(0));
        assert_eq!(Currency::parse("KWD").map(Currency::minor_units), Ok(3));
        assert_eq!(Currency::parse("IDR").map(Currency::minor_units), Ok(2));
        assert!(Currency::parse("XAU").is_err(), "gold has no minor units");
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("ABC").is_err());
    }

    #[test]
    fn rounding_is_an_explicit_step() {
        let (rounded, step) = Money::new(dec("10.005"), usd()).round(RoundingMode::HalfUp);
        assert_eq!(rounded.amount, dec("10.01"));
        assert_eq!(step.input, dec("10.005"));
        assert_eq!(step.scale, 2);
        let (even, _) = Money::new(dec("10.005"), usd()).round(RoundingMode::HalfEven);
        assert_eq!(even.amount, dec("10.00"));
        let (down, _) = Money::new(dec("-10.009"), usd()).round(RoundingMode::Down);
        assert_eq!(down.amount, dec("-10.00"));
        let jpy = Currency::parse("JPY").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            Money::new(dec("150.5"), jpy)
                .round(RoundingMode::HalfUp)
                .0
                .amount,
            dec("151")
        );
    }

    #[test]
    fn rounded_amounts_always_carry_the_currency_scale() {
        let (rounded, _) = Money::new(dec("7"), usd()).round(RoundingMode::HalfUp);
        assert_eq!(rounded.amount.to_string(), "7.00");
    }

    #[test]
    fn mixing_currencies_is_refused() {
        let eur = Currency::parse("EUR").unwrap_or_else(|e| panic!("{e}"));
        let sum = Money::new(Decimal::ONE, usd()).checked_add(Money::new(Decimal::ONE, eur));
        assert!(matches!(sum, Err(MoneyError::CurrencyMismatch { .. })));
    }

    #[test]
    fn exact_amounts_respect_minor_units() {
        assert!(Money::exact(dec("9.99"), usd()).is_ok());
        assert!(
            Money::exact(dec("9.990"), usd()).is_ok(),
            "trailing zeros are not precision"
        );
        assert!(matches!(
            Money::exact(dec("9.999"), usd()),
            Err(MoneyError::TooPrecise { .. })
        ));
    }

    #[test]
    fn money_serialises_amounts_as_strings() {
        let json = serde_json::to_value(Money::new(dec("12.50"), usd())).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"amount": "12.50", "currency": "USD"})
        );
    }

    proptest! {
        #[test]
        fn rounding_moves_by_at_most_half_a_minor_unit(cents in -1_000_000_000i64..1_000_000_000, extra in 0u32..1000) {
            let amount = Decimal::new(cents, 2) + Decimal::new(i64::from(extra), 5);
            let (rounded, step) = Money::new(amount, usd()).round(RoundingMode::HalfUp);
            prop_assert!((rounded.amount - amount).abs() <= dec("0.005"));
            prop_assert!(rounded.is_rounded());
            prop_assert_eq!(step.output, rounded.amount);
            let (again, _) = rounded.round(RoundingMode::HalfUp);
            prop_assert_eq!(again, rounded, "rounding is idempotent");
        }
    }
}
