//! Read models the application returns and the HTTP layer serialises as they are: neither rows
//! nor domain types.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

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
    pub configuration_status: String,
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
    /// Who (`policy:<version>` when no approver was needed).
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
    pub status: String,
    /// Current revision.
    pub revision: i32,
    /// End of validity (exclusive).
    pub valid_until: DateTime<Utc>,
    /// Pinned price book.
    pub price_book: PriceBookPin,
    /// Pricing state of the current revision.
    pub pricing_state: String,
    /// Hash of the current price snapshot.
    pub price_hash: Option<String>,
    /// Price snapshot of the current revision: lines and totals (trace at `/price-trace`).
    #[schema(value_type = Option<Object>)]
    pub price: Option<Value>,
    /// Approval in force.
    pub approval: Option<ApprovalView>,
    /// The approval policy's last evaluation (rules fired, thresholds, required level).
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
    pub status: String,
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
