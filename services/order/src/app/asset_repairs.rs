//! The seed's repair commands on the installed base, for the `ops-lead` role
//! (`Action::RepairInstalledBase`): every one with reason and evidence in its audit trail,
//! through the product instance's own moves, idempotent.
//!
//! | Command | Checks | Effect | Idempotency |
//! |---|---|---|---|
//! | ReleaseStuckAssetOperationGuard | the holding order is over, or its item is done, withdrawn or given up (else `GUARD_IN_USE`) | the guard is released; a MODIFY/DELETE left pending → ACTIVE | no guard: unchanged |
//! | CorrectProductInstanceStatus | a recovery move of the table (`STATUS_CORRECTION_NOT_ALLOWED` otherwise); no operation in flight (`GUARD_IN_USE`) | the move, with a history row | already there: unchanged |
//! | AttachMissingExternalServiceReference | the kind is free or holds the same value (`REFERENCE_ALREADY_SET`) | the reference, a new version with a history row | same value: unchanged |

use chrono::Utc;
use common_kernel::audit::{self, AuditResource, Evidence};
use common_kernel::context::RequestContext;
use common_kernel::error::FieldError;
use domain_kernel::access::Action;
use serde_json::{Map, Value, json};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::app::error::AppError;
use crate::app::events::ASSET_AGGREGATE;
use crate::domain::{
    AssetStatus, ItemStatus, OrderId, OrderItemId, OrderStatus, ProductInstance, ProductInstanceId,
};
use crate::infra::installed_base::{self, References};
use crate::infra::orders;

/// A repair of one product instance.
#[derive(Debug, Clone)]
pub enum AssetRepair {
    /// ReleaseStuckAssetOperationGuard.
    ReleaseGuard,
    /// CorrectProductInstanceStatus.
    CorrectStatus(AssetStatus),
    /// AttachMissingExternalServiceReference: the kind (`service`, `cpe`, `reservation`,
    /// `charge`) and the downstream's reference.
    AttachReference(String, String),
}

/// The kinds of reference an instance keeps.
pub const REFERENCE_KINDS: [&str; 4] = ["service", "cpe", "reservation", "charge"];

/// What a repair did.
#[derive(Debug, Clone)]
pub struct RepairOutcome {
    /// The instance after it.
    pub instance: ProductInstance,
    /// Its references after it.
    pub references: References,
    /// False when the repair found its work done.
    pub changed: bool,
}

