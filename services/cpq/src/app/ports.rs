//! What the application needs from the outside, as traits it owns: the catalog (over HTTP in
//! production), quote storage and the approval evidence the approval service's events leave
//! (PostgreSQL). `infra` implements them; `lib.rs` wires them, so
//! the arrows run app → port ← infra, and app and domain tests can run without HTTP.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use cpq_configuration::{OfferingId, OfferingSnapshot, OfferingStatus};
use cpq_pricing::PriceBook;
use domain_kernel::TenantId;
use sqlx::PgConnection;

use crate::domain::approval::RequestEvidence;
use crate::domain::quote::catalog_pins::OfferingLifecycle;
use crate::domain::quote::editing::PriceBookFacts;
use crate::domain::quote::{PriceBookPin, Quote, QuoteEvent, QuoteStatus, QuoteSummary};
use crate::domain::{PriceBookId, QuoteId};

/// Why the catalog could not answer.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Unreachable, timed out or failing (5xx): retry later.
    #[error("the catalog is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An answer CPQ cannot use (unexpected status or shape).
    #[error("unexpected catalog answer: {0}")]
    Unexpected(String),
}

/// The catalog facts quotes are built from. Lifecycles are live (versions get retired);
/// version content is immutable once it leaves DRAFT, so implementations may cache it.
#[async_trait]
pub trait CatalogReader: Send + Sync + fmt::Debug {
    /// The live lifecycle of an offering; `None` when the tenant has no such offering.
    async fn offering_lifecycle(
        &self,
        ctx: &RequestContext,
        id: OfferingId,
    ) -> Result<Option<OfferingLifecycle>, CatalogError>;

    /// The content of an offering version in `status`, as the configuration engine reads it.
    async fn offering_snapshot(
        &self,
        ctx: &RequestContext,
        id: OfferingId,
        version: i32,
        status: OfferingStatus,
    ) -> Result<Option<OfferingSnapshot>, CatalogError>;

    /// The live state of a price book: currency and each version's status.
    async fn price_book_facts(
        &self,
        ctx: &RequestContext,
        id: PriceBookId,
    ) -> Result<Option<PriceBookFacts>, CatalogError>;

    /// The content of a pinned price-book version, as the pricing engine reads it.
    async fn price_book(
        &self,
        ctx: &RequestContext,
        pin: PriceBookPin,
    ) -> Result<Option<PriceBook>, CatalogError>;
}

/// Why storage could not answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A stored row does not read back as a quote (a bug, never user input).
    #[error("stored quote is unreadable: {0}")]
    Corrupt(String),
}

/// What a command plans with before it takes the quote's lock: enough to refuse early and to
/// fetch the catalog data the command needs, never enough to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuoteHead {
    /// Status when read.
    pub status: QuoteStatus,
    /// Aggregate version when read.
    pub version: i64,
    /// The pinned price book (immutable).
    pub price_book: PriceBookPin,
}

/// A quote in a list: the root's columns only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteListing {
    /// Quote.
    pub id: QuoteId,
    /// Customer.
    pub customer_id: String,
    /// Currency.
    pub currency: String,
    /// Status.
    pub status: QuoteStatus,
    /// Current revision.
    pub revision: i32,
    /// End of validity.
    pub valid_until: DateTime<Utc>,
    /// Price hash of the current revision.
    pub price_hash: Option<String>,
    /// Aggregate version.
    pub version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// Filters and page of a list query.
#[derive(Debug, Clone, Copy)]
pub struct ListFilter<'a> {
    /// Only this status.
    pub status: Option<QuoteStatus>,
    /// Only this customer.
    pub customer_id: Option<&'a str>,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// Quote storage. Every method takes the caller's connection, so the command handler owns the
/// transaction and the outbox and audit writes join it.
#[async_trait]
pub trait QuoteRepository: Send + Sync + fmt::Debug {
    /// Reads the head of a quote without locking it.
    async fn head(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: QuoteId,
    ) -> Result<Option<QuoteHead>, StoreError>;

