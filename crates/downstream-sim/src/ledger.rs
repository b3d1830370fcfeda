//! What the downstreams remember: the answer stored per (system, key), the effects log, and the
//! entities (reservations, services, charges). With a data directory every applied effect is
//! appended to `journal.jsonl` (written and flushed before the answer leaves; no fsync: a kill
//! of this process keeps the page cache) and replayed on start.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::systems::{self, Refusal};

/// One effect in the effects log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Effect {
    /// System.
    pub system: String,
    /// Operation.
    pub operation: String,
    /// The key it was applied under.
    pub idempotency_key: String,
    /// Times it was applied: stays 1 for a downstream that honours keys.
    pub count: u64,
    /// Requests seen with the key (replays included; not kept across restarts).
    pub deliveries: u64,
    /// When it was applied.
    pub first_applied_at: String,
    /// When the key was last seen.
    pub last_seen_at: String,
}

/// The answer stored for a key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Stored {
    /// System.
    pub system: String,
    /// Key.
    pub key: String,
    /// Operation.
    pub operation: String,
    /// SHA-256 of the request body.
    pub body_hash: String,
    /// HTTP status of the answer.
    pub status: u16,
    /// The answer.
    pub response: Value,
    /// When applied.
    pub applied_at: String,
    /// The entity it created or changed.
    pub entity: Option<(String, String)>,
}

/// What a request with a key came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Applied now.
    Applied(Stored),
    /// Answered from the store: no second effect.
    Replayed(Stored),
    /// The key was used for another operation or body.
    KeyReused,
    /// Not applied (400 or 422); nothing stored.
    Refused(Refusal),
}

#[derive(Debug, Default)]
struct State {
    answers: HashMap<(String, String), Stored>,
    effects: BTreeMap<(String, String, String), Effect>,
    entities: HashMap<String, String>,
    journal: Option<File>,
}

/// The simulators' memory, behind one lock.
#[derive(Debug, Default)]
pub struct Ledger {
    state: Mutex<State>,
}

