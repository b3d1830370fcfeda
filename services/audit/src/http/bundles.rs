//! `GET /evidence-bundles`: a resource's self-verifying evidence bundle.

use axum::Json;
use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, FieldError, ProblemDetails};
use common_kernel::http::extract::ApiQuery;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::{AppState, ContextHeaders};
use crate::app::bundles;
use crate::domain::ResourceType;

/// The resource.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BundleQuery {
    /// Resource type, any spelling (`QUOTE`, `Quote`).
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
}

/// The resource's entries, each with its inclusion proof against one signed checkpoint that
/// covers them all (published now when the newest does not), and the signing key: a document
/// `audit-verify` (or any verifier written from docs/audit-evidence-format.md) checks offline.
#[utoipa::path(get, path = "/evidence-bundles", tag = "proofs",
    params(ContextHeaders, BundleQuery),
    responses(
        (status = 200, description = "A `cpq-oms/audit-evidence-bundle/v1` document (docs/audit-evidence-format.md)", body = Object),
        (status = 404, description = "`NO_EVIDENCE`: the tenant's log has nothing about that resource", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`BUNDLE_TOO_LARGE`: more entries than one bundle carries; `VALIDATION_FAILED`: a bad resource type or id", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn export(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(query): ApiQuery<BundleQuery>,
) -> Result<Json<Value>, ApiError> {
    let mut errors = Vec::new();
    let resource_type = ResourceType::parse(&query.resource_type);
    if resource_type.is_none() {
        errors.push(FieldError::new(
            "/resourceType",
            "INVALID",
            "not a resource type name",
        ));
    }
    if query.resource_id.trim().is_empty() || query.resource_id.len() > 200 {
        errors.push(FieldError::new(
            "/resourceId",
            "INVALID",
            "1 to 200 characters, not blank",
        ));
    }
    let Some(resource_type) = resource_type.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let mut tx = state.write(&ctx).await?;
    let bundle = bundles::bundle(
        &mut tx,
        &ctx,
        &state.keys,
        &resource_type,
        &query.resource_id,
    )
    .await?;
    tx.commit().await.map_err(ApiError::from)?;
    let document = serde_json::to_value(&bundle).map_err(ApiError::internal)?;
    Ok(Json(document))
}
