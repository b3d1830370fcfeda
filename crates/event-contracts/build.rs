//! Embeds every `*.schema.json` of `contracts/schemas/events/` into the crate, so validation
//! needs no files at run time and a new schema file is picked up without touching the code.

use std::error::Error;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::{env, fs, io};

fn main() -> Result<(), Box<dyn Error>> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let dir = manifest
        .join("../../contracts/schemas/events")
        .canonicalize()?;
    // A directory is scanned for any change, so added and removed files also rebuild the crate.
    let instructions = format!("cargo::rerun-if-changed={}\n", dir.display());

    let mut files = Vec::new();
    for entry in fs::read_dir(&dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.ends_with(".schema.json") {
            files.push((name.to_owned(), path.clone()));
        }
    }
    files.sort();

    let mut code = String::from(
        "/// Every schema file of `contracts/schemas/events/`, by file name, sorted.\n\
         pub(crate) static SCHEMA_FILES: &[(&str, &str)] = &[\n",
    );
    for (name, path) in &files {
        let path = path
            .to_str()
            .ok_or_else(|| format!("schema path is not UTF-8: {}", path.display()))?;
        writeln!(code, "    ({name:?}, include_str!({path:?})),")?;
    }
    code.push_str("];\n");
    fs::write(PathBuf::from(env::var("OUT_DIR")?).join("schemas.rs"), code)?;

    // Cargo reads its instructions from standard output.
    io::stdout().write_all(instructions.as_bytes())?;
    Ok(())
}
