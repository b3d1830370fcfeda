//! `GET /business-metrics`, `GET /projections/status`, `POST /ops/projections/rebuild` and
//! `GET /ops/projections/rebuilds/{rebuildId}`: the business metrics as projected, the
//! projections' lag and generation, and their rebuild from the event log (ADR 0046).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use common_kernel::context::RequestContext;
use common_kernel::db::begin_for_tenant;
use common_kernel::error::{ApiError, FieldError, ProblemDetails};
use common_kernel::http::extract::{ApiPath, ValidJson};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::metrics_dto::{
    BusinessMetricsView, ProjectionStatusView, RebuildRequest, RebuildView, TopicLagView,
};
use super::{AppState, ContextHeaders};
use crate::app::{AppError, rebuild, views};
use crate::infra::projector::TOPICS;
use crate::infra::reads;

/// Every business metric of the caller's tenant (quotes created and accepted per hour,
/// conversion rate, approval aging, override frequency, orders per hour, fallout, fulfilment
/// duration p50/p95, task retries, stuck orders, cancellation rate) and the last 24 hours; the
/// same figures `/metrics` exports as `ops_business_*` series.
#[utoipa::path(get, path = "/business-metrics", tag = "metrics",
    params(ContextHeaders),
    responses((status = 200, body = BusinessMetricsView)))]
pub async fn business_metrics(
    State(state): State<AppState>,
    ctx: RequestContext,
) -> Result<Json<BusinessMetricsView>, ApiError> {
    let mut conn = state.read(&ctx).await?;
    let (rows, stuck, hours) =
        views::business_metrics(&mut conn, &ctx, &state.settings.stuck).await?;
    Ok(Json(BusinessMetricsView::new(rows, stuck, hours)))
}

/// The generation the views show, the projector's lag per topic (messages behind, and the time
/// of the newest event projected for the caller's tenant) and the latest rebuild.
#[utoipa::path(get, path = "/projections/status", tag = "projections",
    params(ContextHeaders),
    responses((status = 200, body = ProjectionStatusView)))]
pub async fn status(
    State(state): State<AppState>,
    ctx: RequestContext,
) -> Result<Json<ProjectionStatusView>, ApiError> {
    let mut conn = state.read(&ctx).await?;
    let latest = rebuild::latest(&mut conn, &ctx).await?;
    let generation = rebuild::generation(&mut conn).await?;
    let last: BTreeMap<String, _> = reads::last_event_per_topic(&mut conn)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .collect();
    let lag = state.lag.as_ref().map(|reader| reader.lag());
    let topics = TOPICS
        .iter()
        .map(|topic| TopicLagView {
            topic: (*topic).to_owned(),
            lag_messages: lag.as_ref().and_then(|lag| {
                let parts: Vec<i64> = lag
                    .iter()
                    .filter(|((t, _), _)| t == topic)
                    .map(|(_, behind)| *behind)
                    .collect();
                (!parts.is_empty()).then(|| parts.iter().sum())
            }),
            last_event_at: last.get(*topic).copied(),
        })
        .collect();
    Ok(Json(ProjectionStatusView {
        generation,
        topics,
        rebuild: latest.map(Into::into),
    }))
}

/// Replays every topic the views read from its first retained offset into fresh rows (the next
/// generation) and swaps them in at once; the live views answer meanwhile. Privileged
/// (ops-lead); one run at a time; the reason goes with the run and into the audit log. Follow
/// the run at `Location`.
#[utoipa::path(post, path = "/ops/projections/rebuild", tag = "projections",
    params(ContextHeaders),
    request_body = RebuildRequest,
    responses(
        (status = 202, body = RebuildView, description = "The run started"),
        (status = 409, description = "`REBUILD_RUNNING`: a run has not ended yet", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "`VALIDATION_FAILED`: no reason", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn rebuild(
    State(state): State<AppState>,
    ctx: RequestContext,
    ValidJson { body, .. }: ValidJson<RebuildRequest>,
) -> Result<(StatusCode, [(&'static str, String); 1], Json<RebuildView>), ApiError> {
    let reason = body.reason.trim();
    if reason.is_empty() || reason.chars().count() > 1_000 {
        return Err(ApiError::validation(vec![FieldError::new(
            "/reason",
            "REQUIRED",
            "why the projections are rebuilt, 1 to 1000 characters",
        )]));
    }
    if let Err(error) = crate::infra::rebuild::fail_orphans(&state.jobs_db).await {
        tracing::warn!(%error, "orphaned rebuilds not checked");
    }
    let mut tx = begin_for_tenant(&state.db, &ctx.tenant_id).await?;
    let run = rebuild::request(&mut tx, &ctx, reason).await?;
    tx.commit().await.map_err(AppError::from)?;
    match state.brokers.clone() {
        Some(brokers) => {
            tokio::spawn(crate::infra::rebuild::run(
                state.jobs_db.clone(),
                brokers,
                run.rebuild_id,
                run.generation,
            ));
        }
        None => crate::infra::rebuild::fail_without_broker(&state.jobs_db, run.rebuild_id).await,
    }
    let location = format!("/ops/projections/rebuilds/{}", run.rebuild_id);
    Ok((
        StatusCode::ACCEPTED,
        [("location", location)],
        Json(run.into()),
    ))
}

/// The run.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Path)]
pub struct RebuildPath {
    /// The run's id.
    pub rebuild_id: Uuid,
}

/// A rebuild run: RUNNING, SWAPPED (with the events replayed) or FAILED (with why).
#[utoipa::path(get, path = "/ops/projections/rebuilds/{rebuildId}", tag = "projections",
    params(ContextHeaders, RebuildPath),
    responses(
        (status = 200, body = RebuildView),
        (status = 404, description = "`REBUILD_NOT_FOUND`", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn get_rebuild(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(path): ApiPath<RebuildPath>,
) -> Result<Json<RebuildView>, ApiError> {
    let mut conn = state.read(&ctx).await?;
    let run = rebuild::get(&mut conn, &ctx, path.rebuild_id)
        .await?
        .ok_or(AppError::RebuildNotFound(path.rebuild_id))?;
    Ok(Json(run.into()))
}
