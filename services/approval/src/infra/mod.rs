//! Adapters the application's ports are implemented by: PostgreSQL storage of approval
//! requests and the approver directory (runtime-checked SQL, ADR 0005) on the caller's
//! tenant-scoped transaction, and the workflow engine's user-task API over HTTP.

mod directory;
mod guards;
mod history;
mod links;
mod reads;
mod repository;
mod rows;
pub mod task_engine;
mod writes;

pub use directory::PgApproverDirectory;
pub use repository::PgApprovalRepository;
pub use task_engine::EngineTaskClient;
