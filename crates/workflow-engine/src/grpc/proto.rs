//! The Zeebe gateway protocol (messages and the `Gateway` server trait), generated once in
//! `zeebe-gateway-protocol` from zeebe-rs's `gateway.proto`.
pub use zeebe_gateway_protocol::*;
