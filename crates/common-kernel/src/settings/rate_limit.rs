//! Rate-limit settings (ADR 0030): a budget per route class, read from `APP__RATE_LIMIT__*`.
//!
//! Rates are whole requests per minute, so a budget is exact in the limiter's microsecond
//! clock without floating point, and one request a minute is still expressible.

use std::time::Duration;

use super::{SettingsError, parse};

/// The budget of one route class: a sustained rate and how many requests may arrive at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassLimit {
    /// Sustained requests per minute.
    pub per_minute: u32,
    /// Requests accepted back to back before the sustained rate applies.
    pub burst: u32,
}

/// Rate limits per tenant and client, by route class: commands stricter than reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// GET, HEAD and OPTIONS.
    pub read: ClassLimit,
    /// Every other method.
    pub command: ClassLimit,
    /// Longest a shared (Redis) decision may take before the per-process limiter decides; it is
    /// on every request's path, so it is shorter than the cache's timeout.
    pub redis_timeout: Duration,
    /// Most keys the per-process limiter keeps (idle keys are evicted first).
    pub local_max_keys: usize,
}

/// Fastest accepted rate: one request per microsecond, the limiter's clock resolution.
const MAX_PER_MINUTE: u32 = 60_000_000;
/// Largest accepted burst (keeps every GCRA time exact in a Lua double).
const MAX_BURST: u32 = 1_000_000;

/// Defaults: reads 3 000/min with bursts of 100, commands 600/min with bursts of 20, per tenant
/// and client.
const DEFAULT_READ: ClassLimit = ClassLimit {
    per_minute: 3_000,
    burst: 100,
};
const DEFAULT_COMMAND: ClassLimit = ClassLimit {
    per_minute: 600,
    burst: 20,
};
const DEFAULT_REDIS_TIMEOUT_MS: u64 = 25;
const DEFAULT_LOCAL_MAX_KEYS: usize = 100_000;

impl Default for RateLimitSettings {
    /// The limits a service runs with when no `APP__RATE_LIMIT__*` variable is set.
    fn default() -> Self {
        Self {
            read: DEFAULT_READ,
            command: DEFAULT_COMMAND,
            redis_timeout: Duration::from_millis(DEFAULT_REDIS_TIMEOUT_MS),
            local_max_keys: DEFAULT_LOCAL_MAX_KEYS,
        }
    }
}

fn class_limit(
    get: &impl Fn(&str) -> Option<String>,
    class: &str,
    default: ClassLimit,
) -> Result<ClassLimit, SettingsError> {
    let rate_name = format!("APP__RATE_LIMIT__{class}_PER_MINUTE");
    let per_minute: u32 = parse(get, &rate_name, default.per_minute)?;
    if !(1..=MAX_PER_MINUTE).contains(&per_minute) {
        return Err(SettingsError {
            name: rate_name,
            value: per_minute.to_string(),
            reason: format!("expected between 1 and {MAX_PER_MINUTE} requests per minute"),
        });
    }
    let burst_name = format!("APP__RATE_LIMIT__{class}_BURST");
    let burst: u32 = parse(get, &burst_name, default.burst)?;
    if !(1..=MAX_BURST).contains(&burst) {
        return Err(SettingsError {
            name: burst_name,
            value: burst.to_string(),
            reason: format!("expected a burst between 1 and {MAX_BURST} requests"),
        });
    }
    Ok(ClassLimit { per_minute, burst })
}

/// Reads and validates the rate limits from `get`.
pub(super) fn from_env(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<RateLimitSettings, SettingsError> {
    let timeout_ms: u64 = parse(
        get,
        "APP__RATE_LIMIT__REDIS_TIMEOUT_MS",
        DEFAULT_REDIS_TIMEOUT_MS,
    )?;
    if !(1..=1_000).contains(&timeout_ms) {
        return Err(SettingsError {
            name: "APP__RATE_LIMIT__REDIS_TIMEOUT_MS".into(),
            value: timeout_ms.to_string(),
            reason: "expected 1 to 1000 milliseconds (the check is on every request's path)".into(),
        });
    }
    let local_max_keys: usize = parse(
        get,
        "APP__RATE_LIMIT__LOCAL_MAX_KEYS",
        DEFAULT_LOCAL_MAX_KEYS,
    )?;
    if local_max_keys == 0 {
        return Err(SettingsError {
            name: "APP__RATE_LIMIT__LOCAL_MAX_KEYS".into(),
            value: "0".into(),
            reason: "expected at least one key".into(),
        });
    }
    Ok(RateLimitSettings {
        read: class_limit(get, "READ", DEFAULT_READ)?,
        command: class_limit(get, "COMMAND", DEFAULT_COMMAND)?,
        redis_timeout: Duration::from_millis(timeout_ms),
        local_max_keys,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<RateLimitSettings, SettingsError> {
        let map: HashMap<&str, &str> = vars.iter().copied().collect();
        from_env(&|name: &str| map.get(name).map(|value| (*value).to_owned()))
    }

    #[test]
    fn rate_limits_have_defaults_and_are_validated() {
        assert_eq!(with(&[]).expect("defaults"), RateLimitSettings::default());
        let settings = with(&[
            ("APP__RATE_LIMIT__COMMAND_PER_MINUTE", "30"),
            ("APP__RATE_LIMIT__COMMAND_BURST", "3"),
        ])
        .expect("valid");
        assert_eq!(
            settings.command,
            ClassLimit {
                per_minute: 30,
                burst: 3
            }
        );
        for (name, value) in [
            ("APP__RATE_LIMIT__READ_PER_MINUTE", "0"),
            ("APP__RATE_LIMIT__READ_PER_MINUTE", "0.5"),
            ("APP__RATE_LIMIT__READ_PER_MINUTE", "fast"),
            ("APP__RATE_LIMIT__READ_PER_MINUTE", "60000001"),
            ("APP__RATE_LIMIT__COMMAND_BURST", "0"),
            ("APP__RATE_LIMIT__COMMAND_BURST", "-1"),
            ("APP__RATE_LIMIT__REDIS_TIMEOUT_MS", "0"),
            ("APP__RATE_LIMIT__LOCAL_MAX_KEYS", "0"),
        ] {
            let err = with(&[(name, value)]).expect_err(value);
            assert_eq!(err.name, name);
            assert!(err.to_string().contains(name), "{err}");
        }
        let err = with(&[("APP__RATE_LIMIT__READ_BURST", "0")]).expect_err("zero burst");
        assert!(err.reason.contains("burst between 1 and"), "{err}");
    }
}
