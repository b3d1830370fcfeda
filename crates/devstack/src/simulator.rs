//! The downstream simulator in the local stack (`crates/downstream-sim`): the inventory,
//! provisioning, billing, CRM, contract and notification systems the integration service calls,
//! each on its own port, plus a control API for effects and fault injection.
//!
//! `devstack up` starts it before the services (binary `downstream-sim` under the target dir,
//! durable in `.dev/downstream-sim`), or leaves one that already answers on its control port
//! alone, and hands the integration service the system URLs the simulator itself reports
//! (`GET /systems`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::settings::LOCAL_HOST;

/// Its name in progress lines and the binary cargo builds for it.
pub const SIMULATOR_NAME: &str = "downstream-sim";

/// The control API's port unless `DOWNSTREAM_SIM_PORT` says otherwise.
pub const DEFAULT_CONTROL_PORT: u16 = 8095;

/// The first system's port unless `DOWNSTREAM_SIM_SYSTEMS_BASE_PORT` says otherwise; the
/// others follow in [`SYSTEMS`] order (the integration service's defaults, 8096-8101).
pub const DEFAULT_SYSTEMS_BASE_PORT: u16 = 8096;

/// Where the simulator keeps its journal (effects and stored answers survive a restart),
/// relative to the workspace root.
pub const DATA_DIR: &str = ".dev/downstream-sim";

/// One simulated system: the simulator's name for it and the integration service's variables
/// that point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemSpec {
    /// The simulator's name (`GET /systems` keys, fault `system`).
    pub name: &'static str,
    /// The integration service's base URL variable.
    pub base_url_env: &'static str,
    /// The integration service's bearer token variable.
    pub token_env: &'static str,
}

/// The six systems, in port order.
pub const SYSTEMS: [SystemSpec; 6] = [
    SystemSpec {
        name: "inventory",
        base_url_env: "APP__INTEGRATION__INVENTORY__BASE_URL",
        token_env: "APP__INTEGRATION__INVENTORY__TOKEN",
    },
    SystemSpec {
        name: "provisioning",
        base_url_env: "APP__INTEGRATION__PROVISIONING__BASE_URL",
        token_env: "APP__INTEGRATION__PROVISIONING__TOKEN",
    },
    SystemSpec {
        name: "billing",
        base_url_env: "APP__INTEGRATION__BILLING__BASE_URL",
        token_env: "APP__INTEGRATION__BILLING__TOKEN",
    },
    SystemSpec {
        name: "crm",
        base_url_env: "APP__INTEGRATION__CRM__BASE_URL",
        token_env: "APP__INTEGRATION__CRM__TOKEN",
    },
    SystemSpec {
        name: "contract",
        base_url_env: "APP__INTEGRATION__CONTRACT__BASE_URL",
        token_env: "APP__INTEGRATION__CONTRACT__TOKEN",
    },
    SystemSpec {
        name: "notification",
        base_url_env: "APP__INTEGRATION__NOTIFICATION__BASE_URL",
        token_env: "APP__INTEGRATION__NOTIFICATION__TOKEN",
    },
];

/// Where this run's simulator listens, and the key its systems demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatorTarget {
    /// Control API port: `DOWNSTREAM_SIM_PORT`, default 8095.
    pub control_port: u16,
    /// First system's port: `DOWNSTREAM_SIM_SYSTEMS_BASE_PORT`, default 8096.
    pub systems_base_port: u16,
    /// `DOWNSTREAM_SIM_API_KEY`: when set, every system request must carry it as a bearer
    /// token, and the integration service is given it for every system.
    pub api_key: Option<String>,
}

