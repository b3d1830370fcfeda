//! Redis as a pure accelerator: every operation is bounded by a short timeout and every
//! failure is a miss, so with Redis stopped the service answers correctly, only slower.
//! Values are immutable snapshots under versioned keys; nothing here needs invalidation.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;

use crate::settings::RedisSettings;

/// How long to wait before trying to reconnect after Redis could not be reached.
const RECONNECT_BACKOFF: Duration = Duration::from_secs(5);

/// A cheap-to-clone handle to the optional cache.
#[derive(Clone)]
pub struct Cache {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    client: redis::Client,
    timeout: Duration,
    connection: Mutex<ConnectionState>,
}

enum ConnectionState {
    Idle,
    Connected(ConnectionManager),
    FailedAt(Instant),
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("enabled", &self.inner.is_some())
            .finish()
    }
}

impl Cache {
    /// A cache that never stores anything (Redis disabled).
    pub fn disabled() -> Self {
        Self { inner: None }
    }

    /// A cache over the configured Redis; connects lazily, so a service starts while Redis is
    /// down. An unparseable URL disables the cache with a warning.
    pub fn new(settings: &RedisSettings) -> Self {
        let Some(url) = &settings.url else {
            return Self::disabled();
        };
        match redis::Client::open(url.expose()) {
            Ok(client) => Self {
                inner: Some(Arc::new(Inner {
                    client,
                    timeout: settings.timeout,
                    connection: Mutex::new(ConnectionState::Idle),
                })),
            },
            Err(error) => {
                tracing::warn!(%error, "REDIS_URL is invalid; caching disabled");
                Self::disabled()
            }
        }
    }

    /// Reads a JSON value; `None` on a miss, on any Redis failure and on a value that no longer
    /// deserialises (it is then simply overwritten by the next `put`).
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let inner = self.inner.as_ref()?;
        let mut connection = inner.connection().await?;
        let read =
            tokio::time::timeout(inner.timeout, connection.get::<_, Option<String>>(key)).await;
        match read {
            Ok(Ok(Some(text))) => {
                metrics::counter!("cache_requests_total", "result" => "hit").increment(1);
                serde_json::from_str(&text).ok()
            }
            Ok(Ok(None)) => {
                metrics::counter!("cache_requests_total", "result" => "miss").increment(1);
                None
            }
            failed => {
                metrics::counter!("cache_requests_total", "result" => "error").increment(1);
                tracing::debug!(key, failed = ?failed.map(|r| r.map(|_| ())), "cache read failed");
                inner.forget().await;
                None
            }
        }
    }

    /// Stores a JSON value with a time-to-live; failures are logged and ignored.
    pub async fn put<T: Serialize>(&self, key: &str, value: &T, ttl: Duration) {
        let Some(inner) = self.inner.as_ref() else {
            return;
        };
        let Ok(text) = serde_json::to_string(value) else {
            return;
        };
        let Some(mut connection) = inner.connection().await else {
            return;
        };
        let written = tokio::time::timeout(
            inner.timeout,
            connection.set_ex::<_, _, ()>(key, text, ttl.as_secs().max(1)),
        )
        .await;
        if !matches!(written, Ok(Ok(()))) {
            metrics::counter!("cache_requests_total", "result" => "error").increment(1);
            inner.forget().await;
        }
    }

    /// Read-through for immutable values: with a `key`, returns the cached value when present
    /// and `accept`ed (callers check ownership), else loads it and caches it for `ttl`. Without a
    /// key (the value is not immutable yet) it only loads.
    pub async fn read_through<T, E, Fut>(
        &self,
        key: Option<&str>,
        ttl: Duration,
        accept: impl Fn(&T) -> bool,
        load: impl FnOnce() -> Fut,
    ) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        Fut: Future<Output = Result<T, E>>,
    {
        let Some(key) = key else {
            return load().await;
        };
        if let Some(hit) = self.get::<T>(key).await.filter(|value| accept(value)) {
            return Ok(hit);
        }
        let value = load().await?;
        self.put(key, &value, ttl).await;
        Ok(value)
    }

    /// Whether Redis answers a PING right now (reported by readiness, never required).
    pub async fn ping(&self) -> bool {
        let Some(inner) = self.inner.as_ref() else {
            return false;
        };
        let Some(mut connection) = inner.connection().await else {
            return false;
        };
        let pong = tokio::time::timeout(
            inner.timeout,
            redis::cmd("PING").query_async::<String>(&mut connection),
        )
        .await;
        matches!(pong, Ok(Ok(_)))
    }
}

impl Inner {
    async fn connection(&self) -> Option<ConnectionManager> {
        let mut state = self.connection.lock().await;
        match &*state {
            ConnectionState::Connected(manager) => return Some(manager.clone()),
            ConnectionState::FailedAt(at) if at.elapsed() < RECONNECT_BACKOFF => return None,
            _ => {}
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let attempt = tokio::time::timeout(
            self.timeout * 2,
            ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await;
        match attempt {
            Ok(Ok(manager)) => {
                *state = ConnectionState::Connected(manager.clone());
                Some(manager)
            }
            _ => {
                tracing::warn!("Redis unreachable; serving without cache");
                *state = ConnectionState::FailedAt(Instant::now());
                None
            }
        }
    }

    /// Drops a connection that just failed so the next call backs off, then reconnects.
    async fn forget(&self) {
        *self.connection.lock().await = ConnectionState::FailedAt(Instant::now());
    }
}
