//! The PostgreSQL implementation of the application's `ApprovalRepository` port.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use domain_kernel::{ActorId, TenantId};
use sqlx::PgConnection;

use super::{directory, links, reads, writes};
use crate::app::ports::{
    ApprovalRepository, ApproverEntry, HistoryEntry, InstanceTask, OpenTask, StoreError,
};
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

    async fn delegations_for_grant(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        from: DateTime<Utc>,
    ) -> Result<DelegationBook, StoreError> {
        links::delegations_for_grant(conn, tenant, from).await
    }

    async fn process_instance_key(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: ApprovalRequestId,
    ) -> Result<Option<i64>, StoreError> {
        links::process_instance_key(conn, tenant, id).await
    }

    async fn open_tasks_of_instances(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        instances: &[i64],
    ) -> Result<Vec<InstanceTask>, StoreError> {
        links::open_tasks_of_instances(conn, tenant, instances).await
    }

    async fn history(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: ApprovalRequestId,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        links::history(conn, tenant, id).await
    }

    async fn approver_entry(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        actor: &ActorId,
        lock: bool,
    ) -> Result<Option<ApproverEntry>, StoreError> {
        directory::entry(conn, tenant, actor, lock).await
    }

    async fn save_approver(
        &self,
        conn: &mut PgConnection,
        ctx: &RequestContext,
        entry: &ApproverEntry,
    ) -> Result<ApproverEntry, StoreError> {
        directory::save(conn, ctx, entry).await
    }
}
