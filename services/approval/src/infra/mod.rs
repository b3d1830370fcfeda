//! Adapters the application's ports are implemented by: PostgreSQL storage of approval
//! requests (runtime-checked SQL, ADR 0005) on the caller's tenant-scoped transaction; and the
//! service's background edges: the consumer of CPQ's quote events, the process sync with the
//! engine and the expiry job.

pub mod expiry;
mod guards;
mod history;
pub mod process_sync;
pub mod quote_events;
mod reads;
mod repository;
mod rows;
mod writes;

pub use repository::PgApprovalRepository;
