//! The connection to a Zeebe gateway (embedded engine or Camunda 8): zeebe-rs's client for
//! job commands, plus a generated client for the one call zeebe-rs keeps private
//! (`ActivateJobs`).

use std::sync::Arc;
use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

use crate::credentials::{GatewayCredentials, GatewayToken};
use crate::error::RuntimeError;
use crate::handler::JobHandler;
use crate::proto::gateway_client::GatewayClient;
use crate::worker::{WorkerConfig, WorkerHandle};

/// How long a connection with credentials waits for its first token: zeebe-rs re-asks a token
/// server that failed only every ten seconds, so this covers one retry.
const FIRST_TOKEN_WAIT: Duration = Duration::from_secs(12);

/// A connected gateway; cheap to clone, shared by all workers of a service.
#[derive(Debug, Clone)]
pub struct Gateway {
    zeebe: zeebe_rs::Client,
    activation: GatewayClient<Channel>,
    /// The bearer token of every activation call, when the gateway demands one.
    token: Option<Arc<GatewayToken>>,
}

impl Gateway {
    /// Connects to `host` (with scheme, e.g. `http://127.0.0.1`) and `port` without credentials.
    /// zeebe-rs connects eagerly (a wrong address fails at start-up); the activation channel
    /// connects lazily and the poll loop retries it with back-off.
    pub async fn connect(host: &str, port: u16) -> Result<Self, RuntimeError> {
        Self::connect_with(host, port, None).await
    }

    /// [`Gateway::connect`], sending a bearer token of `credentials` with every call when given:
    /// zeebe-rs's OAuth support for job commands, the same client's token for activation.
    pub async fn connect_with(
        host: &str,
        port: u16,
        credentials: Option<GatewayCredentials>,
    ) -> Result<Self, RuntimeError> {
        let mut builder = zeebe_rs::Client::builder().with_address(host, port);
        if let Some(credentials) = &credentials {
            builder = builder.with_oauth(
                credentials.client_id.clone(),
                credentials.client_secret.expose().to_owned(),
                credentials.authorization_server_url.clone(),
                credentials.audience.clone(),
                Duration::from_secs(5),
                None,
            );
        }
        let zeebe = builder.build().await.map_err(RuntimeError::Client)?;
        if credentials.is_some() {
            // zeebe-rs fetches its first token in the background and refuses every command
            // ("token unavailable") until it holds one; wait for it so the first deployment
            // does not race the fetch. A token server still down after the wait leaves the
            // commands to fail and be retried like any unavailable gateway.
            if tokio::time::timeout(FIRST_TOKEN_WAIT, zeebe.auth_initialized())
                .await
                .is_err()
            {
                tracing::warn!(
                    wait_seconds = FIRST_TOKEN_WAIT.as_secs(),
                    "no gateway token yet; commands are refused until the token server answers"
                );
            }
        }
        let address = format!("{host}:{port}");
        let channel = Endpoint::from_shared(address.clone())
            .map_err(|source| RuntimeError::Address {
                address: address.clone(),
                source,
            })?
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .connect_lazy();
        let token = credentials
            .map(GatewayToken::new)
            .transpose()?
            .map(Arc::new);
        Ok(Self {
            zeebe,
            activation: GatewayClient::new(channel).max_decoding_message_size(16 * 1024 * 1024),
            token,
        })
    }

    /// Cancels a process instance; one that already ended (`NOT_FOUND`) counts as cancelled, so
    /// a service that started a duplicate instance, or stops one the engine already finished,
    /// gets the same answer.
    pub async fn cancel_instance(&self, key: i64) -> Result<(), zeebe_rs::ClientError> {
        match self
            .zeebe
            .cancel_process_instance()
            .with_process_instance_key(key)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(zeebe_rs::ClientError::RequestFailed(status))
                if status.code() as i32 == tonic::Code::NotFound as i32 =>
            {
                Ok(())
            }
            Err(other) => Err(other),
        }
    }

    /// Connects to an address as services configure it (`ZEEBE_ADDRESS`, e.g.
    /// `http://zeebe:26500`): scheme and host, a colon, and the port; with the credentials the
    /// environment configures (`ZEEBE_CLIENT_ID` and the rest, see
    /// [`GatewayCredentials::from_env`]), so a worker sends a token exactly when one is set up.
    pub async fn connect_address(address: &str) -> Result<Self, RuntimeError> {
        Self::connect_address_with(address, GatewayCredentials::from_env()?).await
    }

    /// [`Gateway::connect_address`] with explicit credentials.
    pub async fn connect_address_with(
        address: &str,
        credentials: Option<GatewayCredentials>,
    ) -> Result<Self, RuntimeError> {
        let (host, port) = address
            .rsplit_once(':')
            .and_then(|(host, port)| Some((host, port.trim_end_matches('/').parse().ok()?)))
            .filter(|(host, _)| host.contains("://"))
            .ok_or(RuntimeError::Config(
                "gateway address must look like http://host:port",
            ))?;
        Self::connect_with(host, port, credentials).await
    }

    /// zeebe-rs's client, for deploying and creating instances with the same connection.
    pub fn client(&self) -> &zeebe_rs::Client {
        &self.zeebe
    }

    /// Starts a worker for `config.job_type` running `handler`; it polls until
    /// [`WorkerHandle::shutdown`] (or until the handle is dropped).
    pub fn start_worker(
        &self,
        config: WorkerConfig,
        handler: impl JobHandler,
    ) -> Result<WorkerHandle, RuntimeError> {
        config.validate()?;
        Ok(crate::worker::spawn(
            self.zeebe.clone(),
            self.activation.clone(),
            self.token.clone(),
            config,
            handler,
        ))
    }
}
