//! The bearer token a worker sends when its gateway demands one: Camunda 8 with Identity (SaaS or
//! Self-Managed), or the embedded engine with `WORKFLOW_GRPC_REQUIRE_TOKEN=true` (ADR 0030).
//!
//! Configured the way Camunda's own clients are, so one deployment file serves both:
//! `ZEEBE_CLIENT_ID`, `ZEEBE_CLIENT_SECRET`, `ZEEBE_AUTHORIZATION_SERVER_URL` (the token
//! endpoint itself) and `ZEEBE_TOKEN_AUDIENCE` (default `zeebe-api`). The token comes from the
//! `client_credentials` grant with the client in the request body, as Camunda's clients send it,
//! and is replaced once three quarters of its lifetime have passed.

use std::fmt;
use std::time::{Duration, Instant};

use common_kernel::settings::Secret;
use serde::Deserialize;
use tokio::sync::Mutex;
use tonic::metadata::{Ascii, MetadataValue};

use crate::error::RuntimeError;

/// Camunda's default audience of Zeebe's API.
pub const DEFAULT_AUDIENCE: &str = "zeebe-api";
/// Upper bound of one call to the authorization server.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(5);
/// Lifetime assumed when the server does not say (`expires_in`).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);

/// A client of the gateway's authorization server.
#[derive(Clone)]
pub struct GatewayCredentials {
    /// `ZEEBE_CLIENT_ID`.
    pub client_id: String,
    /// `ZEEBE_CLIENT_SECRET`.
    pub client_secret: Secret,
    /// `ZEEBE_AUTHORIZATION_SERVER_URL`: the token endpoint.
    pub authorization_server_url: String,
    /// `ZEEBE_TOKEN_AUDIENCE`.
    pub audience: String,
}

impl fmt::Debug for GatewayCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayCredentials")
            .field("client_id", &self.client_id)
            .field("authorization_server_url", &self.authorization_server_url)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl GatewayCredentials {
    /// The credentials the environment configures; `None` when it configures none. Naming some
    /// of the three required variables but not all is refused rather than guessed.
    pub fn from_env() -> Result<Option<Self>, RuntimeError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`GatewayCredentials::from_env`] over any lookup (tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, RuntimeError> {
        let read = |name| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let id = read("ZEEBE_CLIENT_ID");
        let secret = read("ZEEBE_CLIENT_SECRET");
        let url = read("ZEEBE_AUTHORIZATION_SERVER_URL");
        match (id, secret, url) {
            (None, None, None) => Ok(None),
            (Some(client_id), Some(secret), Some(url)) => {
                if !url.starts_with("http://") && !url.starts_with("https://") {
                    return Err(RuntimeError::Config(
                        "ZEEBE_AUTHORIZATION_SERVER_URL must be an http(s) URL",
                    ));
                }
                Ok(Some(Self {
                    client_id,
                    client_secret: Secret::new(secret),
                    authorization_server_url: url,
                    audience: read("ZEEBE_TOKEN_AUDIENCE")
                        .unwrap_or_else(|| DEFAULT_AUDIENCE.to_owned()),
                }))
            }
            _ => Err(RuntimeError::Config(
                "set all of ZEEBE_CLIENT_ID, ZEEBE_CLIENT_SECRET and ZEEBE_AUTHORIZATION_SERVER_URL, or none",
            )),
        }
    }
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

struct Current {
    header: MetadataValue<Ascii>,
    renew_at: Instant,
}

/// The current token of one client, shared by every worker of a gateway connection.
pub(crate) struct GatewayToken {
    http: reqwest::Client,
    credentials: GatewayCredentials,
    current: Mutex<Option<Current>>,
}

impl fmt::Debug for GatewayToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayToken")
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl GatewayToken {
    pub(crate) fn new(credentials: GatewayCredentials) -> Result<Self, RuntimeError> {
        let http = reqwest::Client::builder()
            .timeout(TOKEN_TIMEOUT)
            .build()
            .map_err(|_| RuntimeError::Config("cannot build the token client"))?;
        Ok(Self {
            http,
            credentials,
            current: Mutex::new(None),
        })
    }

    /// `Bearer <token>`, fresh enough: the held one, or a new one from the server. A server that
    /// cannot be asked is an unavailable gateway to the poll loop, which backs off and polls again.
    pub(crate) async fn authorization(&self) -> Result<MetadataValue<Ascii>, tonic::Status> {
        let mut current = self.current.lock().await;
        if let Some(held) = current.as_ref()
            && Instant::now() < held.renew_at
        {
            return Ok(held.header.clone());
        }
        let asked = Instant::now();
        let answer = self.fetch().await.map_err(|error| {
            tonic::Status::unavailable(format!(
                "the gateway's token could not be obtained: {error}"
            ))
        })?;
        let mut header: MetadataValue<Ascii> = format!("Bearer {}", answer.access_token)
            .parse()
            .map_err(|_| {
                tonic::Status::unauthenticated("the token server answered an unusable token")
            })?;
        header.set_sensitive(true);
        let lifetime = answer
            .expires_in
            .map_or(DEFAULT_LIFETIME, Duration::from_secs);
        *current = Some(Current {
            header: header.clone(),
            renew_at: asked + lifetime.saturating_mul(3) / 4,
        });
        Ok(header)
    }

    async fn fetch(&self) -> Result<TokenAnswer, reqwest::Error> {
        let credentials = &self.credentials;
        self.http
            .post(&credentials.authorization_server_url)
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", credentials.client_id.as_str()),
                ("client_secret", credentials.client_secret.expose()),
                ("audience", credentials.audience.as_str()),
            ])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> Result<Option<GatewayCredentials>, RuntimeError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        GatewayCredentials::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn credentials_are_all_or_nothing_and_the_secret_stays_out_of_debug() {
        assert!(lookup(&[]).unwrap().is_none());
        let full = lookup(&[
            ("ZEEBE_CLIENT_ID", "workflow-worker"),
            ("ZEEBE_CLIENT_SECRET", "s3cret-value"),
            (
                "ZEEBE_AUTHORIZATION_SERVER_URL",
                "http://127.0.0.1:8079/token",
            ),
        ])
        .unwrap()
        .expect("configured");
        assert_eq!(full.audience, DEFAULT_AUDIENCE);
        assert!(!format!("{full:?}").contains("s3cret-value"));
        assert!(matches!(
            lookup(&[("ZEEBE_CLIENT_ID", "workflow-worker")]),
            Err(RuntimeError::Config(_))
        ));
        assert!(matches!(
            lookup(&[
                ("ZEEBE_CLIENT_ID", "w"),
                ("ZEEBE_CLIENT_SECRET", "s"),
                ("ZEEBE_AUTHORIZATION_SERVER_URL", "127.0.0.1:8079/token"),
            ]),
            Err(RuntimeError::Config(_))
        ));
    }
}
