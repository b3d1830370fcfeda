//! The quote aggregate: identity that never changes, the current revision's items and price,
//! and how far the revision has been committed to. Commands (in [`super::editing`] and
//! [`super::decisions`]) are methods that consult the transition table and return one typed
//! [`QuoteEvent`] each; storage rebuilds the aggregate with [`Quote::restore`], which refuses
//! a combination of parts no command can produce.

use chrono::{DateTime, Utc};
use cpq_pricing::PricingState;
use domain_kernel::money::Currency;
use domain_kernel::{ActorId, TenantId};

use super::commitment::Commitment;
use super::error::QuoteError;
use super::events::{EventDetail, QuoteEvent, QuoteSummary, Transition};
use super::items::QuoteItem;
use super::lifecycle::QuoteStatus;
use super::price::{PriceOverride, QuotePrice};
use crate::domain::{CustomerId, PriceBookId, QuoteId};

/// The price-book version a quote is pinned to for its whole life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PriceBookPin {
    /// Price book.
    pub id: PriceBookId,
    /// Version.
    pub version: i32,
}

/// What never changes after creation (the database refuses a change as well).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteIdentity {
    /// Id.
    pub id: QuoteId,
    /// Tenant.
    pub tenant: TenantId,
    /// Customer (ownership invariant).
    pub customer: CustomerId,
    /// Currency of every amount.
    pub currency: Currency,
    /// Pinned price book version.
    pub price_book: PriceBookPin,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Creator.
    pub created_by: ActorId,
}

/// Every part of a stored quote, as storage reads it; [`Quote::restore`] checks that the parts
/// agree.
#[derive(Debug, Clone)]
pub struct QuoteParts {
    /// Identity.
    pub identity: QuoteIdentity,
    /// End of validity (exclusive).
    pub valid_until: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// Current revision.
    pub revision: i32,
    /// Status.
    pub status: QuoteStatus,
    /// Items of the current revision, in request order.
    pub items: Vec<QuoteItem>,
    /// Price of the current revision.
    pub price: QuotePrice,
    /// Manual overrides of the current revision, by item and charge.
    pub overrides: Vec<PriceOverride>,
    /// How far the revision has been committed to.
    pub commitment: Commitment,
}

/// A quote with its current revision.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub(super) identity: QuoteIdentity,
    pub(super) valid_until: DateTime<Utc>,
    pub(super) updated_at: DateTime<Utc>,
    pub(super) version: i64,
    pub(super) revision: i32,
    pub(super) status: QuoteStatus,
    pub(super) items: Vec<QuoteItem>,
    pub(super) price: QuotePrice,
    pub(super) overrides: Vec<PriceOverride>,
    pub(super) commitment: Commitment,
}

impl Quote {
    /// Rebuilds a stored quote, refusing parts that contradict each other.
    pub fn restore(parts: QuoteParts) -> Result<Self, QuoteError> {
        let quote = Self {
            identity: parts.identity,
            valid_until: parts.valid_until,
            updated_at: parts.updated_at,
            version: parts.version,
            revision: parts.revision,
            status: parts.status,
            items: parts.items,
            price: parts.price,
            overrides: parts.overrides,
            commitment: parts.commitment,
        };
        quote.check_consistent()?;
        Ok(quote)
    }

    /// The invariants the database constraints also hold, checked on every restore.
    fn check_consistent(&self) -> Result<(), QuoteError> {
        use QuoteStatus as S;
        let inconsistent = |what: &str| Err(QuoteError::Inconsistent(what.to_owned()));
        if let QuotePrice::Priced { state, .. } = &self.price
            && *state == PricingState::NotPriced
        {
            return inconsistent("a snapshot with pricing state NOT_PRICED");
        }
        let stage_fits = match (&self.status, &self.commitment) {
            (S::Draft | S::Configured | S::Priced | S::Submitted, Commitment::Open)
            | (S::ApprovalPending | S::Rejected, Commitment::Referred(_))
            | (S::Approved, Commitment::Approved(_))
            | (S::Accepted, Commitment::Accepted(..))
            | (S::Converted, Commitment::Converted(..)) => true,
            (S::Expired | S::Cancelled, commitment) => commitment.acceptance().is_none(),
            _ => false,
        };
        if !stage_fits {
            return inconsistent("status and approval stage disagree");
        }
        if let Some(approval) = self.commitment.approval()
            && (self.price.state() != PricingState::Frozen
                || self.price.hash() != Some(approval.price_hash.as_str()))
        {
            return inconsistent("an approval without the frozen price it covers");
        }
        Ok(())
    }

