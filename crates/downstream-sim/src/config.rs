//! Flags and environment: where to listen, where to keep the journal, which key to demand.

use std::net::SocketAddr;
use std::path::PathBuf;

/// How the simulator runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The control API's address (`--control`, `DOWNSTREAM_SIM_ADDR`, default 127.0.0.1:8095).
    pub control: SocketAddr,
    /// The first system's port (`--systems-base-port`, `DOWNSTREAM_SIM_SYSTEMS_BASE_PORT`,
    /// default 8096); the systems follow in order. Ignored (port 0 everywhere) when the control
    /// port is 0.
    pub systems_base_port: u16,
    /// Where the journal lives (`--data-dir`, `DOWNSTREAM_SIM_DATA_DIR`); in memory without.
    pub data_dir: Option<PathBuf>,
    /// The bearer token every system request must carry (`--api-key`, `DOWNSTREAM_SIM_API_KEY`).
    pub api_key: Option<String>,
}

/// A flag the simulator cannot use.
#[derive(Debug, thiserror::Error)]
#[error("{flag}: {reason}")]
pub struct ConfigError {
    flag: String,
    reason: String,
}

fn bad(flag: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        flag: flag.to_owned(),
        reason: reason.into(),
    }
}

impl Config {
    /// Reads the environment, then the flags over it.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Self, ConfigError> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let mut control = env("DOWNSTREAM_SIM_ADDR").unwrap_or_else(|| "127.0.0.1:8095".into());
        let mut base = env("DOWNSTREAM_SIM_SYSTEMS_BASE_PORT").unwrap_or_else(|| "8096".into());
        let mut data_dir = env("DOWNSTREAM_SIM_DATA_DIR");
        let mut api_key = env("DOWNSTREAM_SIM_API_KEY");
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| bad(&flag, "needs a value"));
            match flag.as_str() {
                "--control" => control = value()?,
                "--systems-base-port" => base = value()?,
                "--data-dir" => data_dir = Some(value()?),
                "--api-key" => api_key = Some(value()?),
                other => return Err(bad(other, "unknown flag")),
            }
        }
        Ok(Self {
            control: control
                .parse()
                .map_err(|_| bad("--control", format!("{control:?} is not host:port")))?,
            systems_base_port: base
                .parse()
                .map_err(|_| bad("--systems-base-port", format!("{base:?} is not a port")))?,
            data_dir: data_dir.map(PathBuf::from),
            api_key,
        })
    }
}
