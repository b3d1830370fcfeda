//! PostgreSQL and Kafka edges of the ops service: the projection store and the projector that
//! feeds it from the other services' topics, the reads behind every view, and the rebuild.

pub mod business_metrics;
pub mod customers;
pub mod incidents;
pub mod metrics_exporter;
pub mod projector;
pub mod queues;
pub mod reads;
pub mod rebuild;
pub mod store;
