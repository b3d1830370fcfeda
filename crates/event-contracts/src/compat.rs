//! The compatibility lock: what consumers of each published event version may rely on.
//!
//! For every event type the lock records its *required fields* — JSON pointers into the
//! envelope, nested payload fields included, `*` standing for every array element — and the JSON
//! types each may take. They are derived from the schemas by [`required_fields`]. [`check`]
//! compares the current schemas with the lock:
//!
//! - a recorded field that is no longer required, or that may now take a type the lock does not
//!   record (`["string"]` → `["string", "null"]`), is **breaking**;
//! - a new required field inside an object the lock already knows is **breaking** too: events
//!   of that version already on the topic lack it, so a consumer replaying them would fail;
//! - a schema of a recorded event type that disappeared is **breaking**;
//! - a new event type (or a new `.vN`), narrower types, new optional fields and new required
//!   fields inside new optional objects are compatible but **unrecorded** until the lock is
//!   updated.
//!
//! [`update`] adds what is unrecorded and never changes or removes a recorded field, and refuses
//! to run at all while anything is breaking: the lock cannot launder a breaking change, which
//! needs a new `.v(N+1)` schema instead (ADR 0010).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::Path;

use serde_json::Value;

use crate::{described_event_type, escape_pointer_token};

/// Environment variable that lets the compatibility test add unrecorded entries to the lock.
pub const UPDATE_ENV: &str = "UPDATE_CONTRACT_LOCK";

/// The command that records new event types and fields in the lock.
pub const UPDATE_COMMAND: &str = "UPDATE_CONTRACT_LOCK=1 cargo test -p event-contracts";

/// File name of the lock, next to the schemas.
pub const LOCK_FILE_NAME: &str = "compatibility.lock.json";

/// The JSON types, in the order the lock lists them.
const ALL_TYPES: [&str; 7] = [
    "array", "boolean", "integer", "null", "number", "object", "string",
];

/// Deepest schema nesting followed (a guard against `$ref` cycles).
const MAX_DEPTH: usize = 64;

/// Required fields of one event type: pointer → the JSON types it may take.
pub type Fields = BTreeMap<String, BTreeSet<String>>;

/// Required fields of every event type.
pub type EventFields = BTreeMap<String, Fields>;

/// Why schemas or a lock could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    /// A schema is not JSON or has no usable `$id`.
    #[error("schema {file}: {detail}")]
    Schema {
        /// The file.
        file: String,
        /// The problem.
        detail: String,
    },
    /// A `$ref` does not resolve inside the schema set.
    #[error("unresolvable $ref {reference:?} in {base}")]
    UnresolvedRef {
        /// The reference.
        reference: String,
        /// The document it appears in.
        base: String,
    },
    /// The schemas nest deeper than any real contract (probably a `$ref` cycle).
    #[error("schemas of {0} nest too deep (a $ref cycle?)")]
    TooDeep(String),
    /// The lock file is not in the expected shape.
    #[error("the lock is malformed: {0}")]
    Malformed(String),
    /// The lock file could not be read or written.
    #[error("{path}: {detail}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        detail: String,
    },
}

/// One difference between the lock and the current schemas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// A recorded event type has no schema any more.
    RemovedEventType {
        /// The event type.
        event_type: String,
    },
    /// A recorded field is no longer required.
    RemovedField {
        /// The event type.
        event_type: String,
        /// The field.
        path: String,
    },
    /// A recorded field may now take a type the lock does not record.
    Retyped {
        /// The event type.
        event_type: String,
        /// The field.
        path: String,
        /// Recorded types.
        was: BTreeSet<String>,
        /// Current types.
        now: BTreeSet<String>,
    },
    /// A field became required in an object that events already on the topic have without it.
    NewRequiredField {
        /// The event type.
        event_type: String,
        /// The field.
        path: String,
    },
    /// An event type the lock does not record yet (compatible).
    UnrecordedEventType {
        /// The event type.
        event_type: String,
    },
    /// A compatible required field the lock does not record yet.
    UnrecordedField {
        /// The event type.
        event_type: String,
        /// The field.
        path: String,
    },
}

impl Finding {
    /// Whether the change breaks consumers of the published version.
    pub fn is_breaking(&self) -> bool {
        matches!(
            self,
            Self::RemovedEventType { .. }
                | Self::RemovedField { .. }
                | Self::Retyped { .. }
                | Self::NewRequiredField { .. }
        )
    }
}

