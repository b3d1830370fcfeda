//! The OpenAPI 3.1 contract, generated from the handlers above and committed under
//! `contracts/openapi/catalog-api.json` (a test fails when the two differ). Handlers declare
//! their own answers; [`PlatformContract`] adds the problems the platform answers around them
//! (ADR 0029).

use common_kernel::http::contract::PlatformContract;
use utoipa::OpenApi;

use super::{dto, offerings, price_books, specifications};
use crate::app::views;

/// The catalog API document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "cpq-oms catalog API",
        description = "Product specifications, versioned product offerings with relationship rules, and versioned price books. \
Every request needs a bearer token from the platform's OIDC issuer (`bearerAuth`): it names the tenant and the caller, whose roles grant each operation's action. \
Errors are RFC 9457 application/problem+json with a stable `code`, `correlationId`, `retryable` and field `errors`. \
Commands accept `Idempotency-Key`; published versions are immutable.",
        license(name = "Apache-2.0")
    ),
    paths(
        specifications::create, specifications::get, specifications::list,
        offerings::create, offerings::get, offerings::list, offerings::get_version,
        offerings::submit_for_review, offerings::return_to_draft, offerings::publish, offerings::retire, offerings::archive,
        offerings::create_version, offerings::edit_version,
        price_books::create, price_books::publish, price_books::create_version, price_books::get, price_books::list,
        price_books::get_version,
    ),
    components(schemas(
        common_kernel::error::ProblemDetails, common_kernel::error::FieldError,
        dto::CreateSpecificationRequest, dto::CharacteristicRequest, dto::RangeRequest,
        dto::CreateOfferingRequest, dto::RelationshipRequest, dto::FulfilmentProfileRequest, dto::TaskTemplateRequest, dto::OfferingContentPatch, dto::LifecycleRequest,
        dto::CreatePriceBookRequest, dto::PriceEntryRequest, dto::ChargeRequest, dto::TierRequest, dto::PriceBookVersionRequest,
        views::SpecificationView, views::CharacteristicView, views::RangeView, views::OfferingView, views::VersionSummary,
        views::OfferingVersionView, views::OfferingVersionContent, views::OfferingLifecycleView, views::RelationshipView,
        views::FulfilmentProfileView, views::TaskTemplateView,
        views::PriceBookView, views::PriceBookVersionView, views::PriceBookVersionContent, views::ChargeView, views::TierView,
    )),
    modifiers(&PlatformContract),
    tags(
        (name = "specifications", description = "Product specifications and characteristic definitions"),
        (name = "offerings", description = "Product offerings, their versions and lifecycle"),
        (name = "price-books", description = "Versioned price books"),
    )
)]
pub struct ApiDoc;

/// The contract as pretty JSON with a trailing newline, exactly as committed.
pub fn openapi_json() -> String {
    common_kernel::http::contract::contract_json(&ApiDoc::openapi())
}
