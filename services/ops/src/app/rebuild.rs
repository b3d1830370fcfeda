//! Asking for a rebuild of the projections (privileged: `RebuildProjections`, ops-lead). The run
//! itself is the infrastructure's (`infra::rebuild`); this records who asked and why, refuses a
//! second run while one is running, and leaves audit evidence.

use chrono::{DateTime, Utc};
use common_kernel::audit::{self, AuditResource, Evidence};
use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use super::AppError;

/// The evidence a rebuild request leaves.
pub const REBUILD_EVIDENCE: &str = "ops.projections.rebuild-requested";

/// A rebuild run as recorded.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RebuildRow {
    /// The run.
    pub rebuild_id: Uuid,
    /// The generation it builds.
    pub generation: i32,
    /// RUNNING, SWAPPED or FAILED.
    pub status: String,
    /// Who asked.
    pub requested_by: String,
    /// Why.
    pub reason: String,
    /// Events replayed (set at the swap).
    pub events_replayed: i64,
    /// Why it failed.
    pub failure: Option<String>,
    /// Started at.
    pub started_at: DateTime<Utc>,
    /// Finished at.
    pub finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "rebuild_id, generation, status, requested_by, reason, events_replayed, failure, \
                       started_at, finished_at";

/// Records a new run into the next generation; `Err(RebuildRunning)` while one runs.
pub async fn request(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    reason: &str,
) -> Result<RebuildRow, AppError> {
    ctx.authorize(Action::RebuildProjections)?;
    let running: Option<Uuid> = sqlx::query_scalar(
        "SELECT rebuild_id FROM projection_rebuild WHERE status = 'RUNNING' LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(running) = running {
        return Err(AppError::RebuildRunning(running));
    }
    let generation: i32 = sqlx::query_scalar(
        "SELECT greatest((SELECT generation FROM projection_state), \
                         coalesce((SELECT max(generation) FROM projection_rebuild), 1)) + 1",
    )
    .fetch_one(&mut *conn)
    .await?;
    let inserted = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO projection_rebuild (rebuild_id, generation, status, requested_by, tenant_id, reason, \
         correlation_id) VALUES ($1, $2, 'RUNNING', $3, $4, $5, $6) RETURNING {COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(generation)
    .bind(ctx.actor.actor_id.as_str())
    .bind(ctx.tenant_id.as_str())
    .bind(reason)
    .bind(&ctx.correlation_id)
    .fetch_one(&mut *conn)
    .await;
    let row: RebuildRow = match inserted {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(AppError::RebuildRunning(Uuid::nil()));
        }
        other => other?,
    };
    audit::record(
        conn,
        ctx,
        Evidence {
            event_type: REBUILD_EVIDENCE,
            resource: AuditResource {
                resource_type: "ProjectionRebuild",
                resource_id: row.rebuild_id.to_string(),
                resource_version: 1,
            },
            business_reason: Some(reason.to_owned()),
            before: None,
            after: Some(json!({"generation": row.generation, "status": row.status})),
            policy: None,
        },
    )
    .await?;
    Ok(row)
}

/// A run of the caller's tenant.
pub async fn get(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: Uuid,
) -> Result<Option<RebuildRow>, AppError> {
    ctx.authorize(Action::ViewOperations)?;
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM projection_rebuild WHERE rebuild_id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

/// The latest run of the caller's tenant, if any.
pub async fn latest(
    conn: &mut PgConnection,
    ctx: &RequestContext,
) -> Result<Option<RebuildRow>, AppError> {
    ctx.authorize(Action::ViewOperations)?;
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM projection_rebuild ORDER BY started_at DESC LIMIT 1"
    )))
    .fetch_optional(conn)
    .await?)
}

/// The current generation.
pub async fn generation(conn: &mut PgConnection) -> Result<i32, AppError> {
    Ok(crate::infra::store::current_generation(conn).await?)
}
