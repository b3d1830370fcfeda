//! The Zeebe gateway gRPC surface: request/response translation only; behaviour is in `app`.

mod auth;
pub mod proto;
mod service;
mod status;

pub use auth::{RequireToken, TokenChecked};
pub use service::GatewayService;
