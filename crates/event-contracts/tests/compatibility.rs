//! The committed schemas against the committed compatibility lock (ADR 0010). Run with
//! `UPDATE_CONTRACT_LOCK=1` to record new event types, versions and compatible fields; breaking
//! changes fail either way.

use std::path::PathBuf;

use event_contracts::compat::{Enforcement, LOCK_FILE_NAME, UPDATE_ENV, enforce, required_fields};
use event_contracts::schema_files;
use serde_json::Value;

fn lock_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../contracts/schemas/events")
        .join(LOCK_FILE_NAME)
}

#[test]
fn published_event_versions_keep_every_recorded_field() {
    let current = required_fields(schema_files()).expect("schemas are derivable");
    let update = std::env::var(UPDATE_ENV).is_ok_and(|v| v == "1");
    match enforce(&lock_path(), &current, update) {
        Ok(Enforcement::UpToDate) => {}
        Ok(Enforcement::Recorded(added)) => {
            for finding in added {
                eprintln!("recorded: {finding}");
            }
        }
        Err(error) => panic!("{error}"),
    }
}

#[test]
fn payloads_stay_open_to_additions() {
    // Adding an optional payload field must stay a compatible change, so no payload or shared
    // definition may close itself; only the envelope is closed.
    fn closed_at(value: &Value, path: &str, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let at = format!("{path}/{key}");
                    if (key == "additionalProperties" || key == "unevaluatedProperties")
                        && child == &Value::Bool(false)
                    {
                        found.push(at.clone());
                    }
                    closed_at(child, &at, found);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    closed_at(child, &format!("{path}/{i}"), found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    for (file, text) in schema_files() {
        let schema: Value = serde_json::from_str(text).expect("json");
        if *file != "envelope.v1.schema.json" {
            closed_at(&schema, file, &mut found);
        }
    }
    assert!(found.is_empty(), "closed objects: {found:?}");
}
