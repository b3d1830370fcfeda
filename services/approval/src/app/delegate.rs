//! Delegation: an approver lets someone decide on their behalf for a window of time
//! (GrantDelegation), and reads the delegations that name them.
//!
//! Command GrantDelegation · permission WorkUserTasks (whoever works approval tasks) · the
//! delegator is always the caller: nobody grants someone else's authority · checks: not to
//! oneself, a window that ends after it starts, and no cycle of any length with the tenant's
//! delegations in overlapping windows (checked against the whole book read under the tenant's
//! delegation lock; the schema repeats the two-party cycle) · evidence: audit
//! `approval.delegation.granted` with the reason, in the same transaction.

use chrono::{DateTime, Utc};
use common_kernel::audit::{self, AuditResource, Evidence};
use common_kernel::context::RequestContext;
use domain_kernel::ActorId;
use domain_kernel::access::Action;
use serde_json::json;
use sqlx::PgConnection;

use super::error::AppResult;
use super::ports::Ports;
use crate::domain::{ApprovalError, Delegation, DelegationId, Reason};

/// Resource type of delegation evidence.
pub const DELEGATION_RESOURCE: &str = "ApprovalDelegation";

/// A grant as the delegator asks for it.
#[derive(Debug, Clone)]
pub struct GrantInput {
    /// Who may act for the caller.
    pub delegate: ActorId,
    /// Start (inclusive).
    pub valid_from: DateTime<Utc>,
    /// End (exclusive).
    pub valid_until: DateTime<Utc>,
    /// Why (audit evidence).
    pub reason: Reason,
}

/// Grants the caller's authority to `input.delegate` for the window.
#[tracing::instrument(skip_all, fields(delegate = %input.delegate), err(level = "info"))]
pub async fn grant(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    input: GrantInput,
) -> AppResult<Delegation> {
    ctx.authorize(Action::WorkUserTasks)?;
    let delegation = Delegation {
        id: DelegationId::generate(),
        delegator: ctx.actor.actor_id.clone(),
        delegate: input.delegate,
        valid_from: input.valid_from,
        valid_until: input.valid_until,
    };
    let mut book = ports
        .requests
        .delegations_for_grant(conn, &ctx.tenant_id, delegation.valid_from)
        .await?;
    book.grant(delegation.clone())
        .map_err(ApprovalError::from)?;
    ports
        .requests
        .insert_delegation(conn, ctx, &delegation)
        .await?;
    audit::record(
        conn,
        ctx,
        Evidence {
            event_type: "approval.delegation.granted",
            resource: AuditResource {
                resource_type: DELEGATION_RESOURCE,
                resource_id: delegation.id.to_string(),
                resource_version: 1,
            },
            business_reason: Some(input.reason.to_string()),
            before: None,
            after: Some(json!({
                "delegator": delegation.delegator,
                "delegate": delegation.delegate,
                "validFrom": delegation.valid_from,
                "validUntil": delegation.valid_until,
            })),
            policy: None,
        },
    )
    .await?;
    Ok(delegation)
}

/// The unrevoked delegations naming the caller, as delegator or delegate.
pub async fn mine(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
) -> AppResult<Vec<Delegation>> {
    ctx.authorize(Action::WorkUserTasks)?;
    let book = ports
        .requests
        .delegations(conn, &ctx.tenant_id, &ctx.actor.actor_id)
        .await?;
    Ok(book.delegations().to_vec())
}
