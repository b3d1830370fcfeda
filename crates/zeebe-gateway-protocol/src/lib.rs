//! Types, the `Gateway` server trait and the `GatewayClient` generated from Zeebe's
//! `gateway.proto` as shipped inside zeebe-rs (see `build.rs`). The embedded engine implements the
//! server; the worker runtime uses the client for the one call zeebe-rs keeps private
//! (`ActivateJobs` with a long poll). Generated code, so the workspace's documentation and
//! clippy lints do not apply to it.
#![allow(missing_docs, clippy::all, clippy::pedantic, reason = "generated code")]
#![allow(
    rustdoc::all,
    reason = "comments copied from gateway.proto are not rustdoc"
)]

tonic::include_proto!("gateway_protocol");
