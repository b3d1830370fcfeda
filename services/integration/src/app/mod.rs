//! Application commands: run one external operation to its next step (the workers' command),
//! and the reads of the call log and the operations. Each command owns its transactions; no
//! transaction is open while a downstream is called.

pub mod error;
pub mod events;
pub mod execute;
pub mod ports;
pub mod queries;

pub use error::AppError;
pub use execute::{ExecuteRequest, Executor};
pub use ports::{CallTrace, Downstream, Exchange, StatusExchange, Wire};
