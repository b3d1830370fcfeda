//! Writing requests: the opening (root at version 1, levels, history), and each transition in
//! the order the schema's guards need: the decision first (its trigger wants the request still
//! PENDING), then the one level the event moved, then the root under its previous version
//! (optimistic: zero rows means another command won), then history.

use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use sqlx::PgConnection;

use super::guards::map;
use super::history;
use super::rows::{assignment_columns, state_columns};
use crate::app::ports::StoreError;
use crate::domain::events::EventDetail;
use crate::domain::{
    ApprovalEvent, ApprovalRequest, ApprovalStatus, ChainLevel, Decision, Delegation,
    EscalationFact, Reason,
};

/// Inserts a request just opened with its levels and the history of `events`.
pub(super) async fn insert(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    request: &ApprovalRequest,
    events: &[ApprovalEvent],
) -> Result<(), StoreError> {
    let Some((opening, later)) = events.split_first() else {
        return Err(StoreError::Corrupt("a request opens with an event".into()));
    };
    let snapshot =
        serde_json::to_value(request.snapshot()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO approval_request (approval_request_id, tenant_id, quote_id, quote_revision, price_hash, \
         status, submitted_by, policy_snapshot, expires_at, aggregate_version, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10)",
    )
    .bind(request.id().as_uuid())
    .bind(request.tenant().as_str())
    .bind(request.quote().quote_id.as_uuid())
    .bind(request.quote().revision.get())
    .bind(request.quote().price_hash.as_str())
    .bind(opening.to.as_str())
    .bind(request.submitter().as_str())
    .bind(snapshot)
    .bind(request.expires_at())
    .bind(request.created_at())
    .execute(&mut *conn)
    .await
    .map_err(map)?;
    for (position, level) in request.chain().levels().iter().enumerate() {
        insert_level(conn, request, position, level).await?;
    }
    history::append(conn, ctx, opening).await?;
    for event in later {
        update_root(conn, request, event).await?;
        history::append(conn, ctx, event).await?;
    }
    Ok(())
}

