//! The integration service's own settings on top of the platform's, read once at start-up and
//! checked there: one endpoint per downstream system (base URL, timeout, retry budget, token)
//! and how the workers wait. A typo stops the service with the variable's name.

use std::collections::BTreeMap;
use std::time::Duration;

use common_kernel::settings::{SettingsError, positive_number, zeebe_address};

use crate::domain::{ExternalSystem, RetryBudget};
use crate::infra::adapters::{SecretToken, SystemEndpoint};
use crate::workers::WorkerSettings;

/// Where the embedded engine's Zeebe gateway answers unless `ZEEBE_ADDRESS` says otherwise.
pub const DEFAULT_ZEEBE_ADDRESS: &str = "http://127.0.0.1:26500";

/// The downstream simulator's port of each system (`./dev up` runs it there).
pub fn default_port(system: ExternalSystem) -> u16 {
    match system {
        ExternalSystem::Inventory => 8096,
        ExternalSystem::Provisioning => 8097,
        ExternalSystem::Billing => 8098,
        ExternalSystem::Crm => 8099,
        ExternalSystem::Contract => 8100,
        ExternalSystem::Notification => 8101,
    }
}

/// What the integration service reads besides the platform settings.
#[derive(Debug, Clone)]
pub struct IntegrationSettings {
    /// The Zeebe gateway (`ZEEBE_ADDRESS`); `None` when `disabled` (the contract gate runs
    /// the service alone): no workers.
    pub zeebe_address: Option<String>,
    /// One endpoint per system: `APP__INTEGRATION__<SYSTEM>__BASE_URL`, `__TIMEOUT_MS`
    /// (5000), `__MAX_ATTEMPTS` (10), `__BACKOFF_MS` (500), `__BACKOFF_MAX_MS` (8000),
    /// `__TOKEN` (optional bearer token).
    pub systems: BTreeMap<ExternalSystem, SystemEndpoint>,
    /// The workers: `APP__INTEGRATION__WORKER_CONCURRENCY` (32),
    /// `APP__INTEGRATION__RECONCILE_INTERVAL_MS` (2000),
    /// `APP__INTEGRATION__RECONCILE_DEADLINE_SECONDS` (900), `APP__INTEGRATION__JOB_TIMEOUT_MS`
    /// (60000: longer than a timeout plus a status query).
    pub workers: WorkerSettings,
}

