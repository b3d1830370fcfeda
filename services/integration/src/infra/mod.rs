//! Infrastructure: the HTTP adapters to the downstream systems (the anti-corruption layer), the
//! operation store and the external call log.

pub mod adapters;
pub mod call_log;
pub mod operations;

pub use adapters::HttpDownstream;
