//! The ops service's own settings: when an order counts as stuck, per status
//! (`APP__OPS__STUCK_AFTER_SECONDS` for every status not named, `APP__OPS__STUCK_AFTER__<STATUS>`
//! for one, e.g. `APP__OPS__STUCK_AFTER__IN_PROGRESS=1800`).

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
        Ok(Self { stuck })
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