fn invalid(name: &str, value: &str, reason: &str) -> SettingsError {
    SettingsError {
        name: name.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

fn endpoint(
    lookup: &impl Fn(&str) -> Option<String>,
    system: ExternalSystem,
) -> Result<SystemEndpoint, SettingsError> {
    let prefix = format!("APP__INTEGRATION__{}", system.as_str());
    let url_name = format!("{prefix}__BASE_URL");
    let base_url = lookup(&url_name)
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| format!("http://127.0.0.1:{}", default_port(system)));
    if !base_url.starts_with("http://") {
        return Err(invalid(
            &url_name,
            &base_url,
            "must be an http:// URL (the client carries no TLS; terminate TLS in the mesh)",
        ));
    }
    let max_attempts = positive_number(lookup, &format!("{prefix}__MAX_ATTEMPTS"), 10)?;
    let base = positive_number(lookup, &format!("{prefix}__BACKOFF_MS"), 500)?;
    let max = positive_number(lookup, &format!("{prefix}__BACKOFF_MAX_MS"), 8000)?;
    if max < base {
        return Err(invalid(
            &format!("{prefix}__BACKOFF_MAX_MS"),
            &max.to_string(),
            "must not be below __BACKOFF_MS",
        ));
    }
    Ok(SystemEndpoint {
        base_url: base_url.trim_end_matches('/').to_owned(),
        timeout: Duration::from_millis(positive_number(
            lookup,
            &format!("{prefix}__TIMEOUT_MS"),
            5000,
        )?),
        budget: RetryBudget {
            max_attempts: u32::try_from(max_attempts).unwrap_or(u32::MAX),
            base_backoff: Duration::from_millis(base),
            max_backoff: Duration::from_millis(max),
        },
        token: lookup(&format!("{prefix}__TOKEN"))
            .filter(|v| !v.trim().is_empty())
            .map(SecretToken::new),
    })
}

impl IntegrationSettings {
    /// Reads the settings through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let zeebe_address = zeebe_address(&lookup, DEFAULT_ZEEBE_ADDRESS)?;
        let systems = ExternalSystem::ALL
            .into_iter()
            .map(|system| Ok((system, endpoint(&lookup, system)?)))
            .collect::<Result<_, SettingsError>>()?;
        let defaults = WorkerSettings::default();
        let concurrency = positive_number(&lookup, "APP__INTEGRATION__WORKER_CONCURRENCY", 32)?;
        Ok(Self {
            zeebe_address,
            systems,
            workers: WorkerSettings {
                concurrency: u32::try_from(concurrency).unwrap_or(u32::MAX),
                reconcile_interval: Duration::from_millis(positive_number(
                    &lookup,
                    "APP__INTEGRATION__RECONCILE_INTERVAL_MS",
                    2000,
                )?),
                reconcile_deadline: Duration::from_secs(positive_number(
                    &lookup,
                    "APP__INTEGRATION__RECONCILE_DEADLINE_SECONDS",
                    900,
                )?),
                job_timeout: Duration::from_millis(positive_number(
                    &lookup,
                    "APP__INTEGRATION__JOB_TIMEOUT_MS",
                    u64::try_from(defaults.job_timeout.as_millis()).unwrap_or(60_000),
                )?),
            },
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

    fn read(pairs: &[(&str, &str)]) -> Result<IntegrationSettings, SettingsError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        IntegrationSettings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_point_every_system_at_the_local_simulator() {
        let settings = read(&[]).unwrap();
        assert_eq!(settings.systems.len(), 6);
        let billing = &settings.systems[&ExternalSystem::Billing];
        assert_eq!(billing.base_url, "http://127.0.0.1:8098");
        assert_eq!(billing.timeout, Duration::from_secs(5));
        assert_eq!(billing.budget, RetryBudget::default());
        assert_eq!(billing.token, None);
        assert_eq!(settings.workers.concurrency, 32);
    }

    #[test]
    fn each_system_is_configured_on_its_own_and_bad_values_name_their_variable() {
        let settings = read(&[
            (
                "APP__INTEGRATION__PROVISIONING__BASE_URL",
                "http://prov:9000/",
            ),
            ("APP__INTEGRATION__PROVISIONING__TIMEOUT_MS", "250"),
            ("APP__INTEGRATION__PROVISIONING__MAX_ATTEMPTS", "3"),
            ("APP__INTEGRATION__PROVISIONING__TOKEN", "s3cret"),
        ])
        .unwrap();
        let provisioning = &settings.systems[&ExternalSystem::Provisioning];
        assert_eq!(provisioning.base_url, "http://prov:9000");
        assert_eq!(provisioning.timeout, Duration::from_millis(250));
        assert_eq!(provisioning.budget.max_attempts, 3);
        assert!(!format!("{provisioning:?}").contains("s3cret"));
        assert_eq!(
            settings.systems[&ExternalSystem::Inventory]
                .budget
                .max_attempts,
            10
        );
        for (name, value) in [
            ("APP__INTEGRATION__BILLING__BASE_URL", "https://billing"),
            ("APP__INTEGRATION__BILLING__TIMEOUT_MS", "0"),
            ("APP__INTEGRATION__CRM__BACKOFF_MAX_MS", "10"),
            ("ZEEBE_ADDRESS", "zeebe:26500"),
        ] {
            assert_eq!(read(&[(name, value)]).unwrap_err().name, name);
        }
    }
}
