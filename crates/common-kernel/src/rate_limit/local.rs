//! The per-process GCRA limiter: what decides while Redis cannot.
//!
//! Keys are spread over a few independently locked shards, and a lock is only held for one map
//! lookup (never across an await), so concurrent requests rarely wait for each other. Memory is
//! bounded: a full shard first drops its idle keys (a stored time in the past is equivalent to no
//! entry, so this changes no decision), and if every key is still active it forgets those closest
//! to idle.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use super::{Decision, Limit, RateKey};

/// Most shards; fewer when the key budget is smaller, so the bound holds.
const SHARDS: usize = 16;

/// A bounded, sharded, in-memory GCRA limiter.
pub struct LocalLimiter {
    shards: Box<[Mutex<HashMap<RateKey, u64>>]>,
    shard_capacity: usize,
    hasher: RandomState,
    epoch: Instant,
}

impl std::fmt::Debug for LocalLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalLimiter")
            .field("shards", &self.shards.len())
            .field("shard_capacity", &self.shard_capacity)
            .finish()
    }
}

impl LocalLimiter {
    /// A limiter that keeps at most `max_keys` keys (at least one).
    pub fn new(max_keys: usize) -> Self {
        let max_keys = max_keys.max(1);
        let shards = max_keys.min(SHARDS);
        Self {
            shards: (0..shards).map(|_| Mutex::new(HashMap::new())).collect(),
            shard_capacity: max_keys / shards,
            hasher: RandomState::new(),
            epoch: Instant::now(),
        }
    }

    /// Counts one request against `key` now (this process's monotonic clock).
    pub fn check(&self, key: &RateKey, limit: Limit) -> Decision {
        let now = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.check_at(key, limit, now)
    }

    /// Counts one request against `key` arriving at `now` microseconds on a clock of the caller's
    /// choosing (tests replay arrivals with it); times must not go backwards per key.
    pub fn check_at(&self, key: &RateKey, limit: Limit, now: u64) -> Decision {
        let shard = self.shard(key);
        let mut map = shard.lock().unwrap_or_else(PoisonError::into_inner);
        let (decision, new_tat) = limit.decide(map.get(key).copied(), now);
        if let Some(tat) = new_tat {
            if let Some(stored) = map.get_mut(key) {
                *stored = tat;
            } else {
                if map.len() >= self.shard_capacity {
                    make_room(&mut map, now, self.shard_capacity);
                }
                map.insert(key.clone(), tat);
            }
        }
        decision
    }

    /// How many keys are held right now.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, key: &RateKey) -> &Mutex<HashMap<RateKey, u64>> {
        let hash = self.hasher.hash_one(key);
        let index = usize::try_from(hash % self.shards.len() as u64).unwrap_or_default();
        &self.shards[index]
    }
}

/// Frees a quarter of a full shard, so the sweep is paid once per many insertions: idle keys go
/// first (free of consequence); then, only if every key is active, those closest to idle (each
/// forgets a little debt and may get a burst early: bounded memory wins over a key flood).
fn make_room(map: &mut HashMap<RateKey, u64>, now: u64, capacity: usize) {
    map.retain(|_, tat| *tat > now);
    let keep = capacity * 3 / 4;
    if map.len() <= keep {
        return;
    }
    let mut tats: Vec<u64> = map.values().copied().collect();
    let drop = tats.len() - keep;
    let (_, threshold, _) = tats.select_nth_unstable(drop - 1);
    let threshold = *threshold;
    map.retain(|_, tat| *tat > threshold);
    tracing::debug!(
        kept = map.len(),
        "rate limiter shard full of active keys; forgot the least indebted"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rate_limit::RouteClass;
    use domain_kernel::ids::TenantId;

    fn key(client: usize) -> RateKey {
        RateKey {
            service: "catalog",
            tenant: TenantId::parse("acme").unwrap(),
            client: format!("client-{client}"),
            class: RouteClass::Read,
        }
    }

    #[test]
    fn memory_stays_bounded_and_idle_keys_go_first() {
        let limiter = LocalLimiter::new(64);
        let limit = Limit::new(60, 2);
        // A flood of distinct keys, all active at once: never more than the bound.
        for client in 0..1_000 {
            limiter.check_at(&key(client), limit, 0);
            assert!(limiter.len() <= 64);
        }
        // Much later every key is idle; the next insertions evict them, not the active ones.
        let later = 10_000_000;
        let busy = key(5_000);
        limiter.check_at(&busy, limit, later);
        limiter.check_at(&busy, limit, later);
        for client in 0..1_000 {
            limiter.check_at(&key(10_000 + client), limit, later);
        }
        assert!(limiter.len() <= 64);
        assert!(matches!(
            limiter.check_at(&busy, limit, later),
            Decision::Refused { .. }
        ));
    }

    #[test]
    fn a_tiny_budget_still_limits() {
        let limiter = LocalLimiter::new(1);
        let limit = Limit::new(60, 1);
        assert_eq!(limiter.check_at(&key(1), limit, 0), Decision::Allowed);
        assert!(matches!(
            limiter.check_at(&key(1), limit, 1),
            Decision::Refused { .. }
        ));
        assert_eq!(limiter.check_at(&key(2), limit, 2), Decision::Allowed);
        assert_eq!(limiter.len(), 1);
    }

    #[test]
    fn concurrent_callers_share_one_budget() {
        let limiter = std::sync::Arc::new(LocalLimiter::new(1_000));
        let limit = Limit::new(1, 100);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let limiter = std::sync::Arc::clone(&limiter);
                std::thread::spawn(move || {
                    (0..100)
                        .filter(|_| limiter.check_at(&key(0), limit, 0) == Decision::Allowed)
                        .count()
                })
            })
            .collect();
        let allowed: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(allowed, 100);
    }
}
