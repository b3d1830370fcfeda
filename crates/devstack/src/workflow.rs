//! The workflow engine in the local stack.
//!
//! Processes run on a Zeebe-compatible gateway: the embedded engine (`workflow-engine`, ADR 0014)
//! that devstack starts before the services, or a gateway someone else runs (`ZEEBE_ADDRESS`, e.g.
//! Camunda 8 from `deploy/docker-compose.yml`), which devstack only deploys to. Either way the
//! platform's BPMN under `workflow/bpmn` is deployed once the gateway answers — on behalf of the
//! approval and order services until they exist and deploy their own files (ADR 0016).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use workflow_runtime::{DeployedProcess, Gateway, deploy_directory};

use crate::services::SERVICES;
use crate::settings::LOCAL_HOST;

/// The engine's name in `/health/live` and the binary cargo builds for it.
pub const ENGINE_NAME: &str = "workflow-engine";

/// Zeebe's gateway port, which the embedded engine uses too, so the same `ZEEBE_ADDRESS` works.
pub const DEFAULT_GRPC_PORT: u16 = 26500;

/// The engine's REST API (user tasks, operator views) unless `WORKFLOW_REST_PORT` says otherwise.
pub const DEFAULT_REST_PORT: u16 = 8090;

/// Where the platform's process definitions live, relative to the workspace root.
pub const BPMN_DIR: &str = "workflow/bpmn";

/// Which gateway the stack's processes run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkflowTarget {
    /// The embedded engine on 127.0.0.1, started by devstack unless it already runs there.
    Embedded {
        /// Zeebe gateway (gRPC) port: `WORKFLOW_GRPC_PORT`, default 26500.
        grpc_port: u16,
        /// REST API port: `WORKFLOW_REST_PORT`, default 8090.
        rest_port: u16,
    },
    /// A gateway devstack does not manage (`ZEEBE_ADDRESS`): it is only deployed to.
    External {
        /// `http://host:port` as the variable gives it.
        address: String,
    },
}

impl WorkflowTarget {
    /// Reads `ZEEBE_ADDRESS`, `WORKFLOW_GRPC_PORT` and `WORKFLOW_REST_PORT` through `get`
    /// (blank counts as unset), refusing values the engine or the services could not use.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        if let Some(address) = get("ZEEBE_ADDRESS") {
            check_address(&address)?;
            return Ok(Self::External { address });
        }
        let port = |name: &str, default: u16| match get(name) {
            None => Ok(default),
            Some(value) => value
                .parse::<u16>()
                .ok()
                .filter(|port| *port != 0)
                .with_context(|| format!("{name}={value:?} is not a TCP port (1-65535)")),
        };
        let grpc_port = port("WORKFLOW_GRPC_PORT", DEFAULT_GRPC_PORT)?;
        let rest_port = port("WORKFLOW_REST_PORT", DEFAULT_REST_PORT)?;
        if grpc_port == rest_port {
            bail!(
                "WORKFLOW_GRPC_PORT and WORKFLOW_REST_PORT are both {grpc_port}; the engine needs \
                 two ports"
            );
        }
        Ok(Self::Embedded {
            grpc_port,
            rest_port,
        })
    }

    /// The gateway address services and deployment use (`ZEEBE_ADDRESS` for the services).
    pub fn gateway_address(&self) -> String {
        match self {
            Self::Embedded { grpc_port, .. } => format!("http://{LOCAL_HOST}:{grpc_port}"),
            Self::External { address } => address.clone(),
        }
    }

    /// The embedded engine's REST root, `None` for an external gateway.
    pub fn rest_url(&self) -> Option<String> {
        match self {
            Self::Embedded { rest_port, .. } => Some(format!("http://{LOCAL_HOST}:{rest_port}")),
            Self::External { .. } => None,
        }
    }

    /// Refuses engine ports that a service of this run also uses: both would fail to bind, the
    /// second one late and confusingly.
    pub fn check_ports_against(&self, service_ports: &[(&str, u16)]) -> Result<()> {
        let Self::Embedded {
            grpc_port,
            rest_port,
        } = self
        else {
            return Ok(());
        };
        for (name, port) in service_ports {
            if port == grpc_port || port == rest_port {
                bail!(
                    "{name} and the workflow engine would both use port {port}; move one \
                     (WORKFLOW_GRPC_PORT / WORKFLOW_REST_PORT, or the service's port variable)"
                );
            }
        }
        Ok(())
    }
}

/// `http://host:port` (what `workflow_runtime::Gateway::connect_address` accepts).
fn check_address(address: &str) -> Result<()> {
    let valid = address
        .split_once("://")
        .and_then(|(_, rest)| rest.trim_end_matches('/').rsplit_once(':'))
        .filter(|(host, _)| !host.is_empty())
        .and_then(|(_, port)| port.parse::<u16>().ok())
        .is_some_and(|port| port != 0);
    if !valid {
        bail!(
            "ZEEBE_ADDRESS={address:?} must look like http://host:port (e.g. http://127.0.0.1:26500)"
        );
    }
    Ok(())
}

/// The directory deployed: `<workspace>/workflow/bpmn`.
pub fn bpmn_dir(workspace_root: &Path) -> PathBuf {
    workspace_root.join(BPMN_DIR)
}