impl SimulatorTarget {
    /// Reads `DOWNSTREAM_SIM_PORT`, `DOWNSTREAM_SIM_SYSTEMS_BASE_PORT` and
    /// `DOWNSTREAM_SIM_API_KEY` through `get` (blank counts as unset).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let port = |name: &str, default: u16| match get(name) {
            None => Ok(default),
            Some(value) => value
                .parse::<u16>()
                .ok()
                .filter(|port| *port != 0)
                .with_context(|| format!("{name}={value:?} is not a TCP port (1-65535)")),
        };
        let control_port = port("DOWNSTREAM_SIM_PORT", DEFAULT_CONTROL_PORT)?;
        let systems_base_port = port(
            "DOWNSTREAM_SIM_SYSTEMS_BASE_PORT",
            DEFAULT_SYSTEMS_BASE_PORT,
        )?;
        let last = usize::from(systems_base_port) + SYSTEMS.len() - 1;
        if last > usize::from(u16::MAX) {
            bail!(
                "DOWNSTREAM_SIM_SYSTEMS_BASE_PORT={systems_base_port} leaves no room for the {} \
                 system ports after it",
                SYSTEMS.len()
            );
        }
        let target = Self {
            control_port,
            systems_base_port,
            api_key: get("DOWNSTREAM_SIM_API_KEY"),
        };
        if target
            .system_ports()
            .iter()
            .any(|(_, port)| *port == control_port)
        {
            bail!(
                "DOWNSTREAM_SIM_PORT={control_port} is one of the simulator's system ports \
                 ({}-{last}); move one (DOWNSTREAM_SIM_SYSTEMS_BASE_PORT)",
                systems_base_port
            );
        }
        Ok(target)
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// `http://127.0.0.1:<control port>`.
    pub fn control_url(&self) -> String {
        format!("http://{LOCAL_HOST}:{}", self.control_port)
    }

    /// Each system with the port the simulator devstack starts gives it.
    pub fn system_ports(&self) -> Vec<(&'static str, u16)> {
        SYSTEMS
            .iter()
            .enumerate()
            .map(|(offset, system)| {
                let offset = u16::try_from(offset).unwrap_or(u16::MAX);
                (system.name, self.systems_base_port.saturating_add(offset))
            })
            .collect()
    }

    /// Refuses simulator ports that another process of this run also uses.
    pub fn check_ports_against(&self, others: &[(&str, u16)]) -> Result<()> {
        let mine = std::iter::once(("its control API", self.control_port))
            .chain(self.system_ports())
            .collect::<Vec<_>>();
        for (name, port) in others {
            if let Some((what, _)) = mine.iter().find(|(_, mine)| mine == port) {
                bail!(
                    "{name} and the downstream simulator ({what}) would both use port {port}; \
                     move one (DOWNSTREAM_SIM_PORT / DOWNSTREAM_SIM_SYSTEMS_BASE_PORT, or the \
                     other's port variable)"
                );
            }
        }
        Ok(())
    }

    /// The command line of the simulator devstack starts, durable in `data_dir`.
    pub fn arguments(&self, data_dir: &Path) -> Vec<String> {
        let mut arguments = vec![
            "--control".to_owned(),
            format!("{LOCAL_HOST}:{}", self.control_port),
            "--systems-base-port".to_owned(),
            self.systems_base_port.to_string(),
            "--data-dir".to_owned(),
            data_dir.display().to_string(),
        ];
        if let Some(key) = &self.api_key {
            arguments.extend(["--api-key".to_owned(), key.clone()]);
        }
        arguments
    }
}

/// The simulator's data directory under the workspace.
pub fn data_dir(workspace_root: &Path) -> PathBuf {
    workspace_root.join(DATA_DIR)
}

/// A simulator that answers, as the stack uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downstream {
    /// The control API's root.
    pub control_url: String,
    /// Each system's root, by the simulator's name for it.
    pub systems: BTreeMap<String, String>,
    /// The bearer token its systems demand, if any.
    pub api_key: Option<String>,
}

impl Downstream {
    /// What the integration service needs to call every system: its base URL and, when the
    /// simulator demands one, the key as its bearer token.
    pub fn integration_env(&self) -> Result<Vec<(&'static str, String)>> {
        let mut env = Vec::new();
        for system in &SYSTEMS {
            let url = self.systems.get(system.name).with_context(|| {
                format!(
                    "the simulator at {} names no {} system",
                    self.control_url, system.name
                )
            })?;
            env.push((system.base_url_env, url.trim_end_matches('/').to_owned()));
            if let Some(key) = &self.api_key {
                env.push((system.token_env, key.clone()));
            }
        }
        Ok(env)
    }
}

/// What answered on the simulator's control port before devstack started anything.
#[derive(Debug)]
pub enum SimProbe {
    /// Nothing accepted the connection.
    Free,
    /// A simulator answered `/health` and named its six systems: it is used as it is.
    AlreadyRunning(BTreeMap<String, String>),
    /// Something else holds the port.
    Foreign(String),
}

/// Asks `GET /health`, then `GET /systems`, who is on the control port.
pub async fn probe(http: &reqwest::Client, control_url: &str) -> SimProbe {
    let url = format!("{control_url}/health");
    let response = match http.get(&url).timeout(Duration::from_secs(3)).send().await {
        Ok(response) => response,
        Err(error) if error.is_connect() => return SimProbe::Free,
        Err(error) => {
            return SimProbe::Foreign(format!(
                "something accepts connections there but does not answer HTTP ({error})"
            ));
        }
    };
    if !response.status().is_success() {
        return SimProbe::Foreign(format!(
            "it answers GET /health with HTTP {}",
            response.status()
        ));
    }
    match systems(http, control_url).await {
        Ok(systems) => SimProbe::AlreadyRunning(systems),
        Err(why) => SimProbe::Foreign(format!(
            "it answers GET /health, but not as the simulator: {why:#}"
        )),
    }
}

