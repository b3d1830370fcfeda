//! `ExecuteExternalOperation`: moves one external operation to its next step.
//!
//! | | |
//! |---|---|
//! | Aggregate | external operation (one per idempotency key) |
//! | Allowed source states | any: settled ones answer again, EXHAUSTED is re-armed (an operator resolved the incident) |
//! | Required input | business identity (order, item, task, operation), the core command, the worker's context |
//! | Current-state checks | IN_FLIGHT or OUTCOME_UNKNOWN ⇒ reconcile by key before anything is sent |
//! | Transition | PENDING/RETRY_WAIT → IN_FLIGHT → SUCCEEDED / REJECTED / RETRY_WAIT / EXHAUSTED / OUTCOME_UNKNOWN; OUTCOME_UNKNOWN → SUCCEEDED / RETRY_WAIT / EXHAUSTED / OUTCOME_UNKNOWN |
//! | Data mutation | `external_operation`; one `external_call` row per attempt and per status query |
//! | History/audit | evidence on SUCCEEDED, REJECTED, EXHAUSTED and a re-arm, in the recording transaction |
//! | Outbox event | `integration.<system>.<…>-succeeded/-failed.v1` on the same transitions |
//! | Idempotency | the key is derived from the business identity; a settled operation answers from the store and sends nothing |
//! | Failure behaviour | never guesses: a timeout or a broken connection is reconciled; an unanswerable status query leaves it OUTCOME_UNKNOWN |
//!
//! Two short transactions around each call, none open while the downstream is called. The one
//! before the call is committed without waiting for the disk flush (`synchronous_commit = off`):
//! losing it in a database crash only forgets that an attempt was sent, and the next attempt
//! carries the same key, which the downstream answers from its own record.

use std::sync::Arc;

use chrono::Utc;
use common_kernel::audit;
use common_kernel::context::RequestContext;
use common_kernel::db::begin_for_tenant;
use common_kernel::outbox;
use domain_kernel::access::Action;
use serde_json::Value;
use sqlx::{PgConnection, PgPool};

use super::events;
use super::{AppError, CallTrace, Downstream};
use crate::domain::{
    BusinessIdentity, ExternalCommand, ExternalOperation, OperationStatus, RetryBudget, Step,
};
use crate::infra::call_log::{self, CallKind, CallOrigin, Reconciliation};
use crate::infra::operations;

/// What the worker asks for.
#[derive(Debug, Clone)]
pub struct ExecuteRequest {
    /// Who asks, in business terms: the key is derived from it.
    pub identity: BusinessIdentity,
    /// What to do.
    pub command: ExternalCommand,
    /// The job, for the call log.
    pub job_key: Option<i64>,
}

/// Runs external operations against a downstream.
#[derive(Debug, Clone)]
pub struct Executor {
    db: PgPool,
    downstream: Arc<dyn Downstream>,
}

/// What the first transaction decided.
enum Prepared {
    /// Nothing to send: the answer is known.
    Settled(Step),
    /// Ask the downstream by key first.
    Reconcile(ExternalOperation),
    /// Send attempt number `attempt`.
    Send(ExternalOperation, u32),
}

impl Executor {
    /// An executor over the app role's pool and `downstream`.
    pub fn new(db: PgPool, downstream: Arc<dyn Downstream>) -> Self {
        Self { db, downstream }
    }

    /// Moves the operation of `request` to its next step and says what the caller should do.
    pub async fn execute(
        &self,
        ctx: &RequestContext,
        request: &ExecuteRequest,
    ) -> Result<Step, AppError> {
        ctx.authorize(Action::RunWorkflowStep)?;
        let json = request
            .command
            .to_json()
            .map_err(|e| AppError::Encoding(e.to_string()))?;
        let operation = request.identity.operation;
        let budget = self.downstream.budget(operation);
        let origin = CallOrigin {
            job_key: request.job_key,
            actor_id: ctx.actor.actor_id.as_str().to_owned(),
            correlation_id: ctx.correlation_id.clone(),
            causation_id: ctx.causation_id.clone(),
            business_transaction_id: ctx.business_transaction_id.clone(),
        };
        let trace = CallTrace {
            correlation_id: ctx.correlation_id.clone(),
            traceparent: ctx.traceparent.clone(),
        };
        let mut reconciled_after_send = false;
        loop {
            match self.prepare(ctx, request, &json).await? {
                Prepared::Settled(step) => return Ok(step),
                Prepared::Reconcile(current) => {
                    let exchange = self
                        .downstream
                        .query_status(operation, current.key(), &trace)
                        .await;
                    return self
                        .record_status(ctx, current, exchange, &budget, &origin, &json)
                        .await;
                }
                Prepared::Send(current, attempt) => {
                    let exchange = self
                        .downstream
                        .send(&request.command, &request.identity, current.key(), &trace)
                        .await;
                    let step = self
                        .record_attempt(ctx, current, attempt, exchange, &budget, &origin, &json)
                        .await?;
                    // A timeout or a reset: ask by key at once, once, before giving up the job.
                    if matches!(step, Step::AwaitReconciliation { .. }) && !reconciled_after_send {
                        reconciled_after_send = true;
                        continue;
                    }
                    return Ok(step);
                }
            }
        }
    }