    /// The parts storage keeps: the inverse of [`Quote::restore`].
    #[cfg(test)]
    pub(crate) fn parts(&self) -> QuoteParts {
        QuoteParts {
            identity: self.identity.clone(),
            valid_until: self.valid_until,
            updated_at: self.updated_at,
            version: self.version,
            revision: self.revision,
            status: self.status,
            items: self.items.clone(),
            price: self.price.clone(),
            overrides: self.overrides.clone(),
            commitment: self.commitment.clone(),
        }
    }

    /// Id.
    pub fn id(&self) -> QuoteId {
        self.identity.id
    }

    /// What never changes.
    pub fn identity(&self) -> &QuoteIdentity {
        &self.identity
    }

    /// End of validity (exclusive).
    pub fn valid_until(&self) -> DateTime<Utc> {
        self.valid_until
    }

    /// Last change.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.updated_at
    }

    /// Storage stamps the change time; the aggregate takes it back so its answer equals a
    /// later read.
    pub fn stamp_updated(&mut self, at: DateTime<Utc>) {
        self.updated_at = at;
    }

    /// Optimistic-concurrency version.
    pub fn version(&self) -> i64 {
        self.version
    }

    /// Current revision.
    pub fn revision(&self) -> i32 {
        self.revision
    }

    /// Status.
    pub fn status(&self) -> QuoteStatus {
        self.status
    }

    /// Items of the current revision.
    pub fn items(&self) -> &[QuoteItem] {
        &self.items
    }

    /// Price of the current revision.
    pub fn pricing(&self) -> &QuotePrice {
        &self.price
    }

    /// Overrides of the current revision.
    pub fn overrides(&self) -> &[PriceOverride] {
        &self.overrides
    }

    /// How far the revision has been committed to.
    pub fn commitment(&self) -> &Commitment {
        &self.commitment
    }

    /// Refuses the command when the client's `If-Match` names another version; checked before
    /// the lifecycle, so a stale client hears about its version first.
    pub fn check_version(&self, expected: Option<i64>) -> Result<(), QuoteError> {
        match expected {
            Some(expected) if expected != self.version => Err(QuoteError::VersionMismatch {
                expected,
                current: self.version,
            }),
            _ => Ok(()),
        }
    }

    /// The state audit evidence shows.
    pub fn summary(&self) -> QuoteSummary {
        QuoteSummary {
            status: self.status,
            revision: self.revision,
            pricing_state: self.price.state().as_str(),
            price_hash: self.price.hash().map(str::to_owned),
            approved_price_hash: self.commitment.approval().map(|a| a.price_hash.clone()),
            aggregate_version: self.version,
        }
    }

    /// Closes a command: bumps the version and describes the transition from `before`.
    pub(super) fn emit(
        &mut self,
        before: Option<QuoteSummary>,
        command: &'static str,
        reason: Option<String>,
        detail: EventDetail,
    ) -> QuoteEvent {
        self.version += 1;
        self.event(before, command, reason, detail)
    }

    /// Describes the transition that led to the current state.
    pub(super) fn event(
        &self,
        before: Option<QuoteSummary>,
        command: &'static str,
        reason: Option<String>,
        detail: EventDetail,
    ) -> QuoteEvent {
        QuoteEvent {
            command,
            transition: Transition {
                quote_id: self.identity.id,
                customer_id: self.identity.customer.as_str().to_owned(),
                revision: self.revision,
                from_status: before.as_ref().map(|b| b.status),
                to_status: self.status,
            },
            aggregate_version: self.version,
            reason,
            before,
            after: self.summary(),
            detail,
        }
    }
}
