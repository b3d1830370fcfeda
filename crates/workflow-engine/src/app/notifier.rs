//! LISTEN/NOTIFY fan-out: one listener connection per engine turns committed notifications
//! into in-process wake-ups for waiting long polls and CreateProcessInstanceWithResult calls.

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::store::{COMPLETION_CHANNEL, INSTANCE_CHANNEL, JOB_CHANNEL, TIMER_CHANNEL};

/// A wake-up delivered to waiters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wake {
    /// A job of this type became activatable.
    Job(String),
    /// This process instance ended.
    InstanceEnded(i64),
    /// The task listeners decided this completion (completed, denied or canceled).
    CompletionDecided(i64),
    /// Timers were created; the earliest is due at this instant (epoch milliseconds), so the
    /// scheduler only re-plans when it must wake sooner.
    TimerAdded(Option<i64>),
    /// Notifications may have been missed (listener reconnect or a lagging waiter): re-check.
    Resync,
}

/// Subscribable wake-ups plus the engine's shutdown signal.
#[derive(Debug, Clone)]
pub struct Notifier {
    wakes: broadcast::Sender<Wake>,
    shutdown: watch::Receiver<bool>,
}

impl Notifier {
    /// Starts listening; the task ends when `shutdown` turns true.
    pub async fn start(
        pool: &PgPool,
        shutdown: watch::Receiver<bool>,
    ) -> Result<(Self, JoinHandle<()>), sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener
            .listen_all([
                JOB_CHANNEL,
                INSTANCE_CHANNEL,
                TIMER_CHANNEL,
                COMPLETION_CHANNEL,
            ])
            .await?;
        let (wakes, _) = broadcast::channel(4096);
        let sender = wakes.clone();
        let mut stop = shutdown.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    received = listener.try_recv() => match received {
                        Ok(Some(n)) => {
                            let wake = match n.channel() {
                                JOB_CHANNEL => Wake::Job(n.payload().to_owned()),
                                TIMER_CHANNEL => Wake::TimerAdded(n.payload().parse().ok()),
                                COMPLETION_CHANNEL => n.payload().parse().map_or(Wake::Resync, Wake::CompletionDecided),
                                _ => n.payload().parse().map_or(Wake::Resync, Wake::InstanceEnded),
                            };
                            let _ = sender.send(wake);
                        }
                        // The connection dropped; sqlx reconnects on the next call.
                        Ok(None) => { let _ = sender.send(Wake::Resync); }
                        Err(error) => {
                            tracing::warn!(%error, "workflow notification listener failed; retrying");
                            let _ = sender.send(Wake::Resync);
                            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        }
                    }
                }
            }
        });
        Ok((Self { wakes, shutdown }, task))
    }

    /// A receiver of wake-ups; subscribe *before* checking the database so none is missed.
    pub fn subscribe(&self) -> broadcast::Receiver<Wake> {
        self.wakes.subscribe()
    }

    /// The shutdown signal, so long waits end promptly when the engine stops.
    pub fn shutdown(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }
}
