//! The external operation aggregate: one side effect at one downstream, keyed by its
//! idempotency key, across all its attempts. It decides what an answer means and what may
//! happen next; the application sends, records and reports.

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain_kernel::Lifecycle;
use serde::{Deserialize, Serialize};

use super::lifecycle::OperationTransitionError;
use super::{
    BusinessIdentity, CoreResult, ExternalOperationId, IdempotencyKey, OperationCommand,
    OperationStatus, RetryBudget,
};

/// A downstream's business refusal: its code and words, kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    /// The downstream's stable code (e.g. `INSUFFICIENT_STOCK`).
    pub code: String,
    /// Its explanation.
    pub message: String,
}

/// What an attempt came to, once the adapter gave it meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// `SUCCEEDED`, with the core's view of the effect.
    Applied(CoreResult),
    /// `REJECTED_BUSINESS`.
    Rejected(Rejection),
    /// `FAILED_TECHNICAL`: not applied.
    NotApplied {
        /// What went wrong, for the operator.
        reason: String,
    },
    /// `OUTCOME_UNKNOWN`.
    Unknown {
        /// What was seen (timeout, reset).
        reason: String,
    },
}

/// What a status query by key came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusAnswer {
    /// The downstream applied the key's effect.
    Applied(CoreResult),
    /// The downstream confirms it never applied it.
    NotApplied,
    /// The downstream could not say (down, timed out, answered nonsense).
    Unanswered {
        /// What was seen.
        reason: String,
    },
}

/// What the caller should do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The effect is applied: report the result.
    Done(CoreResult),
    /// The downstream said no: report the refusal; never retry.
    Refused(Rejection),
    /// Not applied: send again after `wait`, with `remaining` attempts of the budget left.
    RetryAfter {
        /// Attempts left.
        remaining: u32,
        /// The back-off.
        wait: Duration,
        /// What failed.
        reason: String,
    },
    /// Not applied and the budget is spent: an operator decides.
    Exhausted {
        /// What failed last.
        reason: String,
    },
    /// Applied or not, nobody knows yet: ask the downstream again later, send nothing.
    AwaitReconciliation {
        /// Since when the outcome has been unknown.
        since: DateTime<Utc>,
        /// What was seen last.
        reason: String,
    },
}

/// The stored parts of an operation, for [`ExternalOperation::restore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationParts {
    /// Id.
    pub id: ExternalOperationId,
    /// Business identity.
    pub identity: BusinessIdentity,
    /// Status.
    pub status: OperationStatus,
    /// Attempts sent.
    pub attempts: u32,
    /// Technical failures since the budget was last armed.
    pub failures: u32,
    /// Status queries that could not be answered.
    pub unanswered_reconciliations: u32,
    /// Since when the outcome is unknown.
    pub unknown_since: Option<DateTime<Utc>>,
    /// The result, when applied.
    pub result: Option<CoreResult>,
    /// The refusal, when rejected.
    pub rejection: Option<Rejection>,
    /// The last technical reason seen.
    pub last_error: Option<String>,
    /// Version.
    pub version: i64,
}

/// Why stored parts do not make an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored external operation {id} is inconsistent: {reason}")]
pub struct CorruptOperation {
    /// The operation.
    pub id: ExternalOperationId,
    /// Which rule it breaks.
    pub reason: &'static str,
}

/// One side effect at one downstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalOperation {
    parts: OperationParts,
    key: IdempotencyKey,
}

impl ExternalOperation {
    /// A new operation for `identity`, nothing sent.
    pub fn new(identity: BusinessIdentity) -> Self {
        let key = IdempotencyKey::derive(&identity);
        Self {
            parts: OperationParts {
                id: ExternalOperationId::generate(),
                identity,
                status: OperationStatus::Pending,
                attempts: 0,
                failures: 0,
                unanswered_reconciliations: 0,
                unknown_since: None,
                result: None,
                rejection: None,
                last_error: None,
                version: 1,
            },
            key,
        }
    }

    /// An operation as stored, checked: a result exactly when applied, a refusal exactly when
    /// rejected, an unknown-since exactly when the outcome is unknown.
    pub fn restore(parts: OperationParts) -> Result<Self, CorruptOperation> {
        let broken = |reason| CorruptOperation {
            id: parts.id,
            reason,
        };
        let status = parts.status;
        if (status == OperationStatus::Succeeded) != parts.result.is_some() {
            return Err(broken("a result exactly when SUCCEEDED"));
        }
        if (status == OperationStatus::Rejected) != parts.rejection.is_some() {
            return Err(broken("a rejection exactly when REJECTED"));
        }
        if (status == OperationStatus::OutcomeUnknown) != parts.unknown_since.is_some() {
            return Err(broken("unknown_since exactly when OUTCOME_UNKNOWN"));
        }
        if status != OperationStatus::Pending && parts.attempts == 0 {
            return Err(broken("every state past PENDING has sent an attempt"));
        }
        let key = IdempotencyKey::derive(&parts.identity);
        Ok(Self { parts, key })
    }

