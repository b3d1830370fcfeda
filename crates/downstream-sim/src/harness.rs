//! The simulator as a process for other crates' tests and benches: start the real binary on
//! ephemeral ports, read where it listens from its ready line, inject faults, read effects.
//! Set-up failures panic with what went wrong (this is test code).

#![allow(clippy::expect_used, reason = "test set-up fails loudly")]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde::Deserialize;
use serde_json::Value;

pub use crate::ledger::Effect;

/// Where the `downstream-sim` binary is: `DOWNSTREAM_SIM_BIN`, else next to the running test
/// executable's directory (`target/<profile>/deps/..`).
pub fn locate_binary() -> Result<PathBuf, String> {
    if let Ok(path) = std::env::var("DOWNSTREAM_SIM_BIN")
        && !path.trim().is_empty()
    {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut dir = exe.parent().map(Path::to_path_buf);
    while let Some(current) = dir {
        let candidate = current.join("downstream-sim");
        if candidate.is_file() {
            return Ok(candidate);
        }
        dir = current.parent().map(Path::to_path_buf);
        if current.file_name().is_some_and(|n| n == "target") {
            break;
        }
    }
    Err(format!(
        "no downstream-sim binary near {}: run `cargo build -p downstream-sim` or set DOWNSTREAM_SIM_BIN",
        exe.display()
    ))
}

#[derive(Debug, Deserialize)]
struct Ready {
    control: String,
    systems: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Effects {
    effects: Vec<Effect>,
}

/// A running simulator process, killed when dropped.
#[derive(Debug)]
pub struct SimProcess {
    child: Option<Child>,
    control: String,
    systems: BTreeMap<String, String>,
    client: reqwest::Client,
}

impl SimProcess {
    /// Starts the located binary on ephemeral ports, in memory.
    pub async fn start_default() -> Self {
        let binary = locate_binary().unwrap_or_else(|e| panic!("{e}"));
        Self::start(&binary, &[]).await
    }

    /// Starts `binary` on ephemeral ports with `extra_args` (e.g. `--data-dir DIR`).
    pub async fn start(binary: &Path, extra_args: &[&str]) -> Self {
        let mut child = Command::new(binary)
            .args(["--control", "127.0.0.1:0"])
            .args(extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await
        .expect("reader")
        .expect("the ready line");
        let ready: Ready = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a ready line ({e}): {line:?}"));
        Self {
            child: Some(child),
            control: ready.control,
            systems: ready.systems,
            client: reqwest::Client::new(),
        }
    }

    /// The control API's base URL.
    pub fn control_url(&self) -> &str {
        &self.control
    }

    /// A system's base URL (`inventory`, `provisioning`, …).
    pub fn system_url(&self, system: &str) -> String {
        self.systems
            .get(system)
            .unwrap_or_else(|| panic!("no system {system}"))
            .clone()
    }

    /// Injects a fault; returns it as registered.
    pub async fn add_fault(&self, fault: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/faults", self.control))
            .json(&fault)
            .send()
            .await
            .expect("POST /faults");
        let status = response.status();
        let body: Value = response.json().await.expect("fault answer");
        assert_eq!(status.as_u16(), 201, "fault refused: {body}");
        body
    }

    /// Removes every fault (and reopens every system).
    pub async fn clear_faults(&self) {
        let response = self
            .client
            .delete(format!("{}/faults", self.control))
            .send()
            .await
            .expect("DELETE /faults");
        assert_eq!(response.status().as_u16(), 204);
    }

    /// The effects applied at `system` under `key`.
    pub async fn effects(&self, system: &str, key: &str) -> Vec<Effect> {
        let effects: Effects = self
            .client
            .get(format!(
                "{}/effects?system={system}&idempotencyKey={key}",
                self.control
            ))
            .send()
            .await
            .expect("GET /effects")
            .json()
            .await
            .expect("effects");
        effects.effects
    }

    /// Kills the process (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
