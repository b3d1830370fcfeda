//! The approval service's own settings on top of the platform's, read once at start-up and
//! checked there, so a typo stops the service with the variable's name instead of surfacing as
//! a stuck approval.

use std::path::PathBuf;
use std::time::Duration;

use common_kernel::settings::SettingsError;

/// Where the embedded engine's Zeebe gateway answers unless `ZEEBE_ADDRESS` says otherwise.
pub const DEFAULT_ZEEBE_ADDRESS: &str = "http://127.0.0.1:26500";
/// Where its Camunda-compatible REST API (user tasks) answers unless `WORKFLOW_REST_URL` says.
pub const DEFAULT_WORKFLOW_REST_URL: &str = "http://127.0.0.1:8090";

/// What the approval service reads besides the platform settings.
#[derive(Debug, Clone)]
pub struct ApprovalSettings {
    /// The Zeebe gateway (`ZEEBE_ADDRESS`); `None` when set to `disabled`: no workers, no
    /// process sync (the contract gate runs the service alone).
    pub zeebe_address: Option<String>,
    /// The engine's REST API for user tasks (`WORKFLOW_REST_URL`).
    pub workflow_rest_url: String,
    /// The BPMN directory deployed at start-up (`WORKFLOW_BPMN_DIR`, default `workflow/bpmn`).
    pub bpmn_dir: PathBuf,
    /// How long a level may stay open before it is due (`APP__APPROVAL__LEVEL_DUE_SECONDS`,
    /// default 8 h).
    pub level_due: Duration,
    /// How long after its due date an undecided level escalates
    /// (`APP__APPROVAL__ESCALATE_AFTER_DUE_SECONDS`, default 4 h).
    pub escalate_after_due: Duration,
    /// How long a PENDING request lives (`APP__APPROVAL__REQUEST_TTL_SECONDS`, default 14 days).
    pub request_ttl: Duration,
    /// How often the process sync and the expiry run without being woken
    /// (`APP__APPROVAL__SYNC_INTERVAL_MS`, default 2 s).
    pub sync_interval: Duration,
}

fn invalid(name: &str, value: &str, reason: &str) -> SettingsError {
    SettingsError {
        name: name.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

fn positive(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
    unit: fn(u64) -> Duration,
) -> Result<Duration, SettingsError> {
    match lookup(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(unit(default)),
        Some(raw) => match raw.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(unit(n)),
            _ => Err(invalid(name, &raw, "expected a positive whole number")),
        },
    }
}

fn http_url(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: &str,
) -> Result<String, SettingsError> {
    let url = lookup(name)
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned());
    if !url.starts_with("http://") {
        return Err(invalid(
            name,
            &url,
            "must be an http:// URL (the client carries no TLS; terminate TLS in the mesh)",
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

impl ApprovalSettings {
    /// Reads the settings through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let zeebe_address = match lookup("ZEEBE_ADDRESS").filter(|v| !v.trim().is_empty()) {
            Some(v) if v.trim() == "disabled" => None,
            Some(v) if v.starts_with("http://") || v.starts_with("https://") => Some(v),
            Some(v) => {
                return Err(invalid(
                    "ZEEBE_ADDRESS",
                    &v,
                    "expected http://host:port of a Zeebe gateway, or `disabled`",
                ));
            }
            None => Some(DEFAULT_ZEEBE_ADDRESS.to_owned()),
        };
        Ok(Self {
            zeebe_address,
            workflow_rest_url: http_url(&lookup, "WORKFLOW_REST_URL", DEFAULT_WORKFLOW_REST_URL)?,
            bpmn_dir: lookup("WORKFLOW_BPMN_DIR")
                .filter(|v| !v.trim().is_empty())
                .map_or_else(|| PathBuf::from("workflow/bpmn"), PathBuf::from),
            level_due: positive(
                &lookup,
                "APP__APPROVAL__LEVEL_DUE_SECONDS",
                8 * 3600,
                Duration::from_secs,
            )?,
            escalate_after_due: positive(
                &lookup,
                "APP__APPROVAL__ESCALATE_AFTER_DUE_SECONDS",
                4 * 3600,
                Duration::from_secs,
            )?,
            request_ttl: positive(
                &lookup,
                "APP__APPROVAL__REQUEST_TTL_SECONDS",
                14 * 24 * 3600,
                Duration::from_secs,
            )?,
            sync_interval: positive(
                &lookup,
                "APP__APPROVAL__SYNC_INTERVAL_MS",
                2000,
                Duration::from_millis,
            )?,
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

    fn read(pairs: &[(&str, &str)]) -> Result<ApprovalSettings, SettingsError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ApprovalSettings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_point_at_the_local_engine_with_working_day_durations() {
        let settings = read(&[]).unwrap();
        assert_eq!(
            settings.zeebe_address.as_deref(),
            Some(DEFAULT_ZEEBE_ADDRESS)
        );
        assert_eq!(settings.workflow_rest_url, DEFAULT_WORKFLOW_REST_URL);
        assert_eq!(settings.level_due, Duration::from_secs(8 * 3600));
        assert_eq!(settings.escalate_after_due, Duration::from_secs(4 * 3600));
        assert_eq!(settings.request_ttl, Duration::from_secs(14 * 24 * 3600));
    }

    #[test]
    fn disabled_turns_the_engine_side_off_and_bad_values_name_their_variable() {
        assert_eq!(
            read(&[("ZEEBE_ADDRESS", "disabled")])
                .unwrap()
                .zeebe_address,
            None
        );
        let bad = read(&[("ZEEBE_ADDRESS", "zeebe:26500")]).unwrap_err();
        assert_eq!(bad.name, "ZEEBE_ADDRESS");
        let bad = read(&[("APP__APPROVAL__LEVEL_DUE_SECONDS", "0")]).unwrap_err();
        assert_eq!(bad.name, "APP__APPROVAL__LEVEL_DUE_SECONDS");
        let bad = read(&[("WORKFLOW_REST_URL", "https://engine")]).unwrap_err();
        assert_eq!(bad.name, "WORKFLOW_REST_URL");
    }
}