fn types_text(types: &BTreeSet<String>) -> String {
    types.iter().cloned().collect::<Vec<_>>().join("|")
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RemovedEventType { event_type } => write!(
                f,
                "BREAKING {event_type}: the schema of a published event version was removed"
            ),
            Self::RemovedField { event_type, path } => write!(
                f,
                "BREAKING {event_type}: required field {path} was removed or made optional"
            ),
            Self::Retyped {
                event_type,
                path,
                was,
                now,
            } => write!(
                f,
                "BREAKING {event_type}: field {path} was {} and may now be {}",
                types_text(was),
                types_text(now)
            ),
            Self::NewRequiredField { event_type, path } => write!(
                f,
                "BREAKING {event_type}: new required field {path} (events already published lack \
                 it; make it optional or add a new version)"
            ),
            Self::UnrecordedEventType { event_type } => {
                write!(f, "unrecorded event type {event_type}")
            }
            Self::UnrecordedField { event_type, path } => {
                write!(f, "unrecorded required field {path} of {event_type}")
            }
        }
    }
}

/// The committed lock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lock {
    /// Recorded required fields per event type.
    pub events: EventFields,
}

impl Lock {
    /// Reads a lock from its JSON text.
    pub fn parse(text: &str) -> Result<Self, LockError> {
        let malformed = |detail: &str| LockError::Malformed(detail.to_owned());
        let root: Value =
            serde_json::from_str(text).map_err(|e| LockError::Malformed(e.to_string()))?;
        let events = root
            .get("events")
            .and_then(Value::as_object)
            .ok_or_else(|| malformed("no \"events\" object"))?;
        let mut out = EventFields::new();
        for (event_type, fields) in events {
            let fields = fields
                .as_object()
                .ok_or_else(|| malformed("an event entry is not an object"))?;
            let mut recorded = Fields::new();
            for (path, types) in fields {
                let types = types
                    .as_array()
                    .ok_or_else(|| malformed("a field's types are not an array"))?
                    .iter()
                    .map(|t| t.as_str().map(str::to_owned))
                    .collect::<Option<BTreeSet<String>>>()
                    .ok_or_else(|| malformed("a field type is not a string"))?;
                recorded.insert(path.clone(), types);
            }
            out.insert(event_type.clone(), recorded);
        }
        Ok(Self { events: out })
    }

    /// The lock as committed: sorted, one field per line, with a trailing newline.
    pub fn to_json(&self) -> String {
        let quoted = |text: &str| Value::String(text.to_owned()).to_string();
        let description = format!(
            "Required fields (JSON pointers into the envelope; * = every array element) and their \
             JSON types per published event version; consumers may rely on them. Maintained by \
             the event-contracts tests: `{UPDATE_COMMAND}` only adds entries and never changes \
             one. See docs/adr/0010-event-contracts.md."
        );
        let mut out = format!(
            "{{\n  \"description\": {},\n  \"events\": {{",
            quoted(&description)
        );
        for (i, (event_type, fields)) in self.events.iter().enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            out.push_str(&format!("    {}: {{", quoted(event_type)));
            for (j, (path, types)) in fields.iter().enumerate() {
                let types: Vec<String> = types.iter().map(|t| quoted(t)).collect();
                out.push_str(if j == 0 { "\n" } else { ",\n" });
                out.push_str(&format!("      {}: [{}]", quoted(path), types.join(", ")));
            }
            out.push_str(if fields.is_empty() { "}" } else { "\n    }" });
        }
        out.push_str(if self.events.is_empty() {
            "}\n}\n"
        } else {
            "\n  }\n}\n"
        });
        out
    }
}

