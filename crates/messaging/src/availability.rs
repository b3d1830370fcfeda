//! Telling "the database cannot be reached" from "this message failed", and waiting out the
//! first. A consumer that spends its attempts on an outage dead-letters messages that were fine,
//! and when even the dead letter cannot be stored, moves past them: evidence an audit log must
//! keep would be skipped by a PostgreSQL restart. So an unavailable database holds the message
//! (and the partition behind it) until it answers or the consumer is asked to stop; the offset
//! is not committed, so a restart reads it again.

use std::time::Duration;

use tokio::sync::watch;

/// The longest pause between two tries while the database is away.
const MAX_PAUSE: Duration = Duration::from_secs(5);

/// Whether `error` means the database could not be reached or is going away (connection
/// refused or reset, pool exhausted waiting for a connection, server shutting down or not yet
/// accepting), as opposed to a statement that failed.
pub(crate) fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database) => database.code().is_some_and(|code| {
            // Class 08: connection exception; 57P01-57P03: shutdown, crash, cannot connect now;
            // 53300: too many connections.
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// Waits before the `round`-th retry against an unavailable database: 200 ms doubling to 5 s.
/// `false` when the consumer is asked to stop meanwhile (the message is then left unacknowledged).
pub(crate) async fn pause(stopped: &watch::Receiver<bool>, round: u32) -> bool {
    if *stopped.borrow() {
        return false;
    }
    let delay = Duration::from_millis(200)
        .saturating_mul(2u32.saturating_pow(round.min(5)))
        .min(MAX_PAUSE);
    let mut stopped = stopped.clone();
    tokio::select! {
        _ = stopped.changed() => {}
        _ = tokio::time::sleep(delay) => {}
    }
    !*stopped.borrow()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reachability_failures_count_as_unavailable() {
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(is_unavailable(&sqlx::Error::PoolClosed));
        assert!(is_unavailable(&sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "refused"
        ))));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
        assert!(!is_unavailable(&sqlx::Error::Protocol("bad".into())));
    }

    #[tokio::test]
    async fn a_stop_ends_the_pause_at_once() {
        let (stop, stopped) = watch::channel(false);
        let waiting = tokio::spawn(async move { pause(&stopped, 10).await });
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop.send_replace(true);
        let answer = tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("the pause ends when asked to stop")
            .expect("joined");
        assert!(!answer);
    }
}
