//! What the API answers: the call log's entries and the operations, in the API's own shapes
//! (never rows, never domain types).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::CoreResult;
use crate::infra::call_log::LoggedCall;
use crate::infra::operations::StoredOperation;

/// One attempt or status query.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalCallView {
    /// Id of the log entry.
    pub external_call_id: Uuid,
    /// The operation it belongs to.
    pub external_operation_id: Uuid,
    /// `ATTEMPT` or `STATUS_QUERY`.
    pub kind: String,
    /// Its number among the operation's calls of that kind (the attempt number).
    pub attempt: i32,
    /// `INVENTORY`, `PROVISIONING`, `BILLING`, `CRM`, `CONTRACT` or `NOTIFICATION`.
    pub system: String,
    /// The operation, e.g. `PROVISIONING_ACTIVATE`.
    pub operation: String,
    /// The key sent as `Idempotency-Key`.
    pub idempotency_key: String,
    /// The order.
    pub order_id: Uuid,
    /// The order item, when the effect served one.
    pub order_item_id: Option<Uuid>,
    /// The fulfilment task.
    pub task_id: Uuid,
    /// When the request left.
    pub started_at: DateTime<Utc>,
    /// Milliseconds until the answer or the fault.
    pub latency_ms: f64,
    /// The HTTP status, when one came back.
    pub http_status: Option<i32>,
    /// An attempt's class: `SUCCEEDED`, `REJECTED_BUSINESS`, `FAILED_TECHNICAL`, `OUTCOME_UNKNOWN`.
    pub outcome: Option<String>,
    /// A status query's finding: `APPLIED`, `NOT_APPLIED`, `UNANSWERED`.
    pub reconciliation: Option<String>,
    /// The downstream's code, or the transport's (`TIMEOUT`, `CONNECTION_REFUSED`, …).
    pub failure_code: Option<String>,
    /// What the downstream or the transport said.
    pub detail: Option<String>,
    /// SHA-256 of the whole request body.
    pub request_hash: String,
    /// The request body (the first 16 KiB).
    pub request_body: String,
    /// Whether the body was cut.
    pub request_truncated: bool,
    /// SHA-256 of the whole response body.
    pub response_hash: Option<String>,
    /// The response body (the first 16 KiB).
    pub response_body: Option<String>,
    /// Whether the body was cut.
    pub response_truncated: bool,
    /// The job that made the call.
    pub job_key: Option<i64>,
    /// Who made it.
    pub actor_id: String,
    /// Correlation id.
    pub correlation_id: String,
    /// Causation id.
    pub causation_id: Option<String>,
    /// Business transaction.
    pub business_transaction_id: String,
}

impl From<LoggedCall> for ExternalCallView {
    fn from(call: LoggedCall) -> Self {
        #[expect(
            clippy::cast_precision_loss,
            reason = "latencies in microseconds fit an f64 exactly"
        )]
        let latency_ms = call.latency_us as f64 / 1000.0;
        Self {
            external_call_id: call.id,
            external_operation_id: call.external_operation_id,
            kind: call.kind,
            attempt: call.sequence,
            system: call.system,
            operation: call.operation,
            idempotency_key: call.idempotency_key,
            order_id: call.order_id,
            order_item_id: call.order_item_id,
            task_id: call.task_id,
            started_at: call.started_at,
            latency_ms,
            http_status: call.http_status,
            outcome: call.classification,
            reconciliation: call.reconciliation,
            failure_code: call.failure_code,
            detail: call.detail,
            request_hash: call.request_hash,
            request_body: call.request_body,
            request_truncated: call.request_truncated,
            response_hash: call.response_hash,
            response_body: call.response_body,
            response_truncated: call.response_truncated,
            job_key: call.job_key,
            actor_id: call.actor_id,
            correlation_id: call.correlation_id,
            causation_id: call.causation_id,
            business_transaction_id: call.business_transaction_id,
        }
    }
}

/// A page of the call log, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalCallPage {
    /// The calls.
    pub items: Vec<ExternalCallView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// The core's view of an applied effect.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResultView {
    /// The downstream's reference.
    pub external_reference: Option<String>,
    /// The state in the core's words.
    pub external_state: String,
}

impl From<&CoreResult> for ResultView {
    fn from(result: &CoreResult) -> Self {
        Self {
            external_reference: result.external_reference.clone(),
            external_state: result.external_state.clone(),
        }
    }
}

/// A downstream's refusal.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RejectionView {
    /// Its code.
    pub code: String,
    /// Its words.
    pub message: String,
}

/// One external operation and the state it waits in.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalOperationView {
    /// Id.
    pub external_operation_id: Uuid,
    /// The key sent on every attempt.
    pub idempotency_key: String,
    /// The system.
    pub system: String,
    /// The operation.
    pub operation: String,
    /// The order.
    pub order_id: Uuid,
    /// The item.
    pub order_item_id: Option<Uuid>,
    /// The fulfilment task.
    pub task_id: Uuid,
    /// `PENDING`, `IN_FLIGHT`, `RETRY_WAIT`, `OUTCOME_UNKNOWN`, `SUCCEEDED`, `REJECTED` or `EXHAUSTED`.
    pub status: String,
    /// Attempts sent.
    pub attempts: u32,
    /// Technical failures since the budget was armed.
    pub technical_failures: u32,
    /// Status queries nobody could answer.
    pub unanswered_reconciliations: u32,
    /// Since when the outcome is unknown.
    pub outcome_unknown_since: Option<DateTime<Utc>>,
    /// The result, once applied.
    pub result: Option<ResultView>,
    /// The refusal, once rejected.
    pub rejection: Option<RejectionView>,
    /// The last technical reason seen.
    pub last_error: Option<String>,
    /// The core command (the core's words).
    #[schema(value_type = Object)]
    pub request: Value,
    /// Version.
    pub version: i64,
    /// When first asked for.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&StoredOperation> for ExternalOperationView {
    fn from(stored: &StoredOperation) -> Self {
        let operation = &stored.operation;
        let identity = operation.identity();
        Self {
            external_operation_id: operation.id().as_uuid(),
            idempotency_key: operation.key().to_string(),
            system: identity.operation.system().as_str().to_owned(),
            operation: identity.operation.as_str().to_owned(),
            order_id: identity.order_id.as_uuid(),
            order_item_id: identity.order_item_id.map(|id| id.as_uuid()),
            task_id: identity.task_id.as_uuid(),
            status: operation.status().as_str().to_owned(),
            attempts: operation.attempts(),
            technical_failures: operation.failures(),
            unanswered_reconciliations: operation.unanswered_reconciliations(),
            outcome_unknown_since: operation.unknown_since(),
            result: operation.result().map(ResultView::from),
            rejection: operation.rejection().map(|r| RejectionView {
                code: r.code.clone(),
                message: r.message.clone(),
            }),
            last_error: operation.last_error().map(str::to_owned),
            request: stored.request.clone(),
            version: operation.version(),
            created_at: stored.created_at,
            updated_at: stored.updated_at,
        }
    }
}

/// Operations, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalOperationList {
    /// The operations.
    pub items: Vec<ExternalOperationView>,
}
