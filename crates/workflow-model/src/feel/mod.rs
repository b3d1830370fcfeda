//! FEEL expressions with Zeebe's conventions, backed by the dsntk FEEL parser and evaluator.
//!
//! * A BPMN attribute starting with `=` is a FEEL expression; anything else is a static
//!   string ([`StaticOrExpression`]), exactly as in Zeebe.
//! * Expressions are parsed once, at deploy time ([`Expression::parse`]), and evaluated many
//!   times against the visible variables given as a JSON object.
//! * Like Zeebe 8.3+, a missing variable or a type mismatch inside an expression evaluates to
//!   `null` rather than failing; the caller decides whether `null` is acceptable (conditions do
//!   not accept it, see [`Expression::evaluate_condition`]).

mod convert;
mod names;

use std::fmt;
use std::sync::Arc;

use dsntk_feel::values::Value;
use dsntk_feel::{Evaluator, FeelScope};
use serde_json::{Map, Value as Json};

pub use convert::{feel_to_json, json_to_feel, object_to_context, result_type};

/// Why a FEEL expression could not be parsed or evaluated. dsntk's own error type implements
/// no `std::error::Error`, so its message is kept as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeelError {
    /// The expression is not valid FEEL; raised at deploy time.
    #[error("failed to parse FEEL expression '{expression}': {reason}")]
    Parse {
        /// The expression text (without the `=` marker).
        expression: String,
        /// dsntk's parser message.
        reason: String,
    },
    /// Variables must be a JSON object (or null for "no variables").
    #[error("variables must be a JSON object, but were {found}")]
    VariablesNotAnObject {
        /// The JSON type that was given.
        found: &'static str,
    },
    /// A number does not fit FEEL's 34-digit decimals or JSON's finite numbers.
    #[error("number {number} cannot be converted: {reason}")]
    UnrepresentableNumber {
        /// The number as text.
        number: String,
        /// Why it could not be converted.
        reason: String,
    },
    /// The result (a function, a range, ...) has no JSON representation.
    #[error("a FEEL result of type {kind} cannot be stored as a variable")]
    UnsupportedResult {
        /// Zeebe's result type name, or `UNKNOWN`.
        kind: String,
    },
    /// The result has the wrong type for its use (Zeebe raises an EXTRACT_VALUE_ERROR
    /// incident with this message).
    #[error(
        "Expected result of the expression '{expression}' to be '{expected}', but was '{found}'.{detail}"
    )]
    UnexpectedType {
        /// The expression text.
        expression: String,
        /// The expected Zeebe result type (`BOOLEAN`, `STRING`, ...).
        expected: &'static str,
        /// The Zeebe result type that was found.
        found: &'static str,
        /// The evaluator's explanation for a `null` result, prefixed with a space, or empty.
        detail: String,
    },
}

/// A FEEL expression parsed once at deploy time, cheap to clone and share between threads.
#[derive(Clone)]
pub struct Expression {
    source: Arc<str>,
    evaluator: Arc<Evaluator>,
}

impl fmt::Debug for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Expression").field(&self.source).finish()
    }
}

impl PartialEq for Expression {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Expression {
    /// Parses FEEL text (without Zeebe's `=` marker) so syntax errors surface at deploy time.
    pub fn parse(source: &str) -> Result<Self, FeelError> {
        let text = source.trim();
        let parse_error = |reason: String| FeelError::Parse {
            expression: text.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(parse_error("the expression is empty".to_owned()));
        }
        let scope = names::parsing_scope(text);
        let ast = dsntk_feel_parser::parse_expression(&scope, text, false)
            .map_err(|e| parse_error(e.to_string()))?;
        Ok(Self {
            source: Arc::from(text),
            evaluator: Arc::new(dsntk_feel_evaluator::prepare(&ast)),
        })
    }

    /// The expression text, for incident messages.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates against variables given as a JSON object (`null` means no variables).
    pub fn evaluate(&self, variables: &Json) -> Result<Json, FeelError> {
        match variables {
            Json::Object(map) => self.evaluate_in(map),
            Json::Null => self.evaluate_in(&Map::new()),
            other => Err(FeelError::VariablesNotAnObject {
                found: json_type(other),
            }),
        }
    }

    /// Evaluates against a variables map.
    pub fn evaluate_in(&self, variables: &Map<String, Json>) -> Result<Json, FeelError> {
        feel_to_json(&self.evaluate_raw(variables)?)
    }

    /// Evaluates a sequence-flow condition: only `true`/`false` are accepted; anything else is
    /// the error Zeebe turns into an incident.
    pub fn evaluate_condition(&self, variables: &Map<String, Json>) -> Result<bool, FeelError> {
        match self.evaluate_raw(variables)? {
            Value::Boolean(b) => Ok(b),
            other => Err(self.unexpected("BOOLEAN", &other)),
        }
    }

    /// Evaluates to a string (job types, message names, assignees): Zeebe requires STRING.
    pub fn evaluate_string(&self, variables: &Map<String, Json>) -> Result<String, FeelError> {
        match self.evaluate_raw(variables)? {
            Value::String(s) => Ok(s),
            other => Err(self.unexpected("STRING", &other)),
        }
    }

    fn evaluate_raw(&self, variables: &Map<String, Json>) -> Result<Value, FeelError> {
        let scope = FeelScope::from(object_to_context(variables)?);
        Ok((self.evaluator)(&scope))
    }

    fn unexpected(&self, expected: &'static str, found: &Value) -> FeelError {
        let detail = match found {
            Value::Null(Some(trace)) => {
                format!(" The evaluation reported the following warnings: {trace}")
            }
            _ => String::new(),
        };
        FeelError::UnexpectedType {
            expression: self.source.to_string(),
            expected,
            found: result_type(found),
            detail,
        }
    }
}

/// A Zeebe attribute value: a FEEL expression when it starts with `=`, a static string otherwise.
#[derive(Debug, Clone, PartialEq)]
pub enum StaticOrExpression {
    /// Used as is (e.g. `type="payment"`).
    Static(String),
    /// Evaluated when the element is activated (e.g. `type="=serviceName"`).
    Expression(Expression),
}

impl StaticOrExpression {
    /// Applies Zeebe's `=` convention and parses the expression part.
    pub fn parse(raw: &str) -> Result<Self, FeelError> {
        match raw.trim_start().strip_prefix('=') {
            Some(expression) => Expression::parse(expression).map(Self::Expression),
            None => Ok(Self::Static(raw.to_owned())),
        }
    }

    /// The static text or the expression's source, for diagnostics.
    pub fn text(&self) -> &str {
        match self {
            Self::Static(s) => s,
            Self::Expression(e) => e.source(),
        }
    }

    /// Resolves the value; a static value is a JSON string.
    pub fn evaluate_in(&self, variables: &Map<String, Json>) -> Result<Json, FeelError> {
        match self {
            Self::Static(s) => Ok(Json::String(s.clone())),
            Self::Expression(e) => e.evaluate_in(variables),
        }
    }

    /// Resolves a value that must be a string.
    pub fn evaluate_string(&self, variables: &Map<String, Json>) -> Result<String, FeelError> {
        match self {
            Self::Static(s) => Ok(s.clone()),
            Self::Expression(e) => e.evaluate_string(variables),
        }
    }
}

fn json_type(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}
