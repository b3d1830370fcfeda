//! The ops service's own settings: when an order counts as stuck, per status
//! (`APP__OPS__STUCK_AFTER_SECONDS` for every status not named, `APP__OPS__STUCK_AFTER__<STATUS>`
//! for one, e.g. `APP__OPS__STUCK_AFTER__IN_PROGRESS=1800`); how often the business metrics are
//! exported (`APP__OPS__METRICS_EVERY_SECONDS`, 15); and the console's
//! (`APP__OPS__CONSOLE_ORDER_URL`, `APP__OPS__CONSOLE_PUBLIC_URL`,
//! `APP__OPS__CONSOLE_CLIENT_ID`, `APP__OPS__CONSOLE_ISSUER_URL`); and the workflow engine whose
//! incidents the timelines show (`APP__OPS__WORKFLOW_REST_URL`, `APP__OPS__INCIDENT_POLL_SECONDS`).

use std::time::Duration;

use common_kernel::settings::SettingsError;

use crate::domain::StuckThresholds;

/// The order statuses a threshold may name.
const STATUSES: &[&str] = &[
    "DRAFT",
    "ACKNOWLEDGED",
    "VALIDATED",
    "DECOMPOSED",
    "IN_PROGRESS",
    "HELD",
    "PARTIALLY_COMPLETED",
    "CANCELLATION_PENDING",
    "FALLOUT",
];

/// What the ops service reads besides the platform settings.
#[derive(Debug, Clone)]
pub struct OpsSettings {
    /// When an order counts as stuck.
    pub stuck: StuckThresholds,
    /// How often the business metrics are recomputed for `/metrics`.
    pub metrics_every: Duration,
    /// The console's settings; `None` leaves `/console` answering that it is not set up.
    pub console: Option<ConsoleSettings>,
    /// The workflow engine's REST base (`APP__OPS__WORKFLOW_REST_URL`), whose incidents the
    /// timelines show; `None`: no incidents projected.
    pub workflow_rest_url: Option<String>,
    /// How often incidents are read (`APP__OPS__INCIDENT_POLL_SECONDS`, 10).
    pub incident_every: Duration,
}

/// Where the console signs operators in and sends their repairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSettings {
    /// The order service's base URL (repairs and order reads go there with the operator's token).
    pub order_url: String,
    /// This service's URL as browsers reach it (`http://127.0.0.1:8087`): the redirect URI is
    /// `<public_url>/console/callback`.
    pub public_url: String,
    /// The public OIDC client (`ops-console`), authorization code with PKCE.
    pub client_id: String,
    /// The issuer as browsers reach it, when it differs from the one tokens are checked against
    /// (inside compose); `None`: the same.
    pub browser_issuer_url: Option<String>,
}

fn url(name: &str, raw: &str) -> Result<String, SettingsError> {
    let trimmed = raw.trim().trim_end_matches('/');
    if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
        Ok(trimmed.to_owned())
    } else {
        Err(SettingsError {
            name: name.into(),
            value: raw.into(),
            reason: "expected an http(s) URL".into(),
        })
    }
}

fn seconds(name: &str, raw: &str) -> Result<Duration, SettingsError> {
    match raw.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(Duration::from_secs(n)),
        _ => Err(SettingsError {
            name: name.into(),
            value: raw.into(),
            reason: "expected a positive whole number of seconds".into(),
        }),
    }
}

impl OpsSettings {
    /// Reads the settings through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let mut stuck = match lookup("APP__OPS__STUCK_AFTER_SECONDS")
            .filter(|v| !v.trim().is_empty())
        {
            Some(raw) => StuckThresholds::uniform(seconds("APP__OPS__STUCK_AFTER_SECONDS", &raw)?),
            None => StuckThresholds::default(),
        };
        for status in STATUSES {
            let name = format!("APP__OPS__STUCK_AFTER__{status}");
            if let Some(raw) = lookup(&name).filter(|v| !v.trim().is_empty()) {
                stuck = stuck.with(status, seconds(&name, &raw)?);
            }
        }
        let metrics_every =
            match lookup("APP__OPS__METRICS_EVERY_SECONDS").filter(|v| !v.trim().is_empty()) {
                Some(raw) => seconds("APP__OPS__METRICS_EVERY_SECONDS", &raw)?,
                None => Duration::from_secs(15),
            };
        let read = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let console = match (
            read("APP__OPS__CONSOLE_ORDER_URL"),
            read("APP__OPS__CONSOLE_PUBLIC_URL"),
        ) {
            (None, None) => None,
            (Some(order), Some(public)) => Some(ConsoleSettings {
                order_url: url("APP__OPS__CONSOLE_ORDER_URL", &order)?,
                public_url: url("APP__OPS__CONSOLE_PUBLIC_URL", &public)?,
                client_id: read("APP__OPS__CONSOLE_CLIENT_ID")
                    .unwrap_or_else(|| "ops-console".to_owned()),
                browser_issuer_url: read("APP__OPS__CONSOLE_ISSUER_URL")
                    .map(|raw| url("APP__OPS__CONSOLE_ISSUER_URL", &raw))
                    .transpose()?,
            }),
            (Some(_), None) | (None, Some(_)) => {
                return Err(SettingsError {
                    name: "APP__OPS__CONSOLE_ORDER_URL".into(),
                    value: String::new(),
                    reason: "set both APP__OPS__CONSOLE_ORDER_URL and APP__OPS__CONSOLE_PUBLIC_URL, or neither".into(),
                });
            }
        };
        let workflow_rest_url = read("APP__OPS__WORKFLOW_REST_URL")
            .map(|raw| url("APP__OPS__WORKFLOW_REST_URL", &raw))
            .transpose()?;
        let incident_every = match read("APP__OPS__INCIDENT_POLL_SECONDS") {
            Some(raw) => seconds("APP__OPS__INCIDENT_POLL_SECONDS", &raw)?,
            None => Duration::from_secs(10),
        };
        Ok(Self {
            stuck,
            metrics_every,
            console,
            workflow_rest_url,
            incident_every,
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

    #[test]
    fn per_status_thresholds_override_the_default() {
        let map: HashMap<&str, &str> = [
            ("APP__OPS__STUCK_AFTER_SECONDS", "60"),
            ("APP__OPS__STUCK_AFTER__IN_PROGRESS", "5"),
        ]
        .into_iter()
        .collect();
        let settings = OpsSettings::from_lookup(|n| map.get(n).map(|v| (*v).to_owned())).unwrap();
        assert_eq!(
            settings.stuck.threshold("IN_PROGRESS"),
            Duration::from_secs(5)
        );
        assert_eq!(
            settings.stuck.threshold("ACKNOWLEDGED"),
            Duration::from_secs(60)
        );
        let bad =
            OpsSettings::from_lookup(|n| (n == "APP__OPS__STUCK_AFTER__HELD").then(|| "0".into()));
        assert_eq!(bad.unwrap_err().name, "APP__OPS__STUCK_AFTER__HELD");
    }
}
