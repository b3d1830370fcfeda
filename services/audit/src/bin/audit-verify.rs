//! `audit-verify BUNDLE.json [--public-key BASE64]` (`cargo run -p audit --bin audit-verify -- …`): checks an evidence bundle offline, without
//! the audit service. Exit 0 when every entry is proved against the signed checkpoint; 1 naming
//! the first failing entry (or the checkpoint); 2 when the command itself was misused or the
//! file cannot be read. Without `--public-key` the key the bundle carries is used, which only
//! proves the bundle is internally consistent: pass the key published at
//! `GET /audit/signing-keys` (or obtained out of band) to prove who signed it.

use std::io::Write;
use std::process::ExitCode;

use audit_proof::bundle::{EvidenceBundle, verify_bundle};
use audit_proof::checkpoint::from_base64;

const USAGE: &str = "usage: audit-verify BUNDLE.json [--public-key BASE64]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, key) = match args.as_slice() {
        [path] => (path, None),
        [path, flag, key] if flag == "--public-key" => (path, Some(key)),
        _ => return say(2, USAGE),
    };
    let trusted = match key.map(|key| from_base64(key).filter(|bytes| bytes.len() == 32)) {
        Some(None) => {
            return say(
                2,
                "--public-key must be the base64 of a 32-byte Ed25519 key",
            );
        }
        Some(Some(bytes)) => Some(bytes),
        None => None,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => return say(2, &format!("cannot read {path}: {error}")),
    };
    let bundle: EvidenceBundle = match serde_json::from_str(&text) {
        Ok(bundle) => bundle,
        Err(error) => return say(1, &format!("INVALID: not an evidence bundle: {error}")),
    };
    match verify_bundle(&bundle, trusted.as_deref()) {
        Ok(verified) => say(
            0,
            &format!(
                "VALID: {} entries of {} {} proved against the checkpoint of {} entries signed by key {}{}",
                verified.entries,
                bundle.resource_type,
                bundle.resource_id,
                verified.tree_size,
                verified.key_id,
                if trusted.is_some() {
                    ""
                } else {
                    " (the key the bundle carries: pass --public-key to check who signed)"
                }
            ),
        ),
        Err(failure) => say(1, &format!("INVALID: {failure}")),
    }
}

fn say(code: u8, message: &str) -> ExitCode {
    let written = if code == 0 {
        writeln!(std::io::stdout(), "{message}")
    } else {
        writeln!(std::io::stderr(), "{message}")
    };
    if written.is_err() {
        return ExitCode::from(2);
    }
    ExitCode::from(code)
}
