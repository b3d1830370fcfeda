//! The approver directory's use cases: PutApprover (an operator sets who holds which approver
//! roles and groups) and GetApprover.
//!
//! Command PutApprover · entity ApproverEntry · permission ManageApprovers · input: actor,
//! roles, groups, reason · the entry's key is locked first, so two changes serialise ·
//! idempotency: the same roles and groups again change nothing and write nothing (the HTTP key
//! replays the first answer besides) · evidence: audit `approval.approver.created` /
//! `approval.approver.changed` with who, why, before and after, in the same transaction.

use common_kernel::audit::{self, AuditResource, Evidence};
use common_kernel::context::RequestContext;
use domain_kernel::ActorId;
use domain_kernel::access::{Action, Role};
use serde_json::{Value, json};
use sqlx::PgConnection;

use super::db_now;
use super::error::{AppError, AppResult};
use super::ports::{ApproverEntry, Ports};
use crate::domain::{GroupId, Reason};

/// Resource type of the directory's audit evidence.
pub const APPROVER_RESOURCE: &str = "Approver";

/// An entry as the operator sets it.
#[derive(Debug, Clone)]
pub struct PutApproverInput {
    /// The approver.
    pub actor: ActorId,
    /// Their realm roles (order and repeats do not matter).
    pub roles: Vec<Role>,
    /// Their approver groups (order and repeats do not matter).
    pub groups: Vec<GroupId>,
    /// Why (audit evidence).
    pub reason: Reason,
}

/// What putting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The entry is new.
    Created,
    /// The entry changed.
    Changed,
    /// The entry already said this; nothing was written.
    Unchanged,
}

fn evidence_of(entry: &ApproverEntry) -> Value {
    json!({
        "actorId": entry.actor,
        "roles": entry.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "groups": entry.groups,
        "version": entry.version,
    })
}

/// Sets `input.actor`'s entry; returns it as stored and what happened.
#[tracing::instrument(skip_all, fields(approver = %input.actor), err(level = "info"))]
pub async fn put(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    input: PutApproverInput,
) -> AppResult<(ApproverEntry, PutOutcome)> {
    ctx.authorize(Action::ManageApprovers)?;
    let mut roles = input.roles;
    roles.sort_unstable();
    roles.dedup();
    let mut groups = input.groups;
    groups.sort_unstable();
    groups.dedup();
    let before = ports
        .requests
        .approver_entry(conn, &ctx.tenant_id, &input.actor, true)
        .await?;
    if let Some(current) = &before
        && current.roles == roles
        && current.groups == groups
    {
        return Ok((current.clone(), PutOutcome::Unchanged));
    }
    let entry = ApproverEntry {
        actor: input.actor,
        roles,
        groups,
        version: before.as_ref().map_or(1, |b| b.version + 1),
        updated_at: db_now(),
        updated_by: ctx.actor.actor_id.clone(),
    };
    let stored = ports.requests.save_approver(conn, ctx, &entry).await?;
    let outcome = if before.is_some() {
        PutOutcome::Changed
    } else {
        PutOutcome::Created
    };
    audit::record(
        conn,
        ctx,
        Evidence {
            event_type: match outcome {
                PutOutcome::Created => "approval.approver.created",
                _ => "approval.approver.changed",
            },
            resource: AuditResource {
                resource_type: APPROVER_RESOURCE,
                resource_id: stored.actor.to_string(),
                resource_version: stored.version,
            },
            business_reason: Some(input.reason.to_string()),
            before: before.as_ref().map(evidence_of),
            after: Some(evidence_of(&stored)),
            policy: None,
        },
    )
    .await?;
    Ok((stored, outcome))
}

/// The entry of `actor`: operators read any, an approver their own.
pub async fn get(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    actor: ActorId,
) -> AppResult<ApproverEntry> {
    if ctx.actor.actor_id != actor {
        ctx.authorize(Action::ManageApprovers)?;
    }
    ports
        .requests
        .approver_entry(conn, &ctx.tenant_id, &actor, false)
        .await?
        .ok_or(AppError::ApproverNotFound(actor))
}
