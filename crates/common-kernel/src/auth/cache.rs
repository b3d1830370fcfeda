//! Tokens already verified, so a client that sends the same token with every request pays for
//! its signature once a minute rather than on every request (an ES256 check alone is about
//! 50 µs on this platform's machines).
//!
//! An entry is found only by the SHA-256 of the whole token string, header and signature
//! included: a token that differs in any byte — the same claims with another signature among
//! them — is another key and goes through full verification. A collision-resistant hash is what
//! makes that hold; the raw token is never kept. An entry lives until the token's `exp` or
//! [`MAX_AGE`] after it was verified, whichever comes first, so the cache never accepts a token
//! that verification would refuse for its age. An entry also names the generation of the
//! issuer's keys it was verified under ([`super::keys::KeySet::generation`]); once the keys are
//! read again, every token is verified again, so a key the issuer stopped publishing is not
//! trusted through the cache. The number of entries is bounded by the capacity.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::claims::Caller;

/// Longest a verified token is taken on trust before it is verified again.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// Entries kept by default: more distinct tokens than a service sees in a minute.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// The SHA-256 of a whole token: the only key an entry is found by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of `token`.
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }
}

/// What full verification of a token established.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The caller the token proves.
    pub caller: Caller,
    /// Its `exp`, seconds since the epoch.
    pub exp: Option<u64>,
    /// The generation of the issuer's keys it was verified under.
    pub keys: u64,
}

#[derive(Debug)]
struct Entry {
    caller: Caller,
    valid_until: Instant,
    keys: u64,
}

/// Callers of tokens verified in the last minute, by token fingerprint.
#[derive(Debug)]
pub struct TokenCache {
    entries: Mutex<HashMap<Fingerprint, Entry>>,
    capacity: usize,
}

impl TokenCache {
    /// A cache of at most `capacity` tokens (none at all when 0).
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The caller of a token verified before under the keys of generation `keys`, while its
    /// entry is valid at `now`.
    pub fn get(&self, fingerprint: &Fingerprint, keys: u64, now: Instant) -> Option<Caller> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(fingerprint)
            .filter(|entry| now < entry.valid_until && entry.keys == keys)
            .map(|entry| entry.caller.clone())
    }

    /// Remembers the caller of a token that has just been verified under the keys of
    /// generation `keys`, until its `exp` (seconds since the epoch) or [`MAX_AGE`] from `now`;
    /// a token without `exp`, or already past it, is not remembered.
    pub fn insert(&self, fingerprint: Fingerprint, verified: Verified, now: Instant) {
        let Some(left) = verified.exp.and_then(time_left) else {
            return;
        };
        self.insert_until(
            fingerprint,
            verified.caller,
            verified.keys,
            now + left.min(MAX_AGE),
            now,
        );
    }

    /// Remembers `caller` until `valid_until`, making room first when the cache is full.
    pub fn insert_until(
        &self,
        fingerprint: Fingerprint,
        caller: Caller,
        keys: u64,
        valid_until: Instant,
        now: Instant,
    ) {
        if self.capacity == 0 || valid_until <= now {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity && !entries.contains_key(&fingerprint) {
            make_room(&mut entries, self.capacity, now);
        }
        entries.insert(
            fingerprint,
            Entry {
                caller,
                valid_until,
                keys,
            },
        );
    }

    /// Entries held now, expired ones not yet dropped included.
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

/// Drops expired entries; when that frees less than a tenth of the capacity, also the tenth
/// that expires soonest, so a full cache is swept once per many insertions, not on each.
fn make_room(entries: &mut HashMap<Fingerprint, Entry>, capacity: usize, now: Instant) {
    entries.retain(|_, entry| now < entry.valid_until);
    let target = capacity - capacity.div_ceil(10);
    if entries.len() <= target {
        return;
    }
    let mut expiries: Vec<Instant> = entries.values().map(|e| e.valid_until).collect();
    let excess = entries.len() - target;
    let (_, cutoff, _) = expiries.select_nth_unstable(excess - 1);
    let cutoff = *cutoff;
    let mut to_drop = excess;
    entries.retain(|_, entry| {
        if to_drop > 0 && entry.valid_until <= cutoff {
            to_drop -= 1;
            false
        } else {
            true
        }
    });
}

/// How long until `exp` (seconds since the epoch), `None` when it has passed.
fn time_left(exp: u64) -> Option<Duration> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    Duration::from_secs(exp)
        .checked_sub(now)
        .filter(|left| !left.is_zero())
}

