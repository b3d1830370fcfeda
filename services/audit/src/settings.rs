//! The audit service's own settings on top of the platform's, read once at start-up and
//! checked there: a missing or malformed signing key stops the service with the variable's
//! name, rather than a log that cannot sign its checkpoints.

use std::time::Duration;

use audit_proof::checkpoint::{SigningKey, from_base64};
use common_kernel::settings::SettingsError;

/// The active signing key's variable: base64 of a 32-byte Ed25519 seed.
pub const SIGNING_KEY_VAR: &str = "APP__AUDIT__SIGNING_KEY";
/// Retired public keys (base64, comma-separated) that still verify older checkpoints.
pub const RETIRED_KEYS_VAR: &str = "APP__AUDIT__RETIRED_PUBLIC_KEYS";
/// How often the checkpoint job runs.
pub const CHECKPOINT_INTERVAL_VAR: &str = "APP__AUDIT__CHECKPOINT_INTERVAL_MS";

/// What the audit service reads besides the platform settings.
#[derive(Debug)]
pub struct AuditSettings {
    /// The key that signs new checkpoints (`APP__AUDIT__SIGNING_KEY`, required).
    pub signing_key: SigningKey,
    /// Public keys of rotated-out signing keys (`APP__AUDIT__RETIRED_PUBLIC_KEYS`).
    pub retired_public_keys: Vec<Vec<u8>>,
    /// How often every grown log gets a checkpoint (`APP__AUDIT__CHECKPOINT_INTERVAL_MS`,
    /// default 10 s).
    pub checkpoint_interval: Duration,
}

fn invalid(name: &str, value: &str, reason: &str) -> SettingsError {
    SettingsError {
        name: name.into(),
        value: value.into(),
        reason: reason.into(),
    }
}

impl AuditSettings {
    /// Reads the settings through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let seed = lookup(SIGNING_KEY_VAR)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                invalid(
                    SIGNING_KEY_VAR,
                    "",
                    "required: the base64 of a 32-byte Ed25519 seed (docs/runbooks/audit.md)",
                )
            })?;
        let signing_key = SigningKey::from_base64_seed(&seed)
            .map_err(|e| invalid(SIGNING_KEY_VAR, "(hidden)", &e.to_string()))?;
        let retired_public_keys = lookup(RETIRED_KEYS_VAR)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .map(|key| {
                from_base64(key)
                    .filter(|bytes| bytes.len() == 32)
                    .ok_or_else(|| {
                        invalid(RETIRED_KEYS_VAR, key, "each key must be base64 of 32 bytes")
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let checkpoint_interval =
            match lookup(CHECKPOINT_INTERVAL_VAR).filter(|v| !v.trim().is_empty()) {
                None => Duration::from_secs(10),
                Some(raw) => match raw.trim().parse::<u64>() {
                    Ok(ms) if ms >= 100 => Duration::from_millis(ms),
                    _ => {
                        return Err(invalid(
                            CHECKPOINT_INTERVAL_VAR,
                            &raw,
                            "expected milliseconds, at least 100",
                        ));
                    }
                },
            };
        Ok(Self {
            signing_key,
            retired_public_keys,
            checkpoint_interval,
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

    const SEED: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn read(pairs: &[(&str, &str)]) -> Result<AuditSettings, SettingsError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        AuditSettings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn a_key_is_required_and_the_rest_has_defaults() {
        assert_eq!(read(&[]).unwrap_err().name, SIGNING_KEY_VAR);
        let settings = read(&[(SIGNING_KEY_VAR, SEED)]).unwrap();
        assert_eq!(settings.checkpoint_interval, Duration::from_secs(10));
        assert!(settings.retired_public_keys.is_empty());
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert_eq!(
            read(&[(SIGNING_KEY_VAR, "short")]).unwrap_err().name,
            SIGNING_KEY_VAR
        );
        let bad = read(&[(SIGNING_KEY_VAR, SEED), (RETIRED_KEYS_VAR, "AAEC")]).unwrap_err();
        assert_eq!(bad.name, RETIRED_KEYS_VAR);
        let bad = read(&[(SIGNING_KEY_VAR, SEED), (CHECKPOINT_INTERVAL_VAR, "5")]).unwrap_err();
        assert_eq!(bad.name, CHECKPOINT_INTERVAL_VAR);
    }
}