/// Compares the current schemas' required fields with the lock: breaking findings first, each
/// group in event type order.
pub fn check(lock: &Lock, current: &EventFields) -> Vec<Finding> {
    let mut findings = Vec::new();
    for event_type in lock.events.keys() {
        if !current.contains_key(event_type) {
            findings.push(Finding::RemovedEventType {
                event_type: event_type.clone(),
            });
        }
    }
    for (event_type, fields) in current {
        let Some(recorded) = lock.events.get(event_type) else {
            findings.push(Finding::UnrecordedEventType {
                event_type: event_type.clone(),
            });
            continue;
        };
        for (path, was) in recorded {
            match fields.get(path) {
                None => findings.push(Finding::RemovedField {
                    event_type: event_type.clone(),
                    path: path.clone(),
                }),
                Some(now) if !now.iter().all(|t| covered(t, was)) => {
                    findings.push(Finding::Retyped {
                        event_type: event_type.clone(),
                        path: path.clone(),
                        was: was.clone(),
                        now: now.clone(),
                    });
                }
                Some(_) => {}
            }
        }
        for path in fields.keys().filter(|p| !recorded.contains_key(*p)) {
            let event_type = event_type.clone();
            let path = path.clone();
            findings.push(if inside_known_object(&path, recorded) {
                Finding::NewRequiredField { event_type, path }
            } else {
                Finding::UnrecordedField { event_type, path }
            });
        }
    }
    findings.sort_by_key(|f| !f.is_breaking());
    findings
}

/// Whether a value of type `t` is one a consumer of the recorded types already handles.
fn covered(t: &str, recorded: &BTreeSet<String>) -> bool {
    recorded.contains(t) || (t == "integer" && recorded.contains("number"))
}

/// Whether a newly required field sits in an object that events of this version already carry:
/// the envelope root, or an object whose own presence (or a field of it) is recorded. Array
/// elements (`/*`) are exempt: describing elements only narrows what an array may hold.
fn inside_known_object(path: &str, recorded: &Fields) -> bool {
    if path.ends_with("/*") {
        return false;
    }
    let parent = match path.rfind('/') {
        Some(at) => &path[..at],
        None => return false,
    };
    if parent.is_empty() || recorded.contains_key(parent) {
        return true;
    }
    let prefix = format!("{parent}/");
    recorded.keys().any(|p| p.starts_with(&prefix))
}

/// The lock with every unrecorded event type and field added. Refuses while any finding is
/// breaking, and never changes or removes a recorded field.
pub fn update(lock: &Lock, current: &EventFields) -> Result<Lock, Vec<Finding>> {
    let findings = check(lock, current);
    let breaking: Vec<Finding> = findings
        .iter()
        .filter(|f| f.is_breaking())
        .cloned()
        .collect();
    if !breaking.is_empty() {
        return Err(breaking);
    }
    let mut updated = lock.clone();
    for finding in findings {
        match finding {
            Finding::UnrecordedEventType { event_type } => {
                if let Some(fields) = current.get(&event_type) {
                    updated.events.insert(event_type, fields.clone());
                }
            }
            Finding::UnrecordedField { event_type, path } => {
                if let Some(types) = current.get(&event_type).and_then(|f| f.get(&path)) {
                    updated
                        .events
                        .entry(event_type)
                        .or_default()
                        .entry(path)
                        .or_insert_with(|| types.clone());
                }
            }
            _ => {}
        }
    }
    Ok(updated)
}

/// Outcome of [`enforce`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Enforcement {
    /// The lock records exactly what the schemas require.
    UpToDate,
    /// The lock was updated with these compatible additions.
    Recorded(Vec<Finding>),
}

/// Why [`enforce`] failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnforcementError {
    /// The schemas or the lock could not be read.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// Breaking changes to published event versions.
    #[error(
        "breaking changes to published event versions:\n  {}\n\
         A published .vN must keep every recorded field with its types. Revert the change, or \
         publish it as a new version: copy the schema to <event>.v(N+1).schema.json, change the \
         copy, emit the new version, and keep the old file. The lock cannot be updated over a \
         breaking change.",
        lines(.0)
    )]
    Breaking(Vec<Finding>),
    /// Compatible changes the lock does not record yet.
    #[error(
        "the compatibility lock does not record:\n  {}\nRun `{UPDATE_COMMAND}` and commit {LOCK_FILE_NAME}.",
        lines(.0)
    )]
    Unrecorded(Vec<Finding>),
}

