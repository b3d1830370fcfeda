//! The audit log's proof format, shared by the audit service that builds proofs and everyone who
//! checks them without trusting the service: the `audit-verify` command, the tests, and anyone
//! writing an independent verifier from `docs/audit-evidence-format.md`.
//!
//! - [`canonical`]: the bytes an entry is hashed as (format version 1);
//! - [`tree`]: RFC 6962 leaf and node hashing, and the storage-backed tree math: which stored
//!   perfect subtrees make up a root, an inclusion or a consistency proof, and which subtrees an
//!   append completes. The proof shapes come from the `ct-merkle` crate; verification is its;
//! - [`checkpoint`]: the signed tree head (Ed25519 over a text note) and signing keys;
//! - [`bundle`]: a resource's entries with their inclusion proofs against one signed
//!   checkpoint, and its offline verification.
//!
//! Nothing here does I/O: the service fetches the subtrees a plan names and hands them back.

pub mod bundle;
pub mod canonical;
pub mod checkpoint;
pub mod tree;

pub use tree::Hash;
