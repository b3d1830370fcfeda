//! This service's own access token for the calls it makes (`client_credentials`, RFC 6749
//! §4.4), read from the issuer's token endpoint and replaced before it expires, so a call never
//! goes out with a token about to lapse.

use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use super::error::{AuthError, issuer_json};
use super::layer::BearerToken;
use super::settings::AuthSettings;
use crate::settings::Secret;

/// A token is replaced once three quarters of its lifetime have passed.
const RENEW_AFTER_QUARTERS: u32 = 3;
/// Upper bound of one call to the issuer.
const ISSUER_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Deserialize)]
struct Discovery {
    token_endpoint: String,
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Debug)]
struct Current {
    token: BearerToken,
    renew_at: Instant,
}

/// The service's client and its current token.
#[derive(Debug)]
pub struct ServiceTokens {
    http: reqwest::Client,
    discovery_url: String,
    client_id: String,
    secret: Secret,
    current: Mutex<Option<Current>>,
}

impl ServiceTokens {
    /// Tokens for the configured client; `None` when the service has no client.
    pub fn new(settings: &AuthSettings) -> Result<Option<Self>, reqwest::Error> {
        let Some((client_id, secret)) = &settings.client else {
            return Ok(None);
        };
        Ok(Some(Self {
            http: reqwest::Client::builder()
                .timeout(ISSUER_TIMEOUT)
                .connect_timeout(Duration::from_secs(2))
                .build()?,
            discovery_url: settings.discovery_url.clone(),
            client_id: client_id.clone(),
            secret: secret.clone(),
            current: Mutex::new(None),
        }))
    }

    /// A token valid for a while yet: the cached one, or a fresh one from the issuer.
    pub async fn token(&self) -> Result<BearerToken, AuthError> {
        let mut current = self.current.lock().await;
        if let Some(cached) = current.as_ref()
            && Instant::now() < cached.renew_at
        {
            return Ok(cached.token.clone());
        }
        let fresh = self.fetch().await?;
        let token = fresh.token.clone();
        *current = Some(fresh);
        Ok(token)
    }

    async fn fetch(&self) -> Result<Current, AuthError> {
        let discovery: Discovery = issuer_json(self.http.get(&self.discovery_url)).await?;
        let asked = Instant::now();
        let answer: TokenAnswer = issuer_json(
            self.http
                .post(&discovery.token_endpoint)
                .basic_auth(&self.client_id, Some(self.secret.expose()))
                .form(&[("grant_type", "client_credentials")]),
        )
        .await?;
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(60));
        Ok(Current {
            token: BearerToken::new(&answer.access_token),
            renew_at: asked + lifetime.saturating_mul(RENEW_AFTER_QUARTERS) / 4,
        })
    }
}
