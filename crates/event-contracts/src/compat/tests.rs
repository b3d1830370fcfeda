//! The checker on small in-memory schema pairs: a lock made from the "before" schema, checked
//! against the "after" one.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::*;

const EVENT: &str = "test.thing.happened.v1";
const BASE: &str = "https://contracts.test/events/";

/// An event schema whose payload is `payload`.
fn event_schema(event_type: &str, payload: Value) -> (String, String) {
    let file = format!("{event_type}.schema.json");
    let schema = json!({
        "$id": format!("{BASE}{file}"),
        "type": "object",
        "required": ["eventType", "payload"],
        "properties": {
            "eventType": {"type": "string", "const": event_type},
            "payload": payload
        }
    });
    (file, schema.to_string())
}

fn fields_of(schemas: &[(String, String)]) -> EventFields {
    let files: Vec<(&str, &str)> = schemas
        .iter()
        .map(|(f, t)| (f.as_str(), t.as_str()))
        .collect();
    required_fields(&files).expect("derivable")
}

fn fields(payload: Value) -> EventFields {
    fields_of(&[event_schema(EVENT, payload)])
}

fn lock(payload: Value) -> Lock {
    update(&Lock::default(), &fields(payload)).expect("first lock")
}

fn types(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

fn payload_v1() -> Value {
    json!({
        "type": "object",
        "required": ["id", "amount", "lines"],
        "properties": {
            "id": {"type": "string"},
            "amount": {"type": "string", "pattern": "^[0-9]+$"},
            "note": {"type": ["string", "null"]},
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["qty"],
                    "properties": {"qty": {"type": "integer"}}
                }
            }
        }
    })
}

#[test]
fn required_fields_are_derived_with_nesting_refs_and_nullability() {
    let definitions = (
        "defs.schema.json".to_owned(),
        json!({
            "$id": format!("{BASE}defs.schema.json"),
            "$defs": {
                "money": {"type": "string"},
                "party": {
                    "type": "object",
                    "required": ["name", "a/b"],
                    "properties": {"name": {"type": "string"}, "a/b": {"type": "boolean"}}
                }
            }
        })
        .to_string(),
    );
    let event = event_schema(
        EVENT,
        json!({
            "allOf": [{"$ref": "defs.schema.json#/$defs/party"}],
            "required": ["price", "count", "buyer", "tags", "kind"],
            "properties": {
                "price": {"anyOf": [{"$ref": "defs.schema.json#/$defs/money"}, {"type": "null"}]},
                "count": {"type": "number", "minimum": 0},
                "buyer": {"$ref": "defs.schema.json#/$defs/party"},
                "tags": {"type": "array", "items": {"enum": ["A", 1]}},
                "kind": {"const": "X"},
                "seller": {"$ref": "#/$defs/seller"}
            },
            "$defs": {"unused": true}
        }),
    );
    let mut event_json: Value = serde_json::from_str(&event.1).expect("json");
    event_json["$defs"] = json!({
        "seller": {"type": "object", "required": ["vat"], "properties": {"vat": {"type": "string"}}}
    });
    let derived = fields_of(&[definitions, (event.0, event_json.to_string())]);
    let fields = &derived[EVENT];
    let expected: Vec<(&str, &[&str])> = vec![
        ("/eventType", &["string"]),
        ("/payload", &["object"]),
        ("/payload/a~1b", &["boolean"]),
        ("/payload/buyer", &["object"]),
        ("/payload/buyer/a~1b", &["boolean"]),
        ("/payload/buyer/name", &["string"]),
        ("/payload/count", &["number"]),
        ("/payload/kind", &["string"]),
        ("/payload/name", &["string"]),
        ("/payload/price", &["null", "string"]),
        // An optional object's required field: relied upon whenever the object is present.
        ("/payload/seller/vat", &["string"]),
        ("/payload/tags", &["array"]),
        ("/payload/tags/*", &["integer", "string"]),
    ];
    let actual: Vec<(&str, BTreeSet<String>)> = fields
        .iter()
        .map(|(path, types)| (path.as_str(), types.clone()))
        .collect();
    let expected: Vec<(&str, BTreeSet<String>)> = expected
        .into_iter()
        .map(|(path, names)| (path, types(names)))
        .collect();
    assert_eq!(actual, expected);
}

