//! The committed form of a service's OpenAPI contract, shared so that every service's drift test
//! compares byte for byte against the same rendering.

use utoipa::openapi::OpenApi;

/// `doc` as pretty JSON with a trailing newline, exactly as `contracts/openapi/*.json` holds it.
pub fn contract_json(doc: &OpenApi) -> String {
    let mut text = doc.to_pretty_json().unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}
