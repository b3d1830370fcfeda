//! The application layer's errors, mapped once to HTTP (`http::error`).

/// Why a query or command did not complete.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The database failed; worth retrying.
    #[error("the database failed")]
    Database(#[from] sqlx::Error),
    /// The caller may not do this.
    #[error(transparent)]
    Forbidden(#[from] domain_kernel::access::Forbidden),
    /// No entry with that id in the caller's tenant.
    #[error("no audit event {0} in this tenant's log")]
    EntryNotFound(uuid::Uuid),
    /// The tenant's log has no entry yet, so nothing can be signed or proved.
    #[error("this tenant's audit log has no entry yet")]
    EmptyLog,
    /// No checkpoint has been published for the log yet.
    #[error("no checkpoint has been published for this tenant's log")]
    NoCheckpoint,
    /// A tree size the log cannot answer for.
    #[error("{0}")]
    TreeSize(String),
    /// No evidence about that resource.
    #[error("no audit evidence about {0} {1}")]
    NoEvidence(String, String),
    /// The resource has more entries than one bundle carries.
    #[error("{0} {1} has {2} entries; a bundle carries at most {3}")]
    BundleTooLarge(String, String, usize, usize),
    /// Stored data breaks the log's own rules (a missing subtree, an unreadable entry): never
    /// papered over; `/audit/verify` says more.
    #[error("the stored log is inconsistent: {0}")]
    Corrupt(String),
}

impl AppError {
    /// Stable code, for logs and problem responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Database(_) => "DATABASE_UNAVAILABLE",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::EntryNotFound(_) => "AUDIT_EVENT_NOT_FOUND",
            Self::EmptyLog => "AUDIT_LOG_EMPTY",
            Self::NoCheckpoint => "NO_CHECKPOINT",
            Self::TreeSize(_) => "TREE_SIZE_OUT_OF_RANGE",
            Self::NoEvidence(..) => "NO_EVIDENCE",
            Self::BundleTooLarge(..) => "BUNDLE_TOO_LARGE",
            Self::Corrupt(_) => "AUDIT_LOG_INCONSISTENT",
        }
    }
}

impl From<audit_proof::tree::MissingSubtree> for AppError {
    fn from(missing: audit_proof::tree::MissingSubtree) -> Self {
        Self::Corrupt(missing.to_string())
    }
}