    async fn prepare(
        &self,
        ctx: &RequestContext,
        request: &ExecuteRequest,
        json: &Value,
    ) -> Result<Prepared, AppError> {
        let mut tx = begin_for_tenant(&self.db, &request.identity.tenant).await?;
        let stored = operations::lock_or_create(&mut tx, &request.identity, json).await?;
        let mut operation = stored.operation;
        if let Some(step) = operation.settled() {
            return Ok(Prepared::Settled(step));
        }
        let mut expected = operation.version();
        let prepared = match operation.status() {
            OperationStatus::OutcomeUnknown => return Ok(Prepared::Reconcile(operation)),
            OperationStatus::InFlight => {
                // Sent before and never recorded (a crash, or a redelivery racing the first).
                operation.mark_unanswered(Utc::now())?;
                Prepared::Reconcile(operation.clone())
            }
            OperationStatus::Exhausted => {
                let before = operation.clone();
                operation.rearm()?;
                audit::record(
                    &mut tx,
                    ctx,
                    events::evidence(
                        "integration.external-operation.rearmed",
                        &before,
                        &operation,
                        "the job was retried after its retry budget was spent (incident resolved)"
                            .into(),
                    ),
                )
                .await?;
                // The re-arm is its own step of the lifecycle (EXHAUSTED → RETRY_WAIT).
                if !operations::save(&mut tx, &operation, expected, json).await? {
                    return Err(AppError::Concurrent(operation.id()));
                }
                expected = operation.version();
                let attempt = operation.begin_attempt()?;
                Prepared::Send(operation.clone(), attempt)
            }
            _ => {
                let attempt = operation.begin_attempt()?;
                Prepared::Send(operation.clone(), attempt)
            }
        };
        if matches!(prepared, Prepared::Send(..)) {
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut *tx)
                .await?;
        }
        if !operations::save(&mut tx, &operation, expected, json).await? {
            return Err(AppError::Concurrent(operation.id()));
        }
        tx.commit().await?;
        Ok(prepared)
    }

    /// Locks the operation again for recording; `Err(Concurrent)` when another attempt moved it.
    async fn relock(
        conn: &mut PgConnection,
        sent: &ExternalOperation,
    ) -> Result<ExternalOperation, AppError> {
        let stored = operations::lock_by_key(conn, sent.key())
            .await?
            .ok_or(AppError::Concurrent(sent.id()))?;
        if stored.operation.version() != sent.version() {
            return Err(AppError::Concurrent(sent.id()));
        }
        Ok(stored.operation)
    }

    #[allow(clippy::too_many_arguments)]
    async fn record_attempt(
        &self,
        ctx: &RequestContext,
        sent: ExternalOperation,
        attempt: u32,
        exchange: super::Exchange,
        budget: &RetryBudget,
        origin: &CallOrigin,
        json: &Value,
    ) -> Result<Step, AppError> {
        let mut tx = begin_for_tenant(&self.db, &sent.identity().tenant).await?;
        let relocked = Self::relock(&mut tx, &sent).await;
        // The call is evidence whoever owns the state now.
        call_log::append(
            &mut tx,
            &sent,
            CallKind::Attempt(exchange.classification),
            attempt,
            &exchange.wire,
            origin,
        )
        .await?;
        let recorded = match relocked {
            Ok(current) => current,
            Err(error @ AppError::Concurrent(_)) => {
                tx.commit().await?;
                return Err(error);
            }
            Err(error) => return Err(error),
        };
        let mut operation = recorded.clone();
        let step = operation.record_answer(exchange.answer, budget, Utc::now())?;
        Self::publish(&mut tx, ctx, &recorded, &operation).await?;
        operations::save(&mut tx, &operation, recorded.version(), json).await?;
        tx.commit().await?;
        Ok(step)
    }

    async fn record_status(
        &self,
        ctx: &RequestContext,
        asked: ExternalOperation,
        exchange: super::StatusExchange,
        budget: &RetryBudget,
        origin: &CallOrigin,
        json: &Value,
    ) -> Result<Step, AppError> {
        let mut tx = begin_for_tenant(&self.db, &asked.identity().tenant).await?;
        let relocked = Self::relock(&mut tx, &asked).await;
        let sequence = call_log::status_queries(&mut tx, &asked).await? + 1;
        call_log::append(
            &mut tx,
            &asked,
            CallKind::StatusQuery(Reconciliation::of(&exchange.answer)),
            sequence,
            &exchange.wire,
            origin,
        )
        .await?;
        let recorded = match relocked {
            Ok(current) => current,
            Err(error @ AppError::Concurrent(_)) => {
                tx.commit().await?;
                return Err(error);
            }
            Err(error) => return Err(error),
        };
        let mut operation = recorded.clone();
        let step = operation.reconcile(exchange.answer, budget)?;
        Self::publish(&mut tx, ctx, &recorded, &operation).await?;
        operations::save(&mut tx, &operation, recorded.version(), json).await?;
        tx.commit().await?;
        Ok(step)
    }

    /// The event and the evidence of a move into SUCCEEDED, REJECTED or EXHAUSTED.
    async fn publish(
        conn: &mut PgConnection,
        ctx: &RequestContext,
        before: &ExternalOperation,
        after: &ExternalOperation,
    ) -> Result<(), AppError> {
        if before.status() == after.status() {
            return Ok(());
        }
        let Some(event) =
            events::outcome_event(after).map_err(|e| AppError::Encoding(e.to_string()))?
        else {
            return Ok(());
        };
        let (evidence_type, reason) = match after.status() {
            OperationStatus::Succeeded => (
                "integration.external-operation.succeeded",
                format!("{} applied by the downstream", after.identity().operation),
            ),
            OperationStatus::Rejected => (
                "integration.external-operation.rejected",
                format!(
                    "{} refused by the downstream: {}",
                    after.identity().operation,
                    after.rejection().map_or("", |r| r.code.as_str())
                ),
            ),
            _ => (
                "integration.external-operation.exhausted",
                format!(
                    "{} not applied after {} technical failures",
                    after.identity().operation,
                    after.failures()
                ),
            ),
        };
        outbox::append(conn, ctx, event).await?;
        audit::record(
            conn,
            ctx,
            events::evidence(evidence_type, before, after, reason),
        )
        .await?;
        Ok(())
    }
}
