//! Adapters the application's ports are implemented by: PostgreSQL storage of approval
//! requests (runtime-checked SQL, ADR 0005) on the caller's tenant-scoped transaction.

mod guards;
mod history;
mod reads;
mod repository;
mod rows;
mod writes;

pub use repository::PgApprovalRepository;
