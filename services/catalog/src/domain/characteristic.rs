//! Characteristic definitions of a product specification: what a quote item must or may
//! configure, with its type, allowed values or range, and default.

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde_json::Value;

use super::violation::Violations;

/// Most characteristics one specification may define.
pub const MAX_CHARACTERISTICS: usize = 100;
/// Most allowed values one characteristic may list.
pub const MAX_ALLOWED_VALUES: usize = 200;
/// Longest string value.
pub const MAX_STRING_VALUE: usize = 1000;

/// The type of a characteristic's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// Free or enumerated text.
    String,
    /// Whole numbers (JSON integers).
    Integer,
    /// Exact decimals (decimal strings, never floats).
    Decimal,
    /// true/false.
    Boolean,
}

impl ValueType {
    /// Wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "STRING",
            Self::Integer => "INTEGER",
            Self::Decimal => "DECIMAL",
            Self::Boolean => "BOOLEAN",
        }
    }

    /// Parses the wire and storage name.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::String, Self::Integer, Self::Decimal, Self::Boolean]
            .into_iter()
            .find(|t| t.as_str() == value)
    }
}

/// A typed characteristic value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CharacteristicValue {
    /// Text.
    String(String),
    /// Whole number.
    Integer(i64),
    /// Exact decimal (normalised, so `1.50` equals `1.5`).
    Decimal(Decimal),
    /// Flag.
    Boolean(bool),
}

impl CharacteristicValue {
    /// Reads a JSON value as `value_type`: JSON strings, integers and booleans for their types,
    /// decimal strings (or JSON integers) for DECIMAL. `None` when it does not fit.
    pub fn from_json(value_type: ValueType, value: &Value) -> Option<Self> {
        match (value_type, value) {
            (ValueType::String, Value::String(s)) => Some(Self::String(s.clone())),
            (ValueType::Integer, Value::Number(n)) => n.as_i64().map(Self::Integer),
            (ValueType::Decimal, Value::String(s)) => s
                .trim()
                .parse::<Decimal>()
                .ok()
                .map(|d| Self::Decimal(d.normalize())),
            (ValueType::Decimal, Value::Number(n)) if n.is_i64() => {
                n.as_i64().map(|i| Self::Decimal(Decimal::from(i)))
            }
            (ValueType::Boolean, Value::Bool(b)) => Some(Self::Boolean(*b)),
            _ => None,
        }
    }

    /// The canonical JSON form (what is stored and returned).
    pub fn to_json(&self) -> Value {
        match self {
            Self::String(s) => Value::String(s.clone()),
            Self::Integer(i) => Value::from(*i),
            Self::Decimal(d) => Value::String(d.to_string()),
            Self::Boolean(b) => Value::Bool(*b),
        }
    }

    fn numeric(&self) -> Option<Decimal> {
        match self {
            Self::Integer(i) => Some(Decimal::from(*i)),
            Self::Decimal(d) => Some(*d),
            _ => None,
        }
    }
}

/// Inclusive numeric bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ValueRange {
    /// Lower bound, if any.
    pub min: Option<Decimal>,
    /// Upper bound, if any.
    pub max: Option<Decimal>,
}

impl ValueRange {
    fn contains(&self, value: Decimal) -> bool {
        self.min.is_none_or(|min| value >= min) && self.max.is_none_or(|max| value <= max)
    }
}

/// A validated characteristic definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharacteristicDefinition {
    /// Name, unique within the specification (`bandwidthMbps`).
    pub name: String,
    /// Value type.
    pub value_type: ValueType,
    /// Whether a configuration must set it (or rely on its default).
    pub required: bool,
    /// Enumerated allowed values; empty means any value of the type (within the range).
    pub allowed_values: Vec<CharacteristicValue>,
    /// Numeric bounds (INTEGER and DECIMAL only).
    pub range: Option<ValueRange>,
    /// Value used when a configuration does not set one.
    pub default_value: Option<CharacteristicValue>,
    /// Unit shown to users (`Mbps`).
    pub unit: Option<String>,
    /// Explanation for catalog users.
    pub description: Option<String>,
}

