//! What every order command leaves behind besides the aggregate, in the same transaction:
//! fallout raised for effects that need a person (an undo by hand), fallout resolved when the
//! failure it names went away (the retried or redone task succeeded, the item or order was
//! cancelled), cancellation resources settled, and the installed base following withdrawn
//! items. `persist` calls it after every save, so no command path can forget it.

use chrono::{DateTime, Utc};
use common_kernel::audit::{self, AuditResource, Evidence};
use common_kernel::context::RequestContext;
use serde_json::json;
use sqlx::PgConnection;

use crate::app::error::AppError;
use crate::app::installed_base;
use crate::domain::{
    Fallout, FalloutCategory, ItemStatus, Order, OrderChange, OrderStatus, ResolutionType,
    TaskHandling, TaskPurpose, TaskStatus,
};
use crate::infra::fallout::{self, NewFallout};

/// The audit resource type of fallout evidence.
pub const FALLOUT_AGGREGATE: &str = "Fallout";

/// Applies the follow-ups of one command (`before` → `after` with `changes`).
pub async fn follow_up(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    before: &Order,
    after: &Order,
    changes: &[OrderChange],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    raise_manual_undo(conn, ctx, before, after).await?;
    let withdrawn: Vec<_> = changes
        .iter()
        .filter_map(|c| match c {
            OrderChange::Item { item, to, .. } if to.is_withdrawn() => Some(*item),
            _ => None,
        })
        .collect();
    if !withdrawn.is_empty() {
        installed_base::withdraw_items(&mut *conn, after, &withdrawn, now).await?;
    }
    let succeeded = changes.iter().any(|c| {
        matches!(
            c,
            OrderChange::Task {
                to: TaskStatus::Succeeded,
                ..
            }
        )
    });
    let order_moved = before.status != after.status;
    if succeeded || order_moved || !withdrawn.is_empty() {
        resolve_what_went_away(conn, ctx, after, now).await?;
    }
    if order_moved || !withdrawn.is_empty() {
        settle_cancellations(&mut *conn, after, now).await?;
    }
    let completed = changes.iter().any(|c| {
        matches!(
            c,
            OrderChange::Item {
                to: ItemStatus::Completed,
                ..
            }
        )
    });
    if order_moved || completed || !withdrawn.is_empty() {
        crate::app::amendments::settle(conn, after, now).await?;
    }
    Ok(())
}

/// One fallout per item whose effects now wait for an undo by hand.
async fn raise_manual_undo(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    before: &Order,
    after: &Order,
) -> Result<(), AppError> {
    for item in &after.items {
        let marked: Vec<_> = after
            .tasks
            .iter()
            .filter(|t| t.item == item.id && t.handling == TaskHandling::ManualUndoRequired)
            .collect();
        let was_marked = before
            .tasks
            .iter()
            .any(|t| t.item == item.id && t.handling == TaskHandling::ManualUndoRequired);
        if marked.is_empty() || was_marked {
            continue;
        }
        let names: Vec<String> = marked
            .iter()
            .map(|t| {
                format!(
                    "{} ({}, ref {})",
                    t.task_type,
                    t.operation,
                    t.external_reference.as_deref().unwrap_or("-")
                )
            })
            .collect();
        let past = after.item_past_point_of_no_return(item.id);
        fallout::record(
            &mut *conn,
            ctx,
            &NewFallout {
                order: after.id,
                item: Some(item.id),
                task: None,
                category: FalloutCategory::Cancellation,
                failure_code: if past {
                    "PAST_POINT_OF_NO_RETURN".into()
                } else {
                    "IRREVERSIBLE_EFFECT".into()
                },
                message: format!(
                    "line {} was cancelled but these effects cannot be undone automatically: {}; \
                     undo them downstream, then close this fallout with evidence",
                    item.line,
                    names.join(", ")
                ),
                retryable: false,
            },
        )
        .await?;
    }
    Ok(())
}

