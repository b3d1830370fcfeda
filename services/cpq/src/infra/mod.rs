//! Infrastructure: explicit SQL repositories taking `&mut PgConnection` (so the command handler
//! owns the transaction), the history writer and the catalog HTTP client with its cache.

pub mod catalog_client;
pub mod history;
pub mod quotes;
