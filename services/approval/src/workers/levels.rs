//! The loop's own steps: offer the open level (`approval.open-level`), remind its groups when
//! it is due (`approval.send-reminder`) and hand it to the next group after the grace
//! (`approval.escalate`).

use chrono::{DateTime, SecondsFormat, Utc};
use common_kernel::db::{begin_for_tenant, begin_read_for_tenant};
use serde::Serialize;
use workflow_runtime::{JobContext, JobError};

use super::{RequestVariables, WorkerDeps, technical, worker_context};
use crate::app::error::AppError;
use crate::app::{db_now, escalate as escalate_command};
use crate::domain::{ApprovalError, ApprovalRequest, ApprovalStatus, EscalationKind};

/// What the next user task offers, or that there is none (`approvalState` is then the
/// request's status and the instance ends).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LevelOffer {
    /// `PENDING` while a level waits, else the request's status.
    pub approval_state: String,
    /// The open level (`MANAGER`, …), when one waits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_level: Option<String>,
    /// The groups that may still approve it (for ALL, those that have not yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approver_groups: Option<Vec<String>>,
    /// The level's due date: the reminder fires then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_due_date: Option<String>,
    /// When the level escalates: due + grace while an escalation group is left, else the
    /// request's own end (the expiry closes it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalate_at: Option<String>,
}

fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The offer for `request` as it stands.
pub fn offer(
    request: &ApprovalRequest,
    escalate_after_due: chrono::Duration,
    now: DateTime<Utc>,
) -> LevelOffer {
    // A request whose time is over can never approve (the aggregate refuses every decision):
    // the instance ends as EXPIRED, whether or not the expiry job has recorded it yet.
    let timed_out = request.status() == ApprovalStatus::Pending && now >= request.expires_at();
    let open = (request.status() == ApprovalStatus::Pending && !timed_out)
        .then(|| request.chain().current())
        .flatten();
    let Some(level) = open else {
        let status = if timed_out {
            ApprovalStatus::Expired
        } else {
            request.status()
        };
        return LevelOffer {
            approval_state: status.as_str().to_owned(),
            approval_level: None,
            approver_groups: None,
            approval_due_date: None,
            escalate_at: None,
        };
    };
    let groups = level
        .assignment
        .groups()
        .iter()
        .filter(|g| !level.approved_groups.contains(*g))
        .map(|g| g.as_str().to_owned())
        .collect();
    let escalate_at = if level.escalation_groups.is_empty() {
        request.expires_at()
    } else {
        level.due + escalate_after_due
    };
    LevelOffer {
        approval_state: ApprovalStatus::Pending.as_str().to_owned(),
        approval_level: Some(level.level.as_str().to_owned()),
        approver_groups: Some(groups),
        approval_due_date: Some(instant(level.due)),
        escalate_at: Some(instant(escalate_at)),
    }
}

async fn load(deps: &WorkerDeps, vars: &RequestVariables) -> Result<ApprovalRequest, JobError> {
    let tenant = vars.tenant()?;
    let mut tx = begin_read_for_tenant(&deps.db, &tenant)
        .await
        .map_err(|e| technical(AppError::Database(e)))?;
    deps.ports
        .requests
        .load(&mut tx, &tenant, vars.approval_request_id)
        .await
        .map_err(|e| technical(e.into()))?
        .ok_or_else(|| technical(AppError::NotFound(vars.approval_request_id)))
}

/// `approval.open-level`: the request's open level as the next user task.
pub async fn open_level(
    deps: &WorkerDeps,
    _job: &JobContext,
    vars: RequestVariables,
) -> Result<LevelOffer, JobError> {
    let request = load(deps, &vars).await?;
    Ok(offer(&request, deps.escalate_after_due, db_now()))
}

