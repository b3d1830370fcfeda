//! PostgreSQL and Kafka edges of the ops service: the projection store and the projector that
//! feeds it from the other services' topics.

pub mod projector;
pub mod store;
