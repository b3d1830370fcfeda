//! Audit coverage (issue 25, item 6): every command of every service — every mutating
//! operation its router serves, which its committed contract lists (each service's contract test
//! holds router and contract together) — is in `contracts/audit-coverage.json` with the evidence
//! it writes, or with the reason it changes no business state. The test fails on a command with
//! none, on evidence types the service's source never names, and on a reason the registry calls
//! required that the contract does not require. Whole-stack tests check the evidence itself for
//! the decisions that matter most (price override, approval, conversion: the order e2e
//! `audit_trail`; cancellation and every fallout repair: the order e2e `exceptions` and
//! `cancellations`).

#![expect(clippy::expect_used, reason = "a test fails loudly")]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The service contracts (the workflow engine is a platform component, not a service with
/// business commands).
const SERVICES: &[&str] = &[
    "catalog",
    "cpq",
    "approval",
    "order",
    "integration",
    "audit",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON")
}

/// Every `METHOD path` that is not a read.
fn commands(contract: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (path, item) in contract["paths"].as_object().expect("paths") {
        for method in ["post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                found.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    found
}

/// Resolves `$ref` and merges `allOf`, so a body's `required` list is complete.
fn required_of(contract: &Value, schema: &Value) -> BTreeSet<String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let pointer = reference.trim_start_matches('#');
        return required_of(
            contract,
            contract.pointer(pointer).expect("resolvable $ref"),
        );
    }
    let mut required: BTreeSet<String> = schema["required"]
        .as_array()
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        required.extend(required_of(contract, part));
    }
    required
}

/// All Rust source of a service, to look evidence types up in.
fn source_of(service: &str) -> String {
    let mut text = String::new();
    let mut dirs = vec![root().join("services").join(service).join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("source dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                text.push_str(&std::fs::read_to_string(&path).expect("source"));
            }
        }
    }
    text
}

#[test]
fn every_command_of_every_service_declares_its_evidence() {
    let registry = read_json(&root().join("contracts/audit-coverage.json"));
    let mut problems = Vec::new();
    let mut audited = 0;
    for service in SERVICES {
        let contract = read_json(&root().join(format!("contracts/openapi/{service}-api.json")));
        let declared = registry["services"][service]
            .as_object()
            .unwrap_or_else(|| panic!("contracts/audit-coverage.json has no {service}"));
        let served = commands(&contract);
        let listed: BTreeSet<String> = declared.keys().cloned().collect();
        for missing in served.difference(&listed) {
            problems.push(format!("{service}: {missing} declares no audit evidence"));
        }
        for stale in listed.difference(&served) {
            problems.push(format!(
                "{service}: {stale} is not a command of its contract"
            ));
        }
        let source = source_of(service);
        for (command, entry) in declared {
            if let Some(why) = entry.get("exempt") {
                if why.as_str().is_none_or(|w| w.trim().len() < 10) {
                    problems.push(format!("{service}: {command} is exempt without a reason"));
                }
                continue;
            }
            audited += 1;
            let types = entry["evidence"].as_array().cloned().unwrap_or_default();
            if types.is_empty() {
                problems.push(format!(
                    "{service}: {command} changes state and writes no evidence"
                ));
            }
            for kind in types.iter().filter_map(Value::as_str) {
                let named = source.contains(&format!("\"{kind}\""))
                    || source.contains(&format!("\"{kind}.v"));
                if !named {
                    problems.push(format!(
                        "{service}: {command} claims evidence {kind}, which its source never names"
                    ));
                }
            }
            if entry["reason"] == "required" {
                let field = entry["reasonField"].as_str().unwrap_or("reason");
                let (method, path) = command.split_once(' ').expect("METHOD path");
                let body = &contract["paths"][path][method.to_lowercase()]["requestBody"]["content"]
                    ["application/json"]["schema"];
                if !required_of(&contract, body).contains(field) {
                    problems.push(format!(
                        "{service}: {command} is said to require `{field}`, which its contract does not require"
                    ));
                }
            }
        }
    }
    assert!(
        audited >= 30,
        "only {audited} audited commands: the walk found too little"
    );
    assert!(
        problems.is_empty(),
        "audit coverage:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_decisions_the_issue_names_are_audited_with_their_reason() {
    let registry = read_json(&root().join("contracts/audit-coverage.json"));
    for (service, command, reason) in [
        (
            "cpq",
            "POST /quotes/{id}/items/{item_id}/price-override",
            "required",
        ),
        ("cpq", "POST /quotes/{id}/convert-to-order", "none"),
        ("order", "POST /orders/{id}/cancellations", "required"),
        ("order", "POST /fallouts/{id}/actions", "required"),
        ("order", "POST /fallouts/bulk-actions", "required"),
    ] {
        let entry = &registry["services"][service][command];
        assert!(
            entry["evidence"].as_array().is_some_and(|e| !e.is_empty()),
            "{service} {command}: {entry}"
        );
        assert_eq!(entry["reason"], reason, "{service} {command}");
    }
    let decisions = &registry["services"]["approval"]["POST /approval-requests/{id}/decisions"];
    assert!(
        decisions["evidence"]
            .as_array()
            .is_some_and(|e| !e.is_empty()),
        "{decisions}"
    );
}
