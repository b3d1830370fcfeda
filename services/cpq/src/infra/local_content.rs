//! Immutable catalog content kept in this process, in front of Redis. A version's content never
//! changes once it leaves DRAFT, so an entry is never stale and needs no invalidation; the only
//! bound is memory, kept by a capacity after which the map starts over. Redis stays the cache
//! shared by replicas and restarts; this one saves its round trip and the decoding on every
//! command.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use uuid::Uuid;

/// Entries kept before the map starts over (a few hundred bytes to a few KiB each).
const CAPACITY: usize = 4_096;

/// A tenant's version of one catalog resource.
type Key = (String, Uuid, i32);

/// Content by tenant, resource id and version.
#[derive(Debug)]
pub struct LocalContent<T> {
    entries: Mutex<HashMap<Key, Arc<T>>>,
}

impl<T> Default for LocalContent<T> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> LocalContent<T> {
    /// The content of `id` at `version` for `tenant`, when this process has read it before.
    pub fn get(&self, tenant: &str, id: Uuid, version: i32) -> Option<Arc<T>> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(&(tenant.to_owned(), id, version)).cloned()
    }

    /// Keeps frozen content (never a DRAFT's, which may still change).
    pub fn put(&self, tenant: &str, id: Uuid, version: i32, content: Arc<T>) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert((tenant.to_owned(), id, version), content);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_per_tenant_id_and_version_and_bounded() {
        let local = LocalContent::default();
        let id = Uuid::now_v7();
        local.put("acme", id, 1, Arc::new("v1"));
        assert_eq!(local.get("acme", id, 1).as_deref(), Some(&"v1"));
        assert_eq!(local.get("acme", id, 2), None);
        assert_eq!(local.get("other", id, 1), None);
        for n in 0..CAPACITY {
            local.put(
                "acme",
                Uuid::now_v7(),
                i32::try_from(n).unwrap(),
                Arc::new("x"),
            );
        }
        assert!(local.entries.lock().unwrap().len() <= CAPACITY);
    }
}
