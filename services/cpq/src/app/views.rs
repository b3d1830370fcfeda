//! Read models the application returns and the HTTP layer serialises as they are: neither rows
//! nor domain types. The mapping from the aggregate lives here, in one place.

use chrono::{DateTime, Utc};
use cpq_configuration::config_state::ConfigurationStatus;
use cpq_pricing::PricingState;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::approval_views::ApprovalRequestView;
use super::ports::QuoteListing;
use crate::domain::QuoteId;
use crate::domain::quote::{
    ApprovalBasis, Conversion, PriceSnapshot, Quote, QuoteItem, QuoteStatus,
};

/// Where a quote stands (state-machines.md, "Quote").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QuoteStatusView {
    /// Items being edited.
    Draft,
    /// Every item validated.
    Configured,
    /// Priced.
    Priced,
    /// Submitted; waits for the approval service's outcome.
    Submitted,
    /// Waiting for an approver.
    ApprovalPending,
    /// Approved; may be accepted.
    Approved,
    /// An approver refused; may be revised.
    Rejected,
    /// The customer accepted; may be converted.
    Accepted,
    /// Validity ended before acceptance.
    Expired,
    /// Abandoned.
    Cancelled,
    /// Turned into an order.
    Converted,
}

impl From<QuoteStatus> for QuoteStatusView {
    fn from(status: QuoteStatus) -> Self {
        match status {
            QuoteStatus::Draft => Self::Draft,
            QuoteStatus::Configured => Self::Configured,
            QuoteStatus::Priced => Self::Priced,
            QuoteStatus::Submitted => Self::Submitted,
            QuoteStatus::ApprovalPending => Self::ApprovalPending,
            QuoteStatus::Approved => Self::Approved,
            QuoteStatus::Rejected => Self::Rejected,
            QuoteStatus::Accepted => Self::Accepted,
            QuoteStatus::Expired => Self::Expired,
            QuoteStatus::Cancelled => Self::Cancelled,
            QuoteStatus::Converted => Self::Converted,
        }
    }
}

/// Where a revision's price stands (state-machines.md, "Pricing").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PricingStateView {
    /// Never priced.
    NotPriced,
    /// Priced, no override in effect.
    Priced,
    /// Inputs changed since the last pricing.
    PriceStale,
    /// A manual override waits for a decision.
    OverridePendingApproval,
    /// The override was approved.
    Approved,
    /// The override was rejected.
    Rejected,
    /// Frozen with the approval; never changes again.
    Frozen,
}

impl From<PricingState> for PricingStateView {
    fn from(state: PricingState) -> Self {
        match state {
            PricingState::NotPriced => Self::NotPriced,
            PricingState::Priced => Self::Priced,
            PricingState::PriceStale => Self::PriceStale,
            PricingState::OverridePendingApproval => Self::OverridePendingApproval,
            PricingState::Approved => Self::Approved,
            PricingState::Rejected => Self::Rejected,
            PricingState::Frozen => Self::Frozen,
        }
    }
}

/// Where an item's configuration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConfigurationStatusView {
    /// Every rule holds.
    Valid,
    /// Some rule does not hold (see `violations`).
    Invalid,
    /// Accepted: never changes again.
    Frozen,
}

impl ConfigurationStatusView {
    fn of(status: ConfigurationStatus) -> Self {
        match status {
            ConfigurationStatus::Frozen => Self::Frozen,
            ConfigurationStatus::Invalid => Self::Invalid,
            ConfigurationStatus::Empty
            | ConfigurationStatus::InProgress
            | ConfigurationStatus::Valid => Self::Valid,
        }
    }
}

/// The price book a quote is pinned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceBookPin {
    /// Price book id.
    pub id: Uuid,
    /// Pinned version.
    pub version: i32,
}

/// A configuration problem of an item (or of the quote).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ViolationView {
    /// Stable code (e.g. `CHARACTERISTIC_REQUIRED`).
    pub code: String,
    /// JSON pointer into the items request.
    pub path: String,
    /// Explanation.
    pub message: String,
    /// Expected/actual facts.
    #[schema(value_type = Object)]
    pub details: Value,
}

