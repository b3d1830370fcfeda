//! PostgreSQL repositories (explicit SQL, every function takes the caller's connection so the
//! command handler owns the transaction) and the versioned cache keys. Repositories return
//! stored records (plain data defined here) or domain types; the application layer maps them
//! to its views, so nothing in this module depends on `app` or `http`.

pub mod fulfilment;
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

/// One stored version of a versioned aggregate (offering or price book) as listed with its
/// root, so the application layer can derive latest, published and per-version summaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    /// Version number.
    pub version: i32,
    /// Stored status.
    pub status: String,
    /// Name of that version.
    pub name: String,
}

impl VersionRecord {
    /// Converts the `(version, status, name)` triples the list queries aggregate in SQL.
    fn from_triples(triples: Vec<(i32, String, String)>) -> Vec<Self> {
        triples
            .into_iter()
            .map(|(version, status, name)| Self {
                version,
                status,
                name,
            })
            .collect()
    }
}
