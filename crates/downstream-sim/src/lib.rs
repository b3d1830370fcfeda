//! A downstream-systems simulator for the local stack and the tests: inventory, provisioning,
//! billing, CRM, contract and notification, each on its own listener, with the behaviours a real
//! downstream has — each effect applied once per idempotency key, status queries by key — and
//! the ones it has on a bad day, injected on demand (crates/downstream-sim/README.md).

pub mod config;
pub mod control;
pub mod faults;
pub mod handler;
#[cfg(feature = "harness")]
pub mod harness;
pub mod ledger;
pub mod listener;
pub mod problem;
pub mod systems;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::{Config, ConfigError};

use faults::Faults;
use ledger::Ledger;
use listener::Outage;

/// One system's listener and its availability.
#[derive(Debug)]
pub struct SystemSlot {
    /// The system's name.
    pub name: &'static str,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Whether it is down (an UNAVAILABLE fault) and until when.
    pub availability: watch::Sender<Outage>,
}

/// What every listener shares.
#[derive(Debug)]
pub struct Sim {
    /// Answers, effects and entities.
    pub ledger: Ledger,
    /// Active faults.
    pub faults: Faults,
    /// The bearer token systems demand, when set.
    pub api_key: Option<String>,
    /// The systems.
    pub systems: Vec<SystemSlot>,
}

/// Why the simulator stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A port could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, #[source] std::io::Error),
    /// The journal failed.
    #[error(transparent)]
    Journal(#[from] ledger::JournalError),
    /// Serving failed.
    #[error("serving: {0}")]
    Serve(#[source] std::io::Error),
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, RunError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| RunError::Bind(addr, e))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Binds every listener, prints the ready line, serves until SIGINT/SIGTERM.
pub async fn run(config: Config) -> Result<(), RunError> {
    let ledger = Ledger::open(config.data_dir.as_deref())?;
    let control = bind(config.control).await?;
    let control_addr = control.local_addr().map_err(RunError::Serve)?;
    let ephemeral = config.control.port() == 0;
    let mut listeners = Vec::new();
    let mut slots = Vec::new();
    for (index, name) in systems::SYSTEMS.into_iter().enumerate() {
        let port = if ephemeral {
            0
        } else {
            config
                .systems_base_port
                .saturating_add(u16::try_from(index).unwrap_or(0))
        };
        let listener = bind(SocketAddr::new(config.control.ip(), port)).await?;
        let addr = listener.local_addr().map_err(RunError::Serve)?;
        let (tx, rx) = watch::channel(None);
        listeners.push((listener, addr, rx, name));
        slots.push(SystemSlot {
            name,
            addr,
            availability: tx,
        });
    }
    let sim = Arc::new(Sim {
        ledger,
        faults: Faults::default(),
        api_key: config.api_key.clone(),
        systems: slots,
    });
    for (listener, addr, rx, name) in listeners {
        let router: Router =
            Router::new()
                .fallback(handler::handle)
                .with_state(handler::SystemState {
                    sim: Arc::clone(&sim),
                    system: name,
                });
        tokio::spawn(listener::serve_system(listener, addr, router, rx));
    }
    let ready = serde_json::json!({
        "control": format!("http://{control_addr}"),
        "systems": sim.systems.iter().map(|s| (s.name, format!("http://{}", s.addr))).collect::<BTreeMap<_, _>>(),
    });
    {
        // The one line on stdout: how tests and ./dev learn where everything listens.
        #[allow(clippy::print_stdout)]
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{ready}");
        let _ = out.flush();
    }
    tracing::info!(control = %control_addr, "downstream simulator ready");
    axum::serve(control, control::router(sim))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(RunError::Serve)
}
