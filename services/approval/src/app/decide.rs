//! Decide: an approver approves or rejects the open level of a request.
//!
//! Command Decide · aggregate ApprovalRequest · source PENDING · input: request, level,
//! verdict with reason, the price hash looked at, optionally the principal acted for ·
//! checks: an approver role (or acting for a principal), then the aggregate's guards (time, hash,
//! separation of duties, delegation, order, roles, groups) · transition RECORD_APPROVAL,
//! COMPLETE_APPROVAL or REJECT · data: decision row before the root's update · history,
//! audit, event on approval/reject · idempotency: the same decision again (actor, principal,
//! level, verdict, hash) returns the stored one and writes nothing; two at once serialise on
//! the request's lock, so one decision and one transition are recorded.

use common_kernel::context::RequestContext;
use domain_kernel::ActorId;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::{AppError, AppResult};
use super::ports::Ports;
use super::{commit_change, db_now, lock_request};
use crate::domain::events::EventDetail;
use crate::domain::{
    ApprovalError, ApprovalLevel, ApprovalRequest, ApprovalRequestId, Approver, DecideResult,
    Decision, DecisionId, DecisionInput, DecisionOutcome, DelegationError, OnBehalf, PriceHash,
};

/// A decision as the approver sends it.
#[derive(Debug, Clone)]
pub struct DecideInput {
    /// The request.
    pub request_id: ApprovalRequestId,
    /// The level decided.
    pub level: ApprovalLevel,
    /// Approve or reject, with reason.
    pub outcome: DecisionOutcome,
    /// The price hash the approver looked at.
    pub price_hash: PriceHash,
    /// Whose authority is used, when deciding on their behalf.
    pub on_behalf_of: Option<ActorId>,
}

/// What deciding did.
#[derive(Debug, Clone)]
pub struct Decided {
    /// The decision (the stored one when repeated).
    pub decision: Decision,
    /// Whether it repeated an existing decision (nothing written).
    pub repeated: bool,
    /// The request after.
    pub request: ApprovalRequest,
}

/// Whether the caller may take part in approvals at all. Acting on their own they must hold an
/// approver role; which level it covers is the chain's business (exact match, or the group a
/// level was handed over to, ADR 0032), so a director escalated a finance level is not refused
/// here. Acting for a principal, the aggregate checks the delegation in force and the
/// principal's authority instead: the delegate usually holds no approver role of their own.
fn authorize(ctx: &RequestContext, input: &DecideInput) -> AppResult<()> {
    const LEVELS: [ApprovalLevel; 3] = [
        ApprovalLevel::Manager,
        ApprovalLevel::Director,
        ApprovalLevel::Finance,
    ];
    let approver = LEVELS
        .iter()
        .any(|level| ctx.authorize(Action::ApproveDiscount(*level)).is_ok());
    if input.on_behalf_of.is_some() || approver {
        return Ok(());
    }
    Ok(ctx.authorize(Action::ApproveDiscount(input.level))?)
}

/// Records the decision, or returns the stored one when it repeats.
#[tracing::instrument(skip_all, fields(request = %input.request_id), err(level = "info"))]
pub async fn execute(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    input: DecideInput,
) -> AppResult<Decided> {
    authorize(ctx, &input)?;
    let tenant = &ctx.tenant_id;
    let me = &ctx.actor.actor_id;
    // The directory first: nothing is locked while it answers.
    let groups = ports.directory.groups_of(tenant, me).await?;
    let actor = Approver::from_roles(me.clone(), &ctx.authority.roles, groups);
    let principal = match &input.on_behalf_of {
        Some(principal) => Some(
            ports
                .directory
                .approver(tenant, principal)
                .await?
                .ok_or_else(|| {
                    AppError::Refused(ApprovalError::Delegation(DelegationError::NoDelegation {
                        actor: me.clone(),
                        principal: principal.clone(),
                    }))
                })?,
        ),
        None => None,
    };
    let at = db_now();
    let mut request = lock_request(conn, ports, ctx, input.request_id).await?;
    let on_behalf = match principal {
        Some(principal) => {
            let book = ports.requests.delegations(conn, tenant, me).await?;
            let delegation = book
                .authorize(me, &principal.id, at)
                .map_err(ApprovalError::from)?
                .clone();
            Some(OnBehalf {
                principal,
                delegation,
            })
        }
        None => None,
    };
    let result = request.decide(DecisionInput {
        id: DecisionId::generate(),
        actor,
        on_behalf,
        level: input.level,
        outcome: input.outcome,
        price_hash: input.price_hash,
        at,
    })?;
    match result {
        DecideResult::Repeated(decision) => Ok(Decided {
            decision,
            repeated: true,
            request,
        }),
        DecideResult::Recorded(event) => {
            commit_change(conn, ports, ctx, &request, &event).await?;
            let EventDetail::Decided { decision, .. } = event.detail else {
                return Err(AppError::Corrupt("a decision without its record".into()));
            };
            Ok(Decided {
                decision,
                repeated: false,
                request,
            })
        }
    }
}
