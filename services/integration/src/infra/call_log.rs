//! The external call log: one row per attempt and per status query, written in the transaction
//! that records what the call meant, never changed afterwards. Bodies are kept up to
//! [`BODY_CAP`] bytes; their SHA-256 always covers the whole body.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::app::{AppError, Wire};
use crate::domain::key::OrderId;
use crate::domain::{
    Classification, ExternalCallId, ExternalOperation, ExternalSystem, StatusAnswer,
};

/// The most of a body the log keeps (the hash covers all of it).
pub const BODY_CAP: usize = 16 * 1024;

/// What the call was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// An attempt at the effect.
    Attempt(Classification),
    /// A status query by key.
    StatusQuery(Reconciliation),
}

/// What a status query found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconciliation {
    /// Applied.
    Applied,
    /// Confirmed not applied.
    NotApplied,
    /// No answer.
    Unanswered,
}

impl Reconciliation {
    /// The finding of a status answer.
    pub fn of(answer: &StatusAnswer) -> Self {
        match answer {
            StatusAnswer::Applied(_) => Self::Applied,
            StatusAnswer::NotApplied => Self::NotApplied,
            StatusAnswer::Unanswered { .. } => Self::Unanswered,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "APPLIED",
            Self::NotApplied => "NOT_APPLIED",
            Self::Unanswered => "UNANSWERED",
        }
    }
}

/// Who made the call, for the log's correlation fields.
#[derive(Debug, Clone)]
pub struct CallOrigin {
    /// The job that made it, when a worker did.
    pub job_key: Option<i64>,
    /// The actor.
    pub actor_id: String,
    /// Correlation id.
    pub correlation_id: String,
    /// Causation id.
    pub causation_id: Option<String>,
    /// Business transaction.
    pub business_transaction_id: String,
}

fn hash(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

fn capped(body: &str) -> (&str, bool) {
    if body.len() <= BODY_CAP {
        return (body, false);
    }
    let mut end = BODY_CAP;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    (&body[..end], true)
}

fn micros(wire: &Wire) -> i64 {
    i64::try_from(wire.latency.as_micros()).unwrap_or(i64::MAX)
}

/// Appends one call of `operation` (its `sequence`-th of this kind) to the log.
pub async fn append(
    conn: &mut PgConnection,
    operation: &ExternalOperation,
    kind: CallKind,
    sequence: u32,
    wire: &Wire,
    origin: &CallOrigin,
) -> Result<ExternalCallId, AppError> {
    let id = ExternalCallId::generate();
    let identity = operation.identity();
    let (kind_name, classification, reconciliation) = match kind {
        CallKind::Attempt(class) => ("ATTEMPT", Some(class.as_str()), None),
        CallKind::StatusQuery(found) => ("STATUS_QUERY", None, Some(found.as_str())),
    };
    let (request_body, request_truncated) = capped(&wire.request_body);
    let response = wire
        .response_body
        .as_deref()
        .map(|body| (hash(body), capped(body)));
    sqlx::query(
        "INSERT INTO external_call (external_call_id, tenant_id, external_operation_id, kind, sequence, \
         system, operation, idempotency_key, order_id, order_item_id, task_id, started_at, latency_us, \
         http_status, classification, reconciliation, failure_code, detail, request_hash, request_body, \
         request_truncated, response_hash, response_body, response_truncated, job_key, actor_id, \
         correlation_id, causation_id, business_transaction_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
         $20, $21, $22, $23, $24, $25, $26, $27, $28, $29)",
    )
    .bind(id.as_uuid())
    .bind(identity.tenant.as_str())
    .bind(operation.id().as_uuid())
    .bind(kind_name)
    .bind(i32::try_from(sequence).unwrap_or(i32::MAX))
    .bind(identity.operation.system().as_str())
    .bind(identity.operation.as_str())
    .bind(operation.key().as_str())
    .bind(identity.order_id.as_uuid())
    .bind(identity.order_item_id.map(|i| i.as_uuid()))
    .bind(identity.task_id.as_uuid())
    .bind(wire.started_at)
    .bind(micros(wire))
    .bind(wire.http_status.map(i32::from))
    .bind(classification)
    .bind(reconciliation)
    .bind(wire.failure_code.as_deref())
    .bind(wire.detail.as_deref())
    .bind(hash(&wire.request_body))
    .bind(request_body)
    .bind(request_truncated)
    .bind(response.as_ref().map(|(h, _)| h.as_str()))
    .bind(response.as_ref().map(|(_, (body, _))| *body))
    .bind(response.as_ref().is_some_and(|(_, (_, cut))| *cut))
    .bind(origin.job_key)
    .bind(&origin.actor_id)
    .bind(&origin.correlation_id)
    .bind(origin.causation_id.as_deref())
    .bind(&origin.business_transaction_id)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// How many status queries `operation` has had, to number the next.
pub async fn status_queries(
    conn: &mut PgConnection,
    operation: &ExternalOperation,
) -> Result<u32, AppError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM external_call WHERE external_operation_id = $1 AND kind = 'STATUS_QUERY'",
    )
    .bind(operation.id().as_uuid())
    .fetch_one(&mut *conn)
    .await?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// A filter of `GET /external-calls`.
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    /// Only this order's calls.
    pub order_id: Option<OrderId>,
    /// Only this system's.
    pub system: Option<ExternalSystem>,
    /// Only attempts of this class.
    pub outcome: Option<Classification>,
    /// Only this key's.
    pub idempotency_key: Option<String>,
    /// Calls started strictly after this (started_at, id), for the next page.
    pub after: Option<(DateTime<Utc>, Uuid)>,
    /// Page size.
    pub limit: i64,
}

