//! The console's side of OpenID Connect: the issuer's endpoints (discovery, read over the back
//! channel), the authorization request with PKCE, and the code exchange. A public client: no
//! secret; the code is useless without the verifier this process holds.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use tokio::sync::OnceCell;

use crate::settings::ConsoleSettings;

/// One call to the issuer.
const ISSUER_TIMEOUT: Duration = Duration::from_secs(10);

/// Why signing in failed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// The issuer could not be reached or answered nonsense.
    #[error("the issuer: {0}")]
    Issuer(#[from] reqwest::Error),
    /// The issuer refused the code.
    #[error("the issuer refused the code: {0}")]
    Refused(String),
    /// The ID token does not carry the sign-in's nonce.
    #[error("the ID token does not belong to this sign-in")]
    NonceMismatch,
}

#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    authorization_endpoint: String,
    token_endpoint: String,
    issuer: String,
}

/// What the token endpoint answers.
#[derive(Debug, Deserialize)]
pub struct TokenAnswer {
    /// The access token the services accept.
    pub access_token: String,
    /// The ID token (its nonce is checked).
    #[serde(default)]
    pub id_token: Option<String>,
    /// Seconds the access token lives.
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// The issuer as the console uses it.
#[derive(Debug)]
pub struct Oidc {
    http: reqwest::Client,
    discovery_url: String,
    console: ConsoleSettings,
    discovered: OnceCell<Discovery>,
}

impl Oidc {
    /// The console's client of the issuer whose discovery document is at `discovery_url`.
    pub fn new(http: reqwest::Client, discovery_url: String, console: ConsoleSettings) -> Self {
        Self {
            http,
            discovery_url,
            console,
            discovered: OnceCell::new(),
        }
    }

    /// The redirect URI registered for the console.
    pub fn redirect_uri(&self) -> String {
        format!("{}/console/callback", self.console.public_url)
    }

    async fn discovery(&self) -> Result<&Discovery, OidcError> {
        self.discovered
            .get_or_try_init(|| async {
                Ok(self
                    .http
                    .get(&self.discovery_url)
                    .timeout(ISSUER_TIMEOUT)
                    .send()
                    .await?
                    .error_for_status()?
                    .json::<Discovery>()
                    .await?)
            })
            .await
    }

    /// Where to send the browser: the authorization endpoint with the request's parameters, on
    /// the issuer's address as browsers reach it.
    pub async fn authorization_url(
        &self,
        state: &str,
        nonce: &str,
        challenge: &str,
    ) -> Result<String, OidcError> {
        let discovery = self.discovery().await?;
        let endpoint = match &self.console.browser_issuer_url {
            Some(browser) => discovery.authorization_endpoint.replacen(
                discovery.issuer.trim_end_matches('/'),
                browser,
                1,
            ),
            None => discovery.authorization_endpoint.clone(),
        };
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.console.client_id)
            .append_pair("redirect_uri", &self.redirect_uri())
            .append_pair("scope", "openid")
            .append_pair("state", state)
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        Ok(format!("{endpoint}?{query}"))
    }

    /// Exchanges the code for tokens (back channel) and checks the ID token's nonce.
    pub async fn exchange(
        &self,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<TokenAnswer, OidcError> {
        let discovery = self.discovery().await?;
        let redirect_uri = self.redirect_uri();
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("client_id", &self.console.client_id)
            .append_pair("code_verifier", verifier)
            .finish();
        let response = self
            .http
            .post(&discovery.token_endpoint)
            .timeout(ISSUER_TIMEOUT)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await?;
        if !response.status().is_success() {
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            return Err(OidcError::Refused(format!(
                "{status}: {}",
                text.chars().take(300).collect::<String>()
            )));
        }
        let answer: TokenAnswer = response.json().await?;
        if let Some(id_token) = &answer.id_token
            && nonce_of(id_token).as_deref() != Some(nonce)
        {
            return Err(OidcError::NonceMismatch);
        }
        Ok(answer)
    }
}

/// The `nonce` claim of a JWT's payload (the token came straight from the token endpoint over
/// the back channel, so its signature is not what guards it; the access token is verified).
fn nonce_of(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims["nonce"].as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nonce_is_read_from_the_id_tokens_payload() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"nonce":"n-1","sub":"ops1"}"#);
        assert_eq!(nonce_of(&format!("h.{payload}.s")).as_deref(), Some("n-1"));
        assert_eq!(nonce_of("not-a-jwt"), None);
    }
}
