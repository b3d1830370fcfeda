//! Start-up deployment of a service's BPMN files (`workflow/bpmn/`).
//!
//! Every service deploys the processes it owns each time it starts, so a fresh environment needs
//! no separate deployment step and a changed file is live after the next start. This is safe to
//! repeat: the embedded engine returns the existing version for identical content (per process
//! id and checksum), and so does Zeebe, so restarts do not create new versions.
//!
//! All files go out in one `DeployResource` request: the engine validates them together and
//! refuses the whole set if any is invalid, so a service never starts with half of its
//! processes at a new version.

use std::path::{Path, PathBuf};

use zeebe_rs::Metadata;

/// One process definition the engine holds for a deployed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedProcess {
    /// BPMN process id (what instances are created by).
    pub bpmn_process_id: String,
    /// Version assigned by the engine; unchanged when the content was already deployed.
    pub version: i32,
    /// Process definition key; unchanged when the content was already deployed.
    pub process_definition_key: i64,
    /// Resource name sent: the file's path relative to the deployed directory.
    pub resource_name: String,
}

/// Why a directory could not be deployed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// A directory or file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The path that failed.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// No `*.bpmn` file under the directory: almost certainly a wrong path at start-up.
    #[error("no .bpmn file under {0}")]
    NoResources(PathBuf),
    /// The engine refused the deployment (invalid BPMN, unsupported element) or is unreachable.
    #[error("deployment of {dir} refused")]
    Rejected {
        /// The directory deployed.
        dir: PathBuf,
        /// The engine's answer (boxed: zeebe-rs's error is large and start-up is not hot).
        #[source]
        source: Box<zeebe_rs::ClientError>,
    },
}

/// Deploys every `*.bpmn` file under `dir` (recursively, in path order) in one request and
/// returns the process definitions, sorted by process id. Idempotent: deploying unchanged
/// files again returns the same versions and keys.
#[tracing::instrument(skip_all, fields(dir = %dir.as_ref().display()), err)]
pub async fn deploy_directory(
    client: &zeebe_rs::Client,
    dir: impl AsRef<Path>,
) -> Result<Vec<DeployedProcess>, DeployError> {
    let dir = dir.as_ref();
    let files = bpmn_files(dir)?;
    if files.is_empty() {
        return Err(DeployError::NoResources(dir.to_path_buf()));
    }
    let mut resources = Vec::with_capacity(files.len());
    for path in &files {
        let content = std::fs::read(path).map_err(|source| DeployError::Read {
            path: path.clone(),
            source,
        })?;
        resources.push((resource_name(dir, path), content));
    }
    let response = client
        .deploy_resource()
        .with_definitions(resources)
        .send()
        .await
        .map_err(|source| DeployError::Rejected {
            dir: dir.to_path_buf(),
            source: Box::new(source),
        })?;
    let mut processes: Vec<DeployedProcess> = response
        .deployments()
        .iter()
        .filter_map(|deployment| match deployment.metadata() {
            Some(Metadata::Process(process)) => Some(DeployedProcess {
                bpmn_process_id: process.bpmn_process_id().to_owned(),
                version: process.version(),
                process_definition_key: process.process_definition_key(),
                resource_name: process.resource_name().to_owned(),
            }),
            _ => None,
        })
        .collect();
    processes.sort_by(|a, b| a.bpmn_process_id.cmp(&b.bpmn_process_id));
    for process in &processes {
        tracing::info!(
            bpmn_process_id = %process.bpmn_process_id,
            version = process.version,
            process_definition_key = process.process_definition_key,
            "process deployed"
        );
    }
    Ok(processes)
}

/// `*.bpmn` files under `dir`, recursively, sorted so the request is the same on every start.
fn bpmn_files(dir: &Path) -> Result<Vec<PathBuf>, DeployError> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let read_error = |source| DeployError::Read {
            path: current.clone(),
            source,
        };
        for entry in std::fs::read_dir(&current).map_err(read_error)? {
            let entry = entry.map_err(read_error)?;
            let path = entry.path();
            let kind = entry.file_type().map_err(read_error)?;
            if kind.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "bpmn") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The path relative to the deployed directory with `/` separators (`order/fulfil.bpmn`).
fn resource_name(dir: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(dir).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_bpmn_files_recursively_in_a_stable_order() {
        let root = std::env::temp_dir().join(format!("wf-deploy-{}", std::process::id()));
        let nested = root.join("order");
        std::fs::create_dir_all(&nested).expect("temp dir");
        for (path, text) in [
            (root.join("b.bpmn"), "b"),
            (root.join("a.bpmn"), "a"),
            (root.join("notes.md"), "not a process"),
            (nested.join("fulfil.bpmn"), "c"),
        ] {
            std::fs::write(path, text).expect("fixture");
        }
        let files = bpmn_files(&root).expect("readable");
        let names: Vec<String> = files.iter().map(|f| resource_name(&root, f)).collect();
        assert_eq!(names, vec!["a.bpmn", "b.bpmn", "order/fulfil.bpmn"]);
        assert!(matches!(
            bpmn_files(&root.join("missing")),
            Err(DeployError::Read { .. })
        ));
        std::fs::remove_dir_all(&root).expect("cleanup");
    }
}