    /// Reads a whole quote (current revision) without locking it.
    async fn load(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: QuoteId,
    ) -> Result<Option<Quote>, StoreError>;

    /// Reads a whole quote and locks it for the rest of the transaction: commands on one quote
    /// run one after the other.
    async fn lock(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: QuoteId,
    ) -> Result<Option<Quote>, StoreError>;

    /// Locks a quote's root for the rest of the transaction and reads what its audit summary
    /// shows, without reading the rest of the quote: enough to screen an approval outcome.
    async fn lock_summary(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: QuoteId,
    ) -> Result<Option<QuoteSummary>, StoreError>;

    /// Locks up to `limit` quotes whose validity ended and that can still expire, skipping
    /// those another run holds.
    async fn lock_expired(
        &self,
        conn: &mut PgConnection,
        limit: i64,
    ) -> Result<Vec<Quote>, StoreError>;

    /// Writes what `event` changed in `quote` (rows of the revision, the root) and the history
    /// row naming the command, actor and reason; stamps the quote with the stored change time.
    async fn save(
        &self,
        conn: &mut PgConnection,
        ctx: &RequestContext,
        quote: &mut Quote,
        event: &QuoteEvent,
    ) -> Result<(), StoreError>;

    /// Appends the history row of an approval event that moved nothing (the quote's rows stay
    /// as they are).
    async fn record_unmoved(
        &self,
        conn: &mut PgConnection,
        ctx: &RequestContext,
        note: &UnmovedNote<'_>,
    ) -> Result<(), StoreError>;

    /// Lists the tenant's quotes, newest first, with the total count.
    async fn list(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        filter: ListFilter<'_>,
    ) -> Result<(Vec<QuoteListing>, i64), StoreError>;
}

/// An approval event that left a quote where it was, as its history row names it.
#[derive(Debug, Clone)]
pub struct UnmovedNote<'a> {
    /// The quote.
    pub quote_id: QuoteId,
    /// Where it stands (unchanged).
    pub standing: &'a QuoteSummary,
    /// `APPROVAL_EVIDENCE_RECORDED` (escalation, supersession) or `APPROVAL_EVENT_IGNORED`.
    pub command: &'static str,
    /// The reason's stable code and words.
    pub reason: String,
    /// What the event said (type, id, request, revision, price hash).
    pub details: serde_json::Value,
}

/// The approval event an evidence row was last written from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRef<'a> {
    /// Its event id.
    pub event_id: uuid::Uuid,
    /// Its event type.
    pub event_type: &'a str,
}

/// Approval evidence as stored, with when CPQ last changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvidence {
    /// What the approval service said last.
    pub evidence: RequestEvidence,
    /// When CPQ recorded it.
    pub updated_at: DateTime<Utc>,
}

/// What CPQ keeps of the approval service's requests, per request (fed by the consumer, read
/// by quote queries).
#[async_trait]
pub trait ApprovalEvidenceStore: Send + Sync + fmt::Debug {
    /// Records `evidence` from `event` unless a newer version of the request is recorded
    /// already; returns whether it did.
    async fn record(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        evidence: &RequestEvidence,
        event: EventRef<'_>,
    ) -> Result<bool, StoreError>;

    /// The latest request known for `revision` of the quote.
    async fn latest(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        quote: QuoteId,
        revision: i32,
    ) -> Result<Option<StoredEvidence>, StoreError>;
}

/// The ports a command needs, shared by every handler.
#[derive(Debug, Clone)]
pub struct Ports {
    /// The catalog.
    pub catalog: Arc<dyn CatalogReader>,
    /// Quote storage.
    pub quotes: Arc<dyn QuoteRepository>,
    /// The approval service's requests, as CPQ heard of them.
    pub approvals: Arc<dyn ApprovalEvidenceStore>,
}
