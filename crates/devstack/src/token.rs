//! OAuth 2.0 token requests against the stack's issuer (ours or Keycloak: the token endpoint
//! comes from the discovery document), and `devstack token`, which prints one access token.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use dev_issuer::{DEMO_PASSWORD, Directory, PORTAL_CLIENT};
use serde::Deserialize;

use crate::identity::{self, IssuerTarget, SEED_CLIENT};

/// What `devstack token` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    /// A demo user's token (password grant through the portal client).
    User(String),
    /// A service account's token (client_credentials, secret from the directory file).
    Client(String),
}

impl TokenRequest {
    /// `<user>` or `--client <client_id>`.
    pub fn parse(args: &[String]) -> Option<Self> {
        match args {
            [flag, client] if flag == "--client" && !client.starts_with('-') => {
                Some(Self::Client(client.clone()))
            }
            [user] if !user.starts_with('-') => Some(Self::User(user.clone())),
            _ => None,
        }
    }
}

/// The RFC 6749 §5.1 answer (only what devstack reads).
#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
}

/// The RFC 6749 §5.2 error.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenError {
    error: String,
    error_description: String,
}

#[derive(Debug, Deserialize)]
struct Discovery {
    token_endpoint: String,
}

/// The token endpoint the issuer's discovery document names.
async fn token_endpoint(http: &reqwest::Client, issuer_url: &str) -> Result<String> {
    let url = format!("{issuer_url}/.well-known/openid-configuration");
    let response = http
        .get(&url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .with_context(|| {
            format!(
                "no OIDC issuer answers at {issuer_url} (is the stack running? ./dev up starts \
                 it; OIDC_ISSUER or OIDC_PORT point elsewhere)"
            )
        })?;
    if !response.status().is_success() {
        bail!("GET {url} answered HTTP {}", response.status());
    }
    let discovery: Discovery = response
        .json()
        .await
        .with_context(|| format!("GET {url} did not answer a discovery document"))?;
    Ok(discovery.token_endpoint)
}

/// Posts `form` to the token endpoint and returns `access_token`, or the §5.2 error in words.
async fn request_token(
    http: &reqwest::Client,
    issuer_url: &str,
    form: &[(&str, &str)],
    who: &str,
) -> Result<String> {
    let endpoint = token_endpoint(http, issuer_url).await?;
    let response = http
        .post(&endpoint)
        .form(form)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .with_context(|| format!("POST {endpoint} failed"))?;
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    if status.is_success() {
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .with_context(|| format!("POST {endpoint} answered no access_token"))?;
        return Ok(answer.access_token);
    }
    let error: TokenError = serde_json::from_slice(&body).unwrap_or_default();
    match error.error.as_str() {
        "invalid_grant" => bail!(
            "the issuer refused {who}: unknown user or wrong password ({}). The demo users are \
             listed in {}",
            error.error_description,
            identity::DIRECTORY_FILE
        ),
        "invalid_client" | "unauthorized_client" => bail!(
            "the issuer refused {who}: {} ({})",
            error.error,
            error.error_description
        ),
        _ => bail!(
            "POST {endpoint} for {who} answered HTTP {status}: {}",
            String::from_utf8_lossy(&body)
                .chars()
                .take(300)
                .collect::<String>()
        ),
    }
}

/// A demo user's token: the password grant through the portal's public client.
pub async fn user_token(
    http: &reqwest::Client,
    issuer_url: &str,
    username: &str,
    password: &str,
) -> Result<String> {
    let form = [
        ("grant_type", "password"),
        ("client_id", PORTAL_CLIENT),
        ("username", username),
        ("password", password),
    ];
    request_token(http, issuer_url, &form, &format!("user {username:?}")).await
}

/// A service account's token: client_credentials with the client's id and secret.
pub async fn client_token(
    http: &reqwest::Client,
    issuer_url: &str,
    client_id: &str,
    secret: &str,
) -> Result<String> {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
    ];
    request_token(http, issuer_url, &form, &format!("client {client_id:?}")).await
}

/// The demo seed's token: the `devstack` client's service account.
pub async fn seed_token(
    http: &reqwest::Client,
    issuer_url: &str,
    directory: &Directory,
) -> Result<String> {
    let client = directory
        .service_client(SEED_CLIENT)
        .with_context(|| format!("no client {SEED_CLIENT:?} in {}", identity::DIRECTORY_FILE))?;
    client_token(http, issuer_url, &client.client_id, &client.secret).await
}

