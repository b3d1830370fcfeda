//! PostgreSQL repositories (explicit SQL, every function takes the caller's connection so the
//! command handler owns the transaction) and the versioned cache keys.

pub mod history;
pub mod offerings;
pub mod price_books;
pub mod specifications;

/// Cache key of an offering version's frozen content (architecture §7).
pub fn offering_cache_key(offering_id: uuid::Uuid, version: i32) -> String {
    format!("catalog:offering:{offering_id}:v{version}")
}

/// Cache key of a price book version's frozen content (architecture §7).
pub fn price_book_cache_key(price_book_id: uuid::Uuid, version: i32) -> String {
    format!("pricing:price-book:{price_book_id}:v{version}")
}