/// Resolves open fallout whose failure went away: its task (or the redo that replaced it)
/// succeeded, its item was withdrawn, or its order was cancelled.
async fn resolve_what_went_away(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    order: &Order,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    for before in fallout::open_of_order(&mut *conn, order.id).await? {
        let verdict = if order.status == OrderStatus::Cancelled {
            Some((
                ResolutionType::Cancelled,
                "the order was cancelled".to_owned(),
            ))
        } else if before.category == FalloutCategory::Cancellation {
            // An undo by hand is closed by the operator who did it, never by the platform.
            None
        } else if let Some(item) = before.item.and_then(|i| order.item(i))
            && item.status.is_withdrawn()
        {
            Some((
                ResolutionType::Cancelled,
                format!("line {} was cancelled", item.line),
            ))
        } else {
            before.task.and_then(|task| succeeded_verdict(order, task))
        };
        let Some((resolution, note)) = verdict else {
            continue;
        };
        let mut after = before.clone();
        if after.resolve(resolution, &note, now)? {
            let evidence = json!({"automatic": true, "orderStatus": order.status.as_str()});
            fallout::save(
                &mut *conn,
                ctx,
                &before,
                &after,
                Some("order-service"),
                Some(&evidence),
            )
            .await?;
            audit::record(
                &mut *conn,
                ctx,
                fallout_evidence("oms.fallout.resolved", &before, &after, note),
            )
            .await?;
        }
    }
    Ok(())
}

/// How a fallout naming `task` resolved, if its task or its redo has succeeded.
fn succeeded_verdict(
    order: &Order,
    task: crate::domain::FulfilmentTaskId,
) -> Option<(ResolutionType, String)> {
    let failed = order.task(task)?;
    if failed.status == TaskStatus::Succeeded {
        let resolution = match failed.handling {
            TaskHandling::VerifiedByOperator => ResolutionType::ForceCompleted,
            TaskHandling::SkippedByOperator => ResolutionType::Skipped,
            _ => ResolutionType::Retried,
        };
        return Some((resolution, format!("task {} succeeded", failed.task_type)));
    }
    let redo = order.replacement_of(task)?;
    if order.satisfied(task) {
        let name = order.task(redo).map_or("redo", |t| t.task_type.as_str());
        return Some((
            ResolutionType::CorrectedAndRetried,
            format!("the redo {name} with corrected data succeeded"),
        ));
    }
    None
}

/// Settles the order's pending cancellation resources: DONE when every item in their scope is
/// withdrawn (or the order is CANCELLED), FAILED when the order ended otherwise.
async fn settle_cancellations(
    conn: &mut PgConnection,
    order: &Order,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let pending = crate::infra::cancellations::pending_of_order(&mut *conn, order.id).await?;
    for cancellation in pending {
        let scope_withdrawn = cancellation.scope.iter().all(|id| {
            order
                .item(*id)
                .is_none_or(|i| i.status.is_withdrawn() || i.status == ItemStatus::Skipped)
        });
        let done = order.status == OrderStatus::Cancelled
            || (!cancellation.whole_order && scope_withdrawn);
        let failed = matches!(
            order.status,
            OrderStatus::Failed | OrderStatus::Completed | OrderStatus::Closed
        );
        let state = match (done, failed) {
            (true, _) => "DONE",
            (false, true) => "FAILED",
            _ => continue,
        };
        crate::infra::cancellations::settle(&mut *conn, cancellation.id, state, now).await?;
    }
    Ok(())
}

/// Evidence of a fallout command.
pub fn fallout_evidence(
    event_type: &'static str,
    before: &Fallout,
    after: &Fallout,
    reason: String,
) -> Evidence {
    Evidence {
        event_type,
        resource: AuditResource {
            resource_type: FALLOUT_AGGREGATE,
            resource_id: after.id.to_string(),
            resource_version: after.version,
        },
        business_reason: Some(reason),
        before: Some(fallout_audit_view(before)),
        after: Some(fallout_audit_view(after)),
        policy: None,
    }
}

fn fallout_audit_view(fallout: &Fallout) -> serde_json::Value {
    json!({
        "orderId": fallout.order.to_string(),
        "status": fallout.status.as_str(),
        "category": fallout.category.as_str(),
        "failureCode": fallout.failure_code,
        "assignee": fallout.assignee,
        "ownerTeam": fallout.owner_team,
        "resolutionType": fallout.resolution_type.map(|r| r.as_str()),
        "resolutionNote": fallout.resolution_note,
    })
}

/// Whether a task is a compensation (its failure is the compensation's fallout).
pub fn is_compensation(order: &Order, task: crate::domain::FulfilmentTaskId) -> bool {
    order
        .task(task)
        .is_some_and(|t| matches!(t.purpose, TaskPurpose::Compensate { .. }))
}
