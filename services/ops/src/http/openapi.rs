//! The OpenAPI 3.1 contract, generated from the handlers and committed under
//! `contracts/openapi/ops-api.json` (a test fails when the two differ).

use common_kernel::http::contract::PlatformContract;
use utoipa::OpenApi;

use super::{stuck, timelines, views};

/// The ops API document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "cpq-oms operations API",
        description = "Read views for operators, projected from the facts the other services publish (quotes, approvals, orders, fulfilment tasks, external calls, audit decisions). The ops service decides nothing: repairs are the owning services' commands. \
Every request needs a bearer token (`bearerAuth`) whose roles grant ViewOperations (operator, ops-lead, auditor). \
Errors are RFC 9457 application/problem+json with a stable `code`, `correlationId`, `retryable` and field `errors`.",
        license(name = "Apache-2.0")
    ),
    paths(timelines::order, timelines::quote, stuck::list),
    components(schemas(
        common_kernel::error::ProblemDetails, common_kernel::error::FieldError,
        views::TimelineEntryView, views::TimelineView, views::StuckOrderView, views::StuckOrderList,
    )),
    modifiers(&PlatformContract),
    tags(
        (name = "timelines", description = "Orders' and quotes' steps in order"),
        (name = "stuck-orders", description = "Orders without progress"),
    )
)]
pub struct ApiDoc;

/// The contract as pretty JSON with a trailing newline, exactly as committed.
pub fn openapi_json() -> String {
    common_kernel::http::contract::contract_json(&ApiDoc::openapi())
}