fn lines(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// Checks the schemas against the lock file at `lock_path`; with `update`, records compatible
/// additions in the file (creating it when absent). Breaking changes always fail and leave the
/// file untouched.
pub fn enforce(
    lock_path: &Path,
    current: &EventFields,
    update_lock: bool,
) -> Result<Enforcement, EnforcementError> {
    let io_error = |e: std::io::Error| LockError::Io {
        path: lock_path.display().to_string(),
        detail: e.to_string(),
    };
    let lock = match std::fs::read_to_string(lock_path) {
        Ok(text) => Lock::parse(&text)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Lock::default(),
        Err(e) => return Err(io_error(e).into()),
    };
    let findings = check(&lock, current);
    let breaking: Vec<Finding> = findings
        .iter()
        .filter(|f| f.is_breaking())
        .cloned()
        .collect();
    if !breaking.is_empty() {
        return Err(EnforcementError::Breaking(breaking));
    }
    if findings.is_empty() {
        return Ok(Enforcement::UpToDate);
    }
    if !update_lock {
        return Err(EnforcementError::Unrecorded(findings));
    }
    let updated = update(&lock, current).map_err(EnforcementError::Breaking)?;
    std::fs::write(lock_path, updated.to_json()).map_err(io_error)?;
    Ok(Enforcement::Recorded(findings))
}

/// The required fields of every event schema among `files` (`(file name, JSON text)`; files
/// without an event type are the definitions the others refer to).
pub fn required_fields(files: &[(&str, &str)]) -> Result<EventFields, LockError> {
    let mut documents: HashMap<String, Value> = HashMap::new();
    for (file, text) in files {
        let schema: Value = serde_json::from_str(text).map_err(|e| LockError::Schema {
            file: (*file).to_owned(),
            detail: e.to_string(),
        })?;
        let id = schema
            .get("$id")
            .and_then(Value::as_str)
            .ok_or_else(|| LockError::Schema {
                file: (*file).to_owned(),
                detail: "no $id".to_owned(),
            })?
            .to_owned();
        documents.insert(id, schema);
    }
    let walker = Walker {
        documents: &documents,
    };
    let mut out = EventFields::new();
    for (id, schema) in &documents {
        let Some(event_type) = described_event_type(schema) else {
            continue;
        };
        let shape = walker.shape(id, schema, 0)?;
        let mut fields = Fields::new();
        walker.walk("", &shape, &mut fields, 0)?;
        out.insert(event_type.to_owned(), fields);
    }
    Ok(out)
}

/// What a schema node says about a value, with `$ref` and `allOf` merged in.
#[derive(Debug, Default)]
struct Shape<'a> {
    /// Allowed JSON types; `None` when unconstrained.
    types: Option<BTreeSet<&'static str>>,
    required: BTreeSet<String>,
    /// Subschemas per property, with the `$id` of the document each appears in.
    properties: BTreeMap<String, Vec<(&'a str, &'a Value)>>,
    items: Vec<(&'a str, &'a Value)>,
}

impl<'a> Shape<'a> {
    /// Conjunction of two shapes (both apply).
    fn merge(&mut self, other: Shape<'a>) {
        self.constrain(other.types);
        self.required.extend(other.required);
        for (name, subs) in other.properties {
            self.properties.entry(name).or_default().extend(subs);
        }
        self.items.extend(other.items);
    }

    fn constrain(&mut self, types: Option<BTreeSet<&'static str>>) {
        let Some(types) = types else { return };
        self.types = Some(match self.types.take() {
            None => types,
            Some(existing) => intersect(&existing, &types),
        });
    }
}

fn intersect(a: &BTreeSet<&'static str>, b: &BTreeSet<&'static str>) -> BTreeSet<&'static str> {
    let mut out: BTreeSet<&'static str> = a.intersection(b).copied().collect();
    if (a.contains("integer") && b.contains("number"))
        || (a.contains("number") && b.contains("integer"))
    {
        out.insert("integer");
    }
    out
}

/// The lock's form of a type set: sorted names, `integer` folded into `number`, unconstrained
/// spelled out as every type.
fn recorded_types(types: Option<&BTreeSet<&'static str>>) -> BTreeSet<String> {
    let all: BTreeSet<&'static str> = ALL_TYPES.into_iter().collect();
    let types = types.unwrap_or(&all);
    types
        .iter()
        .filter(|t| !(**t == "integer" && types.contains("number")))
        .map(|t| (*t).to_owned())
        .collect()
}

fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_name(name: &str) -> Option<&'static str> {
    ALL_TYPES.into_iter().find(|t| *t == name)
}

struct Walker<'a> {
    documents: &'a HashMap<String, Value>,
}

