//! The external operation store. Functions take the caller's connection, so the command owns the
//! transaction and the outbox insert joins it. Reads lock with `FOR UPDATE`; the row is never
//! locked across a downstream call (the command commits before it sends).

use chrono::{DateTime, Utc};
use domain_kernel::TenantId;
use serde_json::Value;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::app::AppError;
use crate::domain::key::{FulfilmentTaskId, OrderId, OrderItemId};
use crate::domain::operation::OperationParts;
use crate::domain::{
    BusinessIdentity, CoreResult, ExternalOperation, ExternalOperationId, IdempotencyKey,
    Operation, OperationStatus, Rejection,
};

const COLUMNS: &str = "external_operation_id, tenant_id, operation, order_id, order_item_id, task_id, \
     status, attempts, failures, unanswered_reconciliations, unknown_since, result, rejection_code, \
     rejection_message, last_error, aggregate_version, request, created_at, updated_at";

/// An operation with what the store keeps beside the aggregate.
#[derive(Debug, Clone)]
pub struct StoredOperation {
    /// The aggregate.
    pub operation: ExternalOperation,
    /// The core command last sent, as JSON.
    pub request: Value,
    /// When it was first asked for.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

fn count(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

fn decode(row: &sqlx::postgres::PgRow) -> Result<StoredOperation, AppError> {
    let bad = |what: &str| AppError::Encoding(format!("external_operation.{what}"));
    let tenant: String = row.try_get("tenant_id")?;
    let operation: String = row.try_get("operation")?;
    let status: String = row.try_get("status")?;
    let result: Option<Value> = row.try_get("result")?;
    let rejection_code: Option<String> = row.try_get("rejection_code")?;
    let parts = OperationParts {
        id: ExternalOperationId::from_uuid(row.try_get("external_operation_id")?),
        identity: BusinessIdentity {
            tenant: TenantId::parse(&tenant).map_err(|_| bad("tenant_id"))?,
            order_id: OrderId::from_uuid(row.try_get("order_id")?),
            order_item_id: row
                .try_get::<Option<Uuid>, _>("order_item_id")?
                .map(OrderItemId::from_uuid),
            task_id: FulfilmentTaskId::from_uuid(row.try_get("task_id")?),
            operation: Operation::parse(&operation).ok_or_else(|| bad("operation"))?,
        },
        status: OperationStatus::parse(&status).ok_or_else(|| bad("status"))?,
        attempts: count(row.try_get("attempts")?),
        failures: count(row.try_get("failures")?),
        unanswered_reconciliations: count(row.try_get("unanswered_reconciliations")?),
        unknown_since: row.try_get("unknown_since")?,
        result: result
            .map(serde_json::from_value::<CoreResult>)
            .transpose()
            .map_err(|_| bad("result"))?,
        rejection: rejection_code
            .map(|code| -> Result<Rejection, AppError> {
                Ok(Rejection {
                    code,
                    message: row
                        .try_get::<Option<String>, _>("rejection_message")?
                        .unwrap_or_default(),
                })
            })
            .transpose()?,
        last_error: row.try_get("last_error")?,
        version: row.try_get("aggregate_version")?,
    };
    Ok(StoredOperation {
        operation: ExternalOperation::restore(parts)?,
        request: row.try_get("request")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn i32_of(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// The operation for `identity`, created PENDING when it is new, locked for the transaction.
pub async fn lock_or_create(
    conn: &mut PgConnection,
    identity: &BusinessIdentity,
    request: &Value,
) -> Result<StoredOperation, AppError> {
    let fresh = ExternalOperation::new(identity.clone());
    sqlx::query(
        "INSERT INTO external_operation (external_operation_id, tenant_id, idempotency_key, system, \
         operation, order_id, order_item_id, task_id, status, request) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'PENDING', $9) \
         ON CONFLICT (tenant_id, idempotency_key) DO NOTHING",
    )
    .bind(fresh.id().as_uuid())
    .bind(identity.tenant.as_str())
    .bind(fresh.key().as_str())
    .bind(identity.operation.system().as_str())
    .bind(identity.operation.as_str())
    .bind(identity.order_id.as_uuid())
    .bind(identity.order_item_id.map(|id| id.as_uuid()))
    .bind(identity.task_id.as_uuid())
    .bind(request)
    .execute(&mut *conn)
    .await?;
    lock_by_key(conn, fresh.key())
        .await?
        .ok_or_else(|| AppError::Encoding("external_operation vanished after insert".into()))
}

/// The operation with `key`, locked for the transaction.
pub async fn lock_by_key(
    conn: &mut PgConnection,
    key: &IdempotencyKey,
) -> Result<Option<StoredOperation>, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM external_operation WHERE idempotency_key = $1 FOR UPDATE"
    )))
    .bind(key.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(decode).transpose()
}

/// The operation with `key`, unlocked (reads).
pub async fn find_by_key(
    conn: &mut PgConnection,
    key: &IdempotencyKey,
) -> Result<Option<StoredOperation>, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM external_operation WHERE idempotency_key = $1"
    )))
    .bind(key.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(decode).transpose()
}

/// An order's operations, oldest first, optionally only those in `status`.
pub async fn list(
    conn: &mut PgConnection,
    order_id: Option<OrderId>,
    status: Option<OperationStatus>,
    limit: i64,
) -> Result<Vec<StoredOperation>, AppError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM external_operation \
          WHERE ($1::uuid IS NULL OR order_id = $1) AND ($2::text IS NULL OR status = $2) \
          ORDER BY created_at, external_operation_id LIMIT $3"
    )))
    .bind(order_id.map(|id| id.as_uuid()))
    .bind(status.map(OperationStatus::as_str))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(decode).collect()
}

/// Writes `operation` over the stored row at `expected_version`; `false` when another attempt
/// changed it meanwhile (nothing written).
pub async fn save(
    conn: &mut PgConnection,
    operation: &ExternalOperation,
    expected_version: i64,
    request: &Value,
) -> Result<bool, AppError> {
    let result = operation
        .result()
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| AppError::Encoding(e.to_string()))?;
    let settled = matches!(
        operation.status(),
        OperationStatus::Succeeded | OperationStatus::Rejected
    );
    let done = sqlx::query(
        "UPDATE external_operation SET status = $3, attempts = $4, failures = $5, \
                unanswered_reconciliations = $6, unknown_since = $7, result = $8, rejection_code = $9, \
                rejection_message = $10, last_error = $11, aggregate_version = $12, request = $13, \
                settled_at = CASE WHEN $14 THEN now() END \
          WHERE external_operation_id = $1 AND aggregate_version = $2",
    )
    .bind(operation.id().as_uuid())
    .bind(expected_version)
    .bind(operation.status().as_str())
    .bind(i32_of(operation.attempts()))
    .bind(i32_of(operation.failures()))
    .bind(i32_of(operation.unanswered_reconciliations()))
    .bind(operation.unknown_since())
    .bind(result)
    .bind(operation.rejection().map(|r| r.code.as_str()))
    .bind(operation.rejection().map(|r| r.message.as_str()))
    .bind(operation.last_error())
    .bind(operation.version())
    .bind(request)
    .bind(settled)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