/// Runs one repair, in the caller's transaction.
pub async fn repair(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: ProductInstanceId,
    repair: &AssetRepair,
    reason: &str,
    evidence: &Map<String, Value>,
) -> Result<RepairOutcome, AppError> {
    ctx.authorize(Action::RepairInstalledBase)?;
    let mut errors = Vec::new();
    if reason.trim().is_empty() || reason.len() > 2000 {
        errors.push(FieldError::new(
            "/reason",
            "REQUIRED",
            "why, in 1 to 2000 characters",
        ));
    }
    if evidence.is_empty() {
        errors.push(FieldError::new(
            "/evidence",
            "REQUIRED",
            "what the repair rests on",
        ));
    }
    if let AssetRepair::AttachReference(kind, value) = repair {
        if !REFERENCE_KINDS.contains(&kind.as_str()) {
            errors.push(FieldError::new(
                "/referenceKind",
                "INVALID",
                "service, cpe, reservation or charge",
            ));
        }
        if value.trim().is_empty() || value.len() > 200 {
            errors.push(FieldError::new(
                "/reference",
                "REQUIRED",
                "1 to 200 characters",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let holder = guard_holder(&mut *conn, id).await?;
    // The holding order first (commands lock orders before instances), then the instance.
    let guard_free = match holder {
        Some((order, item)) => guard_released_by(&mut *conn, order, item).await?,
        None => true,
    };
    let (before, references) = installed_base::load(&mut *conn, id, true)
        .await?
        .ok_or(AppError::AssetNotFound(id))?;
    let mut after = before.clone();
    let mut refs = references.clone();
    let now = Utc::now();
    let (event_type, entry) = match repair {
        AssetRepair::ReleaseGuard => {
            let Some((_, item)) = holder else {
                return Ok(unchanged(before, references));
            };
            if !guard_free {
                return Err(AppError::GuardInUse(id));
            }
            installed_base::release_guard(&mut *conn, id, item).await?;
            let entry = match after.status {
                AssetStatus::PendingModification | AssetStatus::PendingDisconnect => {
                    after.correct_status(AssetStatus::Active, now)?
                }
                _ => None,
            };
            ("oms.product-instance.guard-released", entry)
        }
        AssetRepair::CorrectStatus(target) => {
            if holder.is_some() && !guard_free {
                return Err(AppError::GuardInUse(id));
            }
            let Some(entry) = after.correct_status(*target, now)? else {
                return Ok(unchanged(before, references));
            };
            ("oms.product-instance.status-corrected", Some(entry))
        }
        AssetRepair::AttachReference(kind, value) => {
            match refs.get(kind).and_then(Value::as_str) {
                Some(current) if current == value => return Ok(unchanged(before, references)),
                Some(current) => {
                    return Err(AppError::ReferenceAlreadySet(format!(
                        "the instance already has {kind} reference {current}"
                    )));
                }
                None => {}
            }
            refs.insert(kind.clone(), Value::String(value.clone()));
            (
                "oms.product-instance.reference-attached",
                Some(after.record_reference_change(now)?),
            )
        }
    };
    if let Some(entry) = &entry {
        installed_base::update(&mut *conn, &after, &refs, entry).await?;
    }
    audit::record(
        &mut *conn,
        ctx,
        Evidence {
            event_type,
            resource: AuditResource {
                resource_type: ASSET_AGGREGATE,
                resource_id: id.to_string(),
                resource_version: after.version,
            },
            business_reason: Some(reason.to_owned()),
            before: Some(json!({"status": before.status.as_str(), "version": before.version,
                                "references": references, "guardHolder": holder.map(|(o, i)| json!({"orderId": o.to_string(), "orderItemId": i.to_string()}))})),
            after: Some(json!({"status": after.status.as_str(), "version": after.version,
                               "references": refs, "evidence": evidence})),
            policy: None,
        },
    )
    .await?;
    Ok(RepairOutcome {
        instance: after,
        references: refs,
        changed: true,
    })
}

fn unchanged(instance: ProductInstance, references: References) -> RepairOutcome {
    RepairOutcome {
        instance,
        references,
        changed: false,
    }
}

/// The order item holding the instance's operation guard, if any.
async fn guard_holder(
    conn: &mut PgConnection,
    id: ProductInstanceId,
) -> Result<Option<(OrderId, OrderItemId)>, AppError> {
    let row = sqlx::query(
        "SELECT order_id, order_item_id FROM product_instance_guard WHERE product_instance_id = $1",
    )
    .bind(id.as_uuid())
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some(row) => Some((
            OrderId::from_uuid(row.try_get::<Uuid, _>("order_id")?),
            OrderItemId::from_uuid(row.try_get::<Uuid, _>("order_item_id")?),
        )),
        None => None,
    })
}

/// Whether the guard's holder is done with it: its order is over, or its item is done,
/// withdrawn or given up.
async fn guard_released_by(
    conn: &mut PgConnection,
    order: OrderId,
    item: OrderItemId,
) -> Result<bool, AppError> {
    let Some(holder) = orders::load(conn, order, true).await? else {
        return Ok(true);
    };
    if matches!(
        holder.status,
        OrderStatus::Completed | OrderStatus::Cancelled | OrderStatus::Failed | OrderStatus::Closed
    ) {
        return Ok(true);
    }
    let Some(index) = holder.items.iter().position(|i| i.id == item) else {
        return Ok(true);
    };
    let status = holder.items[index].status;
    Ok(status == ItemStatus::Completed || status.is_withdrawn() || holder.item_given_up(index))
}
