//! Infrastructure: the PostgreSQL quote repository (explicit SQL taking `&mut PgConnection`, so
//! the command handler owns the transaction) and the catalog HTTP client with its cache. Both
//! implement ports the application owns (`app::ports`).

pub mod catalog_client;
pub mod catalog_json;
pub mod history;
pub mod local_content;
pub mod quote_reads;
pub mod quote_rows;
pub mod quote_writes;
pub mod quotes;
