//! Keeps the engine in step with the requests: every PENDING request gets one `quote-approval`
//! instance, and the instance of a request that is no longer PENDING is cancelled, so its open
//! tasks disappear from Tasklist and the inbox.
//!
//! It runs on the jobs role's pool (requests of every tenant), wakes on the notification the
//! intake sends at commit and otherwise polls. It never holds a row lock across a call to the
//! engine: it reads, calls, then inserts the link (`approval_process`, one per request), so a
//! second replica that started an instance for the same request finds the link taken and
//! cancels its own.

use std::time::Duration;

use serde::Serialize;
use sqlx::{PgPool, Row};
use workflow_runtime::{Correlation, Gateway, instance_variables};

use super::quote_events::OPENED_CHANNEL;

/// The process every PENDING request runs.
pub const PROCESS_ID: &str = "quote-approval";
/// Requests handled per pass.
const BATCH: i64 = 50;
/// How long an APPROVED or REJECTED request's instance gets to end on its own (its loop reads
/// the request and ends) before it is cancelled.
const SETTLE_GRACE_SECONDS: f64 = 30.0;

/// Why one pass failed (the loop logs it and tries again).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// The engine refused or could not be reached.
    #[error("the workflow engine failed: {0}")]
    Engine(#[from] zeebe_rs::ClientError),
    /// Variables did not serialise.
    #[error(transparent)]
    Variables(#[from] workflow_runtime::VariablesError),
}

/// The variables an instance starts with (workflow/README.md, quote-approval).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StartVariables {
    approval_request_id: String,
    tenant_id: String,
    quote_id: String,
    quote_revision: i32,
    price_hash: String,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncPass {
    /// Instances started and linked.
    pub started: usize,
    /// Instances cancelled (or found ended) and marked closed.
    pub closed: usize,
}

/// Starts missing instances and closes finished ones, once.
pub async fn sync_once(db: &PgPool, gateway: &Gateway) -> Result<SyncPass, SyncError> {
    let mut pass = SyncPass::default();
    let waiting = sqlx::query(
        "SELECT r.tenant_id, r.approval_request_id::text AS id, r.quote_id::text AS quote_id, \
                r.quote_revision, r.price_hash \
         FROM approval_request r \
         WHERE r.status = 'PENDING' AND NOT EXISTS ( \
             SELECT 1 FROM approval_process p \
             WHERE p.tenant_id = r.tenant_id AND p.approval_request_id = r.approval_request_id) \
         ORDER BY r.created_at LIMIT $1",
    )
    .bind(BATCH)
    .fetch_all(db)
    .await?;
    for row in waiting {
        let id: String = row.try_get("id")?;
        let tenant: String = row.try_get("tenant_id")?;
        let business = StartVariables {
            approval_request_id: id.clone(),
            tenant_id: tenant.clone(),
            quote_id: row.try_get("quote_id")?,
            quote_revision: row.try_get("quote_revision")?,
            price_hash: row.try_get("price_hash")?,
        };
        let correlation = Correlation {
            correlation_id: Some(id.clone()),
            ..Correlation::default()
        };
        let variables = instance_variables(&correlation, &business)?;
        let created = gateway
            .client()
            .create_process_instance()
            .with_bpmn_process_id(PROCESS_ID.to_owned())
            .with_variables(variables)?
            .send()
            .await?;
        let key = created.process_instance_key();
        let linked = sqlx::query(
            "INSERT INTO approval_process (tenant_id, approval_request_id, process_instance_key) \
             VALUES ($1, $2::uuid, $3) ON CONFLICT (tenant_id, approval_request_id) DO NOTHING",
        )
        .bind(&tenant)
        .bind(&id)
        .bind(key)
        .execute(db)
        .await?
        .rows_affected();
        if linked == 1 {
            tracing::info!(request = %id, process_instance_key = key, "approval process started");
            pass.started += 1;
        } else {
            // Another replica linked its own instance first: ours must not offer tasks.
            gateway.cancel_instance(key).await?;
        }
    }
    let finished = sqlx::query(
        "SELECT p.tenant_id, p.approval_request_id::text AS id, p.process_instance_key \
         FROM approval_process p \
         JOIN approval_request r \
           ON r.tenant_id = p.tenant_id AND r.approval_request_id = p.approval_request_id \
         WHERE p.closed_at IS NULL AND r.status <> 'PENDING' \
           AND (r.status IN ('SUPERSEDED', 'CANCELLED', 'EXPIRED') \
                OR coalesce(r.closed_at, r.approved_at, r.updated_at) < now() - make_interval(secs => $2)) \
         ORDER BY p.started_at LIMIT $1",
    )
    .bind(BATCH)
    .bind(SETTLE_GRACE_SECONDS)
    .fetch_all(db)
    .await?;
    for row in finished {
        let key: i64 = row.try_get("process_instance_key")?;
        gateway.cancel_instance(key).await?;
        sqlx::query(
            "UPDATE approval_process SET closed_at = now() \
             WHERE tenant_id = $1 AND approval_request_id = $2::uuid AND closed_at IS NULL",
        )
        .bind(row.try_get::<String, _>("tenant_id")?)
        .bind(row.try_get::<String, _>("id")?)
        .execute(db)
        .await?;
        pass.closed += 1;
    }
    Ok(pass)
}

/// The sync loop: a pass on every notification of a newly opened or closed request, and at
/// least every `every`.
pub async fn run(db: PgPool, gateway: Gateway, every: Duration) {
    let pass_db = db.clone();
    service_host::on_notification_or_every(db, OPENED_CHANNEL, every, || {
        let (db, gateway) = (pass_db.clone(), gateway.clone());
        async move {
            match sync_once(&db, &gateway).await {
                Ok(SyncPass {
                    started: 0,
                    closed: 0,
                }) => {}
                Ok(pass) => tracing::debug!(?pass, "approval processes synchronised"),
                Err(error) => tracing::warn!(%error, "approval process sync failed; retrying"),
            }
        }
    })
    .await;
}
