//! Adapters the application's ports are implemented by: PostgreSQL storage of approval
//! requests and the approver directory (runtime-checked SQL, ADR 0005) on the caller's
//! tenant-scoped transaction, and the workflow engine's user-task API over HTTP; and the
//! service's background edges: the consumer of CPQ's quote events, the process sync with the
//! engine and the expiry job.

mod directory;
pub mod expiry;
mod guards;
mod history;
mod links;
pub mod process_sync;
pub mod quote_events;
mod reads;
mod repository;
mod rows;
pub mod task_engine;
mod writes;

pub use directory::PgApproverDirectory;
pub use repository::PgApprovalRepository;
pub use task_engine::EngineTaskClient;
