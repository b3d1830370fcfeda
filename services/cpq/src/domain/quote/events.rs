//! What quote commands emit: one typed event per transition. Its payload is a serde struct
//! shaped exactly as the integration event's JSON Schema
//! (`contracts/schemas/events/cpq.quote.*.v1.schema.json`): the transition fields every quote
//! event carries, flattened with the fields of its kind.

use chrono::{DateTime, Utc};
use domain_kernel::ActorId;
use serde::Serialize;
use serde_json::Value;

use super::super::{OrderId, QuoteId};
use super::lifecycle::QuoteStatus;
use crate::domain::approval::{ApprovalRequestRef, ApprovalStatus};
use crate::domain::policy_input::PolicyInput;

/// Topic of quote events (keyed by quote id).
pub const QUOTE_TOPIC: &str = "cpq.quote.events.v1";
/// Aggregate type named in envelopes and audit evidence.
pub const AGGREGATE_TYPE: &str = "Quote";

/// The fields every quote event carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Transition {
    /// Quote.
    pub quote_id: QuoteId,
    /// Its customer.
    pub customer_id: String,
    /// Revision after the transition.
    pub revision: i32,
    /// Status before (none for creation).
    pub from_status: Option<QuoteStatus>,
    /// Status after.
    pub to_status: QuoteStatus,
}

/// The state an audit record shows before and after a transition.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteSummary {
    /// Status.
    pub status: QuoteStatus,
    /// Revision.
    pub revision: i32,
    /// Pricing state.
    pub pricing_state: &'static str,
    /// Hash of the latest price snapshot.
    pub price_hash: Option<String>,
    /// Hash the approval in force covers.
    pub approved_price_hash: Option<String>,
    /// Aggregate version.
    pub aggregate_version: i64,
}

/// One transition of a quote, with everything its history row, integration event and audit
/// evidence need.
#[derive(Debug, Clone, PartialEq)]
pub struct QuoteEvent {
    /// History command name (`CREATE`, `CONFIGURE_ITEMS`, …).
    pub command: &'static str,
    /// Transition fields.
    pub transition: Transition,
    /// Aggregate version after the transition.
    pub aggregate_version: i64,
    /// Reason the actor gave.
    pub reason: Option<String>,
    /// State before (none for creation).
    pub before: Option<QuoteSummary>,
    /// State after.
    pub after: QuoteSummary,
    /// Fields of this kind of event.
    pub detail: EventDetail,
}

/// The integration event's payload: transition fields and the fields of its kind.
#[derive(Debug, Serialize)]
pub struct Payload<'a> {
    #[serde(flatten)]
    transition: &'a Transition,
    #[serde(flatten)]
    detail: &'a EventDetail,
}

impl QuoteEvent {
    /// The event type, e.g. `cpq.quote.priced.v1`.
    pub fn event_type(&self) -> &'static str {
        self.detail.event_type()
    }

    /// The contract version, the number the event type ends with.
    pub fn event_version(&self) -> i32 {
        self.detail.event_version()
    }

    /// The event type without its version (`cpq.quote.priced`): the audit evidence's name.
    pub fn fact_name(&self) -> &'static str {
        let event_type = self.event_type();
        event_type
            .rsplit_once(".v")
            .map_or(event_type, |(name, _)| name)
    }

    /// The payload the schema describes.
    pub fn payload(&self) -> Payload<'_> {
        Payload {
            transition: &self.transition,
            detail: &self.detail,
        }
    }
}

/// The fields of each kind of quote event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum EventDetail {
    /// `cpq.quote.created.v1`.
    Created(Created),
    /// `cpq.quote.items-replaced.v1`.
    ItemsReplaced(ItemsReplaced),
    /// `cpq.quote.priced.v1`.
    Priced(Priced),
    /// `cpq.quote.price-overridden.v1`.
    PriceOverridden(PriceOverridden),
    /// `cpq.quote.submitted.v2`.
    Submitted(Submitted),
    /// `cpq.quote.approval-pending.v1`.
    ApprovalPending(ApprovalRecorded),
    /// `cpq.quote.approved.v1`.
    Approved(ApprovalRecorded),
    /// `cpq.quote.rejected.v1`.
    Rejected(ApprovalRecorded),
    /// `cpq.quote.revised.v1`.
    Revised(Revised),
    /// `cpq.quote.accepted.v1`.
    Accepted(Accepted),
    /// `cpq.quote.cancelled.v1`.
    Cancelled(Cancelled),
    /// `cpq.quote.expired.v1`.
    Expired(Expired),
    /// `cpq.quote.converted.v1`.
    Converted(Converted),
}