/// The token `request` asks for, from the issuer at `issuer_url`.
pub async fn fetch(
    http: &reqwest::Client,
    issuer_url: &str,
    directory: &Directory,
    request: &TokenRequest,
) -> Result<String> {
    match request {
        TokenRequest::User(username) => {
            // Users missing from the file still get a try: the issuer may know them (Keycloak).
            let password = directory
                .user(username)
                .map_or(DEMO_PASSWORD, |user| user.password.as_str());
            user_token(http, issuer_url, username, password).await
        }
        TokenRequest::Client(client_id) => {
            let Some(client) = directory.service_client(client_id) else {
                let known: Vec<&str> = directory
                    .service_clients
                    .iter()
                    .map(|c| c.client_id.as_str())
                    .collect();
                bail!(
                    "unknown client {client_id:?}: {} has the secrets of {}",
                    identity::DIRECTORY_FILE,
                    known.join(", ")
                );
            };
            client_token(http, issuer_url, &client.client_id, &client.secret).await
        }
    }
}

/// The issuer `devstack token` and `devstack seed` talk to: `OIDC_ISSUER`, else the development
/// issuer on `OIDC_PORT` (default 8079).
pub fn issuer_url_from_env() -> Result<String> {
    Ok(IssuerTarget::from_env()?.url())
}

/// `devstack token <user>` / `devstack token --client <client_id>`: prints the access token, alone
/// on one line, for `curl -H "Authorization: Bearer $(./dev token sales1)"`.
pub async fn command(request: TokenRequest) -> Result<ExitCode> {
    let issuer_url = issuer_url_from_env()?;
    let directory = identity::load_directory(&crate::settings::workspace_root())?;
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .build()
        .context("could not build the HTTP client")?;
    let token = fetch(&http, &issuer_url, &directory, &request).await?;
    crate::say(&token);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::jwk::JwkSet;
    use jsonwebtoken::{DecodingKey, Validation};

    use super::*;

    #[test]
    fn arguments() {
        let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            TokenRequest::parse(&args(&["sales1"])),
            Some(TokenRequest::User("sales1".into()))
        );
        assert_eq!(
            TokenRequest::parse(&args(&["--client", "cpq-service"])),
            Some(TokenRequest::Client("cpq-service".into()))
        );
        for wrong in [&[][..], &["--client"], &["-x"], &["a", "b"]] {
            assert_eq!(TokenRequest::parse(&args(wrong)), None);
        }
    }

    /// The issuer on a free port, then `devstack token`'s code path against it.
    #[tokio::test]
    async fn tokens_from_a_running_issuer() -> Result<()> {
        let directory = Directory::demo().map_err(anyhow::Error::msg)?;
        let running = identity::start(0, directory.clone(), Duration::from_secs(900)).await?;
        let url = running.url().to_owned();
        let http = reqwest::Client::new();

        let token = fetch(
            &http,
            &url,
            &directory,
            &TokenRequest::User("sales1".into()),
        )
        .await?;
        assert_eq!(token.split('.').count(), 3);
        let header = jsonwebtoken::decode_header(&token)?;
        let jwks: JwkSet = http.get(format!("{url}/jwks")).send().await?.json().await?;
        let jwk = jwks
            .find(header.kid.as_deref().unwrap_or_default())
            .context("kid")?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&url]);
        validation.set_audience(&["cpq-oms"]);
        let claims: dev_issuer::Claims =
            jsonwebtoken::decode(&token, &DecodingKey::from_jwk(jwk)?, &validation)?.claims;
        assert_eq!(claims.preferred_username, "sales1");
        assert_eq!(claims.azp, "cpq-portal");

        let seed = seed_token(&http, &url, &directory).await?;
        let seed = jsonwebtoken::dangerous::insecure_decode_claims::<dev_issuer::Claims>(&seed)?;
        assert_eq!(seed.preferred_username, "service-account-devstack");
        assert!(seed.has_role("catalog-admin"));

        let client = TokenRequest::Client("cpq-service".into());
        assert!(fetch(&http, &url, &directory, &client).await.is_ok());

        let unknown = fetch(
            &http,
            &url,
            &directory,
            &TokenRequest::User("nobody".into()),
        )
        .await;
        let message = format!("{:#}", unknown.err().context("nobody got a token")?);
        assert!(
            message.contains("unknown user or wrong password"),
            "{message}"
        );
        let unknown = fetch(&http, &url, &directory, &TokenRequest::Client("x".into())).await;
        let message = format!("{:#}", unknown.err().context("x got a token")?);
        assert!(message.contains("unknown client"), "{message}");
        Ok(())
    }

    #[tokio::test]
    async fn no_issuer_is_a_clear_error() -> Result<()> {
        let directory = Directory::demo().map_err(anyhow::Error::msg)?;
        let free = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let url = format!("http://127.0.0.1:{free}");
        let request = TokenRequest::User("sales1".into());
        let error = fetch(&reqwest::Client::new(), &url, &directory, &request).await;
        let message = format!("{:#}", error.err().context("got a token from nothing")?);
        assert!(message.contains("is the stack running?"), "{message}");
        Ok(())
    }
}