async fn insert_level(
    conn: &mut PgConnection,
    request: &ApprovalRequest,
    position: usize,
    level: &ChainLevel,
) -> Result<(), StoreError> {
    let (quorum, groups) = assignment_columns(&level.assignment);
    let (state, decided_at, evidence) = state_columns(&level.state)?;
    let escalation: Vec<&str> = level.escalation_groups.iter().map(|g| g.as_str()).collect();
    sqlx::query(
        "INSERT INTO approval_level (tenant_id, approval_request_id, position, level, quorum, groups, \
         escalation_groups, reminded, due_at, state, decided_at, skip_evidence) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(request.tenant().as_str())
    .bind(request.id().as_uuid())
    .bind(i16::try_from(position).map_err(|e| StoreError::Corrupt(e.to_string()))?)
    .bind(level.level.as_str())
    .bind(quorum)
    .bind(groups)
    .bind(escalation)
    .bind(level.reminded)
    .bind(level.due)
    .bind(state)
    .bind(decided_at)
    .bind(evidence)
    .execute(conn)
    .await
    .map_err(map)?;
    Ok(())
}

/// Stores one transition of `request` (already applied in memory).
pub(super) async fn save(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    request: &ApprovalRequest,
    event: &ApprovalEvent,
) -> Result<(), StoreError> {
    match &event.detail {
        EventDetail::Decided { decision, .. } => {
            insert_decision(conn, request, decision).await?;
            if let Some(level) = request.chain().level(decision.level) {
                update_level_state(conn, request, level).await?;
            }
        }
        EventDetail::Escalated(fact) => update_assignment(conn, request, fact).await?,
        _ => {}
    }
    update_root(conn, request, event).await?;
    history::append(conn, ctx, event).await
}

async fn insert_decision(
    conn: &mut PgConnection,
    request: &ApprovalRequest,
    decision: &Decision,
) -> Result<(), StoreError> {
    let reason = match &decision.outcome {
        crate::domain::DecisionOutcome::Approve { reason } => reason.as_ref(),
        crate::domain::DecisionOutcome::Reject { reason } => Some(reason),
    };
    sqlx::query(
        "INSERT INTO approval_decision (approval_decision_id, tenant_id, approval_request_id, level, group_id, \
         actor_id, on_behalf_of, delegation_id, decision, reason, price_hash, decided_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(decision.id.as_uuid())
    .bind(request.tenant().as_str())
    .bind(request.id().as_uuid())
    .bind(decision.level.as_str())
    .bind(decision.group.as_str())
    .bind(decision.actor.as_str())
    .bind(decision.on_behalf_of.as_ref().map(|a| a.as_str()))
    .bind(decision.delegation.map(|d| d.as_uuid()))
    .bind(decision.outcome.verdict().as_str())
    .bind(reason.map(Reason::as_str))
    .bind(decision.price_hash.as_str())
    .bind(decision.decided_at)
    .execute(conn)
    .await
    .map_err(map)?;
    Ok(())
}

/// A decided level's new state; only an OPEN row changes (the guard freezes decided ones).
async fn update_level_state(
    conn: &mut PgConnection,
    request: &ApprovalRequest,
    level: &ChainLevel,
) -> Result<(), StoreError> {
    let (state, decided_at, _) = state_columns(&level.state)?;
    sqlx::query(
        "UPDATE approval_level SET state = $4, decided_at = $5 \
         WHERE tenant_id = $1 AND approval_request_id = $2 AND level = $3 AND state = 'OPEN'",
    )
    .bind(request.tenant().as_str())
    .bind(request.id().as_uuid())
    .bind(level.level.as_str())
    .bind(state)
    .bind(decided_at)
    .execute(conn)
    .await
    .map_err(map)?;
    Ok(())
}

/// What an escalation or reassignment moved: assignment, path, reminder flag, due date. Only
/// the columns the jobs role may update, so the same statement serves the escalation worker.
async fn update_assignment(
    conn: &mut PgConnection,
    request: &ApprovalRequest,
    fact: &EscalationFact,
) -> Result<(), StoreError> {
    let level: &ChainLevel = request
        .chain()
        .level(fact.level)
        .ok_or_else(|| StoreError::Corrupt(format!("escalated level {:?}", fact.level)))?;
    let (quorum, groups) = assignment_columns(&level.assignment);
    let escalation: Vec<&str> = level.escalation_groups.iter().map(|g| g.as_str()).collect();
    sqlx::query(
        "UPDATE approval_level SET quorum = $4, groups = $5, escalation_groups = $6, reminded = $7, due_at = $8 \
         WHERE tenant_id = $1 AND approval_request_id = $2 AND level = $3",
    )
    .bind(request.tenant().as_str())
    .bind(request.id().as_uuid())
    .bind(fact.level.as_str())
    .bind(quorum)
    .bind(groups)
    .bind(escalation)
    .bind(level.reminded)
    .bind(level.due)
    .execute(conn)
    .await
    .map_err(map)?;
    Ok(())
}

/// Moves the root to `event.to` at `event.version`, from the version before.
async fn update_root(
    conn: &mut PgConnection,
    request: &ApprovalRequest,
    event: &ApprovalEvent,
) -> Result<(), StoreError> {
    let closed_at: Option<DateTime<Utc>> = event.to.is_terminal().then_some(event.at);
    let approved = event.to == ApprovalStatus::Approved;
    // `approved_at` only when approving: the jobs role may not write it, and it stays when an
    // approval is superseded later.
    let sql = if approved {
        "UPDATE approval_request SET status = $3, aggregate_version = $4, closed_at = $5, approved_at = $6 \
         WHERE tenant_id = $1 AND approval_request_id = $2 AND aggregate_version = $4 - 1"
    } else {
        "UPDATE approval_request SET status = $3, aggregate_version = $4, closed_at = $5 \
         WHERE tenant_id = $1 AND approval_request_id = $2 AND aggregate_version = $4 - 1"
    };
    let mut query = sqlx::query(sql)
        .bind(request.tenant().as_str())
        .bind(request.id().as_uuid())
        .bind(event.to.as_str())
        .bind(event.version.get())
        .bind(closed_at);
    if approved {
        query = query.bind(event.at);
    }
    let done = query.execute(conn).await.map_err(map)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::VersionConflict(request.id()));
    }
    Ok(())
}

/// Inserts a delegation grant (the guard refuses a cycle back).
pub(super) async fn insert_delegation(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    delegation: &Delegation,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO approval_delegation (delegation_id, tenant_id, delegator_id, delegate_id, valid_from, \
         valid_until, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(delegation.id.as_uuid())
    .bind(ctx.tenant_id.as_str())
    .bind(delegation.delegator.as_str())
    .bind(delegation.delegate.as_str())
    .bind(delegation.valid_from)
    .bind(delegation.valid_until)
    .bind(ctx.actor.actor_id.as_str())
    .execute(conn)
    .await
    .map_err(map)?;
    Ok(())
}