impl EventDetail {
    /// The event type of this kind.
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::Created(_) => "cpq.quote.created.v1",
            Self::ItemsReplaced(_) => "cpq.quote.items-replaced.v1",
            Self::Priced(_) => "cpq.quote.priced.v1",
            Self::PriceOverridden(_) => "cpq.quote.price-overridden.v1",
            Self::Submitted(_) => "cpq.quote.submitted.v2",
            Self::ApprovalPending(_) => "cpq.quote.approval-pending.v1",
            Self::Approved(_) => "cpq.quote.approved.v1",
            Self::Rejected(_) => "cpq.quote.rejected.v1",
            Self::Revised(_) => "cpq.quote.revised.v1",
            Self::Accepted(_) => "cpq.quote.accepted.v1",
            Self::Cancelled(_) => "cpq.quote.cancelled.v1",
            Self::Expired(_) => "cpq.quote.expired.v1",
            Self::Converted(_) => "cpq.quote.converted.v1",
        }
    }

    /// The contract version of this kind (`cpq.quote.submitted.v1` ended with ADR 0035).
    pub fn event_version(&self) -> i32 {
        match self {
            Self::Submitted(_) => 2,
            _ => 1,
        }
    }

    /// The approval request behind an approval transition.
    pub fn approval(&self) -> Option<&ApprovalRecorded> {
        match self {
            Self::ApprovalPending(recorded)
            | Self::Approved(recorded)
            | Self::Rejected(recorded) => Some(recorded),
            _ => None,
        }
    }
}

/// A quote was created in DRAFT (or CONFIGURED when its items were valid).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    /// Currency.
    pub currency: String,
    /// End of validity.
    pub valid_until: DateTime<Utc>,
    /// Pinned price book.
    pub price_book_id: uuid::Uuid,
    /// Pinned price book version.
    pub price_book_version: i32,
    /// Items it started with.
    pub item_count: usize,
}

/// The items of the current revision were replaced and configured.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemsReplaced {
    /// Items now.
    pub item_count: usize,
    /// Of which invalid.
    pub invalid_item_count: usize,
    /// Whether every item is valid (the quote is CONFIGURED).
    pub configuration_valid: bool,
    /// Pricing state after (a price becomes stale).
    pub pricing_state: &'static str,
}

/// The quote was priced.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Priced {
    /// Price hash.
    pub price_hash: String,
    /// Pricing state after.
    pub pricing_state: &'static str,
    /// Price book.
    pub price_book_id: uuid::Uuid,
    /// Price book version.
    pub price_book_version: i32,
    /// Currency.
    pub currency: String,
    /// Totals as the engine computed them.
    pub totals: Value,
}

/// The override an override replaced.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplacedOverride {
    /// Its new price (decimal string).
    pub new_price: String,
    /// Its actor.
    pub actor: ActorId,
    /// Its reason.
    pub reason: String,
}

/// A charge's price was overridden by hand.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceOverridden {
    /// Item.
    pub item_id: String,
    /// Charge.
    pub charge: &'static str,
    /// Currency.
    pub currency: String,
    /// The computed price replaced (decimal string).
    pub original_price: String,
    /// The new price (decimal string).
    pub new_price: String,
    /// Who.
    pub overridden_by: ActorId,
    /// Why.
    pub reason: String,
    /// The override of the same charge it replaced.
    pub replaced_override: Option<ReplacedOverride>,
    /// Price hash after re-pricing.
    pub price_hash: String,
    /// Pricing state after.
    pub pricing_state: &'static str,
}

/// The quote was submitted; the approval service decides (ADR 0035).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Submitted {
    /// Price hash submitted (the one an approval must cover).
    pub price_hash: String,
    /// Pricing state after.
    pub pricing_state: &'static str,
    /// What the approval service's policy reads.
    pub policy_input: PolicyInput,
}

/// The approval service's outcome moved the quote: a PENDING request, an approval or a
/// rejection of the current revision at its current price.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRecorded {
    /// The approval request.
    pub approval_request_id: String,
    /// Its status after the outcome.
    pub approval_status: ApprovalStatus,
    /// The policy that required its levels.
    pub policy_id: String,
    /// The policy's version.
    pub policy_version: String,
    /// The price hash the outcome covers (the quote's current one).
    pub price_hash: String,
    /// The approved hash, once approved.
    pub approved_price_hash: Option<String>,
    /// Pricing state after (FROZEN when approved).
    pub pricing_state: &'static str,
    /// Who decided at the approval service (the approver, or the service itself).
    pub decided_by: ActorId,
    /// When the approval service says it happened.
    pub decided_at: DateTime<Utc>,
    /// Why, when given.
    pub reason: Option<String>,
}

