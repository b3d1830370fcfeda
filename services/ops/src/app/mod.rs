//! Application layer: the operators' queries, authorized (`ViewOperations`) and run in the
//! caller's tenant.

pub mod error;
pub mod queries;

pub use error::AppError;
