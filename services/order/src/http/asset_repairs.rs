//! The installed base's repair commands over HTTP (the `ops-lead` role): release a stuck
//! operation guard, correct a status along the table's recovery moves, attach a missing
//! downstream reference. Reason and evidence are required; a repeat answers `changed: false`.

use axum::extract::State;
use common_kernel::context::RequestContext;
use common_kernel::error::{ApiError, FieldError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ValidJson};
use common_kernel::idempotency::{CommandFingerprint, CommandResponse};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::dto::{AssetView, asset_view};
use super::{AppState, ContextHeaders};
use crate::app::asset_repairs::{self, AssetRepair};
use crate::domain::{AssetStatus, ProductInstanceId};

/// A repair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssetRepairKind {
    /// ReleaseStuckAssetOperationGuard.
    ReleaseGuard,
    /// CorrectProductInstanceStatus.
    CorrectStatus,
    /// AttachMissingExternalServiceReference.
    AttachReference,
}

/// A repair request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetRepairRequest {
    /// The repair.
    pub repair: AssetRepairKind,
    /// Why (required).
    pub reason: String,
    /// What it rests on (required): the downstream check, a ticket.
    #[schema(value_type = Object)]
    pub evidence: Map<String, Value>,
    /// CORRECT_STATUS: ERROR, ACTIVE or CANCELLED, by the table's recovery moves.
    #[serde(default)]
    pub target_status: Option<String>,
    /// ATTACH_REFERENCE: service, cpe, reservation or charge.
    #[serde(default)]
    pub reference_kind: Option<String>,
    /// ATTACH_REFERENCE: the downstream's reference.
    #[serde(default)]
    pub reference: Option<String>,
}

/// A repair's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AssetRepairResult {
    /// The instance after it.
    pub instance: AssetView,
    /// Its downstream references after it.
    #[schema(value_type = Object)]
    pub references: Map<String, Value>,
    /// False when the repair found its work done.
    pub changed: bool,
}

fn repair_of(body: &AssetRepairRequest) -> Result<AssetRepair, ApiError> {
    match body.repair {
        AssetRepairKind::ReleaseGuard => Ok(AssetRepair::ReleaseGuard),
        AssetRepairKind::CorrectStatus => body
            .target_status
            .as_deref()
            .and_then(AssetStatus::parse)
            .map(AssetRepair::CorrectStatus)
            .ok_or_else(|| {
                ApiError::validation(vec![FieldError::new(
                    "/targetStatus",
                    "REQUIRED",
                    "a product instance status such as ACTIVE",
                )])
            }),
        AssetRepairKind::AttachReference => Ok(AssetRepair::AttachReference(
            body.reference_kind.clone().unwrap_or_default(),
            body.reference.clone().unwrap_or_default(),
        )),
    }
}

/// Repairs one product instance (privileged: `ops-lead`): ReleaseStuckAssetOperationGuard,
/// CorrectProductInstanceStatus, AttachMissingExternalServiceReference.
#[utoipa::path(post, path = "/assets/{id}/repairs", tag = "installed-base",
    params(ContextHeaders, ("id" = Uuid, Path, description = "Product instance id")),
    request_body = AssetRepairRequest,
    responses(
        (status = 200, body = AssetRepairResult),
        (status = 404, description = "`PRODUCT_INSTANCE_NOT_FOUND`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "`GUARD_IN_USE`, `REFERENCE_ALREADY_SET`, `STATUS_CORRECTION_NOT_ALLOWED`, `ASSET_DISCONNECTED`, `ILLEGAL_TRANSITION`", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`: reason, evidence, the target status or the reference missing", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn repair(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<Uuid>,
    body: ValidJson<AssetRepairRequest>,
) -> Result<CommandResponse, ApiError> {
    let fingerprint = CommandFingerprint::new("order.RepairAsset", &id.to_string(), &body.digest);
    let repair = repair_of(&body.body)?;
    let (reason, evidence) = (body.body.reason, body.body.evidence);
    let command_ctx = ctx.clone();
    state
        .runner
        .run(&ctx, fingerprint, move |mut tx| async move {
            let result = asset_repairs::repair(
                &mut tx,
                &command_ctx,
                ProductInstanceId::from_uuid(id),
                &repair,
                &reason,
                &evidence,
            )
            .await
            .map_err(ApiError::from)
            .and_then(|done| {
                serde_json::to_value(AssetRepairResult {
                    instance: asset_view(&done.instance, &done.references, &[]),
                    references: done.references,
                    changed: done.changed,
                })
                .map(CommandResponse::ok)
                .map_err(ApiError::internal)
            });
            (tx, result)
        })
        .await
}
