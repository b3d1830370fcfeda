//! The PostgreSQL implementation of the application's `ApprovalRepository` port.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use domain_kernel::{ActorId, TenantId};
use sqlx::PgConnection;

use super::{reads, writes};
use crate::app::ports::{ApprovalRepository, OpenTask, StoreError};
use crate::domain::{
    ApprovalEvent, ApprovalRequest, ApprovalRequestId, Delegation, DelegationBook, GroupId, QuoteId,
};

/// Approval requests in the service's schema; stateless, every call on the caller's connection.
#[derive(Debug, Clone, Copy, Default)]
pub struct PgApprovalRepository;

#[async_trait]
impl ApprovalRepository for PgApprovalRepository {
    async fn insert(
        &self,
        conn: &mut PgConnection,
        ctx: &RequestContext,
        request: &ApprovalRequest,
        events: &[ApprovalEvent],
    ) -> Result<(), StoreError> {
        writes::insert(conn, ctx, request, events).await
    }

    async fn save(
        &self,
        conn: &mut PgConnection,
        ctx: &RequestContext,
        request: &ApprovalRequest,
        event: &ApprovalEvent,
    ) -> Result<(), StoreError> {
        writes::save(conn, ctx, request, event).await
    }

    async fn load(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: ApprovalRequestId,
    ) -> Result<Option<ApprovalRequest>, StoreError> {
        reads::request(conn, tenant, id, false).await
    }

    async fn lock(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: ApprovalRequestId,
    ) -> Result<Option<ApprovalRequest>, StoreError> {
        reads::request(conn, tenant, id, true).await
    }

    async fn by_quote(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        quote: QuoteId,
        lock: bool,
    ) -> Result<Vec<ApprovalRequest>, StoreError> {
        reads::by_quote(conn, tenant, quote, lock).await
    }

    async fn open_tasks(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        groups: &[GroupId],
        limit: i64,
    ) -> Result<Vec<OpenTask>, StoreError> {
        reads::open_tasks(conn, tenant, groups, limit).await
    }

    async fn due_for_expiry(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ApprovalRequestId>, StoreError> {
        reads::due_for_expiry(conn, tenant, now, limit).await
    }

    async fn insert_delegation(
        &self,
        conn: &mut PgConnection,
        ctx: &RequestContext,
        delegation: &Delegation,
    ) -> Result<(), StoreError> {
        writes::insert_delegation(conn, ctx, delegation).await
    }

    async fn delegations(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        actor: &ActorId,
    ) -> Result<DelegationBook, StoreError> {
        reads::delegations(conn, tenant, actor).await
    }
}
