//! The application layer: capture, the fulfilment commands the process's jobs run, the
//! integration outcomes, the installed base's changes and the read views. Commands run in one
//! transaction each and write their events and evidence in it.

pub mod aftermath;
pub mod amendments;
pub mod asset_repairs;
pub mod capture;
pub mod error;
pub mod events;
pub mod fulfilment;
pub mod installed_base;
pub mod interventions;
pub mod outcomes;
pub mod ports;
pub mod requests;
pub mod views;
pub mod workbench;

pub use error::AppError;
pub use fulfilment::Fulfilment;
