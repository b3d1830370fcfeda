//! Rate limits per tenant, client and route class (ADR 0030), with GCRA.
//!
//! The budget is shared by every replica through one Lua script in Redis ([`GCRA_SCRIPT`]), judged
//! by the Redis server's clock. Redis stays an accelerator: when it is disabled, down or slower
//! than a few milliseconds, a per-process limiter with the same limits decides instead, so a
//! Redis outage is never an API outage and never unlimited (each replica then enforces the limits
//! on its own). Redis is used again as soon as it answers. The HTTP side is
//! [`crate::http::rate_limit`].

mod local;
mod shared;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use domain_kernel::ids::TenantId;
use http::Method;

pub use local::LocalLimiter;

use crate::settings::{ClassLimit, RateLimitSettings, RedisSettings};
use shared::{Shared, Unavailable};

/// The Lua script Redis runs for every shared decision; public so its behaviour can be checked
/// against [`Limit::decide`] arrival by arrival.
pub const GCRA_SCRIPT: &str = include_str!("gcra.lua");

/// Stable problem code of a refused request (429, retryable).
pub const RATE_LIMITED: &str = "RATE_LIMITED";

/// Which budget a request draws from: reads are cheap and frequent, commands change state, so
/// each has its own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteClass {
    /// GET, HEAD and OPTIONS.
    Read,
    /// Every other method.
    Command,
}

impl RouteClass {
    /// The class of a request method.
    pub fn of(method: &Method) -> Self {
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            Self::Read
        } else {
            Self::Command
        }
    }

    /// Lower-case name, as it appears in Redis keys and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Command => "command",
        }
    }
}

/// Whose budget a request draws from: one tenant's client, for one route class of one service.
/// Each service protects its own capacity, so a client busy on one service keeps its budget on
/// the others.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateKey {
    /// The service enforcing the budget.
    pub service: &'static str,
    /// The tenant the request acts for.
    pub tenant: TenantId,
    /// The calling client (an OAuth client id, for instance) within the tenant.
    pub client: String,
    /// Reads or commands.
    pub class: RouteClass,
}

impl RateKey {
    /// The Redis key holding this budget: `rate-limit:<service>:<tenant>:<client>:<class>`.
    /// Service names and tenant ids have no `:` and the class is the last segment, so two keys
    /// never share a Redis key.
    pub fn redis_key(&self) -> String {
        format!(
            "rate-limit:{}:{}:{}:{}",
            self.service,
            self.tenant,
            self.client,
            self.class.as_str()
        )
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The request fits the budget (and has been counted).
    Allowed,
    /// The budget is spent; the same request would be allowed after `retry_after`.
    Refused {
        /// How long until the request would be allowed.
        retry_after: Duration,
    },
}

/// One class's GCRA parameters, in whole microseconds: the unit both the Lua script and the
/// per-process limiter compute in, so they agree exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    interval: u64,
    burst: u64,
}

impl Limit {
    /// `per_minute` sustained (at least one, at most one per microsecond) with `burst` requests
    /// back to back (at least one).
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let interval = 60_000_000 / u64::from(per_minute.max(1));
        Self {
            interval: interval.max(1),
            burst: u64::from(burst.max(1)),
        }
    }

    /// The limit a class's settings describe.
    pub fn from_settings(settings: &ClassLimit) -> Self {
        Self::new(settings.per_minute, settings.burst)
    }

    /// Microseconds between two requests at the sustained rate.
    pub fn interval_micros(self) -> u64 {
        self.interval
    }

    /// Requests accepted back to back.
    pub fn burst(self) -> u64 {
        self.burst
    }

    /// One GCRA step, the reference [`GCRA_SCRIPT`] mirrors: given the stored theoretical arrival
    /// time (`None` when there is none) and the arrival time `now`, the decision and, when the
    /// request is allowed, the arrival time to store. A stored time at or before `now` is
    /// equivalent to none, which is why idle keys can be dropped without changing any decision.
    pub fn decide(self, stored: Option<u64>, now: u64) -> (Decision, Option<u64>) {
        let tat = stored.map_or(now, |tat| tat.max(now));
        let new_tat = tat.saturating_add(self.interval);
        let allow_at = new_tat.saturating_sub(self.interval.saturating_mul(self.burst));
        if allow_at > now {
            let retry_after = Duration::from_micros(allow_at - now);
            (Decision::Refused { retry_after }, None)
        } else {
            (Decision::Allowed, Some(new_tat))
        }
    }
}

/// Which limiter made the last decisions, to log each switch once.
const STARTING: u8 = 0;
const SHARED: u8 = 1;
const LOCAL: u8 = 2;

/// The rate limiter a service holds: shared through Redis when it answers, per process
/// otherwise. Cheap to clone.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

struct Inner {
    read: Limit,
    command: Limit,
    local: LocalLimiter,
    shared: Option<Arc<Shared>>,
    mode: AtomicU8,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("read", &self.inner.read)
            .field("command", &self.inner.command)
            .field("shared", &self.inner.shared.is_some())
            .finish()
    }
}

