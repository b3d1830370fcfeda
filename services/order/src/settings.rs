//! The order service's own settings on top of the platform's, read once at start-up and checked
//! there: where the engine and the catalog answer, which BPMN to deploy, how the workers and the
//! process starter run. A typo stops the service with the variable's name.

use std::path::PathBuf;
use std::time::Duration;

use common_kernel::settings::{SettingsError, positive_number, zeebe_address};

/// Where the embedded engine's Zeebe gateway answers unless `ZEEBE_ADDRESS` says otherwise.
pub const DEFAULT_ZEEBE_ADDRESS: &str = "http://127.0.0.1:26500";
/// Where the catalog answers unless `CATALOG_URL` says otherwise.
pub const DEFAULT_CATALOG_URL: &str = "http://127.0.0.1:8081";

/// What the order service reads besides the platform settings.
#[derive(Debug, Clone)]
pub struct OrderSettings {
    /// The Zeebe gateway (`ZEEBE_ADDRESS`); `None` when `disabled` (the contract gate runs the
    /// service alone): no workers, no process starter; orders wait ACKNOWLEDGED.
    pub zeebe_address: Option<String>,
    /// The BPMN directory deployed at start-up (`WORKFLOW_BPMN_DIR`, default `workflow/bpmn`).
    pub bpmn_dir: PathBuf,
    /// The catalog, read for the fulfilment profiles of offering versions (`CATALOG_URL`).
    pub catalog_url: String,
    /// Jobs of one type in progress at once (`APP__ORDER__WORKER_CONCURRENCY`, 32).
    pub worker_concurrency: u32,
    /// How long a job may stay activated before the engine offers it again
    /// (`APP__ORDER__JOB_TIMEOUT_MS`, 30000).
    pub job_timeout: Duration,
    /// How often the process starter looks for orders without an instance when no notification
    /// woke it (`APP__ORDER__START_INTERVAL_MS`, 2000).
    pub start_interval: Duration,
    /// An external call in flight longer than this is raised as RECONCILIATION fallout: past
    /// the integration's reconciliation deadline, nobody decides it without a person
    /// (`APP__ORDER__STUCK_CALL_AFTER_SECONDS`, 1200).
    pub stuck_call_after: Duration,
    /// How often the watchdog looks (`APP__ORDER__WATCHDOG_INTERVAL_MS`, 30000).
    pub watchdog_interval: Duration,
}

fn invalid(name: &str, value: &str, reason: &str) -> SettingsError {
    SettingsError {
        name: name.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

impl OrderSettings {
    /// Reads the settings through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let zeebe_address = zeebe_address(&lookup, DEFAULT_ZEEBE_ADDRESS)?;
        let catalog_url = lookup("CATALOG_URL")
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_CATALOG_URL.to_owned());
        if !catalog_url.starts_with("http://") && !catalog_url.starts_with("https://") {
            return Err(invalid(
                "CATALOG_URL",
                &catalog_url,
                "expected an http(s):// URL",
            ));
        }
        let concurrency = positive_number(&lookup, "APP__ORDER__WORKER_CONCURRENCY", 32)?;
        Ok(Self {
            zeebe_address,
            bpmn_dir: lookup("WORKFLOW_BPMN_DIR")
                .filter(|v| !v.trim().is_empty())
                .map_or_else(|| PathBuf::from("workflow/bpmn"), PathBuf::from),
            catalog_url: catalog_url.trim_end_matches('/').to_owned(),
            worker_concurrency: u32::try_from(concurrency).unwrap_or(u32::MAX),
            job_timeout: Duration::from_millis(positive_number(
                &lookup,
                "APP__ORDER__JOB_TIMEOUT_MS",
                30_000,
            )?),
            start_interval: Duration::from_millis(positive_number(
                &lookup,
                "APP__ORDER__START_INTERVAL_MS",
                2000,
            )?),
            stuck_call_after: Duration::from_secs(positive_number(
                &lookup,
                "APP__ORDER__STUCK_CALL_AFTER_SECONDS",
                1200,
            )?),
            watchdog_interval: Duration::from_millis(positive_number(
                &lookup,
                "APP__ORDER__WATCHDOG_INTERVAL_MS",
                30_000,
            )?),
        })
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<OrderSettings, SettingsError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        OrderSettings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_point_at_the_local_stack() {
        let settings = read(&[]).expect("defaults");
        assert_eq!(
            settings.zeebe_address.as_deref(),
            Some(DEFAULT_ZEEBE_ADDRESS)
        );
        assert_eq!(settings.catalog_url, DEFAULT_CATALOG_URL);
        assert_eq!(settings.worker_concurrency, 32);
    }

    #[test]
    fn typos_name_the_variable() {
        let error = read(&[("APP__ORDER__JOB_TIMEOUT_MS", "soon")]).expect_err("refused");
        assert_eq!(error.name, "APP__ORDER__JOB_TIMEOUT_MS");
        let error = read(&[("ZEEBE_ADDRESS", "localhost:26500")]).expect_err("refused");
        assert_eq!(error.name, "ZEEBE_ADDRESS");
        assert!(
            read(&[("ZEEBE_ADDRESS", "disabled")])
                .expect("ok")
                .zeebe_address
                .is_none()
        );
    }
}
