//! HTTP plumbing shared by every service: correlation ids, problem-returning extractors,
//! fallbacks, metrics, health endpoints, rate limits, CORS, the middleware stack and graceful
//! shutdown.

pub mod contract;
pub mod correlation;
pub mod cors;
pub mod extract;
pub mod health;
pub mod metrics;
pub mod platform;
pub mod rate_limit;
pub mod server;
