//! The contracts of cpq-oms integration events.
//!
//! Every event type has a JSON Schema (draft 2020-12) in `contracts/schemas/events/`, named after
//! the event type (`catalog.product-offering.published.v1.schema.json`) and describing the whole
//! envelope with its payload. The schemas are embedded at build time, so [`validate`] needs no
//! files and fetches nothing: every `$ref` resolves inside the embedded set.
//!
//! [`compat`] derives the required fields of each event and checks them against the committed
//! compatibility lock, so a published `.vN` cannot lose or retype a field consumers rely on
//! (ADR 0010).

pub mod compat;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Registry, ValidationError, Validator};
use serde_json::Value;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/schemas.rs"));
}

/// Base URI of every schema's `$id`. The host is a reserved name (RFC 6761), so nothing is
/// ever fetched from it: references resolve against the embedded files only.
pub const SCHEMA_BASE_URI: &str = "https://cpq-oms.example/contracts/schemas/events/";

/// Suffix of every schema file name.
pub const SCHEMA_SUFFIX: &str = ".schema.json";

/// The embedded schema files as `(file name, text)`, sorted by name: one per event type plus
/// the shared envelope and definition files they refer to.
pub fn schema_files() -> &'static [(&'static str, &'static str)] {
    embedded::SCHEMA_FILES
}

/// One way an envelope breaks its contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer (RFC 6901) to the offending value in the envelope; for a missing or an
    /// unexpected property, to that property.
    pub pointer: String,
    /// The schema keyword that failed (`required`, `type`, `pattern`…).
    pub keyword: String,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "(root)"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {} [{}]", self.message, self.keyword)
    }
}

/// Why an envelope was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    /// The value is not an object with a string `eventType`.
    #[error("the envelope has no string eventType at /eventType")]
    MissingEventType,
    /// No schema exists for the event type.
    #[error("no contract exists for event type {0:?}")]
    UnknownEventType(String),
    /// The envelope breaks its event type's schema.
    #[error("{event_type} breaks its contract: {}", list(violations))]
    Invalid {
        /// The event type whose schema was applied.
        event_type: String,
        /// Every violation found.
        violations: Vec<Violation>,
    },
    /// An embedded schema could not be loaded (a defect of the schema files, caught by this
    /// crate's tests).
    #[error("the embedded schema {file} is unusable: {detail}")]
    Schema {
        /// The schema file.
        file: String,
        /// What is wrong with it.
        detail: String,
    },
}

fn list(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl ContractError {
    /// The violations of an invalid envelope (empty for the other errors).
    pub fn violations(&self) -> &[Violation] {
        match self {
            Self::Invalid { violations, .. } => violations,
            _ => &[],
        }
    }
}

/// Validates an event envelope against the schema of its `eventType`, reporting every
/// violation with a pointer into the envelope. Unknown event types are refused.
pub fn validate(envelope: &Value) -> Result<(), ContractError> {
    let event_type = envelope
        .get("eventType")
        .and_then(Value::as_str)
        .ok_or(ContractError::MissingEventType)?;
    let contracts = CONTRACTS.as_ref().map_err(Clone::clone)?;
    let validator = contracts
        .validators
        .get(event_type)
        .ok_or_else(|| ContractError::UnknownEventType(event_type.to_owned()))?;
    let violations: Vec<Violation> = validator
        .iter_errors(envelope)
        .flat_map(|error| violations_of(&error))
        .collect();
    if violations.is_empty() {
        Ok(())
    } else {
        Err(ContractError::Invalid {
            event_type: event_type.to_owned(),
            violations,
        })
    }
}

/// Every event type that has a contract, sorted.
pub fn event_types() -> Result<Vec<&'static str>, ContractError> {
    let contracts = CONTRACTS.as_ref().map_err(Clone::clone)?;
    Ok(contracts.validators.keys().copied().collect())
}

/// The compiled validators, keyed by event type.
struct Contracts {
    validators: BTreeMap<&'static str, Validator>,
}

static CONTRACTS: LazyLock<Result<Contracts, ContractError>> = LazyLock::new(Contracts::load);

/// The event type a schema describes: its `properties.eventType.const`, if any. Files without
/// one (the envelope, shared definitions) are not events.
pub fn described_event_type(schema: &Value) -> Option<&str> {
    schema.pointer("/properties/eventType/const")?.as_str()
}

impl Contracts {
    fn load() -> Result<Self, ContractError> {
        let mut documents = Vec::new();
        for (file, text) in schema_files() {
            let schema_error = |detail: String| ContractError::Schema {
                file: (*file).to_owned(),
                detail,
            };
            let schema: Value =
                serde_json::from_str(text).map_err(|e| schema_error(e.to_string()))?;
            let expected_id = format!("{SCHEMA_BASE_URI}{file}");
            if schema.get("$id").and_then(Value::as_str) != Some(expected_id.as_str()) {
                return Err(schema_error(format!("its $id must be {expected_id}")));
            }
            if let Some(event_type) = described_event_type(&schema)
                && format!("{event_type}{SCHEMA_SUFFIX}") != *file
            {
                return Err(schema_error(format!(
                    "it describes {event_type}, so it must be named {event_type}{SCHEMA_SUFFIX}"
                )));
            }
            documents.push((*file, expected_id, schema));
        }

        let registry = Registry::new()
            .extend(
                documents
                    .iter()
                    .map(|(_, id, schema)| (id.as_str(), schema)),
            )
            .and_then(|builder| builder.prepare())
            .map_err(|e| ContractError::Schema {
                file: "(registry)".to_owned(),
                detail: e.to_string(),
            })?;

        let mut validators = BTreeMap::new();
        for (file, _, schema) in &documents {
            let Some(event_type) = file
                .strip_suffix(SCHEMA_SUFFIX)
                .filter(|_| described_event_type(schema).is_some())
            else {
                continue;
            };
            let validator = jsonschema::options()
                .with_draft(Draft::Draft202012)
                .offline()
                .should_validate_formats(true)
                .with_registry(&registry)
                .build(schema)
                .map_err(|e| ContractError::Schema {
                    file: (*file).to_owned(),
                    detail: e.to_string(),
                })?;
            validators.insert(event_type, validator);
        }
        Ok(Self { validators })
    }
}

/// Turns one schema error into violations, pointing at the missing or unexpected property
/// itself rather than at its parent object.
fn violations_of(error: &ValidationError<'_>) -> Vec<Violation> {
    let at = error.instance_path().as_str();
    let keyword = error.kind().keyword().to_owned();
    let message = error.to_string();
    let child = |name: &str| format!("{at}/{}", escape_pointer_token(name));
    match error.kind() {
        ValidationErrorKind::Required { property } => vec![Violation {
            pointer: property.as_str().map_or_else(|| at.to_owned(), child),
            keyword,
            message,
        }],
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => unexpected
            .iter()
            .map(|name| Violation {
                pointer: child(name),
                keyword: keyword.clone(),
                message: message.clone(),
            })
            .collect(),
        _ => vec![Violation {
            pointer: at.to_owned(),
            keyword,
            message,
        }],
    }
}

/// Escapes a property name for use in a JSON pointer (RFC 6901: `~` → `~0`, `/` → `~1`).
pub fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests;
