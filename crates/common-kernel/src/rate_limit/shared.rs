//! The shared limiter: [`GCRA_SCRIPT`] in Redis, behind the cache's discipline (every call
//! bounded by a short timeout, every failure a fallback, reconnection after a back-off).
//!
//! Unlike the cache, a request never waits for a connection to be made: the first request (and
//! the first after the back-off) starts connecting in the background and is decided locally, so
//! a Redis that does not answer costs each request at most the timeout of one call, and only
//! until the first failure marks it down.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{Decision, GCRA_SCRIPT, Limit, RateKey};

/// How long after a failure Redis is left alone before connecting again.
const RECONNECT_BACKOFF: Duration = Duration::from_secs(2);

/// Why Redis did not decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Unavailable {
    /// The first connection is being made.
    Connecting,
    /// Redis failed, timed out, or is being reconnected to after a failure.
    Down,
}

enum Link {
    Idle,
    Connecting { after_failure: bool },
    Connected(ConnectionManager),
    Down(Instant),
}

pub(super) struct Shared {
    client: redis::Client,
    timeout: Duration,
    link: Mutex<Link>,
    /// The script's SHA1 as Redis computed it, once it has been loaded.
    sha: OnceLock<String>,
}

impl Shared {
    pub(super) fn new(url: &str, timeout: Duration) -> redis::RedisResult<Self> {
        Ok(Self {
            client: redis::Client::open(url)?,
            timeout,
            link: Mutex::new(Link::Idle),
            sha: OnceLock::new(),
        })
    }

    /// Runs the script for `key`, within the timeout.
    pub(super) async fn decide(
        self: &Arc<Self>,
        key: &RateKey,
        limit: Limit,
    ) -> Result<Decision, Unavailable> {
        let mut connection = self.connection()?;
        let call = self.run(&mut connection, key, limit);
        match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok((1, _))) => Ok(Decision::Allowed),
            Ok(Ok((_, micros))) => Ok(Decision::Refused {
                retry_after: Duration::from_micros(u64::try_from(micros).unwrap_or(1)),
            }),
            Ok(Err(error)) => {
                tracing::debug!(%error, "rate limit script failed");
                self.mark_down();
                Err(Unavailable::Down)
            }
            Err(_) => {
                tracing::debug!(timeout = ?self.timeout, "rate limit script timed out");
                self.mark_down();
                Err(Unavailable::Down)
            }
        }
    }

    /// EVALSHA, loading the script on first use and falling back to EVAL when the server lost
    /// it (a restart, `SCRIPT FLUSH`); EVAL caches it again for the next EVALSHA.
    async fn run(
        &self,
        connection: &mut ConnectionManager,
        key: &RateKey,
        limit: Limit,
    ) -> redis::RedisResult<(i64, i64)> {
        let redis_key = key.redis_key();
        let sha = match self.sha.get() {
            Some(sha) => sha.clone(),
            None => {
                let sha: String = redis::cmd("SCRIPT")
                    .arg("LOAD")
                    .arg(GCRA_SCRIPT)
                    .query_async(connection)
                    .await?;
                self.sha.get_or_init(|| sha).clone()
            }
        };
        let evalsha = redis::cmd("EVALSHA")
            .arg(&sha)
            .arg(1)
            .arg(&redis_key)
            .arg(limit.interval_micros())
            .arg(limit.burst())
            .query_async(connection)
            .await;
        match evalsha {
            Err(error) if error.code() == Some("NOSCRIPT") => {
                redis::cmd("EVAL")
                    .arg(GCRA_SCRIPT)
                    .arg(1)
                    .arg(&redis_key)
                    .arg(limit.interval_micros())
                    .arg(limit.burst())
                    .query_async(connection)
                    .await
            }
            other => other,
        }
    }

    /// The connection when there is one; otherwise starts connecting in the background (unless
    /// already connecting or backing off) and lets this request be decided locally.
    fn connection(self: &Arc<Self>) -> Result<ConnectionManager, Unavailable> {
        let mut link = self.link.lock().unwrap_or_else(PoisonError::into_inner);
        let after_failure = match &*link {
            Link::Connected(connection) => return Ok(connection.clone()),
            Link::Connecting { after_failure } => {
                return Err(if *after_failure {
                    Unavailable::Down
                } else {
                    Unavailable::Connecting
                });
            }
            Link::Down(at) if at.elapsed() < RECONNECT_BACKOFF => return Err(Unavailable::Down),
            Link::Down(_) => true,
            Link::Idle => false,
        };
        *link = Link::Connecting { after_failure };
        drop(link);
        let shared = Arc::clone(self);
        tokio::spawn(async move { shared.connect().await });
        Err(if after_failure {
            Unavailable::Down
        } else {
            Unavailable::Connecting
        })
    }

    async fn connect(&self) {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let attempt = tokio::time::timeout(
            self.timeout * 4,
            ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await;
        let mut link = self.link.lock().unwrap_or_else(PoisonError::into_inner);
        *link = match attempt {
            Ok(Ok(connection)) => Link::Connected(connection),
            _ => {
                tracing::debug!("rate limiter cannot reach Redis");
                Link::Down(Instant::now())
            }
        };
    }

    /// Drops a connection that just failed, so requests are decided locally until the back-off
    /// has passed and a new connection is made.
    fn mark_down(&self) {
        let mut link = self.link.lock().unwrap_or_else(PoisonError::into_inner);
        if matches!(*link, Link::Connected(_)) {
            *link = Link::Down(Instant::now());
        }
    }
}
