//! Storage of the order aggregate: header, items and plan (tasks), loaded whole and saved as
//! the difference between the loaded and the changed aggregate, in one transaction. Every row
//! written bumps its own version (the guards in `migrations/order` check it); the header's
//! version is the aggregate's and guards against a concurrent writer.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain_kernel::TenantId;
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::app::error::{AppError, corrupt};
use crate::domain::{
    CustomerId, Failure, FulfilmentOperation, FulfilmentTask, FulfilmentTaskId, ItemAction,
    ItemStatus, Order, OrderChange, OrderId, OrderItem, OrderItemId, OrderOrigin, OrderStatus,
    ProductInstanceId, ProductOfferingId, QuoteId, TaskHandling, TaskPurpose, TaskStatus,
};

/// What capture records besides the aggregate: the frozen snapshot, the evidence, and who and
/// what caused it.
#[derive(Debug, Clone)]
pub struct CaptureRecord<'a> {
    /// The quote's frozen snapshot (quote orders).
    pub snapshot: Option<&'a Value>,
    /// Capture evidence: channel, actor, the quote conversion event or the direct request.
    pub evidence: &'a Value,
    /// Who captured it.
    pub created_by: &'a str,
    /// Correlation of the capture.
    pub correlation_id: &'a str,
    /// Business transaction of the capture.
    pub business_transaction_id: &'a str,
    /// The quote's item id of each order item (quote orders).
    pub quote_items: &'a HashMap<OrderItemId, String>,
}