impl RateLimiter {
    /// A limiter sharing its budgets through the configured Redis (connecting lazily, so a
    /// service starts while Redis is down), or per process when Redis is disabled or its URL
    /// is invalid.
    pub fn new(settings: &RateLimitSettings, redis: &RedisSettings) -> Self {
        let shared = redis.url.as_ref().and_then(|url| {
            match Shared::new(url.expose(), settings.redis_timeout) {
                Ok(shared) => Some(Arc::new(shared)),
                Err(error) => {
                    tracing::warn!(%error, "REDIS_URL is invalid; rate limits are per process");
                    None
                }
            }
        });
        if shared.is_none() {
            tracing::info!("Redis disabled; rate limits are enforced per process");
            metrics::gauge!("rate_limit_fallback_active").set(1.0);
        }
        Self {
            inner: Arc::new(Inner {
                read: Limit::from_settings(&settings.read),
                command: Limit::from_settings(&settings.command),
                local: LocalLimiter::new(settings.local_max_keys),
                shared,
                mode: AtomicU8::new(STARTING),
            }),
        }
    }

    /// A limiter that never uses Redis.
    pub fn local_only(settings: &RateLimitSettings) -> Self {
        Self::new(
            settings,
            &RedisSettings {
                url: None,
                timeout: settings.redis_timeout,
            },
        )
    }

    /// The limit of a route class.
    pub fn limit(&self, class: RouteClass) -> Limit {
        match class {
            RouteClass::Read => self.inner.read,
            RouteClass::Command => self.inner.command,
        }
    }

    /// Counts one request against `key`'s budget. Never fails and never waits longer than the
    /// Redis timeout: when Redis cannot decide, this process does.
    pub async fn check(&self, key: &RateKey) -> Decision {
        let limit = self.limit(key.class);
        let decision = match self.check_shared(key, limit).await {
            Some(decision) => decision,
            None => {
                metrics::counter!("rate_limit_fallback_total", "class" => key.class.as_str())
                    .increment(1);
                self.inner.local.check(key, limit)
            }
        };
        if matches!(decision, Decision::Refused { .. }) {
            metrics::counter!("rate_limit_refused_total", "class" => key.class.as_str())
                .increment(1);
        }
        decision
    }

    /// The shared decision, or `None` when this process must decide.
    async fn check_shared(&self, key: &RateKey, limit: Limit) -> Option<Decision> {
        let shared = self.inner.shared.as_ref()?;
        match shared.decide(key, limit).await {
            Ok(decision) => {
                self.switch_to(SHARED);
                Some(decision)
            }
            // The first connection is still being made: nothing has failed yet.
            Err(Unavailable::Connecting) => None,
            Err(Unavailable::Down) => {
                self.switch_to(LOCAL);
                None
            }
        }
    }

    /// Records which limiter decides, logging a switch between them once.
    fn switch_to(&self, mode: u8) {
        if self.inner.mode.load(Ordering::Relaxed) == mode {
            return;
        }
        let previous = self.inner.mode.swap(mode, Ordering::Relaxed);
        if previous == mode {
            return;
        }
        if mode == LOCAL {
            tracing::warn!(
                "Redis unavailable; rate limits are enforced per process until it answers"
            );
            metrics::gauge!("rate_limit_fallback_active").set(1.0);
        } else {
            if previous == LOCAL {
                tracing::warn!("Redis answers again; rate limits are shared by all replicas again");
            }
            metrics::gauge!("rate_limit_fallback_active").set(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_map_to_classes() {
        assert_eq!(RouteClass::of(&Method::GET), RouteClass::Read);
        assert_eq!(RouteClass::of(&Method::HEAD), RouteClass::Read);
        assert_eq!(RouteClass::of(&Method::OPTIONS), RouteClass::Read);
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert_eq!(RouteClass::of(&method), RouteClass::Command);
        }
    }

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let limit = Limit::new(600, 3);
        assert_eq!(limit.interval_micros(), 100_000);
        let mut stored = None;
        for _ in 0..3 {
            let (decision, tat) = limit.decide(stored, 1_000);
            assert_eq!(decision, Decision::Allowed);
            stored = tat;
        }
        let (refused, unchanged) = limit.decide(stored, 1_000);
        assert_eq!(
            refused,
            Decision::Refused {
                retry_after: Duration::from_micros(100_000)
            }
        );
        assert_eq!(unchanged, None);
        assert_eq!(limit.decide(stored, 101_000).0, Decision::Allowed);
    }

    #[test]
    fn degenerate_limits_stay_usable() {
        assert_eq!(Limit::new(0, 0).interval_micros(), 60_000_000);
        assert_eq!(Limit::new(0, 0).burst(), 1);
        assert_eq!(Limit::new(u32::MAX, 1).interval_micros(), 1);
        assert_eq!(Limit::new(30, 1).interval_micros(), 2_000_000);
    }

    #[test]
    fn redis_keys_name_service_tenant_client_and_class() {
        let key = RateKey {
            service: "cpq",
            tenant: TenantId::parse("acme").unwrap(),
            client: "web:portal".into(),
            class: RouteClass::Command,
        };
        assert_eq!(key.redis_key(), "rate-limit:cpq:acme:web:portal:command");
    }
}