/// One logged call.
#[derive(Debug, Clone)]
pub struct LoggedCall {
    /// Id.
    pub id: Uuid,
    /// The operation.
    pub external_operation_id: Uuid,
    /// `ATTEMPT` or `STATUS_QUERY`.
    pub kind: String,
    /// Its number among the operation's calls of that kind.
    pub sequence: i32,
    /// System.
    pub system: String,
    /// Operation.
    pub operation: String,
    /// Key sent.
    pub idempotency_key: String,
    /// Order.
    pub order_id: Uuid,
    /// Item.
    pub order_item_id: Option<Uuid>,
    /// Task.
    pub task_id: Uuid,
    /// When sent.
    pub started_at: DateTime<Utc>,
    /// Latency in microseconds.
    pub latency_us: i64,
    /// HTTP status.
    pub http_status: Option<i32>,
    /// An attempt's class.
    pub classification: Option<String>,
    /// A status query's finding.
    pub reconciliation: Option<String>,
    /// Downstream or transport code.
    pub failure_code: Option<String>,
    /// Detail.
    pub detail: Option<String>,
    /// Request hash.
    pub request_hash: String,
    /// Request body (capped).
    pub request_body: String,
    /// Whether it was cut.
    pub request_truncated: bool,
    /// Response hash.
    pub response_hash: Option<String>,
    /// Response body (capped).
    pub response_body: Option<String>,
    /// Whether it was cut.
    pub response_truncated: bool,
    /// Job key.
    pub job_key: Option<i64>,
    /// Actor.
    pub actor_id: String,
    /// Correlation id.
    pub correlation_id: String,
    /// Causation id.
    pub causation_id: Option<String>,
    /// Business transaction.
    pub business_transaction_id: String,
}

/// A page of the log, oldest first, in the caller's tenant.
pub async fn list(
    conn: &mut PgConnection,
    filter: &CallFilter,
) -> Result<Vec<LoggedCall>, AppError> {
    let rows = sqlx::query(
        "SELECT external_call_id, external_operation_id, kind, sequence, system, operation, idempotency_key, \
                order_id, order_item_id, task_id, started_at, latency_us, http_status, classification, \
                reconciliation, failure_code, detail, request_hash, request_body, request_truncated, \
                response_hash, response_body, response_truncated, job_key, actor_id, correlation_id, \
                causation_id, business_transaction_id \
           FROM external_call \
          WHERE ($1::uuid IS NULL OR order_id = $1) AND ($2::text IS NULL OR system = $2) \
            AND ($3::text IS NULL OR classification = $3) AND ($4::text IS NULL OR idempotency_key = $4) \
            AND ($5::timestamptz IS NULL OR (started_at, external_call_id) > ($5, $6)) \
          ORDER BY started_at, external_call_id LIMIT $7",
    )
    .bind(filter.order_id.map(|id| id.as_uuid()))
    .bind(filter.system.map(ExternalSystem::as_str))
    .bind(filter.outcome.map(Classification::as_str))
    .bind(filter.idempotency_key.as_deref())
    .bind(filter.after.map(|(at, _)| at))
    .bind(filter.after.map(|(_, id)| id))
    .bind(filter.limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(LoggedCall {
                id: row.try_get("external_call_id")?,
                external_operation_id: row.try_get("external_operation_id")?,
                kind: row.try_get("kind")?,
                sequence: row.try_get("sequence")?,
                system: row.try_get("system")?,
                operation: row.try_get("operation")?,
                idempotency_key: row.try_get("idempotency_key")?,
                order_id: row.try_get("order_id")?,
                order_item_id: row.try_get("order_item_id")?,
                task_id: row.try_get("task_id")?,
                started_at: row.try_get("started_at")?,
                latency_us: row.try_get("latency_us")?,
                http_status: row.try_get("http_status")?,
                classification: row.try_get("classification")?,
                reconciliation: row.try_get("reconciliation")?,
                failure_code: row.try_get("failure_code")?,
                detail: row.try_get("detail")?,
                request_hash: row.try_get("request_hash")?,
                request_body: row.try_get("request_body")?,
                request_truncated: row.try_get("request_truncated")?,
                response_hash: row.try_get("response_hash")?,
                response_body: row.try_get("response_body")?,
                response_truncated: row.try_get("response_truncated")?,
                job_key: row.try_get("job_key")?,
                actor_id: row.try_get("actor_id")?,
                correlation_id: row.try_get("correlation_id")?,
                causation_id: row.try_get("causation_id")?,
                business_transaction_id: row.try_get("business_transaction_id")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}
