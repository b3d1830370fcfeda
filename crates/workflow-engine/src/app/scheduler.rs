//! The timer scheduler: one task per engine process fires due timers, each in its own instance
//! transaction, then sleeps until the next due time. A command that creates a timer notifies
//! `workflow_timer` with the timer's due instant, so a sleeping scheduler re-plans only when it
//! must wake sooner. Timers are rows, so a restart loses none: the first pass after start-up
//! fires whatever fell due while the engine was down.

use std::time::Duration;

use chrono::Utc;
use serde_json::Map;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::time::Instant;

use super::Engine;
use super::commands::lock_active;
use super::notifier::Wake;
use super::run::Run;
use crate::error::EngineError;
use crate::store;

/// Timers listed per round trip while catching up.
const BATCH: i64 = 64;
/// Pause after a pass in which a timer could not be fired, so a persistent failure (say the
/// database is down) is retried without spinning.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// How often expired buffered messages are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(30);

/// Runs the scheduler until `stop` turns true. A timer being fired when the stop arrives is
/// finished first (its transaction commits or rolls back as a whole).
pub(crate) async fn run(engine: Engine, mut stop: watch::Receiver<bool>) {
    let mut wakes = engine.notifier.subscribe();
    let mut next_purge = Instant::now();
    loop {
        let healthy = match engine.fire_due_timers().await {
            Ok(all_fired) => all_fired,
            Err(error) => {
                tracing::warn!(%error, "timer scheduler pass failed; retrying");
                false
            }
        };
        if Instant::now() >= next_purge {
            if let Err(error) = engine.purge_expired_messages().await {
                tracing::warn!(%error, "could not delete expired messages");
            }
            next_purge = Instant::now() + PURGE_EVERY;
        }
        let mut wake_at = (Instant::now() + engine.config.fallback_poll).min(next_purge);
        if healthy {
            match engine.next_timer_in().await {
                Ok(Some(delay)) => wake_at = wake_at.min(Instant::now() + delay),
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(%error, "cannot read the next timer");
                    wake_at = wake_at.min(Instant::now() + RETRY_AFTER);
                }
            }
        } else {
            wake_at = wake_at.min(Instant::now() + RETRY_AFTER);
        }
        loop {
            tokio::select! {
                wake = wakes.recv() => match wake {
                    Ok(Wake::TimerAdded(Some(due_ms))) => {
                        let delay = u64::try_from(due_ms - Utc::now().timestamp_millis()).unwrap_or(0);
                        let due = Instant::now() + Duration::from_millis(delay);
                        if due < wake_at {
                            wake_at = due;
                        }
                    }
                    Ok(Wake::TimerAdded(None) | Wake::Resync) | Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return,
                    Ok(_) => {}
                },
                () = tokio::time::sleep_until(wake_at) => break,
                _ = stop.changed() => return,
            }
        }
    }
}

impl Engine {
    /// Fires every timer due now. Returns false when some could not be fired (they are retried
    /// on the next pass; the others are not held up by them).
    async fn fire_due_timers(&self) -> Result<bool, EngineError> {
        let mut failed: Vec<i64> = Vec::new();
        loop {
            let due = {
                let mut conn = self.pool.acquire().await?;
                store::timers::due(&mut conn, BATCH, &failed).await?
            };
            let full = i64::try_from(due.len()).is_ok_and(|n| n == BATCH);
            for timer in due {
                if let Err(error) = self.fire_timer(&timer).await {
                    tracing::warn!(%error, timer_key = timer.key, element_id = %timer.element_id,
                        "timer could not be fired; retrying");
                    failed.push(timer.key);
                }
            }
            if !full {
                return Ok(failed.is_empty());
            }
        }
    }

    /// Fires one timer in its instance's transaction: lock the instance, claim the timer
    /// (`FOR UPDATE SKIP LOCKED`, re-checking it is still there and due), delete it and step the
    /// event it belongs to.
    #[tracing::instrument(skip_all, fields(timer_key = timer.key, process_instance_key = timer.process_instance_key), err)]
    async fn fire_timer(&self, timer: &store::timers::TimerRow) -> Result<(), EngineError> {
        let mut tx = self.pool.begin().await?;
        let instance = match lock_active(&mut tx, timer.process_instance_key).await {
            Ok(instance) => instance,
            Err(EngineError::NotFound(_)) => {
                // The instance ended; its timers should be gone already. Drop a stray one.
                store::timers::delete(&mut tx, timer.key).await?;
                tx.commit().await?;
                return Ok(());
            }
            Err(other) => return Err(other),
        };
        let Some(claimed) = store::timers::claim(&mut tx, timer.key).await? else {
            return Ok(());
        };
        store::timers::delete(&mut tx, claimed.key).await?;
        let model = self
            .definitions
            .get(&mut tx, instance.definition_key)
            .await?;
        let mut run = Run::new(&mut tx, &model, &instance).await?;
        run.trigger(
            claimed.element_instance_key,
            &claimed.element_id,
            &Map::new(),
        )
        .await?;
        run.drain().await?;
        tx.commit().await?;
        Ok(())
    }

    /// How long until the next timer is due, if any.
    async fn next_timer_in(&self) -> Result<Option<Duration>, EngineError> {
        let mut conn = self.pool.acquire().await?;
        Ok(store::timers::next_due_in_ms(&mut conn)
            .await?
            .map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0))))
    }

    /// Deletes messages whose TTL ran out (queries already ignore them; this bounds the table).
    async fn purge_expired_messages(&self) -> Result<(), EngineError> {
        let mut conn = self.pool.acquire().await?;
        let purged = store::messages::delete_expired(&mut conn).await?;
        if purged > 0 {
            tracing::debug!(purged, "expired messages deleted");
        }
        Ok(())
    }
}
