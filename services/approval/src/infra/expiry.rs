//! The expiry job: PENDING requests whose time is over become EXPIRED (they could never
//! approve anyway; the aggregate refuses every late decision), tenant by tenant, on the jobs
//! role's pool (it must see every tenant's due requests, which row-level security hides from
//! the app role). The process sync then cancels their instances.

use domain_kernel::TenantId;
use domain_kernel::access::{Authority, Role};
use domain_kernel::{ActorId, ActorType};
use sqlx::PgPool;

use common_kernel::context::RequestContext;

use crate::app::error::AppError;
use crate::app::expire;
use crate::app::ports::Ports;

/// The actor the expiry acts as.
pub const EXPIRY_ACTOR: &str = "approval-expiry-job";

/// Requests expired per tenant and transaction.
const BATCH: i64 = 100;

/// Expires what is due in every tenant; returns how many requests expired.
pub async fn expire_due(db: &PgPool, ports: &Ports) -> Result<usize, AppError> {
    let tenants: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT tenant_id FROM approval_request WHERE status = 'PENDING' AND expires_at <= now()",
    )
    .fetch_all(db)
    .await?;
    let actor = ActorId::parse(EXPIRY_ACTOR).map_err(|e| AppError::Corrupt(e.to_string()))?;
    let mut expired = 0;
    for tenant in tenants {
        let Ok(tenant) = TenantId::parse(&tenant) else {
            tracing::warn!(tenant, "a stored tenant id does not parse; skipped");
            continue;
        };
        let ctx = RequestContext::system(
            tenant,
            actor.clone(),
            ActorType::BatchProcess,
            "job",
            Authority {
                roles: vec![Role::WorkflowWorker],
                client: "approval".into(),
                ..Authority::default()
            },
        );
        let mut tx = db.begin().await?;
        let ids = expire::execute(&mut tx, ports, &ctx, BATCH).await?;
        tx.commit().await?;
        expired += ids.len();
    }
    Ok(expired)
}
