//! The expiry job: quotes whose validity ended move to EXPIRED with history, event and audit,
//! in batches, one transaction per batch. Two service instances never expire one quote twice:
//! the batch locks its rows `FOR UPDATE SKIP LOCKED`.

use common_kernel::context::{ActorType, RequestContext};
use common_kernel::ids::{ActorId, TenantId};
use domain_kernel::access::Authority;
use sqlx::PgPool;

use super::error::{CpqError, CpqResult};
use super::ports::Ports;
use super::{commit_change, db_now};

/// Quotes expired per transaction.
const BATCH: i64 = 100;
/// The actor the job acts as.
pub const EXPIRY_ACTOR: &str = "cpq-expiry-job";

/// The context of one expiry: the system actor, in the quote's tenant.
fn system_context(tenant: &TenantId) -> CpqResult<RequestContext> {
    let actor = ActorId::parse(EXPIRY_ACTOR).map_err(|e| CpqError::Corrupt(e.to_string()))?;
    Ok(RequestContext::system(
        tenant.clone(),
        actor,
        ActorType::BatchProcess,
        "SYSTEM",
        Authority::default(),
    ))
}

/// Expires every quote past its validity; returns how many. `pool` is the jobs role's: the job
/// crosses tenants (each quote's changes are recorded in its own tenant's name), and a statement
/// added here needs a grant to `cpq_jobs` in a new migration.
#[tracing::instrument(skip_all, err)]
pub async fn expire_due(pool: &PgPool, ports: &Ports) -> CpqResult<u64> {
    let mut expired = 0;
    loop {
        let mut tx = pool.begin().await?;
        let due = ports.quotes.lock_expired(&mut tx, BATCH).await?;
        let batch = due.len();
        for mut quote in due {
            let ctx = system_context(&quote.identity().tenant)?;
            let event = quote.expire(db_now())?;
            commit_change(&mut tx, ports, &ctx, &mut quote, &event).await?;
        }
        tx.commit().await?;
        expired += batch as u64;
        if batch < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            return Ok(expired);
        }
    }
}
