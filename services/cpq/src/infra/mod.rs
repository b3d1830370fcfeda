//! Infrastructure: the PostgreSQL quote repository and approval evidence (explicit SQL taking
//! `&mut PgConnection`, so the command handler owns the transaction), the catalog HTTP client
//! with its cache, and the consumer of the approval service's events. The stores implement
//! ports the application owns (`app::ports`).

pub mod approval_consumer;
pub mod approval_evidence;
pub mod catalog_client;
pub mod catalog_json;
pub mod history;
pub mod local_content;
pub mod quote_reads;
pub mod quote_rows;
pub mod quote_writes;
pub mod quotes;
