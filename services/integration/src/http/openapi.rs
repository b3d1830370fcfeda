//! The OpenAPI 3.1 contract, generated from the handlers and committed under
//! `contracts/openapi/integration-api.json` (a test fails when the two differ).
//! [`PlatformContract`] adds the problems the platform answers around the handlers (ADR 0029).

use common_kernel::http::contract::PlatformContract;
use utoipa::OpenApi;

use super::{calls, operations, views};

/// The integration API document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "cpq-oms integration API",
        description = "The anti-corruption layer between fulfilment and the downstream systems (inventory, provisioning, billing, CRM, contract, notification). \
Every external side effect is one external operation, keyed by an idempotency key derived from its business identity (order, item, task, operation) and sent on every attempt. \
The external call log records every attempt with its class (SUCCEEDED, REJECTED_BUSINESS, FAILED_TECHNICAL, OUTCOME_UNKNOWN) and every status query of a reconciliation. \
A timeout is never a failure: the operation waits in OUTCOME_UNKNOWN until the downstream says by key whether it applied the effect. \
The fulfilment process's workers are the only writers; this API reads. Every request needs a bearer token (`bearerAuth`) whose roles grant ViewOperations. \
Errors are RFC 9457 application/problem+json with a stable `code`, `correlationId`, `retryable` and field `errors`.",
        license(name = "Apache-2.0")
    ),
    paths(calls::list, operations::list, operations::get),
    components(schemas(
        common_kernel::error::ProblemDetails, common_kernel::error::FieldError,
        views::ExternalCallView, views::ExternalCallPage, views::ExternalOperationView,
        views::ExternalOperationList, views::ResultView, views::RejectionView,
    )),
    modifiers(&PlatformContract),
    tags(
        (name = "external-calls", description = "The external call log"),
        (name = "external-operations", description = "External side effects and the state they wait in"),
    )
)]
pub struct ApiDoc;

/// The contract as pretty JSON with a trailing newline, exactly as committed.
pub fn openapi_json() -> String {
    common_kernel::http::contract::contract_json(&ApiDoc::openapi())
}