impl<'a> Walker<'a> {
    /// Resolves a `$ref` relative to the document `base`.
    fn resolve(&self, base: &str, reference: &str) -> Result<(&'a str, &'a Value), LockError> {
        let unresolved = || LockError::UnresolvedRef {
            reference: reference.to_owned(),
            base: base.to_owned(),
        };
        let (location, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let target = if location.is_empty() {
            base.to_owned()
        } else if location.contains("://") {
            location.to_owned()
        } else {
            let directory = base.rfind('/').map_or("", |at| &base[..=at]);
            format!("{directory}{location}")
        };
        let (id, document) = self
            .documents
            .get_key_value(&target)
            .ok_or_else(unresolved)?;
        let node = if fragment.is_empty() {
            document
        } else {
            document.pointer(fragment).ok_or_else(unresolved)?
        };
        Ok((id.as_str(), node))
    }

    fn shape(&self, base: &'a str, node: &'a Value, depth: usize) -> Result<Shape<'a>, LockError> {
        if depth > MAX_DEPTH {
            return Err(LockError::TooDeep(base.to_owned()));
        }
        let mut shape = Shape::default();
        let Value::Object(schema) = node else {
            return Ok(shape);
        };
        match schema.get("type") {
            Some(Value::String(name)) => {
                shape.constrain(Some(type_name(name).into_iter().collect()));
            }
            Some(Value::Array(names)) => shape.constrain(Some(
                names
                    .iter()
                    .filter_map(Value::as_str)
                    .filter_map(type_name)
                    .collect(),
            )),
            _ => {}
        }
        if let Some(value) = schema.get("const") {
            shape.constrain(Some(BTreeSet::from([type_of(value)])));
        }
        if let Some(Value::Array(values)) = schema.get("enum") {
            shape.constrain(Some(values.iter().map(type_of).collect()));
        }
        if let Some(Value::Array(names)) = schema.get("required") {
            shape
                .required
                .extend(names.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        if let Some(Value::Object(properties)) = schema.get("properties") {
            for (name, sub) in properties {
                shape
                    .properties
                    .entry(name.clone())
                    .or_default()
                    .push((base, sub));
            }
        }
        if let Some(items) = schema.get("items") {
            shape.items.push((base, items));
        }
        if let Some(Value::String(reference)) = schema.get("$ref") {
            let (target_base, target) = self.resolve(base, reference)?;
            shape.merge(self.shape(target_base, target, depth + 1)?);
        }
        if let Some(Value::Array(all)) = schema.get("allOf") {
            for sub in all {
                shape.merge(self.shape(base, sub, depth + 1)?);
            }
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = schema.get(keyword) {
                // Only the types are certain: a value matches one of the branches.
                let mut union = Some(BTreeSet::new());
                for branch in branches {
                    match (self.shape(base, branch, depth + 1)?.types, union.as_mut()) {
                        (Some(types), Some(union)) => union.extend(types),
                        _ => union = None,
                    }
                }
                shape.constrain(union);
            }
        }
        Ok(shape)
    }

    fn merged(&self, subs: &[(&'a str, &'a Value)], depth: usize) -> Result<Shape<'a>, LockError> {
        let mut shape = Shape::default();
        for (base, sub) in subs {
            shape.merge(self.shape(base, sub, depth + 1)?);
        }
        Ok(shape)
    }

    /// Records the required fields under `path` (and the element types of arrays), descending
    /// into every declared property: a required field of an optional object is recorded too,
    /// as what consumers may rely on whenever the object is present.
    fn walk(
        &self,
        path: &str,
        shape: &Shape<'a>,
        out: &mut Fields,
        depth: usize,
    ) -> Result<(), LockError> {
        if depth > MAX_DEPTH {
            return Err(LockError::TooDeep(path.to_owned()));
        }
        let names: BTreeSet<&String> = shape
            .properties
            .keys()
            .chain(shape.required.iter())
            .collect();
        for name in names {
            let subs = shape.properties.get(name).map_or(&[][..], Vec::as_slice);
            let child = self.merged(subs, depth)?;
            let child_path = format!("{path}/{}", escape_pointer_token(name));
            if shape.required.contains(name) {
                out.insert(child_path.clone(), recorded_types(child.types.as_ref()));
            }
            self.walk(&child_path, &child, out, depth + 1)?;
        }
        if !shape.items.is_empty() {
            let child = self.merged(&shape.items, depth)?;
            let child_path = format!("{path}/*");
            out.insert(child_path.clone(), recorded_types(child.types.as_ref()));
            self.walk(&child_path, &child, out, depth + 1)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
