//! Issue 21's acceptance scenarios over the real stack: a private broker, the embedded engine,
//! catalog, CPQ and the approval service, each on its own database; people act through the
//! portal's REST door and through the engine's task list (the Camunda 8 REST API Tasklist uses).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod actions;
mod changes;
mod doors;
mod events;
mod stack;
mod time_and_delegation;
