//! Rules about one item's characteristic values against its offering's specification:
//! known names, set once, right type, text limits, allowed values, ranges, required ones
//! present. Produces the resolved configuration (set values plus defaults) on the way.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Value, json};

use super::Findings;
use crate::catalog::IndexedOffering;
use crate::model::{CharacteristicDefinition, QuoteItem};
use crate::values::{CharacteristicValue, json_kind, string_problem};
use crate::violation::{ViolationCode as Code, path};

/// Checks the characteristics of the item at `index` and returns its resolved configuration
/// (meaningful only when no violation was found).
pub(crate) fn check(
    offering: &IndexedOffering,
    item: &QuoteItem,
    index: usize,
    findings: &mut Findings<'_>,
) -> BTreeMap<String, CharacteristicValue> {
    let mut resolved = BTreeMap::new();
    let mut seen: HashSet<&str> = HashSet::with_capacity(item.characteristics.len());
    for setting in &item.characteristics {
        let at = path::characteristic(index, &setting.name);
        if !seen.insert(setting.name.as_str()) {
            findings.item(
                index,
                Code::CharacteristicDuplicate,
                at,
                format!("'{}' is set more than once", setting.name),
                json!({ "name": setting.name }),
            );
            continue;
        }
        let Some(definition) = offering.characteristic(&setting.name) else {
            findings.item(
                index,
                Code::CharacteristicUnknown,
                at,
                format!("the specification has no characteristic '{}'", setting.name),
                json!({ "name": setting.name }),
            );
            continue;
        };
        if let Some(value) = check_value(definition, &setting.value, index, &at, findings) {
            resolved.insert(definition.name.clone(), value);
        }
    }

    for definition in &offering.snapshot.characteristics {
        if seen.contains(definition.name.as_str()) {
            continue;
        }
        match &definition.default_value {
            Some(default) => {
                resolved.insert(definition.name.clone(), default.clone());
            }
            None if definition.required => findings.item(
                index,
                Code::CharacteristicRequired,
                path::characteristic(index, &definition.name),
                format!("'{}' is required", definition.name),
                json!({
                    "name": definition.name,
                    "valueType": definition.value_type.as_str(),
                }),
            ),
            None => {}
        }
    }
    resolved
}

/// Checks one value; returns it typed when it fits the type (further violations of allowed
/// values or range are still reported, and the item is then invalid anyway).
fn check_value(
    definition: &CharacteristicDefinition,
    raw: &Value,
    index: usize,
    at: &str,
    findings: &mut Findings<'_>,
) -> Option<CharacteristicValue> {
    let Some(value) = CharacteristicValue::from_json(definition.value_type, raw) else {
        findings.item(
            index,
            Code::ValueTypeMismatch,
            at.to_owned(),
            format!(
                "'{}' takes {} values",
                definition.name, definition.value_type
            ),
            json!({
                "expected": definition.value_type.as_str(),
                "actual": json_kind(raw),
            }),
        );
        return None;
    };
    if let CharacteristicValue::String(text) = &value
        && let Some(problem) = string_problem(text)
    {
        findings.item(
            index,
            Code::ValueInvalid,
            at.to_owned(),
            format!("'{}' {problem}", definition.name),
            json!({ "problem": problem, "maxLength": crate::values::MAX_STRING_VALUE }),
        );
    }
    if !definition.allowed_values.is_empty() && !definition.allowed_values.contains(&value) {
        findings.item(
            index,
            Code::ValueNotAllowed,
            at.to_owned(),
            format!("{} is not an allowed value of '{}'", value.to_json(), definition.name),
            json!({
                "expected": definition.allowed_values.iter().map(CharacteristicValue::to_json).collect::<Vec<_>>(),
                "actual": value.to_json(),
            }),
        );
    }
    if let (Some(range), Some(number)) = (&definition.range, value.numeric())
        && !range.contains(number)
    {
        findings.item(
            index,
            Code::ValueOutOfRange,
            at.to_owned(),
            format!("{number} is outside the range of '{}'", definition.name),
            json!({
                "min": range.min.map(|m| m.normalize().to_string()),
                "max": range.max.map(|m| m.normalize().to_string()),
                "inclusive": true,
                "actual": value.to_json(),
            }),
        );
    }
    Some(value)
}