/// One quote item of the current revision.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemView {
    /// Item id, unique within the revision.
    pub id: String,
    /// Offering.
    pub offering_id: Uuid,
    /// Pinned offering version.
    pub offering_version: i32,
    /// Units.
    pub quantity: i64,
    /// Commitment term in months.
    pub term_months: Option<i32>,
    /// Seller's line discount in percent (decimal string).
    #[schema(value_type = Option<String>, example = "5")]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub discount_percent: Option<Decimal>,
    /// Characteristic values as sent, by name.
    #[schema(value_type = Object)]
    pub characteristics: Value,
    /// Parent item (add-ons).
    pub parent_item_id: Option<String>,
    /// VALID, INVALID or FROZEN.
    pub configuration_status: ConfigurationStatusView,
    /// Configuration hash of a valid item.
    pub configuration_hash: Option<String>,
    /// What is wrong with an invalid item.
    pub violations: Vec<ViolationView>,
}

/// Approval evidence in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalView {
    /// The price hash approved.
    pub approved_price_hash: String,
    /// When.
    pub approved_at: DateTime<Utc>,
    /// Who: the approver, or the approval service when no approver was needed
    /// (`policy:<version>` for quotes approved by CPQ's retired in-process policy).
    pub approved_by: String,
}

/// Acceptance evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcceptanceView {
    /// When.
    pub accepted_at: DateTime<Utc>,
    /// Who.
    pub accepted_by: String,
    /// Channel.
    pub channel: String,
    /// Customer's reference.
    pub reference: Option<String>,
}

/// A quote with its current revision.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteView {
    /// Quote id.
    pub id: Uuid,
    /// Customer (never changes).
    pub customer_id: String,
    /// ISO-4217 currency.
    pub currency: String,
    /// Quote status.
    pub status: QuoteStatusView,
    /// Current revision.
    pub revision: i32,
    /// End of validity (exclusive).
    pub valid_until: DateTime<Utc>,
    /// Pinned price book.
    pub price_book: PriceBookPin,
    /// Pricing state of the current revision.
    pub pricing_state: PricingStateView,
    /// Hash of the current price snapshot.
    pub price_hash: Option<String>,
    /// Price snapshot of the current revision: lines and totals (trace at `/price-trace`).
    #[schema(value_type = Option<Object>)]
    pub price: Option<Value>,
    /// Approval in force.
    pub approval: Option<ApprovalView>,
    /// The latest approval request the approval service published for the current revision:
    /// status, policy, chain and decisions (null until the approval service answers a submit).
    pub approval_request: Option<ApprovalRequestView>,
    /// The evaluation of CPQ's retired in-process approval policy (`cpq-approval-policy/v1`),
    /// kept for quotes submitted before the approval service decided; null otherwise.
    #[schema(value_type = Option<Object>)]
    pub policy_evaluation: Option<Value>,
    /// Acceptance evidence.
    pub acceptance: Option<AcceptanceView>,
    /// Items of the current revision, in request order.
    pub items: Vec<ItemView>,
    /// Aggregate version (send it back in `If-Match`).
    pub aggregate_version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A quote in a list (no items or price).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteSummary {
    /// Quote id.
    pub id: Uuid,
    /// Customer.
    pub customer_id: String,
    /// Currency.
    pub currency: String,
    /// Status.
    pub status: QuoteStatusView,
    /// Current revision.
    pub revision: i32,
    /// End of validity.
    pub valid_until: DateTime<Utc>,
    /// Price hash of the current revision.
    pub price_hash: Option<String>,
    /// Aggregate version.
    pub aggregate_version: i64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// The price trace of the current revision.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceTraceView {
    /// Quote.
    pub quote_id: Uuid,
    /// Revision.
    pub revision: i32,
    /// Price hash.
    pub price_hash: String,
    /// Hash of the trace's compact JSON.
    pub trace_hash: String,
    /// Whether the snapshot is frozen.
    pub frozen: bool,
    /// When priced.
    pub priced_at: DateTime<Utc>,
    /// Who priced.
    pub priced_by: String,
    /// Every step, in order.
    #[schema(value_type = Vec<Object>)]
    pub steps: Value,
}

/// The one conversion of a quote.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversionView {
    /// Quote.
    pub quote_id: Uuid,
    /// The order it became (the same on every repeat).
    pub order_id: Uuid,
    /// Revision converted.
    pub revision: i32,
    /// Frozen price hash.
    pub price_hash: String,
    /// When.
    pub converted_at: DateTime<Utc>,
    /// Who.
    pub converted_by: String,
    /// The full frozen snapshot the order is built from.
    #[schema(value_type = Object)]
    pub snapshot: Value,
}

