//! The OpenAPI 3.1 contract, generated from the handlers and committed under
//! `contracts/openapi/audit-api.json` (a test fails when the two differ).
//! [`PlatformContract`] adds the problems the platform answers around the handlers (ADR 0029).

use common_kernel::http::contract::PlatformContract;
use utoipa::OpenApi;

use super::{bundles, checkpoints, events, proofs, verify, views};

/// The audit API document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "cpq-oms audit API",
        description = "The append-only, tamper-evident evidence log. Every service submits evidence of each decision (who, what, on which input, why) through its outbox; this service keeps it in one RFC 6962 Merkle log per tenant and signs checkpoints (tree heads) with Ed25519. \
Auditors query disputes by resource, actor, business transaction or correlation, read a resource's timeline with its before/after diffs, fetch inclusion and consistency proofs, have the stored log recomputed (`/audit/verify`), and export evidence bundles that prove themselves offline (`audit-verify`, docs/audit-evidence-format.md). \
Nothing here changes evidence: the log's database role may only insert and select, and triggers refuse every update, delete and truncate outside the documented redaction procedure. \
Every request needs a bearer token (`bearerAuth`) whose roles grant ViewAudit (auditor, operator, ops-lead). \
Errors are RFC 9457 application/problem+json with a stable `code`, `correlationId`, `retryable` and field `errors`.",
        license(name = "Apache-2.0")
    ),
    paths(
        events::list, events::get, events::timeline, events::quarantine,
        proofs::inclusion, proofs::consistency, verify::verify, bundles::export,
        checkpoints::latest, checkpoints::publish, checkpoints::signing_keys,
    ),
    components(schemas(
        common_kernel::error::ProblemDetails, common_kernel::error::FieldError,
        views::AuditEventView, views::AuditEventPage, views::ActorView, views::ResourceView,
        views::PolicyView, views::SourceView, views::ChangeView, views::TimelineStepView,
        views::TimelineView, views::CheckpointView, views::SigningKeyView, views::SigningKeyList,
        views::QuarantinedView, views::QuarantineList,
        proofs::InclusionProofView, proofs::ConsistencyProofView,
        verify::VerifyRequest, verify::VerifyReportView, verify::FindingView,
    )),
    modifiers(&PlatformContract),
    tags(
        (name = "audit-events", description = "Dispute queries, timelines and the quarantine"),
        (name = "proofs", description = "Inclusion and consistency proofs, verification, evidence bundles"),
        (name = "checkpoints", description = "Signed tree heads and their keys"),
    )
)]
pub struct ApiDoc;

/// The contract as pretty JSON with a trailing newline, exactly as committed.
pub fn openapi_json() -> String {
    common_kernel::http::contract::contract_json(&ApiDoc::openapi())
}
