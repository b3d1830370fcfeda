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
