//! The drift check of a committed OpenAPI contract, the same for every service.

use std::path::{Path, PathBuf};

/// Where `contracts/openapi/<file_name>` lives in the repository.
pub fn contract_path(file_name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../contracts/openapi")
        .join(file_name)
}

/// Asserts that the committed `contracts/openapi/<file_name>` equals `generated`, so an API
/// change is always a reviewed diff. With `UPDATE_CONTRACTS=1` the file is rewritten first
/// (accepting the change); the failure message names `accept_command`.
pub fn assert_committed_contract(file_name: &str, generated: &str, accept_command: &str) {
    let path = contract_path(file_name);
    if std::env::var("UPDATE_CONTRACTS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, generated)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "contracts/openapi/{file_name} differs from the generated contract; review the API change and run \
         `UPDATE_CONTRACTS=1 {accept_command}` to accept it"
    );
}

/// Asserts that every `(status, code)` refusal a service answers is declared in `contract`
/// under that status, by its `` `CODE` `` in some operation's response description: what a
/// client can be told is what the contract promises.
pub fn assert_refusals_declared(contract: &serde_json::Value, refusals: &[(u16, &str)]) {
    let descriptions: Vec<(String, &str)> = contract["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(serde_json::Value::as_object)
        .flat_map(|item| item.values())
        .filter_map(|operation| operation["responses"].as_object())
        .flat_map(|responses| responses.iter())
        .filter_map(|(status, response)| {
            response["description"]
                .as_str()
                .map(|description| (status.clone(), description))
        })
        .collect();
    let missing: Vec<String> = refusals
        .iter()
        .filter(|(status, code)| {
            !descriptions.iter().any(|(declared, description)| {
                *declared == status.to_string() && description.contains(&format!("`{code}`"))
            })
        })
        .map(|(status, code)| format!("{status} {code}"))
        .collect();
    assert!(
        missing.is_empty(),
        "refusals the contract does not declare: {missing:?}"
    );
}
