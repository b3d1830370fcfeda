//! The OIDC issuer of the local stack (ADR 0030): devstack runs the development issuer in its own
//! process on 127.0.0.1:8079 (`OIDC_PORT`), or uses the one `OIDC_ISSUER` names (Keycloak from
//! `deploy/docker-compose.yml`), and tells every service where it is and which client it is.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use dev_issuer::{Directory, Issuer, SigningAlgorithm};
use serde::Deserialize;

use crate::say;
use crate::settings::{LOCAL_HOST, env_or};

/// Where devstack runs its issuer unless `OIDC_PORT` says otherwise.
pub const DEFAULT_OIDC_PORT: u16 = 8079;

/// The demo users and clients, relative to the workspace root.
pub const DIRECTORY_FILE: &str = "deploy/identity/demo-identities.json";

/// The client the demo seed authenticates as.
pub const SEED_CLIENT: &str = "devstack";

/// Which issuer a run uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssuerTarget {
    /// devstack's own development issuer on 127.0.0.1:`port`.
    Embedded {
        /// The TCP port.
        port: u16,
    },
    /// An issuer devstack does not run (`OIDC_ISSUER`), e.g. the compose file's Keycloak.
    External {
        /// Its issuer URL, the `iss` of its tokens.
        url: String,
    },
}

impl IssuerTarget {
    /// `OIDC_ISSUER` when set, else the embedded issuer on `OIDC_PORT` (default 8079).
    pub fn from_env() -> Result<Self> {
        let issuer = env_or("OIDC_ISSUER", "");
        if !issuer.is_empty() {
            if !issuer.starts_with("http://") && !issuer.starts_with("https://") {
                bail!("OIDC_ISSUER={issuer:?} is not an http(s) URL");
            }
            return Ok(Self::External {
                url: issuer.trim_end_matches('/').to_owned(),
            });
        }
        let port = env_or("OIDC_PORT", &DEFAULT_OIDC_PORT.to_string());
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|port| *port != 0)
            .with_context(|| format!("OIDC_PORT={port:?} is not a TCP port (1-65535)"))?;
        Ok(Self::Embedded { port })
    }

    /// The issuer URL services verify `iss` against.
    pub fn url(&self) -> String {
        match self {
            Self::Embedded { port } => format!("http://{LOCAL_HOST}:{port}"),
            Self::External { url } => url.clone(),
        }
    }
}

/// Reads the demo users and clients from the workspace.
pub fn load_directory(workspace_root: &Path) -> Result<Directory> {
    let path: PathBuf = workspace_root.join(DIRECTORY_FILE);
    Directory::load(&path).map_err(anyhow::Error::msg)
}

/// The development issuer serving in this process.
#[derive(Debug)]
pub struct RunningIssuer {
    /// The library issuer, for tokens devstack mints itself (the contract gate's).
    pub issuer: Issuer,
}

impl RunningIssuer {
    /// The issuer URL.
    pub fn url(&self) -> &str {
        self.issuer.url()
    }
}

/// Binds 127.0.0.1:`port` (0: any free port) and serves a fresh issuer there on this runtime
/// until devstack exits.
pub async fn start(port: u16, directory: Directory, lifetime: Duration) -> Result<RunningIssuer> {
    let listener = tokio::net::TcpListener::bind((LOCAL_HOST, port))
        .await
        .with_context(|| format!("could not listen on {LOCAL_HOST}:{port}"))?;
    serve_on(listener, directory, lifetime)
}

fn serve_on(
    listener: tokio::net::TcpListener,
    directory: Directory,
    lifetime: Duration,
) -> Result<RunningIssuer> {
    let port = listener.local_addr()?.port();
    let url = format!("http://{LOCAL_HOST}:{port}");
    let issuer =
        Issuer::with_token_lifetime(&url, directory, lifetime).map_err(anyhow::Error::msg)?;
    let served = issuer.clone();
    tokio::spawn(async move {
        if let Err(error) = dev_issuer::serve(listener, served, std::future::pending()).await {
            say(&format!("    warning: the OIDC issuer stopped: {error}"));
        }
    });
    Ok(RunningIssuer { issuer })
}

/// The part of a discovery document devstack checks.
#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
}