#[test]
fn unresolvable_refs_are_reported() {
    let broken = event_schema(EVENT, json!({"$ref": "missing.schema.json#/$defs/x"}));
    let files = [(broken.0.as_str(), broken.1.as_str())];
    assert!(matches!(
        required_fields(&files),
        Err(LockError::UnresolvedRef { .. })
    ));
}

#[test]
fn unchanged_schemas_match_their_lock() {
    assert_eq!(check(&lock(payload_v1()), &fields(payload_v1())), []);
}

#[test]
fn a_removed_required_field_is_breaking() {
    let mut after = payload_v1();
    after["required"] = json!(["id", "lines"]);
    after["properties"]
        .as_object_mut()
        .expect("properties")
        .remove("amount");
    let findings = check(&lock(payload_v1()), &fields(after));
    assert_eq!(
        findings,
        [Finding::RemovedField {
            event_type: EVENT.into(),
            path: "/payload/amount".into()
        }]
    );
    assert!(findings[0].is_breaking());
}

#[test]
fn a_required_field_made_optional_is_breaking() {
    let mut after = payload_v1();
    after["properties"]["lines"]["items"]["required"] = json!([]);
    let findings = check(&lock(payload_v1()), &fields(after));
    assert_eq!(
        findings,
        [Finding::RemovedField {
            event_type: EVENT.into(),
            path: "/payload/lines/*/qty".into()
        }]
    );
}

#[test]
fn a_retyped_field_is_breaking() {
    let mut after = payload_v1();
    after["properties"]["amount"] = json!({"type": "number"});
    let findings = check(&lock(payload_v1()), &fields(after));
    assert_eq!(
        findings,
        [Finding::Retyped {
            event_type: EVENT.into(),
            path: "/payload/amount".into(),
            was: types(&["string"]),
            now: types(&["number"]),
        }]
    );
    assert!(
        findings[0]
            .to_string()
            .contains("was string and may now be number")
    );
}

#[test]
fn a_field_that_may_now_be_null_is_breaking() {
    let mut after = payload_v1();
    after["properties"]["id"] = json!({"type": ["string", "null"]});
    let findings = check(&lock(payload_v1()), &fields(after));
    assert!(matches!(&findings[..], [Finding::Retyped { path, .. }] if path == "/payload/id"));
}

#[test]
fn narrowing_a_type_is_compatible() {
    let mut before = payload_v1();
    before["properties"]["id"] = json!({"type": ["string", "null"]});
    before["properties"]["lines"]["items"]["properties"]["qty"] = json!({"type": "number"});
    assert_eq!(check(&lock(before), &fields(payload_v1())), []);
}

#[test]
fn an_added_optional_field_is_compatible_and_needs_no_lock_change() {
    let mut after = payload_v1();
    after["properties"]["discount"] = json!({"type": "string"});
    assert_eq!(check(&lock(payload_v1()), &fields(after)), []);
}

#[test]
fn a_new_required_field_in_an_existing_version_is_breaking() {
    // Events of this version already on the topic lack the field; a consumer replaying them
    // against the new schema would fail. Add it as optional, or in a new version.
    let mut after = payload_v1();
    after["required"] = json!(["id", "amount", "lines", "currency"]);
    after["properties"]["currency"] = json!({"type": "string"});
    let findings = check(&lock(payload_v1()), &fields(after.clone()));
    assert_eq!(
        findings,
        [Finding::NewRequiredField {
            event_type: EVENT.into(),
            path: "/payload/currency".into()
        }]
    );
    let mut in_items = payload_v1();
    in_items["properties"]["lines"]["items"]["required"] = json!(["qty", "sku"]);
    let findings = check(&lock(payload_v1()), &fields(in_items));
    assert!(
        matches!(&findings[..], [Finding::NewRequiredField { path, .. }] if path == "/payload/lines/*/sku")
    );
}

#[test]
fn a_new_optional_object_records_its_required_fields_compatibly() {
    let mut after = payload_v1();
    after["properties"]["shipping"] = json!({
        "type": "object",
        "required": ["city"],
        "properties": {"city": {"type": "string"}}
    });
    let before = lock(payload_v1());
    let current = fields(after);
    let findings = check(&before, &current);
    assert_eq!(
        findings,
        [Finding::UnrecordedField {
            event_type: EVENT.into(),
            path: "/payload/shipping/city".into()
        }]
    );
    assert!(!findings[0].is_breaking());
    let updated = update(&before, &current).expect("compatible");
    assert_eq!(
        updated.events[EVENT]["/payload/shipping/city"],
        types(&["string"])
    );
    assert_eq!(check(&updated, &current), []);
}

