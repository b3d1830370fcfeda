//! The Zeebe gateway gRPC surface: request/response translation only; behaviour is in `app`.

pub mod proto;
mod service;
mod status;

pub use service::GatewayService;
