//! The table of services devstack runs, and the probe that keeps it from starting one twice.

use std::time::Duration;

use anyhow::{Context, Result};
use serde::Deserialize;

/// How a service is found, started and reached. Adding a service to the local stack is adding one
/// row to [`SERVICES`].
#[derive(Debug)]
pub struct ServiceSpec {
    /// The name the service reports in `/health/live` (`{"service": name}`).
    pub name: &'static str,
    /// The binary cargo builds for it, looked up under `<target>/debug/`.
    pub binary: &'static str,
    /// The port it listens on unless [`ServiceSpec::port_env`] says otherwise.
    pub default_port: u16,
    /// The environment variable that moves it to another port.
    pub port_env: &'static str,
    /// A read-only request worth showing in the example curl.
    pub example_path: &'static str,
    /// The demo user whose token the example curl carries (one whose roles allow the request).
    pub example_user: &'static str,
    /// Its OIDC client in `deploy/identity/demo-identities.json` (and the Keycloak realm): the
    /// `OIDC_CLIENT_ID` it gets `client_credentials` tokens with (ADR 0030).
    pub oidc_client: &'static str,
}

/// Every service, in start order. Ports follow the table in `services/README.md`.
pub const SERVICES: &[ServiceSpec] = &[
    ServiceSpec {
        name: "catalog",
        binary: "catalog",
        default_port: 8081,
        port_env: "CATALOG_PORT",
        example_path: "/product-offerings?code=INTERNET-BUSINESS",
        example_user: "sales1",
        oidc_client: "catalog-service",
    },
    ServiceSpec {
        name: "cpq",
        binary: "cpq",
        default_port: 8082,
        port_env: "CPQ_PORT",
        example_path: "/quotes?status=DRAFT",
        example_user: "sales1",
        oidc_client: "cpq-service",
    },
    ServiceSpec {
        name: "approval",
        binary: "approval",
        default_port: 8083,
        port_env: "APPROVAL_PORT",
        example_path: "/approval-tasks",
        example_user: "sales1",
        oidc_client: "approval-service",
    },
    // Its downstream systems are the simulator devstack starts first (`crate::simulator`); its
    // API is for operators and auditors (ViewOperations).
    ServiceSpec {
        name: "integration",
        binary: "integration",
        default_port: 8085,
        port_env: "INTEGRATION_PORT",
        example_path: "/external-calls",
        example_user: "ops1",
        oidc_client: "integration-service",
    },
    // Last: its workers call the catalog (fulfilment profiles) and its process's external tasks
    // are the integration workers'. Its read API is for sales, operators and auditors.
    ServiceSpec {
        name: "order",
        binary: "order",
        default_port: 8084,
        port_env: "ORDER_PORT",
        example_path: "/orders?status=COMPLETED",
        example_user: "sales1",
        oidc_client: "order-service",
    },
    // The evidence log: consumes every service's audit evidence; its API is for auditors and
    // operators (ViewAudit).
    ServiceSpec {
        name: "audit",
        binary: "audit",
        default_port: 8086,
        port_env: "AUDIT_PORT",
        example_path: "/audit-events?resourceType=QUOTE",
        example_user: "auditor1",
        oidc_client: "audit-service",
    },
    // The operators' read views, projected from every service's events (ViewOperations).
    ServiceSpec {
        name: "ops",
        binary: "ops",
        default_port: 8087,
        port_env: "OPS_PORT",
        example_path: "/stuck-orders",
        example_user: "ops1",
        oidc_client: "ops-service",
    },
];

impl ServiceSpec {
    /// The port for this run: the override variable if set, else the default.
    pub fn port(&self) -> Result<u16> {
        match std::env::var(self.port_env) {
            Ok(value) if !value.trim().is_empty() => value
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|port| *port != 0)
                .with_context(|| {
                    format!("{}={value:?} is not a TCP port (1-65535)", self.port_env)
                }),
            _ => Ok(self.default_port),
        }
    }
}

/// What answered on a service's port before devstack started anything.
#[derive(Debug)]
pub enum Probe {
    /// Nothing accepted the connection: the port is free to use.
    Free,
    /// The expected service answered its liveness check; it must be left alone.
    AlreadyRunning,
    /// Something else holds the port; starting the service would fail or, worse, half-work.
    Foreign(String),
}

/// The liveness body every cpq-oms service returns.
#[derive(Debug, Deserialize)]
struct Liveness {
    status: String,
    service: String,
}

/// Asks `GET /health/live` who is on the port.
pub async fn probe(http: &reqwest::Client, name: &str, base_url: &str) -> Probe {
    let url = format!("{base_url}/health/live");
    let response = match http.get(&url).timeout(Duration::from_secs(3)).send().await {
        Ok(response) => response,
        Err(error) if error.is_connect() => return Probe::Free,
        Err(error) => {
            return Probe::Foreign(format!(
                "something accepts connections there but does not answer HTTP ({error})"
            ));
        }
    };
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<Liveness>(&body) {
        Ok(live) if status.is_success() && live.status == "UP" && live.service == name => {
            Probe::AlreadyRunning
        }
        Ok(live) if status.is_success() => Probe::Foreign(format!(
            "it answers /health/live as service {:?} with status {:?}",
            live.service, live.status
        )),
        _ => Probe::Foreign(format!(
            "it answers GET /health/live with HTTP {status}, not a cpq-oms liveness document"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_binaries_and_ports_are_unique() {
        for (index, spec) in SERVICES.iter().enumerate() {
            for other in &SERVICES[index + 1..] {
                assert_ne!(spec.name, other.name);
                assert_ne!(spec.binary, other.binary);
                assert_ne!(spec.default_port, other.default_port);
                assert_ne!(spec.port_env, other.port_env);
                assert_ne!(spec.oidc_client, other.oidc_client);
            }
            assert!(spec.example_path.starts_with('/'));
        }
    }
}