/// A characteristic definition as submitted, before validation.
#[derive(Debug, Clone, Default)]
pub struct CharacteristicInput {
    /// Name.
    pub name: String,
    /// Value type name.
    pub value_type: String,
    /// Required flag.
    pub required: bool,
    /// Allowed values as JSON.
    pub allowed_values: Vec<Value>,
    /// Range bounds as decimal text.
    pub range: Option<(Option<String>, Option<String>)>,
    /// Default as JSON.
    pub default_value: Option<Value>,
    /// Unit.
    pub unit: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// Validates a specification's characteristic list, reporting every violation under `field`.
pub fn validate_characteristics(
    violations: &mut Violations,
    field: &str,
    inputs: &[CharacteristicInput],
) -> Vec<CharacteristicDefinition> {
    if inputs.len() > MAX_CHARACTERISTICS {
        violations.push(
            field,
            "TOO_MANY",
            format!("at most {MAX_CHARACTERISTICS} characteristics"),
        );
        return Vec::new();
    }
    let mut names = HashSet::new();
    let mut definitions = Vec::with_capacity(inputs.len());
    for (index, input) in inputs.iter().enumerate() {
        let at = format!("{field}/{index}");
        if !names.insert(input.name.as_str()) {
            violations.push(
                format!("{at}/name"),
                "DUPLICATE",
                format!("'{}' is defined twice", input.name),
            );
        }
        if let Some(definition) = validate_one(violations, &at, input) {
            definitions.push(definition);
        }
    }
    definitions
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 64
}

fn validate_one(
    violations: &mut Violations,
    at: &str,
    input: &CharacteristicInput,
) -> Option<CharacteristicDefinition> {
    let before = violations.len();
    if !valid_name(&input.name) {
        violations.push(
            format!("{at}/name"),
            "INVALID_NAME",
            "must be 1-64 letters, digits or '_', starting with a letter",
        );
    }
    let Some(value_type) = ValueType::parse(&input.value_type) else {
        violations.push(
            format!("{at}/valueType"),
            "NOT_ALLOWED",
            "must be STRING, INTEGER, DECIMAL or BOOLEAN",
        );
        return None;
    };

    let range = input.range.as_ref().and_then(|(min, max)| {
        if !matches!(value_type, ValueType::Integer | ValueType::Decimal) {
            violations.push(
                format!("{at}/range"),
                "NOT_APPLICABLE",
                "only INTEGER and DECIMAL characteristics have a range",
            );
            return None;
        }
        let bound =
            |raw: &Option<String>, name: &str, violations: &mut Violations| -> Option<Decimal> {
                let text = raw.as_ref()?;
                match text.trim().parse::<Decimal>() {
                    Ok(d) if value_type == ValueType::Integer && !d.fract().is_zero() => {
                        violations.push(
                            format!("{at}/range/{name}"),
                            "INVALID_TYPE",
                            "an INTEGER range needs whole bounds",
                        );
                        None
                    }
                    Ok(d) => Some(d.normalize()),
                    Err(_) => {
                        violations.push(
                            format!("{at}/range/{name}"),
                            "INVALID_TYPE",
                            "must be a decimal number in a string",
                        );
                        None
                    }
                }
            };
        let range = ValueRange {
            min: bound(min, "min", violations),
            max: bound(max, "max", violations),
        };
        if let (Some(lo), Some(hi)) = (range.min, range.max)
            && lo > hi
        {
            violations.push(
                format!("{at}/range"),
                "EMPTY_RANGE",
                "min must not exceed max",
            );
        }
        Some(range)
    });

    if input.allowed_values.len() > MAX_ALLOWED_VALUES {
        violations.push(
            format!("{at}/allowedValues"),
            "TOO_MANY",
            format!("at most {MAX_ALLOWED_VALUES} values"),
        );
    }
    let mut allowed = Vec::new();
    let mut seen = HashSet::new();
    for (i, raw) in input.allowed_values.iter().enumerate() {
        let path = format!("{at}/allowedValues/{i}");
        match check_value(violations, &path, value_type, raw, range.as_ref()) {
            Some(value) if !seen.insert(value.clone()) => {
                violations.push(path, "DUPLICATE", "listed twice")
            }
            Some(value) => allowed.push(value),
            None => {}
        }
    }

    let default_value = input.default_value.as_ref().and_then(|raw| {
        let path = format!("{at}/defaultValue");
        let value = check_value(violations, &path, value_type, raw, range.as_ref())?;
        if !allowed.is_empty() && !allowed.contains(&value) {
            violations.push(
                path,
                "NOT_ALLOWED",
                "the default must be one of the allowed values",
            );
            return None;
        }
        Some(value)
    });

    if let Some(unit) = &input.unit
        && (unit.chars().count() > 32 || unit.chars().any(char::is_control))
    {
        violations.push(
            format!("{at}/unit"),
            "INVALID",
            "at most 32 characters without control characters",
        );
    }
    if let Some(description) = &input.description
        && description.chars().count() > 2000
    {
        violations.push(
            format!("{at}/description"),
            "TOO_LONG",
            "at most 2000 characters",
        );
    }

    (violations.len() == before).then(|| CharacteristicDefinition {
        name: input.name.clone(),
        value_type,
        required: input.required,
        allowed_values: allowed,
        range,
        default_value,
        unit: input.unit.clone(),
        description: input.description.clone(),
    })
}

fn check_value(
    violations: &mut Violations,
    path: &str,
    value_type: ValueType,
    raw: &Value,
    range: Option<&ValueRange>,
) -> Option<CharacteristicValue> {
    let Some(value) = CharacteristicValue::from_json(value_type, raw) else {
        violations.push(
            path,
            "INVALID_TYPE",
            format!("must be a {} value", value_type.as_str()),
        );
        return None;
    };
    if let CharacteristicValue::String(s) = &value
        && (s.chars().count() > MAX_STRING_VALUE || s.chars().any(char::is_control))
    {
        violations.push(
            path,
            "INVALID",
            format!("at most {MAX_STRING_VALUE} characters without control characters"),
        );
        return None;
    }
    if let (Some(range), Some(number)) = (range, value.numeric())
        && !range.contains(number)
    {
        violations.push(path, "OUT_OF_RANGE", "outside the characteristic's range");
        return None;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bandwidth() -> CharacteristicInput {
        CharacteristicInput {
            name: "bandwidthMbps".into(),
            value_type: "INTEGER".into(),
            required: true,
            allowed_values: vec![json!(100), json!(500), json!(1000)],
            range: Some((Some("10".into()), Some("10000".into()))),
            default_value: Some(json!(100)),
            unit: Some("Mbps".into()),
            description: None,
        }
    }

    #[test]
    fn a_sound_definition_is_accepted() {
        let mut v = Violations::new();
        let defs = validate_characteristics(&mut v, "/characteristics", &[bandwidth()]);
        assert!(v.is_empty(), "{v:?}");
        assert_eq!(defs[0].allowed_values.len(), 3);
        assert_eq!(
            defs[0].default_value,
            Some(CharacteristicValue::Integer(100))
        );
    }

    #[test]
    fn every_violation_is_reported_with_its_path() {
        let bad = CharacteristicInput {
            allowed_values: vec![json!(100), json!("fast"), json!(100), json!(20000)],
            default_value: Some(json!(250)),
            range: Some((Some("10.5".into()), Some("5000".into()))),
            ..bandwidth()
        };
        let mut v = Violations::new();
        validate_characteristics(&mut v, "/characteristics", &[bad.clone(), bad]);
        let found: Vec<(String, &str)> = v
            .into_vec()
            .into_iter()
            .map(|x| (x.field, x.code))
            .collect();
        assert!(found.contains(&("/characteristics/1/name".into(), "DUPLICATE")));
        assert!(found.contains(&("/characteristics/0/range/min".into(), "INVALID_TYPE")));
        assert!(found.contains(&("/characteristics/0/allowedValues/1".into(), "INVALID_TYPE")));
        assert!(found.contains(&("/characteristics/0/allowedValues/2".into(), "DUPLICATE")));
        assert!(found.contains(&("/characteristics/0/allowedValues/3".into(), "OUT_OF_RANGE")));
        assert!(found.contains(&("/characteristics/0/defaultValue".into(), "NOT_ALLOWED")));
    }

    #[test]
    fn ranges_apply_to_numbers_only_and_must_be_ordered() {
        let mut v = Violations::new();
        let text = CharacteristicInput {
            name: "sla".into(),
            value_type: "STRING".into(),
            range: Some((Some("1".into()), None)),
            ..CharacteristicInput::default()
        };
        let decimal = CharacteristicInput {
            name: "ratio".into(),
            value_type: "DECIMAL".into(),
            range: Some((Some("2".into()), Some("1".into()))),
            default_value: Some(json!(0.5)),
            ..CharacteristicInput::default()
        };
        validate_characteristics(&mut v, "/c", &[text, decimal]);
        let codes: Vec<&str> = v.into_vec().into_iter().map(|x| x.code).collect();
        assert_eq!(
            codes,
            ["NOT_APPLICABLE", "EMPTY_RANGE", "INVALID_TYPE"],
            "floats are refused for DECIMAL"
        );
    }

    #[test]
    fn decimal_values_are_normalised() {
        let a = CharacteristicValue::from_json(ValueType::Decimal, &json!("1.50"));
        let b = CharacteristicValue::from_json(ValueType::Decimal, &json!("1.5"));
        assert_eq!(a, b);
        assert_eq!(a.map(|v| v.to_json()), Some(json!("1.5")));
        assert_eq!(
            CharacteristicValue::from_json(ValueType::Integer, &json!(1.5)),
            None
        );
        assert_eq!(
            CharacteristicValue::from_json(ValueType::Boolean, &json!("true")),
            None
        );
    }
}
