//! The connection to a Zeebe gateway (embedded engine or Camunda 8): zeebe-rs's client for
//! job commands, plus a generated client for the one call zeebe-rs keeps private
//! (`ActivateJobs`).

use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

use crate::error::RuntimeError;
use crate::handler::JobHandler;
use crate::proto::gateway_client::GatewayClient;
use crate::worker::{WorkerConfig, WorkerHandle};

/// A connected gateway; cheap to clone, shared by all workers of a service.
#[derive(Debug, Clone)]
pub struct Gateway {
    zeebe: zeebe_rs::Client,
    activation: GatewayClient<Channel>,
}

impl Gateway {
    /// Connects to `host` (with scheme, e.g. `http://127.0.0.1`) and `port`. zeebe-rs connects
    /// eagerly (a wrong address fails at start-up); the activation channel connects lazily and
    /// the poll loop retries it with back-off. No TLS or OAuth on the activation channel yet.
    pub async fn connect(host: &str, port: u16) -> Result<Self, RuntimeError> {
        let zeebe = zeebe_rs::Client::builder()
            .with_address(host, port)
            .build()
            .await
            .map_err(RuntimeError::Client)?;
        let address = format!("{host}:{port}");
        let channel = Endpoint::from_shared(address.clone())
            .map_err(|source| RuntimeError::Address {
                address: address.clone(),
                source,
            })?
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .connect_lazy();
        Ok(Self {
            zeebe,
            activation: GatewayClient::new(channel).max_decoding_message_size(16 * 1024 * 1024),
        })
    }

    /// Connects to an address as services configure it (`ZEEBE_ADDRESS`, e.g.
    /// `http://zeebe:26500`): scheme and host, a colon, and the port.
    pub async fn connect_address(address: &str) -> Result<Self, RuntimeError> {
        let (host, port) = address
            .rsplit_once(':')
            .and_then(|(host, port)| Some((host, port.trim_end_matches('/').parse().ok()?)))
            .filter(|(host, _)| host.contains("://"))
            .ok_or(RuntimeError::Config(
                "gateway address must look like http://host:port",
            ))?;
        Self::connect(host, port).await
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
            config,
            handler,
        ))
    }
}
