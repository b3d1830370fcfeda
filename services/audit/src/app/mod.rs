//! Application layer: ingesting evidence, publishing checkpoints, proving and verifying, the
//! dispute queries and bundles. Every request path checks `ViewAudit` first and runs in the
//! caller's tenant; ingestion and the checkpoint job run on the jobs role across tenants.

pub mod bundles;
pub mod checkpoints;
pub mod error;
pub mod ingest;
pub mod keyring;
pub mod proofs;
pub mod queries;
pub mod verify;

pub use error::AppError;
pub use keyring::Keyring;