/// The journal could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("journal {path}: {source}")]
pub struct JournalError {
    path: String,
    #[source]
    source: std::io::Error,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn record(state: &mut State, stored: &Stored) {
    if let Some((id, entity_state)) = &stored.entity {
        state.entities.insert(id.clone(), entity_state.clone());
    }
    state
        .effects
        .entry((
            stored.system.clone(),
            stored.operation.clone(),
            stored.key.clone(),
        ))
        .and_modify(|e| e.count += 1)
        .or_insert_with(|| Effect {
            system: stored.system.clone(),
            operation: stored.operation.clone(),
            idempotency_key: stored.key.clone(),
            count: 1,
            deliveries: 0,
            first_applied_at: stored.applied_at.clone(),
            last_seen_at: stored.applied_at.clone(),
        });
    state
        .answers
        .insert((stored.system.clone(), stored.key.clone()), stored.clone());
}

impl Ledger {
    /// A ledger in memory, or one replayed from and appended to `dir/journal.jsonl`.
    pub fn open(dir: Option<&Path>) -> Result<Self, JournalError> {
        let mut state = State::default();
        if let Some(dir) = dir {
            let path = dir.join("journal.jsonl");
            let failed = |source| JournalError {
                path: path.display().to_string(),
                source,
            };
            std::fs::create_dir_all(dir).map_err(failed)?;
            if path.exists() {
                let file = File::open(&path).map_err(failed)?;
                for line in BufReader::new(file).lines() {
                    let line = line.map_err(failed)?;
                    // A line cut by a kill mid-write is the only one that may not parse.
                    if let Ok(stored) = serde_json::from_str::<Stored>(&line) {
                        record(&mut state, &stored);
                    }
                }
            }
            state.journal = Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(failed)?,
            );
        }
        Ok(Self {
            state: Mutex::new(state),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies `operation` under `key` once; the same key and body answer the stored answer.
    pub fn apply(
        &self,
        system: &str,
        operation: &'static str,
        key: &str,
        target: Option<&str>,
        second: Option<&str>,
        body: &[u8],
    ) -> Outcome {
        let body_hash = hex::encode(Sha256::digest(body));
        let mut state = self.lock();
        if let Some(stored) = state
            .answers
            .get(&(system.to_owned(), key.to_owned()))
            .cloned()
        {
            if stored.operation != operation || stored.body_hash != body_hash {
                return Outcome::KeyReused;
            }
            if let Some(effect) =
                state
                    .effects
                    .get_mut(&(system.to_owned(), operation.to_owned(), key.to_owned()))
            {
                effect.deliveries += 1;
                effect.last_seen_at = now();
            }
            return Outcome::Replayed(stored);
        }
        let document: Value = match serde_json::from_slice(body) {
            Ok(value @ Value::Object(_)) => value,
            _ => {
                return Outcome::Refused(Refusal {
                    status: 400,
                    code: "INVALID_REQUEST",
                    detail: "the body must be a JSON object".into(),
                });
            }
        };
        let applied = match systems::apply(operation, target, second, &document, &state.entities) {
            Ok(applied) => applied,
            Err(refusal) => return Outcome::Refused(refusal),
        };
        let stored = Stored {
            system: system.to_owned(),
            key: key.to_owned(),
            operation: operation.to_owned(),
            body_hash,
            status: applied.status,
            response: applied.response,
            applied_at: now(),
            entity: applied.entity,
        };
        record(&mut state, &stored);
        if let Some(effect) =
            state
                .effects
                .get_mut(&(system.to_owned(), operation.to_owned(), key.to_owned()))
        {
            effect.deliveries += 1;
        }
        if let Some(journal) = state.journal.as_mut()
            && let Ok(line) = serde_json::to_string(&stored)
        {
            let written = writeln!(journal, "{line}").and_then(|()| journal.flush());
            if let Err(error) = written {
                tracing::error!(%error, "the journal could not be written");
            }
        }
        Outcome::Applied(stored)
    }

    /// The stored answer of `key` at `system`.
    pub fn status(&self, system: &str, key: &str) -> Option<Stored> {
        self.lock()
            .answers
            .get(&(system.to_owned(), key.to_owned()))
            .cloned()
    }

    /// The effects log, filtered.
    pub fn effects(
        &self,
        system: Option<&str>,
        operation: Option<&str>,
        key: Option<&str>,
    ) -> Vec<Effect> {
        self.lock()
            .effects
            .values()
            .filter(|e| system.is_none_or(|s| e.system == s))
            .filter(|e| operation.is_none_or(|o| e.operation == o))
            .filter(|e| key.is_none_or(|k| e.idempotency_key == k))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESERVE: &[u8] = br#"{"sku":"X","quantity":1,"orderReference":"o"}"#;

    #[test]
    fn one_effect_per_key_and_a_reused_key_is_refused() {
        let ledger = Ledger::open(None).unwrap();
        let first = ledger.apply("inventory", "reserve", "k", None, None, RESERVE);
        let Outcome::Applied(stored) = first else {
            panic!("{first:?}");
        };
        assert_eq!(
            ledger.apply("inventory", "reserve", "k", None, None, RESERVE),
            Outcome::Replayed(stored)
        );
        assert_eq!(
            ledger.apply(
                "inventory",
                "reserve",
                "k",
                None,
                None,
                br#"{"sku":"Y","quantity":1,"orderReference":"o"}"#
            ),
            Outcome::KeyReused
        );
        let effects = ledger.effects(Some("inventory"), None, Some("k"));
        assert_eq!(effects.len(), 1);
        assert_eq!((effects[0].count, effects[0].deliveries), (1, 2));
        // The same key at another system is another effect.
        assert!(matches!(
            ledger.apply("billing", "reverse", "k", Some("CHG-1"), None, b"{}"),
            Outcome::Refused(_)
        ));
        assert!(ledger.status("billing", "k").is_none());
    }

    #[test]
    fn the_journal_replays_answers_effects_and_entities() {
        let dir = std::env::temp_dir().join(format!("sim-ledger-{}", uuid::Uuid::now_v7()));
        let ledger = Ledger::open(Some(&dir)).unwrap();
        let Outcome::Applied(stored) =
            ledger.apply("inventory", "reserve", "k", None, None, RESERVE)
        else {
            panic!("not applied");
        };
        drop(ledger);
        let again = Ledger::open(Some(&dir)).unwrap();
        assert_eq!(again.status("inventory", "k"), Some(stored.clone()));
        assert_eq!(again.effects(None, None, Some("k"))[0].count, 1);
        let id = stored.response["reservationId"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(matches!(
            again.apply("inventory", "release", "k2", Some(&id), None, b"{}"),
            Outcome::Applied(_)
        ));
        let _ = std::fs::remove_dir_all(dir);
    }
}
