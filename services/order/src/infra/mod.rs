//! Infrastructure: storage of orders, the installed base and fallout (sqlx, explicit SQL), the
//! catalog client, the consumer of CPQ's and integration's events and the process starter.

pub mod amendments;
pub mod cancellations;
pub mod catalog;
pub mod events_consumer;
pub mod fallout;
pub mod installed_base;
pub mod orders;
pub mod plan_history;
pub mod process_start;
pub mod watchdog;
