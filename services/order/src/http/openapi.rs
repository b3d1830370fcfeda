//! The OpenAPI 3.1 contract, generated from the handlers and committed under
//! `contracts/openapi/order-api.json` (a test fails when the two differ).
//! [`PlatformContract`] adds the problems the platform answers around the handlers (ADR 0029).

use common_kernel::http::contract::PlatformContract;
use utoipa::OpenApi;

use super::{amendments, asset_repairs, assets, dto, fallout_dto, fallouts, interventions, orders};

/// The order API document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "cpq-oms order API",
        description = "Product orders (TMF622 semantics) and the installed base (TMF637 semantics). \
An order is captured from an accepted quote's frozen snapshot (the `cpq.quote.converted.v1` event; its hash is verified and the order id is the one the conversion answered) or directly with `POST /orders` (Idempotency-Key mandatory). \
Decomposition turns it into a plan, a DAG of fulfilment tasks from the catalog's fulfilment profiles (`GET /orders/{id}/plan`); the `order-fulfillment` process runs the tasks as their dependencies succeed, each external effect through the integration service. \
On completion ADD items leave ACTIVE product instances with activation dates, MODIFY bumps an instance's version with a history row, DELETE disconnects it; subscriptions start. \
Exceptions are first-class: failures become fallout records worked through `/fallouts` (retry, retry with corrected data, skip, force-complete, fail the item, abort, close; in bulk too), an order is cancelled by how far it went (`POST /orders/{id}/cancellations`, previewed first with `/cancellations/preview`: stop, await, compensate, manual handling), held and resumed, amended in flight (`POST /orders/{id}/amendments`, previewed with `/amendments/preview`: unchanged items keep running, changed ones are compensated and redone, or refused per item), and one failed task retried. \
Every request needs a bearer token (`bearerAuth`). Errors are RFC 9457 application/problem+json with a stable `code`, `correlationId`, `retryable` and field `errors`.",
        license(name = "Apache-2.0")
    ),
    paths(orders::create, orders::list, orders::get, orders::plan,
        interventions::cancel, interventions::preview, interventions::get_cancellation,
        interventions::hold, interventions::resume, interventions::retry_task,
        amendments::amend, amendments::preview, amendments::get,
        fallouts::list, fallouts::summary, fallouts::get, fallouts::act, fallouts::bulk,
        assets::list, assets::get, assets::subscriptions, asset_repairs::repair),
    components(schemas(
        common_kernel::error::ProblemDetails, common_kernel::error::FieldError,
        dto::CreateOrderRequest, dto::OrderItemRequest, dto::ItemActionDto, dto::OrderView, dto::ItemView,
        dto::TaskView, dto::FailureView, dto::QuoteReference, dto::FalloutRecordView, dto::OrderPage,
        dto::PlanView, dto::AssetView, dto::AssetHistoryView, dto::AssetList, dto::SubscriptionView,
        dto::SubscriptionList, crate::infra::plan_history::PlanRevision,
        interventions::CancelOrderRequest, interventions::CancellationPreviewRequest,
        interventions::CancellationImpactView, interventions::CancellationView,
        interventions::InterventionRequest,
        amendments::AmendedItemRequest, amendments::AmendOrderRequest,
        amendments::AmendmentPreviewRequest, amendments::AmendmentImpactView,
        amendments::AmendmentView,
        asset_repairs::AssetRepairKind, asset_repairs::AssetRepairRequest,
        asset_repairs::AssetRepairResult,
        fallout_dto::FalloutPage, fallout_dto::FalloutSummary, crate::infra::fallout::FalloutGroup,
        fallout_dto::ActionRequest, fallout_dto::ActionKind, fallout_dto::ActionResult,
        fallout_dto::BulkActionRequest, fallout_dto::BulkFilter, fallout_dto::BulkItemResult,
        fallout_dto::BulkActionResult,
    )),
    modifiers(&PlatformContract),
    tags(
        (name = "orders", description = "Product orders, their items, plans and tasks"),
        (name = "installed-base", description = "Product instances and subscriptions"),
        (name = "fallout", description = "The fallout workbench: the queue, its counts, repair actions one at a time or in bulk"),
    )
)]
pub struct ApiDoc;

/// The contract as pretty JSON with a trailing newline, exactly as committed.
pub fn openapi_json() -> String {
    common_kernel::http::contract::contract_json(&ApiDoc::openapi())
}
