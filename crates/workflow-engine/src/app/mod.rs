//! Command handlers: each gRPC command runs in one transaction, locks the process instance it
//! touches, applies the pure stepping rules of `engine` and writes through `store`.

mod activate;
mod commands;
mod definitions;
mod incidents;
mod listeners;
mod messages;
mod notifier;
mod ops;
mod run;
mod scheduler;
mod user_tasks;

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;

pub use activate::{ActivateRequest, ActivatedJob};
pub use commands::{CreateInstance, Deployed, InstanceCreated, InstanceResult};
pub use listeners::DENIED_REASON_VARIABLE;
pub use messages::PublishMessage;
pub use notifier::{Notifier, Wake};
pub use ops::{ActiveElement, IncidentFilter, InstanceDetail};
pub use user_tasks::{SearchPage, SortColumn, UserTaskFilter};

use definitions::Definitions;

/// Tuning of the engine, with Zeebe's defaults where Zeebe has one.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Long-poll duration when a request says `requestTimeout = 0` (Zeebe's gateway: 10 s).
    pub default_long_poll: Duration,
    /// Safety re-check of waiting long polls and of the timer scheduler, in case a
    /// notification was lost while the listener reconnected; wake-ups normally come from NOTIFY.
    pub fallback_poll: Duration,
    /// CreateProcessInstanceWithResult wait when the request gives none.
    pub default_result_timeout: Duration,
    /// How long a user-task completion waits for its `completing` listeners before answering
    /// that the outcome is still open (REST 504). Keep it below the REST request timeout.
    pub listener_wait: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            default_long_poll: Duration::from_secs(10),
            fallback_poll: Duration::from_secs(5),
            default_result_timeout: Duration::from_secs(60),
            listener_wait: Duration::from_secs(25),
        }
    }
}

/// The engine: a pool, the parsed-definition cache and the notification fan-out. Cheap to
/// clone; holds no process state (that is all in PostgreSQL).
#[derive(Debug, Clone)]
pub struct Engine {
    pool: PgPool,
    definitions: Arc<Definitions>,
    notifier: Notifier,
    config: EngineConfig,
}

impl Engine {
    /// Wires the engine over a migrated pool and a running notifier.
    pub fn new(pool: PgPool, notifier: Notifier, config: EngineConfig) -> Self {
        Self {
            pool,
            definitions: Arc::new(Definitions::default()),
            notifier,
            config,
        }
    }

    /// The pool (operator views and tests read through it).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

impl Engine {
    /// Starts the timer scheduler on this engine; it ends when `stop` turns true.
    pub(crate) fn start_scheduler(
        &self,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(scheduler::run(self.clone(), stop))
    }

    /// The tuning in force.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }
}

/// A read-only transaction on one snapshot, so that a page and its total (two statements) agree
/// even while commands create or complete records between them.
async fn snapshot(
    pool: &PgPool,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}
