//! Types and the `Gateway` server trait generated from Zeebe's `gateway.proto` (see build.rs).
#![allow(missing_docs, clippy::all, reason = "generated code")]
tonic::include_proto!("gateway_protocol");
