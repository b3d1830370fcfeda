//! Generates the Zeebe `Gateway` gRPC messages, server trait and client from the `gateway.proto`
//! shipped inside the `zeebe-rs` package (the file zeebe-rs builds its own client from), so the
//! repository never carries a copy that could drift from the client the workers use, and the
//! engine (server side) and the worker runtime (its own `ActivateJobs` call) share one
//! generation.
//!
//! Lookup order: `ZEEBE_GATEWAY_PROTO` (an explicit file), then the zeebe-rs version pinned in
//! the workspace `Cargo.lock` searched in the Cargo registry sources, then `cargo metadata`
//! (which also downloads the package when it has not been unpacked yet).

use std::path::{Path, PathBuf};
use std::process::Command;

type BuildError = Box<dyn std::error::Error>;

fn main() -> Result<(), BuildError> {
    println!("cargo:rerun-if-env-changed=ZEEBE_GATEWAY_PROTO");
    let proto = locate_proto()?;
    println!("cargo:rerun-if-changed={}", proto.display());
    let include = proto
        .parent()
        .ok_or("gateway.proto has no parent directory")?
        .to_path_buf();
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(false)
        .generate_default_stubs(true)
        .protoc_arg("--experimental_allow_proto3_optional")
        .compile_protos(&[proto], &[include])?;
    Ok(())
}

fn locate_proto() -> Result<PathBuf, BuildError> {
    if let Ok(path) = std::env::var("ZEEBE_GATEWAY_PROTO") {
        return Ok(PathBuf::from(path));
    }
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    if let Some(found) = from_lock_and_registry(&manifest_dir) {
        return Ok(found);
    }
    from_cargo_metadata(&manifest_dir)
}

/// The fast path: the version in Cargo.lock, unpacked under `$CARGO_HOME/registry/src/*/`.
fn from_lock_and_registry(manifest_dir: &Path) -> Option<PathBuf> {
    let lock = manifest_dir
        .ancestors()
        .map(|d| d.join("Cargo.lock"))
        .find(|p| p.is_file())?;
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(lock).ok()?;
    let version = text
        .split("[[package]]")
        .find(|block| block.contains("name = \"zeebe-rs\""))?
        .lines()
        .find_map(|l| l.trim().strip_prefix("version = "))?
        .trim_matches('"')
        .to_owned();
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .ok()
        .or_else(|| {
            std::env::var("HOME")
                .ok()
                .map(|h| Path::new(&h).join(".cargo"))
        })?;
    let registries = std::fs::read_dir(cargo_home.join("registry").join("src")).ok()?;
    registries
        .filter_map(Result::ok)
        .map(|r| {
            r.path()
                .join(format!("zeebe-rs-{version}/proto/gateway.proto"))
        })
        .find(|p| p.is_file())
}

/// The general path: ask Cargo where the zeebe-rs package lives.
fn from_cargo_metadata(manifest_dir: &Path) -> Result<PathBuf, BuildError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(manifest_dir.join("Cargo.toml"))
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["name"] == "zeebe-rs")
        .filter_map(|p| p["manifest_path"].as_str())
        .filter_map(|m| Path::new(m).parent().map(|d| d.join("proto/gateway.proto")))
        .find(|p| p.is_file())
        .ok_or_else(|| "zeebe-rs gateway.proto not found; set ZEEBE_GATEWAY_PROTO".into())
}
