//! The OpenAPI 3.1 contract, generated from the handlers and committed under
//! `contracts/openapi/ops-api.json` (a test fails when the two differ).

use common_kernel::http::contract::PlatformContract;
use utoipa::OpenApi;

use super::{customers, dto, metrics_dto, projections, queues, stuck, timelines, views};

/// The ops API document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "cpq-oms operations API",
        description = "Read views for operators, projected from the facts the other services publish (quotes, approvals, orders, fulfilment tasks, external calls, audit decisions). The ops service decides nothing: repairs are the owning services' commands. \
Every request needs a bearer token (`bearerAuth`) whose roles grant ViewOperations (operator, ops-lead, auditor); a rebuild needs ops-lead. \
Errors are RFC 9457 application/problem+json with a stable `code`, `correlationId`, `retryable` and field `errors`.",
        license(name = "Apache-2.0")
    ),
    paths(
        timelines::order, timelines::quote, stuck::list, queues::fallout, queues::approvals,
        customers::customer, customers::search, projections::business_metrics,
        projections::status, projections::rebuild, projections::get_rebuild,
    ),
    components(schemas(
        common_kernel::error::ProblemDetails, common_kernel::error::FieldError,
        views::TimelineEntryView, views::TimelineView, views::StuckOrderView, views::StuckOrderList,
        dto::FalloutItemView, dto::FalloutGroupView, dto::FalloutQueueView,
        dto::PendingApprovalView, dto::AgeBucketView, dto::ApprovalAgingView,
        dto::CustomerQuoteView, dto::CustomerOrderView, dto::CustomerAssetView, dto::CustomerView,
        dto::SearchResultView, dto::SearchView, metrics_dto::QuoteMetricsView, metrics_dto::ApprovalMetricsView,
        metrics_dto::OrderMetricsView, metrics_dto::FalloutMetricsView, metrics_dto::TaskMetricsView, metrics_dto::HourView,
        metrics_dto::BusinessMetricsView, metrics_dto::TopicLagView, metrics_dto::RebuildView, metrics_dto::ProjectionStatusView,
        metrics_dto::RebuildRequest,
    )),
    modifiers(&PlatformContract),
    tags(
        (name = "timelines", description = "Orders' and quotes' steps in order"),
        (name = "stuck-orders", description = "Orders without progress"),
        (name = "queues", description = "Fallout and approvals waiting for people"),
        (name = "customers", description = "A customer's quotes, orders and products; search"),
        (name = "metrics", description = "Business metrics as projected"),
        (name = "projections", description = "Lag, generation and rebuild of the projections"),
    )
)]
pub struct ApiDoc;

/// The contract as pretty JSON with a trailing newline, exactly as committed.
pub fn openapi_json() -> String {
    common_kernel::http::contract::contract_json(&ApiDoc::openapi())
}