#[test]
fn a_new_event_type_or_version_is_unrecorded_until_the_lock_is_updated() {
    let v1 = event_schema(EVENT, payload_v1());
    let v2 = event_schema("test.thing.happened.v2", json!({"type": "object"}));
    let before = update(&Lock::default(), &fields_of(std::slice::from_ref(&v1))).expect("lock");
    let current = fields_of(&[v1, v2]);
    assert_eq!(
        check(&before, &current),
        [Finding::UnrecordedEventType {
            event_type: "test.thing.happened.v2".into()
        }]
    );
    let updated = update(&before, &current).expect("compatible");
    assert_eq!(updated.events[EVENT], before.events[EVENT]);
    assert!(updated.events.contains_key("test.thing.happened.v2"));
}

#[test]
fn a_removed_event_type_is_breaking() {
    let findings = check(&lock(payload_v1()), &EventFields::new());
    assert_eq!(
        findings,
        [Finding::RemovedEventType {
            event_type: EVENT.into()
        }]
    );
    assert!(findings[0].is_breaking());
}

#[test]
fn update_refuses_breaking_changes_and_never_rewrites_an_entry() {
    let before = lock(payload_v1());
    let mut retyped = payload_v1();
    retyped["properties"]["amount"] = json!({"type": "number"});
    // A compatible addition in the same change does not get the retype through either.
    retyped["properties"]["shipping"] = json!({
        "type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}
    });
    let refused = update(&before, &fields(retyped)).expect_err("breaking");
    assert!(refused.iter().all(Finding::is_breaking));
    assert_eq!(refused.len(), 1);

    // Narrowing is accepted, but the recorded (wider) types stay as they were.
    let mut wide = payload_v1();
    wide["properties"]["id"] = json!({"type": ["string", "null"]});
    let wide_lock = lock(wide);
    let updated = update(&wide_lock, &fields(payload_v1())).expect("compatible");
    assert_eq!(updated, wide_lock);
}

/// A lock file in a fresh temporary directory.
struct TempLock(std::path::PathBuf);

impl TempLock {
    fn new(name: &str, content: Option<&str>) -> Self {
        let dir =
            std::env::temp_dir().join(format!("event-contracts-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(LOCK_FILE_NAME);
        match content {
            Some(text) => std::fs::write(&path, text).expect("write lock"),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
        Self(path)
    }

    fn read(&self) -> String {
        std::fs::read_to_string(&self.0).expect("read lock")
    }
}

impl Drop for TempLock {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[test]
fn a_retyped_field_is_refused_even_when_the_update_is_requested() {
    let committed = lock(payload_v1()).to_json();
    let file = TempLock::new("retyped", Some(&committed));
    let mut retyped = payload_v1();
    retyped["properties"]["amount"] = json!({"type": "integer"});
    let error = enforce(&file.0, &fields(retyped), true).expect_err("refused");
    assert!(matches!(&error, EnforcementError::Breaking(f) if f.len() == 1));
    let message = error.to_string();
    assert!(message.contains("/payload/amount"), "{message}");
    assert!(message.contains(".v(N+1)"), "{message}");
    assert_eq!(file.read(), committed, "the lock file is untouched");
}

#[test]
fn enforce_asks_for_the_update_and_the_update_records_new_entries() {
    let file = TempLock::new("unrecorded", None);
    let current = fields(payload_v1());
    let error = enforce(&file.0, &current, false).expect_err("unrecorded");
    assert!(matches!(error, EnforcementError::Unrecorded(_)));
    assert!(error.to_string().contains(UPDATE_COMMAND));

    let recorded = enforce(&file.0, &current, true).expect("recorded");
    assert!(matches!(recorded, Enforcement::Recorded(f) if f.len() == 1));
    assert_eq!(enforce(&file.0, &current, false), Ok(Enforcement::UpToDate));
    assert_eq!(
        Lock::parse(&file.read()).expect("parse").events,
        current,
        "the lock records exactly the derived fields"
    );
}

#[test]
fn the_lock_round_trips_through_its_text() {
    let lock = lock(payload_v1());
    let text = lock.to_json();
    assert!(text.ends_with("}\n"));
    assert_eq!(Lock::parse(&text), Ok(lock));
    assert!(matches!(
        Lock::parse("{\"events\": {\"e\": {\"/a\": [1]}}}"),
        Err(LockError::Malformed(_))
    ));
}
