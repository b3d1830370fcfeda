//! Where tokens come from and whom they must be for: read from the environment like every
//! setting, validated at start-up.

use std::time::Duration;

use crate::settings::{Secret, SettingsError};

/// The audience every platform token carries.
pub const DEFAULT_AUDIENCE: &str = "cpq-oms";

/// The issuer tokens are verified against, and this service's own client for outgoing calls.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// The `iss` every token must carry (`OIDC_ISSUER`), e.g. `http://127.0.0.1:8079`.
    pub issuer: String,
    /// Where the discovery document is read (`OIDC_DISCOVERY_URL`; default: the issuer's
    /// `/.well-known/openid-configuration`). Inside a container network the issuer's public
    /// address may not be reachable.
    pub discovery_url: String,
    /// The audience tokens must name (`OIDC_AUDIENCE`, default `cpq-oms`).
    pub audience: String,
    /// This service's client for `client_credentials` tokens (`OIDC_CLIENT_ID`,
    /// `OIDC_CLIENT_SECRET`); without it the service makes no authenticated outgoing calls.
    pub client: Option<(String, Secret)>,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
}

impl AuthSettings {
    /// Reads the settings through `lookup`; refuses a missing issuer.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        Self::optional(lookup)?.ok_or_else(Self::missing)
    }

    /// The refusal when a process that serves HTTP has no issuer.
    pub fn missing() -> SettingsError {
        SettingsError {
            name: "OIDC_ISSUER".into(),
            value: String::new(),
            reason: "required: the OIDC issuer whose tokens this service accepts (./dev up runs one on http://127.0.0.1:8079)".into(),
        }
    }

    /// Reads the settings through `lookup`: `None` without `OIDC_ISSUER` (for processes that
    /// serve no HTTP, like the outbox relay), an error when what is set is invalid.
    pub fn optional(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, SettingsError> {
        let read = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let Some(issuer) = read("OIDC_ISSUER") else {
            return Ok(None);
        };
        let issuer = issuer.trim().trim_end_matches('/').to_owned();
        check_url("OIDC_ISSUER", &issuer)?;
        let discovery_url = match read("OIDC_DISCOVERY_URL") {
            Some(url) => {
                check_url("OIDC_DISCOVERY_URL", url.trim())?;
                url.trim().to_owned()
            }
            None => format!("{issuer}/.well-known/openid-configuration"),
        };
        let client = match (read("OIDC_CLIENT_ID"), read("OIDC_CLIENT_SECRET")) {
            (Some(id), Some(secret)) => Some((id.trim().to_owned(), Secret::new(secret))),
            (None, None) => None,
            (Some(_), None) => {
                return Err(SettingsError {
                    name: "OIDC_CLIENT_SECRET".into(),
                    value: String::new(),
                    reason: "required when OIDC_CLIENT_ID is set".into(),
                });
            }
            (None, Some(_)) => {
                return Err(SettingsError {
                    name: "OIDC_CLIENT_ID".into(),
                    value: String::new(),
                    reason: "required when OIDC_CLIENT_SECRET is set".into(),
                });
            }
        };
        Ok(Some(Self {
            issuer,
            discovery_url,
            audience: read("OIDC_AUDIENCE").unwrap_or_else(|| DEFAULT_AUDIENCE.to_owned()),
            client,
            leeway: Duration::from_secs(30),
        }))
    }
}

fn check_url(name: &str, value: &str) -> Result<(), SettingsError> {
    if value.starts_with("http://") || value.starts_with("https://") {
        Ok(())
    } else {
        Err(SettingsError {
            name: name.into(),
            value: value.into(),
            reason: "must be an http:// or https:// URL".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<AuthSettings, SettingsError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        AuthSettings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn the_issuer_is_required_and_the_rest_has_defaults() {
        assert_eq!(read(&[]).unwrap_err().name, "OIDC_ISSUER");
        let settings = read(&[("OIDC_ISSUER", "http://127.0.0.1:8079/")]).unwrap();
        assert_eq!(settings.issuer, "http://127.0.0.1:8079");
        assert_eq!(
            settings.discovery_url,
            "http://127.0.0.1:8079/.well-known/openid-configuration"
        );
        assert_eq!(settings.audience, "cpq-oms");
        assert!(settings.client.is_none());
        assert_eq!(
            read(&[("OIDC_ISSUER", "127.0.0.1")]).unwrap_err().name,
            "OIDC_ISSUER"
        );
        assert_eq!(
            read(&[
                ("OIDC_ISSUER", "http://i"),
                ("OIDC_CLIENT_ID", "cpq-service")
            ])
            .unwrap_err()
            .name,
            "OIDC_CLIENT_SECRET"
        );
    }
}
