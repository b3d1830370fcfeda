//! The integration service's outcome events move the order's tasks (ADR 0037: the order
//! service owns task state). A success records the task SUCCEEDED (the process's own result may
//! have done it first: idempotent); a refusal records it FAILED_NON_RETRYABLE with its item
//! FAILED and the order in FALLOUT; a spent retry budget records it FAILED_RETRYABLE (an
//! operator's retry can still succeed) with the same fallout. Runs in the consumer's inbox
//! transaction, so a duplicate delivery changes nothing.

use chrono::Utc;
use common_kernel::context::RequestContext;
use serde::Deserialize;
use sqlx::PgConnection;

use crate::app::error::AppError;
use crate::app::events;
use crate::app::fulfilment::{Why, persist};
use crate::app::installed_base;
use crate::domain::FalloutCategory;
use crate::domain::{Failure, FulfilmentTaskId, OrderId, TaskPurpose, TaskStatus};
use crate::infra::fallout::{self, NewFallout};
use crate::infra::orders;

/// The core's view of an applied effect.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeResult {
    /// The downstream's reference.
    #[serde(default)]
    pub external_reference: Option<String>,
    /// The state in the core's words.
    #[serde(default)]
    pub external_state: Option<String>,
}

/// Why it failed.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeFailure {
    /// The downstream's code, or `RETRY_BUDGET_EXHAUSTED`.
    pub code: String,
    /// Explanation.
    pub message: String,
    /// Whether an operator's retry can still succeed.
    pub retryable: bool,
}

/// The fields of an integration outcome payload the order reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome {
    /// The order.
    pub order_id: OrderId,
    /// The task that asked.
    pub task_id: FulfilmentTaskId,
    /// SUCCEEDED, REJECTED_BUSINESS or FAILED_TECHNICAL.
    pub outcome: String,
    /// The effect, when applied.
    #[serde(default)]
    pub result: Option<OutcomeResult>,
    /// Why it failed.
    #[serde(default)]
    pub failure: Option<OutcomeFailure>,
}

/// Applies one outcome; an outcome of a task this service does not know (another order
/// service's, or a demo call) is ignored.
pub async fn apply(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    outcome: &OperationOutcome,
) -> Result<(), AppError> {
    let Some(before) = orders::load(&mut *conn, outcome.order_id, true).await? else {
        return Ok(());
    };
    let Some(task) = before.task(outcome.task_id) else {
        return Ok(());
    };
    if task.status == TaskStatus::Succeeded && outcome.outcome == "SUCCEEDED" {
        return Ok(());
    }
    let mut after = before.clone();
    let failure = outcome.failure.as_ref().map(|f| Failure {
        code: f.code.clone(),
        reason: f.message.clone(),
        retryable: f.retryable,
    });
    let now = Utc::now();
    let (changes, category) = match (outcome.outcome.as_str(), failure) {
        ("SUCCEEDED", _) => {
            let result = outcome.result.clone();
            let changes = after.record_task_success(
                outcome.task_id,
                result.as_ref().and_then(|r| r.external_reference.clone()),
                result.and_then(|r| r.external_state),
            )?;
            (changes, None)
        }
        ("REJECTED_BUSINESS", Some(failure)) => (
            after.record_task_rejection(outcome.task_id, failure)?,
            Some(FalloutCategory::ExternalRejection),
        ),
        ("FAILED_TECHNICAL", Some(failure)) => (
            after.record_task_exhausted(outcome.task_id, failure)?,
            Some(FalloutCategory::RetriesExhausted),
        ),
        (other, _) => {
            tracing::warn!(outcome = other, task = %outcome.task_id, "an integration outcome the order does not act on");
            return Ok(());
        }
    };
    installed_base::complete_items(&mut *conn, &after, &events::completed_items(&changes), now)
        .await?;
    let reason = format!(
        "integration reported {} for task {}",
        outcome.outcome, outcome.task_id
    );
    persist(
        &mut *conn,
        ctx,
        &before,
        &mut after,
        &changes,
        Why::new("oms.fulfillment-task.outcome-recorded", reason),
        now,
    )
    .await?;
    let stopped = after.task(outcome.task_id).is_some_and(|task| {
        !matches!(task.purpose, TaskPurpose::Compensate { .. })
            && after
                .item(task.item)
                .is_some_and(|i| i.status.is_being_cancelled() || i.status.is_withdrawn())
    });
    // A stopped step whose retries ran out leaves its run stuck on an incident: the next run
    // supersedes it so the cancellation goes on.
    if outcome.outcome == "FAILED_TECHNICAL" && stopped {
        crate::infra::plan_history::request_run(&mut *conn, &mut after).await?;
    }
    if let (Some(category), Some(task)) = (category, after.task(outcome.task_id))
        && matches!(
            task.status,
            TaskStatus::FailedRetryable | TaskStatus::FailedNonRetryable
        )
        && !stopped
    {
        let category = if matches!(task.purpose, TaskPurpose::Compensate { .. }) {
            FalloutCategory::Compensation
        } else {
            category
        };
        let failure = task.failure.clone().unwrap_or(Failure {
            code: outcome.outcome.clone(),
            reason: String::new(),
            retryable: false,
        });
        fallout::record(
            &mut *conn,
            ctx,
            &NewFallout {
                order: after.id,
                item: Some(task.item),
                task: Some(task.id),
                category,
                failure_code: failure.code,
                message: failure.reason,
                retryable: failure.retryable,
            },
        )
        .await?;
    }
    Ok(())
}