#[cfg(test)]
mod tests {
    use domain_kernel::access::Authority;
    use domain_kernel::{Actor, ActorId, ActorType, TenantId};

    use super::*;

    fn caller(name: &str) -> Caller {
        Caller {
            tenant: TenantId::parse("demo").unwrap(),
            actor: Actor {
                actor_id: ActorId::parse(name).unwrap(),
                actor_type: ActorType::HumanAgent,
            },
            authority: Authority::default(),
        }
    }

    fn verified(exp: Option<u64>) -> Verified {
        Verified {
            caller: caller("sales1"),
            exp,
            keys: 1,
        }
    }

    fn epoch_in(d: Duration) -> u64 {
        (SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + d).as_secs()
    }

    #[test]
    fn an_entry_lives_until_its_expiry_under_the_keys_it_was_verified_with() {
        let cache = TokenCache::new(10);
        let now = Instant::now();
        let key = Fingerprint::of("a.b.c");
        cache.insert_until(key, caller("sales1"), 1, now + Duration::from_secs(5), now);
        assert_eq!(
            cache.get(&key, 1, now + Duration::from_secs(4)),
            Some(caller("sales1"))
        );
        assert_eq!(cache.get(&key, 1, now + Duration::from_secs(5)), None);
        assert_eq!(cache.get(&key, 2, now), None, "the keys were read again");
        assert_eq!(cache.get(&Fingerprint::of("a.b.d"), 1, now), None);
    }

    #[test]
    fn an_entry_lives_a_minute_at_most_and_expired_tokens_are_not_kept() {
        let cache = TokenCache::new(10);
        let now = Instant::now();
        let long = Fingerprint::of("long");
        cache.insert(
            long,
            verified(Some(epoch_in(Duration::from_secs(3600)))),
            now,
        );
        let almost = now + MAX_AGE - Duration::from_millis(1);
        assert!(cache.get(&long, 1, almost).is_some());
        assert!(cache.get(&long, 1, now + MAX_AGE).is_none());
        let short = Fingerprint::of("short");
        cache.insert(
            short,
            verified(Some(epoch_in(Duration::from_secs(10)))),
            now,
        );
        assert!(cache.get(&short, 1, now + Duration::from_secs(8)).is_some());
        assert!(
            cache
                .get(&short, 1, now + Duration::from_secs(11))
                .is_none()
        );
        let past = epoch_in(Duration::ZERO) - 1;
        cache.insert(Fingerprint::of("past"), verified(Some(past)), now);
        cache.insert(Fingerprint::of("no exp"), verified(None), now);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn the_cache_stays_within_its_capacity_dropping_what_expires_first() {
        let cache = TokenCache::new(20);
        let now = Instant::now();
        for i in 0..1_000u64 {
            let until = now + Duration::from_secs(1_000 + i);
            cache.insert_until(Fingerprint::of(&i.to_string()), caller("u"), 1, until, now);
            assert!(cache.len() <= 20);
        }
        // The longest-lived entries survive; the earliest to expire were dropped.
        assert!(cache.get(&Fingerprint::of("999"), 1, now).is_some());
        assert!(cache.get(&Fingerprint::of("0"), 1, now).is_none());
        // Expired entries go first when room is needed.
        let later = now + Duration::from_secs(1_990);
        let fresh = Fingerprint::of("fresh");
        cache.insert_until(fresh, caller("u"), 1, later + MAX_AGE, later);
        assert!(cache.len() <= 11, "{}", cache.len());
        assert!(cache.get(&fresh, 1, later).is_some());
        let none = TokenCache::new(0);
        none.insert_until(fresh, caller("u"), 1, now + MAX_AGE, now);
        assert!(none.is_empty());
    }
}