/// Inserts a captured order with its items.
pub async fn insert(
    conn: &mut PgConnection,
    order: &Order,
    record: &CaptureRecord<'_>,
) -> Result<(), sqlx::Error> {
    let (origin, quote_id, revision, snapshot_hash) = match &order.origin {
        OrderOrigin::Quote {
            quote_id,
            revision,
            snapshot_hash,
        } => (
            "QUOTE",
            Some(quote_id.as_uuid()),
            Some(i32::try_from(*revision).unwrap_or(i32::MAX)),
            Some(snapshot_hash.as_str()),
        ),
        OrderOrigin::Direct => ("DIRECT", None, None, None),
    };
    sqlx::query(
        "INSERT INTO customer_order (order_id, tenant_id, customer_id, status, origin, quote_id, \
         quote_revision, snapshot, snapshot_hash, capture_evidence, currency, failure_code, \
         failure_reason, created_by, correlation_id, business_transaction_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(order.id.as_uuid())
    .bind(order.tenant.as_str())
    .bind(order.customer.as_str())
    .bind(order.status.as_str())
    .bind(origin)
    .bind(quote_id)
    .bind(revision)
    .bind(record.snapshot)
    .bind(snapshot_hash)
    .bind(record.evidence)
    .bind(&order.currency)
    .bind(order.failure.as_ref().map(|f| f.code.as_str()))
    .bind(order.failure.as_ref().map(|f| f.reason.as_str()))
    .bind(record.created_by)
    .bind(record.correlation_id)
    .bind(record.business_transaction_id)
    .execute(&mut *conn)
    .await?;
    // Parents first, so the self-referencing foreign key holds row by row.
    let mut items: Vec<&OrderItem> = order.items.iter().collect();
    items.sort_by_key(|i| (i.parent.is_some(), i.line));
    for item in items {
        sqlx::query(
            "INSERT INTO order_item (order_item_id, tenant_id, order_id, line_no, action, offering_id, \
             offering_version, quantity, characteristics, parent_item_id, product_instance_id, mandatory, \
             recurring_charge, one_time_charge, quote_item_id, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(item.id.as_uuid())
        .bind(order.tenant.as_str())
        .bind(order.id.as_uuid())
        .bind(i32::try_from(item.line).unwrap_or(i32::MAX))
        .bind(item.action.as_str())
        .bind(item.offering_id.as_uuid())
        .bind(i32::try_from(item.offering_version).unwrap_or(i32::MAX))
        .bind(i32::try_from(item.quantity).unwrap_or(i32::MAX))
        .bind(Value::Object(item.characteristics.clone()))
        .bind(item.parent.map(|p| p.as_uuid()))
        .bind(item.product_instance.map(|p| p.as_uuid()))
        .bind(item.mandatory)
        .bind(item.recurring_charge)
        .bind(item.one_time_charge)
        .bind(record.quote_items.get(&item.id))
        .bind(item.status.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn origin_of(row: &PgRow) -> Result<OrderOrigin, AppError> {
    let origin: String = row.try_get("origin")?;
    match origin.as_str() {
        "QUOTE" => {
            let quote: Option<Uuid> = row.try_get("quote_id")?;
            let revision: Option<i32> = row.try_get("quote_revision")?;
            let hash: Option<String> = row.try_get("snapshot_hash")?;
            match (quote, revision, hash) {
                (Some(quote), Some(revision), Some(hash)) => Ok(OrderOrigin::Quote {
                    quote_id: QuoteId::from_uuid(quote),
                    revision: u32::try_from(revision).map_err(corrupt)?,
                    snapshot_hash: hash,
                }),
                _ => Err(corrupt("a quote order without its quote reference")),
            }
        }
        "DIRECT" => Ok(OrderOrigin::Direct),
        other => Err(corrupt(format!("order origin {other}"))),
    }
}

fn failure_of(row: &PgRow, retryable: Option<bool>) -> Result<Option<Failure>, AppError> {
    let code: Option<String> = row.try_get("failure_code")?;
    let reason: Option<String> = row.try_get("failure_reason")?;
    Ok(code.map(|code| Failure {
        code,
        reason: reason.unwrap_or_default(),
        retryable: retryable.unwrap_or(false),
    }))
}

fn item_of(row: &PgRow) -> Result<OrderItem, AppError> {
    let action: String = row.try_get("action")?;
    let status: String = row.try_get("status")?;
    let characteristics = match row.try_get::<Value, _>("characteristics")? {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let retryable: Option<bool> = row.try_get("failure_retryable")?;
    Ok(OrderItem {
        id: OrderItemId::from_uuid(row.try_get("order_item_id")?),
        line: u32::try_from(row.try_get::<i32, _>("line_no")?).map_err(corrupt)?,
        action: ItemAction::parse(&action).ok_or_else(|| corrupt(format!("action {action}")))?,
        offering_id: ProductOfferingId::from_uuid(row.try_get("offering_id")?),
        offering_version: u32::try_from(row.try_get::<i32, _>("offering_version")?)
            .map_err(corrupt)?,
        quantity: u32::try_from(row.try_get::<i32, _>("quantity")?).map_err(corrupt)?,
        characteristics,
        parent: row
            .try_get::<Option<Uuid>, _>("parent_item_id")?
            .map(OrderItemId::from_uuid),
        product_instance: row
            .try_get::<Option<Uuid>, _>("product_instance_id")?
            .map(ProductInstanceId::from_uuid),
        status: ItemStatus::parse(&status)
            .ok_or_else(|| corrupt(format!("item status {status}")))?,
        version: row.try_get("aggregate_version")?,
        mandatory: row.try_get("mandatory")?,
        recurring_charge: row.try_get::<Option<Decimal>, _>("recurring_charge")?,
        one_time_charge: row.try_get::<Option<Decimal>, _>("one_time_charge")?,
        failure: failure_of(row, retryable)?,
    })
}

fn task_of(row: &PgRow) -> Result<FulfilmentTask, AppError> {
    let operation: String = row.try_get("operation")?;
    let compensation: Option<String> = row.try_get("compensation")?;
    let status: String = row.try_get("status")?;
    let purpose: String = row.try_get("purpose")?;
    let handling: String = row.try_get("handling")?;
    let parse_operation = |name: &str| {
        FulfilmentOperation::parse(name).ok_or_else(|| corrupt(format!("operation {name}")))
    };
    let status =
        TaskStatus::parse(&status).ok_or_else(|| corrupt(format!("task status {status}")))?;
    Ok(FulfilmentTask {
        id: FulfilmentTaskId::from_uuid(row.try_get("task_id")?),
        item: OrderItemId::from_uuid(row.try_get("order_item_id")?),
        task_type: row.try_get("task_type")?,
        operation: parse_operation(&operation)?,
        depends_on: row
            .try_get::<Vec<Uuid>, _>("depends_on")?
            .into_iter()
            .map(FulfilmentTaskId::from_uuid)
            .collect(),
        reversible: row.try_get("reversible")?,
        compensation: compensation.as_deref().map(parse_operation).transpose()?,
        point_of_no_return: row.try_get("point_of_no_return")?,
        sequence: u32::try_from(row.try_get::<i32, _>("sequence_no")?).map_err(corrupt)?,
        purpose: TaskPurpose::from_stored(
            &purpose,
            row.try_get::<Option<Uuid>, _>("refers_to")?
                .map(FulfilmentTaskId::from_uuid),
        )
        .ok_or_else(|| corrupt(format!("task purpose {purpose}")))?,
        revision: u32::try_from(row.try_get::<i32, _>("plan_revision")?).map_err(corrupt)?,
        handling: TaskHandling::parse(&handling)
            .ok_or_else(|| corrupt(format!("task handling {handling}")))?,
        status,
        version: row.try_get("aggregate_version")?,
        attempts: u32::try_from(row.try_get::<i32, _>("attempts")?).map_err(corrupt)?,
        external_reference: row.try_get("external_reference")?,
        external_state: row.try_get("external_state")?,
        failure: failure_of(row, Some(status == TaskStatus::FailedRetryable))?,
    })
}

/// Loads an order with its items and tasks; `lock` takes the header row `FOR UPDATE` (every
/// command locks it, so commands on one order run one at a time).
pub async fn load(
    conn: &mut PgConnection,
    id: OrderId,
    lock: bool,
) -> Result<Option<Order>, AppError> {
    let sql = if lock {
        "SELECT * FROM customer_order WHERE order_id = $1 FOR UPDATE"
    } else {
        "SELECT * FROM customer_order WHERE order_id = $1"
    };
    let Some(row) = sqlx::query(sql)
        .bind(id.as_uuid())
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let tenant: String = row.try_get("tenant_id")?;
    let customer: String = row.try_get("customer_id")?;
    let status: String = row.try_get("status")?;
    let items = sqlx::query("SELECT * FROM order_item WHERE order_id = $1 ORDER BY line_no")
        .bind(id.as_uuid())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(item_of)
        .collect::<Result<Vec<_>, _>>()?;
    let tasks =
        sqlx::query("SELECT * FROM fulfilment_task WHERE order_id = $1 ORDER BY sequence_no")
            .bind(id.as_uuid())
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(task_of)
            .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(Order {
        id,
        tenant: TenantId::parse(&tenant).map_err(corrupt)?,
        customer: CustomerId::parse(&customer).map_err(corrupt)?,
        origin: origin_of(&row)?,
        status: OrderStatus::parse(&status).ok_or_else(|| corrupt(format!("status {status}")))?,
        version: row.try_get("aggregate_version")?,
        currency: row.try_get("currency")?,
        items,
        tasks,
        plan_hash: row.try_get("plan_hash")?,
        plan_revision: u32::try_from(row.try_get::<i32, _>("plan_revision")?).map_err(corrupt)?,
        failure: failure_of(&row, None)?,
    }))
}

fn item_changed(a: &OrderItem, b: &OrderItem) -> bool {
    a.status != b.status || a.failure != b.failure || a.characteristics != b.characteristics
}

fn task_changed(a: &FulfilmentTask, b: &FulfilmentTask) -> bool {
    a.status != b.status
        || a.handling != b.handling
        || a.attempts != b.attempts
        || a.external_reference != b.external_reference
        || a.external_state != b.external_state
        || a.failure != b.failure
}

/// The states a row passed through on its way to its final one in `changes` (the database
/// checks every single move against the machine's table, so each is written).
fn intermediate_states<'a, S: Copy + 'a>(moves: impl Iterator<Item = &'a S>) -> Vec<S> {
    let mut states: Vec<S> = moves.copied().collect();
    states.pop();
    states
}

/// Writes what changed between `before` (as loaded) and `after`, every status move of
/// `changes` in order; returns whether anything did. The header's version must still be
/// `before.version` (the row is locked by [`load`]).
pub async fn save(
    conn: &mut PgConnection,
    before: &Order,
    after: &mut Order,
    changes: &[OrderChange],
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let item_moves = |id: OrderItemId| {
        intermediate_states(changes.iter().filter_map(move |c| match c {
            OrderChange::Item {
                item,
                to,
                from: Some(_),
            } if *item == id => Some(to),
            _ => None,
        }))
    };
    let task_moves = |id: FulfilmentTaskId| {
        intermediate_states(changes.iter().filter_map(move |c| match c {
            OrderChange::Task {
                task,
                to,
                from: Some(_),
                ..
            } if *task == id => Some(to),
            _ => None,
        }))
    };
    let old_items: HashMap<OrderItemId, &OrderItem> =
        before.items.iter().map(|i| (i.id, i)).collect();
    let old_tasks: HashMap<FulfilmentTaskId, &FulfilmentTask> =
        before.tasks.iter().map(|t| (t.id, t)).collect();
    let mut changed = before.status != after.status
        || before.plan_hash != after.plan_hash
        || before.plan_revision != after.plan_revision
        || before.failure != after.failure;
    for task in after.tasks.iter_mut() {
        match old_tasks.get(&task.id) {
            None => {
                // Inserted as created, then moved like any task (a compensation is created
                // and dispatched by one command): the database checks every move.
                let created = changes
                    .iter()
                    .find_map(|c| match c {
                        OrderChange::Task {
                            task: id,
                            from: None,
                            to,
                            ..
                        } if *id == task.id => Some(*to),
                        _ => None,
                    })
                    .unwrap_or(task.status);
                let mut initial = task.clone();
                initial.status = created;
                insert_task(conn, &after.tenant, after.id, &initial).await?;
                if created != task.status {
                    let passed = task_moves(task.id);
                    for status in &passed {
                        step_task(conn, task.id, *status, now).await?;
                    }
                    update_task(conn, &initial, task, now).await?;
                    task.version = 2 + passed.len() as i64;
                }
                changed = true;
            }
            Some(old) if task_changed(old, task) => {
                let passed = task_moves(task.id);
                for status in &passed {
                    step_task(conn, task.id, *status, now).await?;
                }
                update_task(conn, old, task, now).await?;
                task.version = old.version + 1 + passed.len() as i64;
                changed = true;
            }
            Some(_) => {}
        }
    }
    for item in after.items.iter_mut() {
        let Some(old) = old_items.get(&item.id) else {
            return Err(corrupt("items are added only at capture"));
        };
        if item_changed(old, item) {
            let passed = item_moves(item.id);
            for status in &passed {
                sqlx::query(
                    "UPDATE order_item SET status = $2, aggregate_version = aggregate_version + 1 \
                     WHERE order_item_id = $1",
                )
                .bind(item.id.as_uuid())
                .bind(status.as_str())
                .execute(&mut *conn)
                .await?;
            }
            let corrected = old.characteristics != item.characteristics;
            sqlx::query(
                "UPDATE order_item SET status = $2, failure_code = $3, failure_reason = $4, \
                 failure_retryable = $5, \
                 completed_at = CASE WHEN $2 = 'COMPLETED' THEN coalesce(completed_at, $6) ELSE completed_at END, \
                 characteristics = $7, \
                 characteristics_revision = characteristics_revision + CASE WHEN $8 THEN 1 ELSE 0 END, \
                 aggregate_version = aggregate_version + 1 WHERE order_item_id = $1",
            )
            .bind(item.id.as_uuid())
            .bind(item.status.as_str())
            .bind(item.failure.as_ref().map(|f| f.code.as_str()))
            .bind(item.failure.as_ref().map(|f| f.reason.as_str()))
            .bind(item.failure.as_ref().map(|f| f.retryable))
            .bind(now)
            .bind(Value::Object(item.characteristics.clone()))
            .bind(corrected)
            .execute(&mut *conn)
            .await?;
            item.version = old.version + 1 + passed.len() as i64;
            changed = true;
        }
    }
    if !changed {
        return Ok(false);
    }
    let passed = intermediate_states(changes.iter().filter_map(|c| match c {
        OrderChange::Order { to, from: Some(_) } => Some(to),
        _ => None,
    }));
    let mut version = before.version;
    for status in &passed {
        // The plan hash goes with the first move, so DECOMPOSED never stands without it.
        sqlx::query(
            "UPDATE customer_order SET status = $2, plan_hash = coalesce(plan_hash, $4), \
             plan_revision = greatest(plan_revision, $5), \
             aggregate_version = aggregate_version + 1 WHERE order_id = $1 AND aggregate_version = $3",
        )
        .bind(after.id.as_uuid())
        .bind(status.as_str())
        .bind(version)
        .bind(after.plan_hash.as_deref())
        .bind(i32::try_from(after.plan_revision).unwrap_or(i32::MAX))
        .execute(&mut *conn)
        .await?;
        version += 1;
    }
    let updated = sqlx::query(
        "UPDATE customer_order SET status = $2, plan_hash = $3, failure_code = $4, failure_reason = $5, \
         completed_at = CASE WHEN $2 = 'COMPLETED' THEN coalesce(completed_at, $6) ELSE completed_at END, \
         plan_revision = $8, aggregate_version = aggregate_version + 1 \
         WHERE order_id = $1 AND aggregate_version = $7",
    )
    .bind(after.id.as_uuid())
    .bind(after.status.as_str())
    .bind(after.plan_hash.as_deref())
    .bind(after.failure.as_ref().map(|f| f.code.as_str()))
    .bind(after.failure.as_ref().map(|f| f.reason.as_str()))
    .bind(now)
    .bind(version)
    .bind(i32::try_from(after.plan_revision).unwrap_or(i32::MAX))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated != 1 {
        return Err(corrupt(format!(
            "order {} changed under its lock (version {version})",
            after.id
        )));
    }
    after.version = version + 1;
    Ok(true)
}

async fn insert_task(
    conn: &mut PgConnection,
    tenant: &TenantId,
    order: OrderId,
    task: &FulfilmentTask,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO fulfilment_task (task_id, tenant_id, order_id, order_item_id, sequence_no, task_type, \
         operation, depends_on, reversible, compensation, point_of_no_return, status, purpose, refers_to, \
         plan_revision, handling) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(task.id.as_uuid())
    .bind(tenant.as_str())
    .bind(order.as_uuid())
    .bind(task.item.as_uuid())
    .bind(i32::try_from(task.sequence).unwrap_or(i32::MAX))
    .bind(&task.task_type)
    .bind(task.operation.as_str())
    .bind(task.depends_on.iter().map(|d| d.as_uuid()).collect::<Vec<_>>())
    .bind(task.reversible)
    .bind(task.compensation.map(|c| c.as_str()))
    .bind(task.point_of_no_return)
    .bind(task.status.as_str())
    .bind(task.purpose.kind())
    .bind(task.purpose.refers_to().map(|t| t.as_uuid()))
    .bind(i32::try_from(task.revision).unwrap_or(i32::MAX))
    .bind(task.handling.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// One intermediate status move of a task (READY on the way from WAITING_DEPENDENCY to
/// DISPATCHED).
async fn step_task(
    conn: &mut PgConnection,
    task: FulfilmentTaskId,
    status: TaskStatus,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE fulfilment_task SET status = $2, \
         dispatched_at = CASE WHEN $2 = 'DISPATCHED' THEN $3 ELSE dispatched_at END, \
         aggregate_version = aggregate_version + 1 WHERE task_id = $1",
    )
    .bind(task.as_uuid())
    .bind(status.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

async fn update_task(
    conn: &mut PgConnection,
    old: &FulfilmentTask,
    task: &FulfilmentTask,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let dispatched = old.status != task.status && task.status == TaskStatus::Dispatched;
    let finished = old.status != task.status
        && matches!(
            task.status,
            TaskStatus::Succeeded
                | TaskStatus::FailedNonRetryable
                | TaskStatus::FailedRetryable
                | TaskStatus::Cancelled
                | TaskStatus::Compensated
        );
    sqlx::query(
        "UPDATE fulfilment_task SET status = $2, attempts = $3, external_reference = $4, external_state = $5, \
         failure_code = $6, failure_reason = $7, handling = $11, \
         dispatched_at = CASE WHEN $8 THEN $10 ELSE dispatched_at END, \
         finished_at = CASE WHEN $9 THEN $10 ELSE finished_at END, \
         aggregate_version = aggregate_version + 1 WHERE task_id = $1",
    )
    .bind(task.id.as_uuid())
    .bind(task.status.as_str())
    .bind(i32::try_from(task.attempts).unwrap_or(i32::MAX))
    .bind(task.external_reference.as_deref())
    .bind(task.external_state.as_deref())
    .bind(task.failure.as_ref().map(|f| f.code.as_str()))
    .bind(task.failure.as_ref().map(|f| f.reason.as_str()))
    .bind(dispatched)
    .bind(finished)
    .bind(now)
    .bind(task.handling.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// The order a quote was captured into, if any (capture is once per quote).
pub async fn order_of_quote(
    conn: &mut PgConnection,
    quote: QuoteId,
) -> Result<Option<OrderId>, sqlx::Error> {
    let row: Option<Uuid> =
        sqlx::query_scalar("SELECT order_id FROM customer_order WHERE quote_id = $1")
            .bind(quote.as_uuid())
            .fetch_optional(conn)
            .await?;
    Ok(row.map(OrderId::from_uuid))
}
