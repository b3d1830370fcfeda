//! Decimal ↔ FEEL number crossing.
//!
//! FEEL numbers in dsntk are IEEE 754-2008 decimal128 (34 significant digits); `rust_decimal`
//! holds at most 28. A `Decimal` therefore crosses by its plain decimal text
//! (`Decimal::to_string`, never exponent notation) parsed by `FeelNumber::from_str`, which is
//! exact. Numbers come back by `FeelNumber`'s plain-text `Display` parsed with
//! `Decimal::from_str_exact`, which refuses (rather than rounds) anything a `Decimal` cannot
//! hold. No `f64` is involved in either direction.

use std::str::FromStr;

use dsntk_feel::context::FeelContext;
use dsntk_feel::values::Value;
use dsntk_feel::{FeelNumber, Name};
use rust_decimal::Decimal;

use crate::error::PolicyError;
use crate::variables::{PolicyVariables, Variable};

/// A `Decimal` as a FEEL number, exactly.
pub(crate) fn number(value: Decimal) -> Result<Value, PolicyError> {
    let text = value.to_string();
    FeelNumber::from_str(&text)
        .map(Value::Number)
        .map_err(|e| PolicyError::Number {
            number: text,
            reason: e.to_string(),
        })
}

/// A FEEL number as a `Decimal`, exactly, or an error naming what came back instead.
pub(crate) fn decimal(value: &Value) -> Result<Decimal, PolicyError> {
    let Value::Number(n) = value else {
        return Err(PolicyError::Number {
            number: value.to_string(),
            reason: "not a FEEL number".to_owned(),
        });
    };
    let text = n.to_string();
    Decimal::from_str_exact(&text).map_err(|e| PolicyError::Number {
        number: text,
        reason: e.to_string(),
    })
}

/// The input data context of one evaluation: every [`Variable`] by its DMN name.
pub(crate) fn input_context(variables: &PolicyVariables) -> Result<FeelContext, PolicyError> {
    let mut context = FeelContext::default();
    for variable in Variable::ALL {
        context.set_entry(
            &Name::from(variable.name()),
            number(variables.value(variable))?,
        );
    }
    Ok(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn decimals_cross_exactly(mantissa in any::<i64>(), scale in 0u32..=18) {
            let value = Decimal::new(mantissa, scale);
            let back = decimal(&number(value).map_err(|e| TestCaseError::fail(e.to_string()))?)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back, value);
        }
    }

    #[test]
    fn the_largest_decimals_cross_exactly() {
        for value in [Decimal::MAX, Decimal::MIN, Decimal::new(1, 28)] {
            assert_eq!(decimal(&number(value).unwrap()).unwrap(), value);
        }
    }
}
