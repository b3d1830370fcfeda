//! Characteristic value types and typed values, read from JSON exactly as the catalog reads
//! them (`services/catalog/src/domain/characteristic.rs`), so a value the catalog would accept as
//! an allowed value or default is accepted here too, and vice versa.

use std::fmt;

use rust_decimal::Decimal;
use serde_json::Value;

/// Longest string value, the same limit the catalog applies to allowed values and defaults.
pub const MAX_STRING_VALUE: usize = 1000;

/// The type of a characteristic's values; decides which JSON shapes a value may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueType {
    /// Free or enumerated text (JSON strings).
    String,
    /// Whole numbers (JSON integers that fit an `i64`).
    Integer,
    /// Exact decimals (decimal strings or JSON integers, never floats).
    Decimal,
    /// true/false (JSON booleans).
    Boolean,
}

impl ValueType {
    /// Every type, for exhaustive tests and generators.
    pub const ALL: [Self; 4] = [Self::String, Self::Integer, Self::Decimal, Self::Boolean];

    /// Wire name, as the catalog publishes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "STRING",
            Self::Integer => "INTEGER",
            Self::Decimal => "DECIMAL",
            Self::Boolean => "BOOLEAN",
        }
    }

    /// Reads the catalog's wire name; `None` for anything else (names are case-sensitive).
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }

    /// Whether a range can constrain values of this type.
    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Integer | Self::Decimal)
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value already known to fit its characteristic's type, so rules compare meaning rather
/// than JSON spelling (`"1.50"` and `"1.5"` are the same DECIMAL).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CharacteristicValue {
    /// Text.
    String(String),
    /// Whole number.
    Integer(i64),
    /// Exact decimal, normalised (no trailing zeros, no negative zero).
    Decimal(Decimal),
    /// Flag.
    Boolean(bool),
}

impl CharacteristicValue {
    /// Reads a JSON value as `value_type` with the catalog's rules: strings, integers and
    /// booleans for their own types; decimal strings (trimmed) or JSON integers for DECIMAL.
    /// Floats are refused everywhere, because their binary rounding would leak into prices and
    /// hashes. `None` when the value does not fit the type.
    pub fn from_json(value_type: ValueType, value: &Value) -> Option<Self> {
        match (value_type, value) {
            (ValueType::String, Value::String(s)) => Some(Self::String(s.clone())),
            (ValueType::Integer, Value::Number(n)) => n.as_i64().map(Self::Integer),
            (ValueType::Decimal, Value::String(s)) => {
                s.trim().parse::<Decimal>().ok().map(Self::decimal)
            }
            (ValueType::Decimal, Value::Number(n)) if n.is_i64() => {
                n.as_i64().map(|i| Self::decimal(Decimal::from(i)))
            }
            (ValueType::Boolean, Value::Bool(b)) => Some(Self::Boolean(*b)),
            _ => None,
        }
    }

    /// A DECIMAL value in its normal form, so equal numbers compare, hash and print alike.
    pub fn decimal(value: Decimal) -> Self {
        Self::Decimal(value.normalize())
    }

    /// The type this value belongs to.
    pub fn value_type(&self) -> ValueType {
        match self {
            Self::String(_) => ValueType::String,
            Self::Integer(_) => ValueType::Integer,
            Self::Decimal(_) => ValueType::Decimal,
            Self::Boolean(_) => ValueType::Boolean,
        }
    }

    /// The canonical JSON form (what the catalog stores and returns), for snapshots and
    /// violation details.
    pub fn to_json(&self) -> Value {
        match self {
            Self::String(s) => Value::String(s.clone()),
            Self::Integer(i) => Value::from(*i),
            Self::Decimal(d) => Value::String(d.normalize().to_string()),
            Self::Boolean(b) => Value::Bool(*b),
        }
    }

    /// The number behind INTEGER and DECIMAL values, for range checks.
    pub fn numeric(&self) -> Option<Decimal> {
        match self {
            Self::Integer(i) => Some(Decimal::from(*i)),
            Self::Decimal(d) => Some(*d),
            Self::String(_) | Self::Boolean(_) => None,
        }
    }

    /// The one textual spelling of this value used by the configuration hash: the string as
    /// given (no Unicode normalisation), integers and normalised decimals in plain base-10
    /// notation, `true`/`false`.
    pub fn canonical_text(&self) -> String {
        match self {
            Self::String(s) => s.clone(),
            Self::Integer(i) => i.to_string(),
            Self::Decimal(d) => d.normalize().to_string(),
            Self::Boolean(b) => b.to_string(),
        }
    }
}

/// Why a string value is unacceptable even though it is a string: same limits as the catalog.
pub(crate) fn string_problem(value: &str) -> Option<&'static str> {
    if value.chars().count() > MAX_STRING_VALUE {
        Some("longer than 1000 characters")
    } else if value.chars().any(char::is_control) {
        Some("contains control characters")
    } else {
        None
    }
}

/// A short name for the JSON shape of a value, for "expected X, got Y" details.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "float",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_is_read_like_the_catalog_reads_it() {
        use CharacteristicValue as V;
        use ValueType as T;
        let cases: [(T, Value, Option<V>); 12] = [
            (T::String, json!("x"), Some(V::String("x".into()))),
            (T::String, json!(1), None),
            (T::Integer, json!(7), Some(V::Integer(7))),
            (T::Integer, json!(7.5), None),
            (T::Integer, json!("7"), None),
            (T::Integer, json!(u64::MAX), None),
            (
                T::Decimal,
                json!(" 1.50 "),
                Some(V::Decimal(Decimal::new(15, 1))),
            ),
            (T::Decimal, json!(3), Some(V::Decimal(Decimal::from(3)))),
            (T::Decimal, json!(0.5), None),
            (T::Decimal, json!("abc"), None),
            (T::Boolean, json!(true), Some(V::Boolean(true))),
            (T::Boolean, json!("true"), None),
        ];
        for (value_type, raw, expected) in cases {
            assert_eq!(
                CharacteristicValue::from_json(value_type, &raw),
                expected,
                "{value_type} {raw}"
            );
        }
    }

    #[test]
    fn decimals_have_one_spelling() {
        let a = CharacteristicValue::from_json(ValueType::Decimal, &json!("1.50"));
        let b = CharacteristicValue::from_json(ValueType::Decimal, &json!("1.5"));
        assert_eq!(a, b);
        assert_eq!(a.map(|v| v.canonical_text()), Some("1.5".to_owned()));
        let zero = CharacteristicValue::from_json(ValueType::Decimal, &json!("-0.00"));
        assert_eq!(zero.map(|v| v.canonical_text()), Some("0".to_owned()));
    }

    #[test]
    fn names_round_trip() {
        for t in ValueType::ALL {
            assert_eq!(ValueType::parse(t.as_str()), Some(t));
            assert_eq!(
                CharacteristicValue::from_json(t, &Value::Null),
                None,
                "null fits no type"
            );
        }
        assert_eq!(ValueType::parse("string"), None);
    }

    #[test]
    fn string_limits_match_the_catalog() {
        assert_eq!(string_problem("fine"), None);
        assert!(string_problem(&"x".repeat(1001)).is_some());
        assert!(string_problem("tab\there").is_some());
    }
}
