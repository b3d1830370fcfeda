//! Request bodies and query strings. Every body refuses unknown fields; amounts and
//! percentages are decimal strings; conversion to application inputs happens here, at the edge.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::accept_quote::AcceptInput;
use crate::app::create_quote::CreateQuote;
use crate::app::override_price::OverrideInput;
use crate::domain::PriceBookId;
use crate::domain::quote::ItemDraft;

/// One quote item.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ItemRequest {
    /// Item id, unique in the quote (default: the 1-based position).
    #[schema(example = "1")]
    pub id: Option<String>,
    /// Catalog product offering.
    pub offering_id: Uuid,
    /// Offering version to pin (default: the published version; any other is refused).
    pub offering_version: Option<i32>,
    /// Units, at least 1.
    #[schema(example = 1, minimum = 1)]
    pub quantity: i64,
    /// Commitment term in months (drives term discounts on recurring charges).
    pub term_months: Option<i32>,
    /// Line discount the seller asks for, percent (decimal string); subject to the approval
    /// policy.
    #[schema(value_type = Option<String>, example = "5", pattern = r"^-?[0-9]{1,15}(\.[0-9]{1,10})?$")]
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub discount_percent: Option<Decimal>,
    /// Characteristic values by name.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub characteristics: Map<String, Value>,
    /// The item this one is an add-on of.
    pub parent_id: Option<String>,
}

impl From<ItemRequest> for ItemDraft {
    fn from(r: ItemRequest) -> Self {
        Self {
            id: r.id,
            offering_id: cpq_configuration::OfferingId::from_uuid(r.offering_id),
            offering_version: r.offering_version,
            quantity: r.quantity,
            term_months: r.term_months,
            discount_percent: r.discount_percent,
            characteristics: r.characteristics,
            parent_id: r.parent_id,
        }
    }
}

/// Body of `POST /quotes`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateQuoteRequest {
    /// Customer (never changes afterwards): not blank, at most 128 characters, no control
    /// characters.
    #[schema(
        example = "CUST-1001",
        min_length = 1,
        max_length = 128,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub customer_id: String,
    /// ISO-4217 currency; must be the price book's.
    #[schema(example = "USD", pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// Catalog price book.
    pub price_book_id: Uuid,
    /// Price book version to pin (default: the published one).
    pub price_book_version: Option<i32>,
    /// End of validity (exclusive), at most a year ahead.
    pub valid_until: DateTime<Utc>,
    /// Items, configured right away.
    pub items: Option<Vec<ItemRequest>>,
}

impl From<CreateQuoteRequest> for CreateQuote {
    fn from(r: CreateQuoteRequest) -> Self {
        Self {
            customer_id: r.customer_id,
            currency: r.currency,
            price_book_id: PriceBookId::from_uuid(r.price_book_id),
            price_book_version: r.price_book_version,
            valid_until: r.valid_until,
            items: r
                .items
                .map(|items| items.into_iter().map(Into::into).collect()),
        }
    }
}

/// Body of `PUT /quotes/{id}/items`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplaceItemsRequest {
    /// The complete item list of the current revision.
    pub items: Vec<ItemRequest>,
}

/// Body of `POST /quotes/{id}/items/{itemId}/price-override`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceOverrideRequest {
    /// ONE_TIME, RECURRING_MONTH, RECURRING_QUARTER or RECURRING_YEAR.
    #[schema(example = "RECURRING_MONTH")]
    pub charge: String,
    /// The computed net price being replaced (must equal the current one).
    #[schema(value_type = String, example = "149.00", pattern = r"^-?[0-9]{1,15}(\.[0-9]{1,10})?$")]
    #[serde(with = "rust_decimal::serde::str")]
    pub original_price: Decimal,
    /// The new price.
    #[schema(value_type = String, example = "129.00", pattern = r"^-?[0-9]{1,15}(\.[0-9]{1,10})?$")]
    #[serde(with = "rust_decimal::serde::str")]
    pub new_price: Decimal,
    /// Why.
    pub reason: String,
}

impl From<PriceOverrideRequest> for OverrideInput {
    fn from(r: PriceOverrideRequest) -> Self {
        Self {
            charge: r.charge,
            original_price: r.original_price,
            new_price: r.new_price,
            reason: r.reason,
        }
    }
}

/// Optional body of revise and cancel.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReasonRequest {
    /// Reason, kept in history and audit evidence.
    pub reason: Option<String>,
}

/// Optional body of accept.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcceptRequest {
    /// Channel of the acceptance (default: the request's X-Channel).
    #[schema(example = "CUSTOMER_PORTAL")]
    pub channel: Option<String>,
    /// Customer's reference (PO number, signature id).
    pub reference: Option<String>,
}

impl From<AcceptRequest> for AcceptInput {
    fn from(r: AcceptRequest) -> Self {
        Self {
            channel: r.channel,
            reference: r.reference,
        }
    }
}

/// Query of `GET /quotes`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only quotes in this status.
    pub status: Option<String>,
    /// Only quotes of this customer.
    pub customer_id: Option<String>,
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    pub offset: Option<i64>,
}

/// Request-context headers: the chain of causes a request belongs to. Identity is not among
/// them: tenant, actor and roles come from the bearer token (ADR 0030).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(
    dead_code,
    reason = "documents headers read by the RequestContext extractor"
)]
pub struct ContextHeaders {
    /// Calling channel (default API).
    #[param(rename = "X-Channel")]
    x_channel: Option<String>,
    /// Correlation id; generated when absent and echoed on the response.
    #[param(rename = "X-Correlation-Id")]
    x_correlation_id: Option<String>,
}

/// Headers of commands.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(dead_code, reason = "documents headers read by extractors")]
pub struct CommandHeaders {
    /// Makes the command safe to retry: the same key and request replay the first answer.
    #[param(rename = "Idempotency-Key")]
    idempotency_key: Option<String>,
    /// Aggregate version the client read; a newer one answers 412.
    #[param(rename = "If-Match", example = "\"3\"")]
    if_match: Option<String>,
}

/// Headers of commands that take no precondition (conversion happens once, whatever the version).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(dead_code, reason = "documents headers read by extractors")]
pub struct IdempotencyHeaders {
    /// Makes the command safe to retry: the same key and request replay the first answer.
    #[param(rename = "Idempotency-Key")]
    idempotency_key: Option<String>,
}