fn item_view(item: &QuoteItem) -> ItemView {
    ItemView {
        id: item.id.as_str().to_owned(),
        offering_id: item.offering_id.as_uuid(),
        offering_version: item.offering_version,
        quantity: item.quantity,
        term_months: item.term_months,
        discount_percent: item.discount_percent,
        characteristics: Value::Object(item.characteristics.clone()),
        parent_item_id: item.parent_id.as_ref().map(|p| p.as_str().to_owned()),
        configuration_status: ConfigurationStatusView::of(item.configuration.status()),
        configuration_hash: item.configuration.resolved().map(|r| r.hash.clone()),
        violations: item
            .configuration
            .violations()
            .iter()
            .map(|v| ViolationView {
                code: v.code.clone(),
                path: v.path.clone(),
                message: v.message.clone(),
                details: v.details.clone(),
            })
            .collect(),
    }
}

/// The quote as clients see it, without approval request evidence: for commands whose quote
/// cannot have any for its current revision (it was never submitted in it). Use
/// [`super::current_view`] otherwise.
pub fn quote_view(quote: &Quote) -> QuoteView {
    let identity = quote.identity();
    let commitment = quote.commitment();
    QuoteView {
        id: identity.id.as_uuid(),
        customer_id: identity.customer.as_str().to_owned(),
        currency: identity.currency.code().to_owned(),
        status: quote.status().into(),
        revision: quote.revision(),
        valid_until: quote.valid_until(),
        price_book: PriceBookPin {
            id: identity.price_book.id.as_uuid(),
            version: identity.price_book.version,
        },
        pricing_state: quote.pricing().state().into(),
        price_hash: quote.pricing().hash().map(str::to_owned),
        price: quote.pricing().snapshot().map(|s| s.result.clone()),
        approval: commitment.approval().map(|a| ApprovalView {
            approved_price_hash: a.price_hash.clone(),
            approved_at: a.approved_at,
            approved_by: a.approved_by.clone(),
        }),
        approval_request: None,
        policy_evaluation: commitment
            .basis()
            .and_then(ApprovalBasis::legacy_evaluation)
            .cloned(),
        acceptance: commitment.acceptance().map(|a| AcceptanceView {
            accepted_at: a.accepted_at,
            accepted_by: a.accepted_by.as_str().to_owned(),
            channel: a.channel.clone(),
            reference: a.reference.clone(),
        }),
        items: quote.items().iter().map(item_view).collect(),
        aggregate_version: quote.version(),
        created_at: identity.created_at,
        updated_at: quote.updated_at(),
    }
}

/// A quote in a list.
pub fn summary_view(row: &QuoteListing) -> QuoteSummary {
    QuoteSummary {
        id: row.id.as_uuid(),
        customer_id: row.customer_id.clone(),
        currency: row.currency.clone(),
        status: row.status.into(),
        revision: row.revision,
        valid_until: row.valid_until,
        price_hash: row.price_hash.clone(),
        aggregate_version: row.version,
        created_at: row.created_at,
    }
}

/// The trace of the current revision's snapshot.
pub fn price_trace_view(quote: &Quote, snapshot: &PriceSnapshot) -> PriceTraceView {
    PriceTraceView {
        quote_id: quote.id().as_uuid(),
        revision: quote.revision(),
        price_hash: snapshot.price_hash.clone(),
        trace_hash: snapshot.trace_hash.clone(),
        frozen: snapshot.frozen,
        priced_at: snapshot.priced_at,
        priced_by: snapshot.priced_by.as_str().to_owned(),
        steps: snapshot.trace.clone(),
    }
}

/// The one conversion of a quote.
pub fn conversion_view(quote: QuoteId, conversion: &Conversion) -> ConversionView {
    ConversionView {
        quote_id: quote.as_uuid(),
        order_id: conversion.order_id.as_uuid(),
        revision: conversion.revision,
        price_hash: conversion.price_hash.clone(),
        converted_at: conversion.converted_at,
        converted_by: conversion.converted_by.as_str().to_owned(),
        snapshot: conversion.snapshot.clone(),
    }
}