/// Makes sure the run's issuer answers: starts the embedded one when its port is free, leaves a
/// development issuer already serving there alone, checks an external one's discovery document.
/// Returns the issuer URL and, when started here, the running issuer.
pub async fn provide(
    target: &IssuerTarget,
    http: &reqwest::Client,
    directory: &Directory,
) -> Result<(String, Option<RunningIssuer>)> {
    let url = target.url();
    let IssuerTarget::Embedded { port } = target else {
        say(&format!(
            "==> OIDC issuer {url} (OIDC_ISSUER; not started by devstack)"
        ));
        check_discovery(http, &url).await.with_context(|| {
            format!("the OIDC issuer at OIDC_ISSUER={url} does not answer as that issuer")
        })?;
        say("    discovery document found");
        return Ok((url, None));
    };
    match tokio::net::TcpListener::bind((LOCAL_HOST, *port)).await {
        Ok(listener) => {
            let running = serve_on(
                listener,
                directory.clone(),
                dev_issuer::DEFAULT_TOKEN_LIFETIME,
            )?;
            say(&format!(
                "==> OIDC issuer on {url} (development issuer, keys generated for this run: RS256 \
                 kid {}, ES256 kid {})",
                running.issuer.current_kid(SigningAlgorithm::Rs256),
                running.issuer.current_kid(SigningAlgorithm::Es256)
            ));
            Ok((url, Some(running)))
        }
        Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => {
            match check_discovery(http, &url).await {
                Ok(()) => {
                    say(&format!(
                        "==> OIDC issuer already running on {url}; leaving it alone"
                    ));
                    Ok((url, None))
                }
                Err(why) => bail!(
                    "port {port} is taken by something other than the development OIDC issuer \
                     ({why:#}). Stop it, move the issuer with OIDC_PORT=<port>, or use that issuer \
                     with OIDC_ISSUER=<its issuer URL> (Keycloak: http://127.0.0.1:8079/realms/cpq-oms)"
                ),
            }
        }
        Err(error) => {
            Err(error).with_context(|| format!("could not listen on {LOCAL_HOST}:{port}"))
        }
    }
}

/// `GET <url>/.well-known/openid-configuration` answers a document whose `issuer` is `url`.
async fn check_discovery(http: &reqwest::Client, url: &str) -> Result<()> {
    let discovery_url = format!("{url}/.well-known/openid-configuration");
    let response = http
        .get(&discovery_url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .with_context(|| format!("GET {discovery_url} failed"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("GET {discovery_url} answered HTTP {status}");
    }
    let discovery: Discovery = response
        .json()
        .await
        .with_context(|| format!("GET {discovery_url} did not answer a discovery document"))?;
    if discovery.issuer.trim_end_matches('/') != url {
        bail!(
            "{discovery_url} names issuer {:?}, not {url}",
            discovery.issuer
        );
    }
    Ok(())
}

/// What a service needs to verify tokens and to get its own: the issuer, the audience, and its
/// client's id and secret from the directory.
pub fn service_env(
    issuer_url: &str,
    directory: &Directory,
    client_id: &str,
) -> Result<Vec<(&'static str, String)>> {
    let client = directory.service_client(client_id).with_context(|| {
        format!(
            "no client {client_id:?} in {DIRECTORY_FILE}; add it there and to the Keycloak realm"
        )
    })?;
    Ok(vec![
        ("OIDC_ISSUER", issuer_url.to_owned()),
        ("OIDC_AUDIENCE", directory.audience.clone()),
        ("OIDC_CLIENT_ID", client.client_id.clone()),
        ("OIDC_CLIENT_SECRET", client.secret.clone()),
    ])
}

/// Where to look next, for `devstack up`'s summary.
pub fn print_urls(issuer_url: &str, directory: &Directory) {
    say("==> identity (ADR 0030)");
    say(&format!("    issuer    {issuer_url}"));
    say(&format!(
        "      discovery {issuer_url}/.well-known/openid-configuration"
    ));
    let users: Vec<&str> = directory
        .users
        .iter()
        .map(|u| u.username.as_str())
        .collect();
    say(&format!(
        "      users     {} (password demo, local use only; {DIRECTORY_FILE})",
        users.join(" ")
    ));
    say("      token     ./dev token sales1   (or ./dev token --client cpq-service)");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_service_has_a_client_in_the_directory() -> Result<()> {
        let directory = Directory::demo().map_err(anyhow::Error::msg)?;
        for spec in crate::services::SERVICES {
            let env = service_env("http://127.0.0.1:8079", &directory, spec.oidc_client)?;
            assert_eq!(env[0], ("OIDC_ISSUER", "http://127.0.0.1:8079".to_owned()));
            assert_eq!(env[1], ("OIDC_AUDIENCE", "cpq-oms".to_owned()));
            assert_eq!(env[2].1, spec.oidc_client);
            assert!(!env[3].1.is_empty());
            assert!(directory.user(spec.example_user).is_some(), "{}", spec.name);
        }
        assert!(directory.service_client(SEED_CLIENT).is_some());
        assert!(service_env("http://i", &directory, "nobody").is_err());
        Ok(())
    }

    #[tokio::test]
    async fn a_second_devstack_leaves_a_running_issuer_alone() -> Result<()> {
        let directory = Directory::demo().map_err(anyhow::Error::msg)?;
        let first = start(0, directory.clone(), Duration::from_secs(60)).await?;
        let port = first
            .url()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .context("no port")?;
        let http = reqwest::Client::new();
        let target = IssuerTarget::Embedded { port };
        let (url, started) = provide(&target, &http, &directory).await?;
        assert_eq!(url, first.url());
        assert!(started.is_none());
        let external = IssuerTarget::External { url: url.clone() };
        assert!(provide(&external, &http, &directory).await?.1.is_none());
        let wrong = IssuerTarget::External {
            url: format!("{url}/realms/elsewhere"),
        };
        assert!(provide(&wrong, &http, &directory).await.is_err());
        Ok(())
    }
}