/// Deploys every definition under `dir` to the gateway at `address`, in one request. Idempotent:
/// unchanged files keep their version, so every `devstack up` can do it.
pub async fn deploy(address: &str, dir: &Path) -> Result<Vec<DeployedProcess>> {
    let gateway = Gateway::connect_address(address)
        .await
        .with_context(|| format!("could not reach the workflow gateway at {address}"))?;
    deploy_directory(gateway.client(), dir)
        .await
        .with_context(|| format!("deploying {} to {address} failed", dir.display()))
}

/// `quote-approval v1, order-fulfillment v3` for the progress lines.
pub fn describe(deployed: &[DeployedProcess]) -> String {
    deployed
        .iter()
        .map(|p| format!("{} v{}", p.bpmn_process_id, p.version))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The widest name a child's output lines are prefixed with (services, the engine and the
/// downstream simulator).
pub fn name_width() -> usize {
    SERVICES
        .iter()
        .map(|spec| spec.name.len())
        .chain([ENGINE_NAME.len(), crate::simulator::SIMULATOR_NAME.len()])
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn target(vars: &[(&str, &str)]) -> Result<WorkflowTarget> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        WorkflowTarget::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn the_embedded_engine_uses_zeebes_port_and_8090_unless_moved() -> Result<()> {
        let defaults = target(&[])?;
        assert_eq!(
            defaults,
            WorkflowTarget::Embedded {
                grpc_port: 26500,
                rest_port: 8090
            }
        );
        assert_eq!(defaults.gateway_address(), "http://127.0.0.1:26500");
        assert_eq!(
            defaults.rest_url().as_deref(),
            Some("http://127.0.0.1:8090")
        );
        let moved = target(&[
            ("WORKFLOW_GRPC_PORT", " 27500 "),
            ("WORKFLOW_REST_PORT", "9090"),
        ])?;
        assert_eq!(moved.gateway_address(), "http://127.0.0.1:27500");
        assert_eq!(moved.rest_url().as_deref(), Some("http://127.0.0.1:9090"));
        assert_eq!(
            target(&[("WORKFLOW_REST_PORT", "")])?,
            defaults,
            "blank is unset"
        );
        Ok(())
    }

    #[test]
    fn zeebe_address_means_someone_elses_gateway() -> Result<()> {
        let external = target(&[
            ("ZEEBE_ADDRESS", "http://zeebe:26500"),
            ("WORKFLOW_GRPC_PORT", "1"),
        ])?;
        assert_eq!(
            external,
            WorkflowTarget::External {
                address: "http://zeebe:26500".into()
            }
        );
        assert_eq!(external.gateway_address(), "http://zeebe:26500");
        assert_eq!(external.rest_url(), None);
        assert!(external.check_ports_against(&[("catalog", 26500)]).is_ok());
        Ok(())
    }

    #[test]
    fn unusable_values_are_refused_with_the_variable_named() {
        for (name, value) in [
            ("WORKFLOW_GRPC_PORT", "0"),
            ("WORKFLOW_GRPC_PORT", "grpc"),
            ("WORKFLOW_REST_PORT", "70000"),
            ("ZEEBE_ADDRESS", "zeebe:26500"),
            ("ZEEBE_ADDRESS", "http://zeebe"),
            ("ZEEBE_ADDRESS", "http://:26500"),
        ] {
            let error = target(&[(name, value)]).expect_err(value);
            assert!(format!("{error:#}").contains(name), "{error:#}");
        }
        let same = target(&[("WORKFLOW_GRPC_PORT", "8090")]).expect_err("same port twice");
        assert!(format!("{same:#}").contains("two ports"), "{same:#}");
    }

    #[test]
    fn engine_ports_do_not_collide_with_the_services() -> Result<()> {
        let defaults = target(&[])?;
        let services: Vec<(&str, u16)> = SERVICES
            .iter()
            .map(|spec| (spec.name, spec.default_port))
            .collect();
        defaults.check_ports_against(&services)?;
        assert!(SERVICES.iter().all(|spec| spec.name != ENGINE_NAME));
        let clash = target(&[("WORKFLOW_REST_PORT", "8081")])?
            .check_ports_against(&services)
            .expect_err("catalog's port");
        assert!(format!("{clash:#}").contains("catalog"), "{clash:#}");
        assert!(name_width() >= ENGINE_NAME.len());
        Ok(())
    }

    #[test]
    fn deployments_are_described_by_process_and_version() {
        let process = |id: &str, version| DeployedProcess {
            bpmn_process_id: id.to_owned(),
            version,
            process_definition_key: 2_251_799_813_685_249,
            resource_name: format!("{id}.bpmn"),
        };
        assert_eq!(
            describe(&[
                process("order-fulfillment", 1),
                process("quote-approval", 3)
            ]),
            "order-fulfillment v1, quote-approval v3"
        );
        assert_eq!(describe(&[]), "");
    }

    #[test]
    fn the_deployed_directory_holds_the_platforms_processes() -> Result<()> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .context("workspace root")?;
        let mut files: Vec<String> = std::fs::read_dir(bpmn_dir(root))?
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".bpmn"))
            .collect();
        files.sort();
        assert_eq!(files, ["order-fulfillment.bpmn", "quote-approval.bpmn"]);
        Ok(())
    }
}
