//! The contract's statement of authentication (ADR 0030): one bearer scheme, required by the
//! whole document, so generated clients send the token, Swagger-style UIs (the Scalar page at
//! `/docs`) offer to enter it, and the platform's 401/403/429 rows know which operations they
//! apply to.

use utoipa::openapi::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};

use crate::auth::settings::DEFAULT_AUDIENCE;

/// Name of the bearer scheme under `components.securitySchemes`; the docs page preselects it.
pub const BEARER_SCHEME: &str = "bearerAuth";

/// What a client must know to get a token the services accept: the issuer, the algorithms, the
/// audience and the claims that make up the caller.
fn bearer_description() -> String {
    format!(
        "An access token (JWT) from the platform's OIDC issuer, sent as `Authorization: Bearer \
         <token>`. Signed RS256 or ES256 with a key the issuer publishes; `iss` is the issuer, \
         `aud` contains `{DEFAULT_AUDIENCE}`, `exp` and `nbf` hold (30 s leeway). The caller comes \
         from the claims: `tenant_id` (required) is the tenant it acts for, `preferred_username` \
         (else `sub`) the actor, `azp` the client, `actor_type` its kind (`HUMAN_AGENT`, \
         `CUSTOMER_PORTAL_USER`, `PARTNER_API_CLIENT`, `INTERNAL_SERVICE`, `BATCH_PROCESS`, \
         `WORKFLOW_WORKER`, `ADMIN_OPERATOR`), `realm_access.roles` the roles that grant each \
         operation's action, and `discount_authority` (a decimal percent, absent = 0) the largest \
         line discount it may grant without approval. A service acting for a user sends its own \
         token here and the user's in `X-Acting-User`. Identity headers (`X-Tenant-Id`, \
         `X-Actor-Id`, `X-Actor-Type`) are ignored."
    )
}

/// Adds the bearer scheme and, unless the document states its own, the requirement that every
/// operation send a token. An operation opts out with an empty requirement (`security: []`).
pub(super) fn declare_bearer_security(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .security_schemes
        .entry(BEARER_SCHEME.to_owned())
        .or_insert_with(|| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(bearer_description()))
                    .build(),
            )
            .into()
        });
    doc.security.get_or_insert_with(|| {
        vec![SecurityRequirement::new(
            BEARER_SCHEME,
            std::iter::empty::<String>(),
        )]
    });
}

/// Whether a list of requirements demands credentials: it is not empty and no alternative in it
/// is the empty requirement (`{}`, "no credentials").
fn requires_credentials(requirements: &[SecurityRequirement]) -> bool {
    !requirements.is_empty()
        && requirements
            .iter()
            .all(|requirement| requirement != &SecurityRequirement::default())
}

/// Whether the document as a whole requires credentials.
pub(super) fn document_requires_credentials(doc: &OpenApi) -> bool {
    doc.security.as_deref().is_some_and(requires_credentials)
}

/// Whether `operation` requires credentials: its own requirement when it states one, else the
/// document's (`document_secured`).
pub(super) fn operation_requires_credentials(
    operation: &Operation,
    document_secured: bool,
) -> bool {
    match &operation.security {
        Some(requirements) => requires_credentials(requirements),
        None => document_secured,
    }
}
