//! JSON ↔ FEEL value conversion.
//!
//! Zeebe stores variables as JSON (MessagePack) documents, so every value crossing the
//! expression boundary is converted here. Temporal results become ISO-8601 strings, as Zeebe
//! serialises them; a date-time without zone gets the engine's local offset, so that `now()`
//! is an instant as in Zeebe. JSON strings are never guessed back into dates (Zeebe does not
//! either).

use std::str::FromStr;

use dsntk_feel::context::FeelContext;
use dsntk_feel::values::Value;
use dsntk_feel::{FeelNumber, Name};
use serde_json::{Map, Number, Value as Json};

use super::FeelError;

/// Converts a JSON value into the FEEL value an expression sees.
pub fn json_to_feel(json: &Json) -> Result<Value, FeelError> {
    Ok(match json {
        Json::Null => Value::Null(None),
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => {
            let text = n.to_string();
            let number =
                FeelNumber::from_str(&text).map_err(|e| FeelError::UnrepresentableNumber {
                    number: text,
                    reason: e.to_string(),
                })?;
            Value::Number(number)
        }
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => {
            Value::List(items.iter().map(json_to_feel).collect::<Result<_, _>>()?)
        }
        Json::Object(map) => Value::Context(object_to_context(map)?),
    })
}

/// Converts a JSON object into a FEEL context (the variables an expression is evaluated in).
pub fn object_to_context(map: &Map<String, Json>) -> Result<FeelContext, FeelError> {
    let mut context = FeelContext::default();
    for (key, value) in map {
        context.set_entry(&Name::from(key.as_str()), json_to_feel(value)?);
    }
    Ok(context)
}

/// Converts a FEEL result into JSON, refusing values JSON cannot carry (functions, ranges).
pub fn feel_to_json(value: &Value) -> Result<Json, FeelError> {
    Ok(match value {
        Value::Null(_) => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Number(n) => number_to_json(n)?,
        Value::String(s) => Json::String(s.clone()),
        Value::List(items) => {
            Json::Array(items.iter().map(feel_to_json).collect::<Result<_, _>>()?)
        }
        Value::Context(context) => {
            let mut map = Map::new();
            for (name, entry) in context.iter() {
                map.insert(name.to_string(), feel_to_json(entry)?);
            }
            Json::Object(map)
        }
        Value::DateTime(date_time)
            if date_time.feel_time_offset().is_none() && date_time.feel_time_zone().is_none() =>
        {
            // A date-time without zone (`now()`, or a literal without offset) leaves FEEL with
            // the engine's local offset: Zeebe's `now()` is zoned, and due dates and timers
            // need an instant (`=now() + duration("PT4H")` is the usual due date).
            match chrono::DateTime::<chrono::FixedOffset>::try_from(date_time.clone()) {
                Ok(instant) => {
                    Json::String(instant.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
                }
                Err(_) => Json::String(value.to_string()),
            }
        }
        Value::Date(_)
        | Value::DateTime(_)
        | Value::Time(_)
        | Value::DaysAndTimeDuration(_)
        | Value::YearsAndMonthsDuration(_) => Json::String(value.to_string()),
        other => {
            return Err(FeelError::UnsupportedResult {
                kind: result_type(other).to_owned(),
            });
        }
    })
}

/// Integers that fit `i64` stay integers (Zeebe's workers see `5`, not `5.0`); others become
/// the nearest `f64`, which is exact for every number that came in from JSON.
fn number_to_json(n: &FeelNumber) -> Result<Json, FeelError> {
    let text = n.to_string();
    if !text.contains('.')
        && let Ok(i) = text.parse::<i64>()
    {
        return Ok(Json::Number(Number::from(i)));
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Json::Number)
        .ok_or(FeelError::UnrepresentableNumber {
            number: text,
            reason: "not a finite JSON number".to_owned(),
        })
}

/// Zeebe's `ResultType` name for a FEEL value, used in its incident messages.
pub fn result_type(value: &Value) -> &'static str {
    match value {
        Value::Null(_) => "NULL",
        Value::Boolean(_) => "BOOLEAN",
        Value::Number(_) => "NUMBER",
        Value::String(_) => "STRING",
        Value::List(_) => "ARRAY",
        Value::Context(_) => "OBJECT",
        Value::DateTime(_) | Value::Date(_) => "DATE_TIME",
        Value::DaysAndTimeDuration(_) => "DURATION",
        Value::YearsAndMonthsDuration(_) => "PERIOD",
        _ => "UNKNOWN",
    }
}