/// Builds the recorded outcome of `request`.
pub(super) fn recorded(
    request: &ApprovalRequestRef,
    status: ApprovalStatus,
    price_hash: &str,
    approved_price_hash: Option<String>,
    pricing_state: &'static str,
    decided: (&ActorId, DateTime<Utc>),
    reason: Option<String>,
) -> ApprovalRecorded {
    ApprovalRecorded {
        approval_request_id: request.request_id.to_string(),
        approval_status: status,
        policy_id: request.policy_id.clone(),
        policy_version: request.policy_version.clone(),
        price_hash: price_hash.to_owned(),
        approved_price_hash,
        pricing_state,
        decided_by: decided.0.clone(),
        decided_at: decided.1,
        reason,
    }
}

/// A new revision was opened; any approval is superseded.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Revised {
    /// Revision before.
    pub previous_revision: i32,
    /// Status before.
    pub previous_status: QuoteStatus,
    /// Price hash of the superseded revision.
    pub superseded_price_hash: Option<String>,
    /// Approved hash of the superseded revision.
    pub superseded_approved_price_hash: Option<String>,
}

/// The customer accepted.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    /// Price hash accepted.
    pub price_hash: Option<String>,
    /// Approved hash (equal).
    pub approved_price_hash: Option<String>,
    /// Who.
    pub accepted_by: ActorId,
    /// When.
    pub accepted_at: DateTime<Utc>,
    /// Through which channel.
    pub channel: String,
    /// Customer's reference.
    pub reference: Option<String>,
}

/// The quote was cancelled (the reason is in history and audit).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cancelled {}

/// The quote's validity ended before acceptance.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Expired {
    /// End of validity.
    pub valid_until: DateTime<Utc>,
    /// The approval that lapsed, if any.
    pub approved_price_hash: Option<String>,
}

/// The quote became an order; carries the full frozen snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Converted {
    /// The order.
    pub order_id: OrderId,
    /// Frozen price hash.
    pub price_hash: String,
    /// SHA-256 over the snapshot's canonical encoding
    /// (`domain_kernel::canonical`, domain `cpq-oms/quote-snapshot/v1`): the order service
    /// recomputes it on capture and refuses a snapshot that does not verify.
    pub snapshot_hash: String,
    /// The frozen snapshot the order is built from.
    pub snapshot: Value,
}

impl serde::Serialize for QuoteStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(detail: EventDetail) -> QuoteEvent {
        let summary = QuoteSummary {
            status: QuoteStatus::Cancelled,
            revision: 1,
            pricing_state: "NOT_PRICED",
            price_hash: None,
            approved_price_hash: None,
            aggregate_version: 2,
        };
        QuoteEvent {
            command: "CANCEL",
            transition: Transition {
                quote_id: QuoteId::generate(),
                customer_id: "C-1".into(),
                revision: 1,
                from_status: Some(QuoteStatus::Draft),
                to_status: QuoteStatus::Cancelled,
            },
            aggregate_version: 2,
            reason: None,
            before: None,
            after: summary,
            detail,
        }
    }

    #[test]
    fn payloads_flatten_transition_and_kind() {
        let cancelled = event(EventDetail::Cancelled(Cancelled {}));
        let payload = serde_json::to_value(cancelled.payload()).unwrap();
        assert_eq!(payload["fromStatus"], "DRAFT");
        assert_eq!(payload["toStatus"], "CANCELLED");
        assert_eq!(payload.as_object().map(|o| o.len()), Some(5));
        assert_eq!(
            serde_json::to_value(&cancelled.detail).unwrap(),
            serde_json::json!({})
        );
        assert_eq!(cancelled.event_type(), "cpq.quote.cancelled.v1");
        assert_eq!(
            (cancelled.fact_name(), cancelled.event_version()),
            ("cpq.quote.cancelled", 1)
        );

        let expired = event(EventDetail::Expired(Expired {
            valid_until: DateTime::UNIX_EPOCH,
            approved_price_hash: None,
        }));
        let payload = serde_json::to_value(expired.payload()).unwrap();
        assert_eq!(payload["validUntil"], "1970-01-01T00:00:00Z");
        assert!(payload["approvedPriceHash"].is_null());
    }
}
