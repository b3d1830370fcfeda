//! The canonical encoding of an audit entry (format version 1): the exact bytes its leaf hash
//! covers. It is `domain_kernel::canonical`'s encoding (members sorted bytewise by key, no
//! whitespace, `serde_json`'s string escaping) restricted to integer numbers, so that any JSON
//! library that sorts keys and writes compactly reproduces it byte for byte: the normaliser turns
//! every other number into a string before an entry is stored, and a verifier refuses an entry
//! that still holds one.

use serde_json::{Number, Value};

/// The largest integer every JSON implementation represents exactly (2^53 - 1).
pub const MAX_SAFE_INTEGER: i64 = 9_007_199_254_740_991;

/// Why a value cannot be encoded canonically.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotCanonical {
    /// An entry is a JSON object; anything else is not one.
    #[error("an entry must be a JSON object")]
    NotAnObject,
    /// A number that is not an integer within ±(2^53 - 1), at this JSON pointer.
    #[error("the number at {0} is not an integer within ±(2^53 - 1)")]
    UnsafeNumber(String),
}

/// The canonical bytes of `entry`, or why it has none.
pub fn entry_bytes(entry: &Value) -> Result<String, NotCanonical> {
    if !entry.is_object() {
        return Err(NotCanonical::NotAnObject);
    }
    check_numbers(entry, &mut String::new())?;
    Ok(domain_kernel::canonical::canonical_json(entry))
}

/// `value` with every number the encoding does not allow written as a string of its JSON text
/// (`12.50` stays `"12.50"` as the producer wrote it after `serde_json`'s reading: `"12.5"`), so
/// evidence with fractions or huge integers is kept, not refused.
pub fn sanitize_numbers(value: Value) -> Value {
    match value {
        Value::Number(number) if !is_safe(&number) => Value::String(number.to_string()),
        Value::Array(items) => Value::Array(items.into_iter().map(sanitize_numbers).collect()),
        Value::Object(members) => Value::Object(
            members
                .into_iter()
                .map(|(key, member)| (key, sanitize_numbers(member)))
                .collect(),
        ),
        other => other,
    }
}

fn is_safe(number: &Number) -> bool {
    number
        .as_i64()
        .is_some_and(|n| (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&n))
        || number
            .as_u64()
            .is_some_and(|n| n <= MAX_SAFE_INTEGER as u64)
}

fn check_numbers(value: &Value, pointer: &mut String) -> Result<(), NotCanonical> {
    match value {
        Value::Number(number) if !is_safe(number) => {
            Err(NotCanonical::UnsafeNumber(pointer.clone()))
        }
        Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| {
            let length = pointer.len();
            pointer.push_str(&format!("/{i}"));
            let checked = check_numbers(item, pointer);
            pointer.truncate(length);
            checked
        }),
        Value::Object(members) => members.iter().try_for_each(|(key, member)| {
            let length = pointer.len();
            pointer.push('/');
            pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            let checked = check_numbers(member, pointer);
            pointer.truncate(length);
            checked
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn sorted_compact_and_unicode_kept_raw() {
        let entry = json!({"b": {"y": 1, "x": [true, null]}, "a": "é\n\"", "Z": -3});
        assert_eq!(
            entry_bytes(&entry).unwrap(),
            "{\"Z\":-3,\"a\":\"é\\n\\\"\",\"b\":{\"x\":[true,null],\"y\":1}}"
        );
    }

    #[test]
    fn fractions_and_huge_integers_are_refused_then_sanitized() {
        let entry = json!({"price": {"amount": 12.5}, "big": 9_007_199_254_740_993_u64});
        assert!(matches!(
            entry_bytes(&entry),
            Err(NotCanonical::UnsafeNumber(pointer)) if pointer == "/big" || pointer == "/price/amount"
        ));
        let clean = sanitize_numbers(entry);
        assert_eq!(clean["price"]["amount"], json!("12.5"));
        assert_eq!(clean["big"], json!("9007199254740993"));
        assert!(entry_bytes(&clean).is_ok());
    }

    #[test]
    fn only_objects_are_entries() {
        assert_eq!(entry_bytes(&json!([1])), Err(NotCanonical::NotAnObject));
    }
}
