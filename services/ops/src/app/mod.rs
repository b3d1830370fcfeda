//! Application layer: the operators' queries, authorized (`ViewOperations`) and run in the
//! caller's tenant, and the one command of this service, asking for a projection rebuild.

pub mod error;
pub mod queries;
pub mod rebuild;
pub mod views;

pub use error::AppError;