/// `GET /systems`: the root URL of each of the six systems.
pub async fn systems(
    http: &reqwest::Client,
    control_url: &str,
) -> Result<BTreeMap<String, String>> {
    let url = format!("{control_url}/systems");
    let response = http
        .get(&url)
        .timeout(Duration::from_secs(3))
        .send()
        .await
        .with_context(|| format!("GET {url} failed"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("GET {url} answered HTTP {status}");
    }
    let systems: BTreeMap<String, String> = response
        .json()
        .await
        .with_context(|| format!("GET {url} did not answer an object of system URLs"))?;
    let missing: Vec<&str> = SYSTEMS
        .iter()
        .map(|system| system.name)
        .filter(|name| !systems.contains_key(*name))
        .collect();
    if !missing.is_empty() {
        bail!("GET {url} names no {}", missing.join(", "));
    }
    Ok(systems)
}

/// The line the simulator prints on stdout once every listener is bound.
#[derive(Debug, serde::Deserialize)]
struct ReadyLine {
    control: String,
    systems: BTreeMap<String, String>,
}

/// Reads the simulator's ready line from `log` (its stdout and stderr) as soon as it is there, for
/// a simulator whose ports the kernel picked; fails after `timeout`.
pub async fn read_ready_line(log: &Path, timeout: Duration) -> Result<Downstream> {
    let began = std::time::Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(ready) = text
            .lines()
            .find_map(|line| serde_json::from_str::<ReadyLine>(line.trim()).ok())
        {
            if let Some(missing) = SYSTEMS
                .iter()
                .find(|system| !ready.systems.contains_key(system.name))
            {
                bail!(
                    "the ready line in {} names no {}",
                    log.display(),
                    missing.name
                );
            }
            return Ok(Downstream {
                control_url: ready.control,
                systems: ready.systems,
                api_key: None,
            });
        }
        if began.elapsed() >= timeout {
            bail!(
                "no ready line in {} within {} s",
                log.display(),
                timeout.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn target(vars: &[(&str, &str)]) -> Result<SimulatorTarget> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        SimulatorTarget::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn the_default_ports_are_the_integration_services_defaults() -> Result<()> {
        let defaults = target(&[])?;
        assert_eq!(defaults.control_url(), "http://127.0.0.1:8095");
        assert_eq!(
            defaults.system_ports(),
            [
                ("inventory", 8096),
                ("provisioning", 8097),
                ("billing", 8098),
                ("crm", 8099),
                ("contract", 8100),
                ("notification", 8101)
            ]
        );
        assert_eq!(defaults.api_key, None);
        let moved = target(&[
            ("DOWNSTREAM_SIM_PORT", "9095"),
            ("DOWNSTREAM_SIM_SYSTEMS_BASE_PORT", " 9200 "),
            ("DOWNSTREAM_SIM_API_KEY", "k"),
        ])?;
        assert_eq!(moved.control_url(), "http://127.0.0.1:9095");
        assert_eq!(moved.system_ports()[5], ("notification", 9205));
        assert_eq!(
            moved.arguments(Path::new("/d")),
            [
                "--control",
                "127.0.0.1:9095",
                "--systems-base-port",
                "9200",
                "--data-dir",
                "/d",
                "--api-key",
                "k"
            ]
        );
        assert_eq!(target(&[("DOWNSTREAM_SIM_PORT", "")])?, defaults);
        Ok(())
    }

    #[test]
    fn unusable_ports_are_refused_with_the_variable_named() {
        for (name, value) in [
            ("DOWNSTREAM_SIM_PORT", "0"),
            ("DOWNSTREAM_SIM_PORT", "sim"),
            ("DOWNSTREAM_SIM_SYSTEMS_BASE_PORT", "65533"),
            ("DOWNSTREAM_SIM_PORT", "8098"),
        ] {
            let error = target(&[(name, value)]).expect_err(value);
            assert!(
                format!("{error:#}").contains("DOWNSTREAM_SIM_"),
                "{error:#}"
            );
        }
    }

    #[test]
    fn simulator_ports_do_not_collide_with_the_rest_of_the_stack() -> Result<()> {
        let defaults = target(&[])?;
        let mut others: Vec<(&str, u16)> = crate::services::SERVICES
            .iter()
            .map(|spec| (spec.name, spec.default_port))
            .collect();
        others.extend([
            ("the workflow engine", crate::workflow::DEFAULT_GRPC_PORT),
            ("the workflow engine", crate::workflow::DEFAULT_REST_PORT),
            ("the OIDC issuer", crate::identity::DEFAULT_OIDC_PORT),
        ]);
        defaults.check_ports_against(&others)?;
        let clash = target(&[("DOWNSTREAM_SIM_SYSTEMS_BASE_PORT", "8085")])?
            .check_ports_against(&others)
            .expect_err("integration's port");
        assert!(format!("{clash:#}").contains("integration"), "{clash:#}");
        Ok(())
    }

    #[test]
    fn the_integration_service_gets_every_system_and_the_key() -> Result<()> {
        let systems: BTreeMap<String, String> = SYSTEMS
            .iter()
            .zip(8096..)
            .map(|(s, port)| (s.name.to_owned(), format!("http://127.0.0.1:{port}/")))
            .collect();
        let mut downstream = Downstream {
            control_url: "http://127.0.0.1:8095".into(),
            systems,
            api_key: None,
        };
        let env = downstream.integration_env()?;
        assert_eq!(env.len(), 6);
        assert!(env.contains(&(
            "APP__INTEGRATION__BILLING__BASE_URL",
            "http://127.0.0.1:8098".to_owned()
        )));
        downstream.api_key = Some("k".into());
        let env = downstream.integration_env()?;
        assert_eq!(env.len(), 12);
        assert!(env.contains(&("APP__INTEGRATION__CRM__TOKEN", "k".to_owned())));
        downstream.systems.remove("crm");
        assert!(downstream.integration_env().is_err());
        Ok(())
    }

    /// Answers every connection on a free port: `GET /systems` with `systems`, anything else
    /// with status `health` (a plain thread: one short answer per connection).
    fn answering(health: u16, systems: &'static str) -> Result<String> {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        std::thread::spawn(move || {
            for mut socket in listener.incoming().flatten() {
                let mut request = vec![0; 4096];
                let read = socket.read(&mut request).unwrap_or(0);
                let request = String::from_utf8_lossy(&request[..read]).into_owned();
                let (status, body) = if request.starts_with("GET /systems ") {
                    (200, systems)
                } else {
                    (health, "{}")
                };
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: \
                     {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _closed = socket.write_all(answer.as_bytes());
            }
        });
        Ok(url)
    }

    #[tokio::test]
    async fn the_ready_line_says_where_everything_listens() -> Result<()> {
        let log = std::env::temp_dir().join(format!(
            "devstack-sim-ready-{}-{}.log",
            std::process::id(),
            line!()
        ));
        let systems: Vec<String> = SYSTEMS
            .iter()
            .zip(40001..)
            .map(|(s, port)| format!("\"{}\":\"http://127.0.0.1:{port}\"", s.name))
            .collect();
        std::fs::write(
            &log,
            format!(
                "\u{1b}[2m2026-12-06T15:48:15Z\u{1b}[0m INFO starting\n{{\"control\":\
                 \"http://127.0.0.1:40000\",\"systems\":{{{}}}}}\n",
                systems.join(",")
            ),
        )?;
        let ready = read_ready_line(&log, Duration::from_secs(1)).await?;
        assert_eq!(ready.control_url, "http://127.0.0.1:40000");
        assert_eq!(ready.systems["notification"], "http://127.0.0.1:40006");
        std::fs::write(&log, "nothing yet\n")?;
        assert!(
            read_ready_line(&log, Duration::from_millis(200))
                .await
                .is_err()
        );
        std::fs::remove_file(&log)?;
        Ok(())
    }

    #[tokio::test]
    async fn a_running_simulator_is_reused_and_anything_else_refused() -> Result<()> {
        let http = reqwest::Client::new();
        let all = r#"{"inventory":"http://127.0.0.1:1","provisioning":"http://127.0.0.1:2",
            "billing":"http://127.0.0.1:3","crm":"http://127.0.0.1:4",
            "contract":"http://127.0.0.1:5","notification":"http://127.0.0.1:6"}"#;
        let running = answering(200, all)?;
        match probe(&http, &running).await {
            SimProbe::AlreadyRunning(systems) => {
                assert_eq!(systems["billing"], "http://127.0.0.1:3");
            }
            other => bail!("expected a running simulator, got {other:?}"),
        }
        let partial = answering(200, r#"{"inventory":"http://127.0.0.1:1"}"#)?;
        assert!(matches!(
            probe(&http, &partial).await,
            SimProbe::Foreign(why) if why.contains("provisioning")
        ));
        let unhealthy = answering(503, all)?;
        assert!(matches!(
            probe(&http, &unhealthy).await,
            SimProbe::Foreign(why) if why.contains("503")
        ));
        let free = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        assert!(matches!(
            probe(&http, &format!("http://127.0.0.1:{free}")).await,
            SimProbe::Free
        ));
        Ok(())
    }
}
