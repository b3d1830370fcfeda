//! The OpenAPI 3.1 contract, generated from the handlers and committed under
//! `contracts/openapi/cpq-api.json` (a test fails when the two differ). Handlers declare their
//! own answers; [`PlatformContract`] adds the problems the platform answers around them
//! (ADR 0029).

use common_kernel::http::contract::PlatformContract;
use utoipa::OpenApi;

use super::{dto, quote_queries, quotes};
use crate::app::{approval_views, views};

/// The CPQ API document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "cpq-oms CPQ API",
        description = "Quotes with revisions: items configured against pinned catalog offering versions, pricing with a full trace and a price hash, \
approval by the approval service (a submit stops at SUBMITTED; the approval service's outcome moves the quote on, and the quote shows the approval request's evidence), \
acceptance with evidence, and exactly one conversion to an order. \
Every request needs a bearer token from the platform's OIDC issuer (`bearerAuth`): it names the tenant and the caller, whose roles grant each operation's action. \
Errors are RFC 9457 application/problem+json with a stable `code`, `correlationId`, `retryable` and field `errors`. \
Commands accept `Idempotency-Key` and `If-Match`.",
        license(name = "Apache-2.0")
    ),
    paths(
        quotes::create, quote_queries::get, quote_queries::list, quotes::replace_items, quotes::price, quotes::override_price,
        quotes::submit, quotes::revise, quotes::accept, quotes::cancel, quote_queries::price_trace, quotes::convert,
    ),
    components(schemas(
        common_kernel::error::ProblemDetails, common_kernel::error::FieldError,
        dto::CreateQuoteRequest, dto::ItemRequest, dto::ReplaceItemsRequest, dto::PriceOverrideRequest,
        dto::ReasonRequest, dto::AcceptRequest,
        views::QuoteView, views::QuoteSummary, views::ItemView, views::ViolationView, views::PriceBookPin,
        views::ApprovalView, views::AcceptanceView, approval_views::ApprovalRequestView,
        approval_views::ApprovalRequestStatusView, approval_views::ApprovalLevelView,
        approval_views::ApprovalDecisionView, views::PriceTraceView, views::ConversionView,
        views::QuoteStatusView, views::PricingStateView, views::ConfigurationStatusView,
    )),
    modifiers(&PlatformContract),
    tags((name = "quotes", description = "Quotes, their lifecycle and conversion"))
)]
pub struct ApiDoc;

/// The contract as pretty JSON with a trailing newline, exactly as committed.
pub fn openapi_json() -> String {
    common_kernel::http::contract::contract_json(&ApiDoc::openapi())
}