    /// Its id.
    pub fn id(&self) -> ExternalOperationId {
        self.parts.id
    }
    /// Its key, sent on every attempt.
    pub fn key(&self) -> &IdempotencyKey {
        &self.key
    }
    /// Who asked for it.
    pub fn identity(&self) -> &BusinessIdentity {
        &self.parts.identity
    }
    /// Where it stands.
    pub fn status(&self) -> OperationStatus {
        self.parts.status
    }
    /// Attempts sent so far.
    pub fn attempts(&self) -> u32 {
        self.parts.attempts
    }
    /// Technical failures since the budget was armed.
    pub fn failures(&self) -> u32 {
        self.parts.failures
    }
    /// Status queries nobody could answer.
    pub fn unanswered_reconciliations(&self) -> u32 {
        self.parts.unanswered_reconciliations
    }
    /// Since when the outcome is unknown.
    pub fn unknown_since(&self) -> Option<DateTime<Utc>> {
        self.parts.unknown_since
    }
    /// The result, once applied.
    pub fn result(&self) -> Option<&CoreResult> {
        self.parts.result.as_ref()
    }
    /// The refusal, once rejected.
    pub fn rejection(&self) -> Option<&Rejection> {
        self.parts.rejection.as_ref()
    }
    /// The last technical reason seen.
    pub fn last_error(&self) -> Option<&str> {
        self.parts.last_error.as_deref()
    }
    /// Version, bumped by every change.
    pub fn version(&self) -> i64 {
        self.parts.version
    }

    fn apply(&mut self, command: OperationCommand) -> Result<(), OperationTransitionError> {
        self.parts.status = self.parts.status.apply(command)?;
        self.parts.version += 1;
        Ok(())
    }

    /// What a terminal operation reports again (a redelivered job): `None` while not terminal.
    pub fn settled(&self) -> Option<Step> {
        match (&self.parts.result, &self.parts.rejection) {
            (Some(result), _) => Some(Step::Done(result.clone())),
            (_, Some(rejection)) => Some(Step::Refused(rejection.clone())),
            _ => None,
        }
    }

    /// Whether an attempt must not be sent before the downstream is asked by key: an attempt
    /// timed out or broke off, or one was sent and its answer never recorded (a crash).
    pub fn needs_reconciliation(&self) -> bool {
        matches!(
            self.parts.status,
            OperationStatus::OutcomeUnknown | OperationStatus::InFlight
        )
    }

    /// Sends an attempt: PENDING or RETRY_WAIT to IN_FLIGHT. Returns its number (1-based).
    pub fn begin_attempt(&mut self) -> Result<u32, OperationTransitionError> {
        self.apply(OperationCommand::SendAttempt)?;
        self.parts.attempts += 1;
        Ok(self.parts.attempts)
    }

    /// An attempt found IN_FLIGHT when work starts again: its answer was never recorded, so the
    /// outcome is unknown.
    pub fn mark_unanswered(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Step, OperationTransitionError> {
        self.record_answer(
            Answer::Unknown {
                reason: "an attempt was sent and its answer never recorded".into(),
            },
            &RetryBudget::default(),
            now,
        )
    }

    fn not_applied(
        &mut self,
        reason: String,
        budget: &RetryBudget,
        keep_going: OperationCommand,
    ) -> Result<Step, OperationTransitionError> {
        let failures = self.parts.failures + 1;
        let remaining = budget.remaining(failures);
        let command = if remaining == 0 {
            OperationCommand::ExhaustBudget
        } else {
            keep_going
        };
        self.apply(command)?;
        self.parts.failures = failures;
        self.parts.unknown_since = None;
        self.parts.last_error = Some(reason.clone());
        Ok(if remaining == 0 {
            Step::Exhausted { reason }
        } else {
            Step::RetryAfter {
                remaining,
                wait: budget.backoff(failures),
                reason,
            }
        })
    }

    /// Records the answer of the attempt in flight.
    pub fn record_answer(
        &mut self,
        answer: Answer,
        budget: &RetryBudget,
        now: DateTime<Utc>,
    ) -> Result<Step, OperationTransitionError> {
        match answer {
            Answer::Applied(result) => {
                self.apply(OperationCommand::RecordSuccess)?;
                self.parts.result = Some(result.clone());
                Ok(Step::Done(result))
            }
            Answer::Rejected(rejection) => {
                self.apply(OperationCommand::RecordRejection)?;
                self.parts.rejection = Some(rejection.clone());
                Ok(Step::Refused(rejection))
            }
            Answer::NotApplied { reason } => {
                self.not_applied(reason, budget, OperationCommand::RecordTechnicalFailure)
            }
            Answer::Unknown { reason } => {
                self.apply(OperationCommand::RecordUnknown)?;
                let since = *self.parts.unknown_since.get_or_insert(now);
                self.parts.last_error = Some(reason.clone());
                Ok(Step::AwaitReconciliation { since, reason })
            }
        }
    }

    /// Records what the downstream said about the key while the outcome was unknown.
    pub fn reconcile(
        &mut self,
        answer: StatusAnswer,
        budget: &RetryBudget,
    ) -> Result<Step, OperationTransitionError> {
        match answer {
            StatusAnswer::Applied(result) => {
                self.apply(OperationCommand::ReconcileApplied)?;
                self.parts.unknown_since = None;
                self.parts.result = Some(result.clone());
                Ok(Step::Done(result))
            }
            StatusAnswer::NotApplied => {
                let reason = self
                    .parts
                    .last_error
                    .clone()
                    .unwrap_or_else(|| "outcome unknown".into());
                self.not_applied(
                    format!("{reason}; the downstream confirmed it was not applied"),
                    budget,
                    OperationCommand::ReconcileNotApplied,
                )
            }
            StatusAnswer::Unanswered { reason } => {
                self.apply(OperationCommand::ReconcileUnanswered)?;
                self.parts.unanswered_reconciliations += 1;
                let since = self.parts.unknown_since.unwrap_or_else(Utc::now);
                self.parts.last_error = Some(reason.clone());
                Ok(Step::AwaitReconciliation { since, reason })
            }
        }
    }

    /// An operator's retry: a new budget for an exhausted operation.
    pub fn rearm(&mut self) -> Result<(), OperationTransitionError> {
        self.apply(OperationCommand::Rearm)?;
        self.parts.failures = 0;
        Ok(())
    }
}
