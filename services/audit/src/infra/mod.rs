//! PostgreSQL and Kafka edges of the audit service: the log store (entries and perfect
//! subtrees), checkpoints, the dispute reads, the quarantine, and the consumer of submitted
//! evidence.

pub mod checkpoints;
pub mod evidence_consumer;
pub mod log_store;
pub mod quarantine;
pub mod reads;

/// Reads a stored 32-byte hash; anything else is a corrupt row (surfaced, never papered over).
pub fn hash_of(bytes: &[u8]) -> Result<audit_proof::Hash, sqlx::Error> {
    bytes.try_into().map_err(|_| {
        sqlx::Error::Decode(format!("a stored hash has {} bytes, not 32", bytes.len()).into())
    })
}
