//! `zeebe:ioMapping` input and output mappings with Zeebe 8 semantics.
//!
//! **Input mappings** run when an element is activated. Mappings are evaluated in order
//! against the variables visible at the element; each result is bound under its target name so
//! later mappings can use it (`x → a`, `a + 1 → b`). The returned map becomes the element's
//! *local* variables. A nested target `a.b` binds `a` for later mappings as the visible `a`
//! (if it is an object) with `b` put into it, but the local variable created is only
//! `{"b": …}` — exactly what Zeebe's generated `context put` expression does.
//!
//! **Output mappings** run when the element completes. Sources are evaluated against the
//! visible variables overlaid with the job's (or message's) variables, which Zeebe stores as
//! locals of the element. Only mapped targets are produced. A nested target `a.b` is merged
//! into the existing `a` (if it is an object), keeping `a`'s other entries.
//! **Without output mappings** the job's variables are the result as they are
//! ([`completion_variables`]).
//!
//! **Propagation rule** (applied by the engine, documented here because it completes the
//! semantics): each variable of the completion result is written to the nearest enclosing
//! scope, starting at the element's flow scope, that already holds a variable of that name;
//! if none does, it is created in the process-instance (root) scope. Input-mapped locals are
//! never propagated; they disappear with the element instance.

use serde_json::{Map, Value as Json};

use crate::feel::{FeelError, StaticOrExpression};

/// Why a mapping could not be built or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// The target is not a dot-separated path of non-empty names.
    #[error(
        "'{target}' is not a valid mapping target (expected a name or a dot-separated path like a.b)"
    )]
    InvalidTarget {
        /// The offending target.
        target: String,
    },
    /// The source expression failed; Zeebe raises an IO_MAPPING_ERROR incident.
    #[error("failed to evaluate the mapping to '{target}': {source}")]
    Evaluation {
        /// The mapping's target.
        target: String,
        /// What went wrong.
        #[source]
        source: FeelError,
    },
}

/// The variable a mapping writes: `total` or a nested path `order.total`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPath(Vec<String>);

impl TargetPath {
    /// Splits on `.`, refusing empty segments so `a..b` fails at deploy time.
    pub fn parse(target: &str) -> Result<Self, MappingError> {
        let segments: Vec<String> = target.trim().split('.').map(str::to_owned).collect();
        if segments
            .iter()
            .any(|s| s.is_empty() || s.chars().any(char::is_whitespace))
        {
            return Err(MappingError::InvalidTarget {
                target: target.to_owned(),
            });
        }
        Ok(Self(segments))
    }

    /// The top-level variable name the mapping writes.
    pub fn root(&self) -> &str {
        self.0.first().map_or("", String::as_str)
    }

    /// All segments, root first.
    pub fn segments(&self) -> &[String] {
        &self.0
    }
}

impl std::fmt::Display for TargetPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// One `zeebe:input` or `zeebe:output` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct VariableMapping {
    /// `None` when the `source` attribute is absent (Zeebe maps `null`).
    pub source: Option<StaticOrExpression>,
    /// Where the value goes.
    pub target: TargetPath,
}

impl VariableMapping {
    fn evaluate(&self, context: &Map<String, Json>) -> Result<Json, MappingError> {
        match &self.source {
            None => Ok(Json::Null),
            Some(source) => {
                source
                    .evaluate_in(context)
                    .map_err(|source| MappingError::Evaluation {
                        target: self.target.to_string(),
                        source,
                    })
            }
        }
    }
}

/// Computes an element's local variables from its input mappings (see the module docs).
pub fn apply_input_mappings(
    mappings: &[VariableMapping],
    visible: &Map<String, Json>,
) -> Result<Map<String, Json>, MappingError> {
    let mut context = visible.clone();
    let mut result = Map::new();
    for mapping in mappings {
        let value = mapping.evaluate(&context)?;
        let segments = mapping.target.segments();
        let root = mapping.target.root().to_owned();
        if let [_, rest @ ..] = segments
            && !rest.is_empty()
        {
            let mut bound = object_or_empty(context.get(&root));
            put_path(&mut bound, rest, value.clone());
            context.insert(root.clone(), Json::Object(bound));
        } else {
            context.insert(root.clone(), value.clone());
        }
        put_path(&mut result, segments, value);
    }
    Ok(result)
}

/// Computes the variables an element hands back on completion when it has output mappings.
pub fn apply_output_mappings(
    mappings: &[VariableMapping],
    visible: &Map<String, Json>,
    job_variables: &Map<String, Json>,
) -> Result<Map<String, Json>, MappingError> {
    let mut context = visible.clone();
    context.extend(job_variables.iter().map(|(k, v)| (k.clone(), v.clone())));
    let existing = context.clone();
    let mut result = Map::new();
    for mapping in mappings {
        let value = mapping.evaluate(&context)?;
        let segments = mapping.target.segments();
        if let Some(last) = segments.last() {
            context.insert(last.clone(), value.clone());
        }
        let root = mapping.target.root().to_owned();
        if segments.len() > 1 && !result.contains_key(&root) {
            result.insert(
                root,
                Json::Object(object_or_empty(existing.get(mapping.target.root()))),
            );
        }
        put_path(&mut result, segments, value);
    }
    Ok(result)
}

/// The variables to propagate when an element completes: the job's variables as they are
/// without output mappings, only the mapped targets with them.
pub fn completion_variables(
    output_mappings: &[VariableMapping],
    visible: &Map<String, Json>,
    job_variables: &Map<String, Json>,
) -> Result<Map<String, Json>, MappingError> {
    if output_mappings.is_empty() {
        Ok(job_variables.clone())
    } else {
        apply_output_mappings(output_mappings, visible, job_variables)
    }
}

fn object_or_empty(value: Option<&Json>) -> Map<String, Json> {
    match value {
        Some(Json::Object(map)) => map.clone(),
        _ => Map::new(),
    }
}

/// FEEL's `context put(context, keys, value)`: intermediate non-objects are replaced.
fn put_path(map: &mut Map<String, Json>, path: &[String], value: Json) {
    match path {
        [] => {}
        [last] => {
            map.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = map
                .entry(first.clone())
                .or_insert_with(|| Json::Object(Map::new()));
            if !entry.is_object() {
                *entry = Json::Object(Map::new());
            }
            if let Json::Object(inner) = entry {
                put_path(inner, rest, value);
            }
        }
    }
}
