//! Pure token-stepping rules: what an element does when a token arrives, which boundary event
//! catches an error, what a completing element hands back. No I/O, so every rule is testable
//! without PostgreSQL; `app` applies the decisions inside a transaction.

mod listener;
pub mod multi_instance;
mod step;
mod user_task;
mod waits;

pub use listener::{ListenedTask, listener_job, nth_listener};
pub(crate) use step::uncaught_message;
pub use step::{Activation, IncidentType, JobSpec, activate, catch_error, completion};
pub use user_task::UserTaskSpec;
pub use waits::{Wait, WaitError, WaitKind, boundary_waits, catch_wait, interrupts, is_boundary};
