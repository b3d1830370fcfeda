//! Pure token-stepping rules: what an element does when a token arrives, which boundary event
//! catches an error, what a completing element hands back. No I/O, so every rule is testable
//! without PostgreSQL; `app` applies the decisions inside a transaction.

mod step;

pub(crate) use step::uncaught_message;
pub use step::{
    Activation, IncidentType, JobSpec, activate, catch_error, completion, not_executed_yet,
};