/// Runs one escalation step in the request's tenant; `None` when the request has no open
/// level any more (decided, superseded: the timer outlived its reason).
async fn escalation_step(
    deps: &WorkerDeps,
    job: &JobContext,
    vars: &RequestVariables,
    next_due: DateTime<Utc>,
) -> Result<Option<EscalationKind>, JobError> {
    let tenant = vars.tenant()?;
    let ctx = worker_context(tenant.clone(), job)?;
    let mut tx = begin_for_tenant(&deps.db, &tenant)
        .await
        .map_err(|e| technical(AppError::Database(e)))?;
    let escalated = match escalate_command::execute(
        &mut tx,
        &deps.ports,
        &ctx,
        vars.approval_request_id,
        next_due,
    )
    .await
    {
        Ok(request) => request,
        Err(AppError::Refused(
            ApprovalError::NoOpenLevel
            | ApprovalError::NoEscalationTarget(_)
            | ApprovalError::TimedOut
            | ApprovalError::Transition(_),
        )) => return Ok(None),
        Err(AppError::Refused(ApprovalError::NotOverdue(level))) => {
            // The engine's clock ran ahead of the database's: try again shortly.
            return Err(JobError::technical(format!(
                "level {} is not overdue yet",
                level.as_str()
            ))
            .retry_after(std::time::Duration::from_secs(1)));
        }
        Err(other) => return Err(technical(other)),
    };
    tx.commit()
        .await
        .map_err(|e| technical(AppError::Database(e)))?;
    Ok(escalated.escalations().last().map(|fact| fact.kind.clone()))
}

/// `approval.send-reminder`: the level is due; its groups are reminded once (recorded, with
/// `approval.escalated.v1` of kind REMINDER). A level already reminded is left alone, so a
/// redelivered job never escalates by accident.
pub async fn send_reminder(
    deps: &WorkerDeps,
    job: &JobContext,
    vars: RequestVariables,
) -> Result<(), JobError> {
    let request = load(deps, &vars).await?;
    let Some(level) = request
        .chain()
        .current()
        .filter(|_| request.status() == ApprovalStatus::Pending)
    else {
        return Ok(());
    };
    if level.reminded {
        return Ok(());
    }
    escalation_step(deps, job, &vars, level.due).await?;
    Ok(())
}

/// `approval.escalate`: still undecided after the grace, the level moves to the next group of
/// its escalation path with a new due date (a reminder is recorded first if the reminder timer
/// has not run yet). Nothing left to escalate to: the level stays, and the loop offers it again.
pub async fn escalate(
    deps: &WorkerDeps,
    job: &JobContext,
    vars: RequestVariables,
) -> Result<(), JobError> {
    let request = load(deps, &vars).await?;
    let Some(level) = request
        .chain()
        .current()
        .filter(|_| request.status() == ApprovalStatus::Pending)
    else {
        return Ok(());
    };
    let next_due = db_now() + deps.routing.duration(level.level);
    for _ in 0..2 {
        match escalation_step(deps, job, &vars, next_due).await? {
            Some(EscalationKind::Reminder) => continue,
            _ => break,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{manager_then_director, minutes};

    #[test]
    fn the_offer_names_the_open_level_its_groups_and_when_it_escalates() {
        let (request, _) = manager_then_director();
        let offer = offer(&request, chrono::Duration::minutes(30), minutes(2));
        assert_eq!(offer.approval_state, "PENDING");
        assert_eq!(offer.approval_level.as_deref(), Some("MANAGER"));
        assert_eq!(offer.approver_groups, Some(vec!["managers".to_owned()]));
        assert_eq!(offer.approval_due_date, Some(instant(minutes(60))));
        assert_eq!(offer.escalate_at, Some(instant(minutes(90))));
    }

    #[test]
    fn a_settled_request_offers_nothing_and_names_its_status() {
        let (mut request, _) = manager_then_director();
        request
            .supersede(crate::domain::Reason::parse("revised").unwrap(), minutes(1))
            .unwrap();
        let offer = offer(&request, chrono::Duration::minutes(30), minutes(2));
        assert_eq!(offer.approval_state, "SUPERSEDED");
        assert_eq!(offer.approval_level, None);
    }

    #[test]
    fn a_request_whose_time_is_over_offers_nothing() {
        let (request, _) = manager_then_director();
        let offer = offer(
            &request,
            chrono::Duration::minutes(30),
            crate::domain::fixtures::expires(),
        );
        assert_eq!(offer.approval_state, "EXPIRED");
        assert_eq!(offer.approver_groups, None);
    }
}
