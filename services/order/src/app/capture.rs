//! Capture: an order comes into being from an accepted quote's frozen snapshot (the
//! `cpq.quote.converted.v1` event) or directly (`POST /orders`). Capture records the order
//! ACKNOWLEDGED with its items, takes the operation guard of every product instance a MODIFY or
//! DELETE changes, and writes `oms.order.created.v1` and the evidence, in one transaction.
//!
//! CaptureFromQuote · Order · source: none · input: the conversion event (order id, quote id,
//! revision, customer, snapshot and its hash) · checks: the snapshot's hash verifies, its
//! customer and revision are the quote's, its price hash is the approved one · transition:
//! DRAFT → ACKNOWLEDGED, or → FAILED with fallout `SNAPSHOT_NOT_VERIFIED` /
//! `CUSTOMER_MISMATCH` (recorded, never fulfilled) · idempotent per quote (one order per quote,
//! the id cpq chose).

use std::collections::HashMap;

use chrono::Utc;
use common_kernel::context::RequestContext;
use common_kernel::{audit, outbox};
use domain_kernel::canonical::{QUOTE_SNAPSHOT_DOMAIN, canonical_hash};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use sqlx::PgConnection;

use crate::app::error::AppError;
use crate::app::events;
use crate::app::fulfilment::Why;
use crate::domain::FalloutCategory;
use crate::domain::{
    CustomerId, Failure, ItemAction, NewOrder, NewOrderItem, Order, OrderId, OrderItemId,
    OrderOrigin, ProductInstanceId, ProductOfferingId, QuoteId,
};
use crate::infra::fallout::{self, NewFallout};
use crate::infra::installed_base;
use crate::infra::orders::{self, CaptureRecord};

/// What the conversion event says (its payload, plus the envelope's tenant through `ctx`).
#[derive(Debug, Clone)]
pub struct QuoteConversion {
    /// The order id cpq chose.
    pub order_id: OrderId,
    /// The quote.
    pub quote_id: QuoteId,
    /// The quote's customer (the transition's).
    pub customer_id: String,
    /// The converted revision.
    pub revision: u32,
    /// The frozen price hash.
    pub price_hash: String,
    /// The snapshot's hash as cpq computed it.
    pub snapshot_hash: Option<String>,
    /// The frozen snapshot.
    pub snapshot: Value,
    /// The event, kept as capture evidence.
    pub event_id: String,
}

/// What capture did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Captured {
    /// A new order, ACKNOWLEDGED (ready for fulfilment).
    Acknowledged(OrderId),
    /// A new order refused into fallout (FAILED with the code).
    Refused(OrderId, String),
    /// The quote or key was captured before: that order.
    Existing(OrderId),
}

/// Why a snapshot cannot be taken, with its stable code.
fn verify_snapshot(conversion: &QuoteConversion) -> Result<(), Failure> {
    let refuse = |code: &str, reason: String| Failure {
        code: code.to_owned(),
        reason,
        retryable: false,
    };
    let computed = canonical_hash(QUOTE_SNAPSHOT_DOMAIN, &conversion.snapshot);
    match conversion.snapshot_hash.as_deref() {
        Some(sent) if sent == computed => {}
        Some(sent) => {
            return Err(refuse(
                "SNAPSHOT_NOT_VERIFIED",
                format!("the snapshot hashes to {computed}, the conversion says {sent}"),
            ));
        }
        None => {
            return Err(refuse(
                "SNAPSHOT_NOT_VERIFIED",
                "the conversion carries no snapshot hash".into(),
            ));
        }
    }
    let snapshot = &conversion.snapshot;
    let text = |name: &str| {
        snapshot
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    if text("customerId") != conversion.customer_id {
        return Err(refuse(
            "CUSTOMER_MISMATCH",
            format!(
                "the snapshot is for customer {:?}, the quote's is {:?}",
                text("customerId"),
                conversion.customer_id
            ),
        ));
    }
    if snapshot.get("revision").and_then(Value::as_u64) != Some(u64::from(conversion.revision)) {
        return Err(refuse(
            "SNAPSHOT_NOT_VERIFIED",
            "the snapshot is of another revision than the conversion".into(),
        ));
    }
    if text("priceHash") != conversion.price_hash
        || text("approvedPriceHash") != conversion.price_hash
    {
        return Err(refuse(
            "SNAPSHOT_NOT_VERIFIED",
            "the snapshot's price is not the approved price".into(),
        ));
    }
    Ok(())
}

/// The charges of each quote line, from the frozen pricing (net amounts).
fn charges(snapshot: &Value) -> HashMap<String, (Option<Decimal>, Option<Decimal>)> {
    let mut out = HashMap::new();
    let lines = snapshot
        .pointer("/pricing/lines")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for line in lines {
        let Some(id) = line.get("lineId").and_then(Value::as_str) else {
            continue;
        };
        let (mut recurring, mut one_time) = (None, None);
        for charge in line
            .get("charges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let amount = charge
                .pointer("/net/amount")
                .and_then(Value::as_str)
                .and_then(|a| a.parse::<Decimal>().ok());
            match charge.get("kind").and_then(Value::as_str) {
                Some("ONE_TIME") => one_time = amount.or(one_time),
                Some(kind) if kind.starts_with("RECURRING") && recurring.is_none() => {
                    recurring = amount;
                }
                _ => {}
            }
        }
        out.insert(id.to_owned(), (recurring, one_time));
    }
    out
}

/// The order's items from the snapshot (all ADD), with their quote item ids.
fn items_of_snapshot(
    snapshot: &Value,
) -> Result<(Vec<NewOrderItem>, HashMap<OrderItemId, String>), String> {
    let items = snapshot
        .get("items")
        .and_then(Value::as_array)
        .ok_or("the snapshot has no items")?;
    let ids: HashMap<String, OrderItemId> = items
        .iter()
        .filter_map(|i| i.get("itemId").and_then(Value::as_str))
        .map(|id| (id.to_owned(), OrderItemId::generate()))
        .collect();
    let charges = charges(snapshot);
    let mut out = Vec::with_capacity(items.len());
    let mut quote_items = HashMap::new();
    for item in items {
        let quote_item = item
            .get("itemId")
            .and_then(Value::as_str)
            .ok_or("a snapshot item without itemId")?;
        let offering = item
            .get("offeringId")
            .and_then(Value::as_str)
            .and_then(|o| uuid::Uuid::parse_str(o).ok())
            .ok_or("a snapshot item without a valid offeringId")?;
        let version = item
            .get("offeringVersion")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or("a snapshot item without offeringVersion")?;
        let quantity = item
            .get("quantity")
            .and_then(Value::as_u64)
            .and_then(|q| u32::try_from(q).ok())
            .ok_or("a snapshot item without quantity")?;
        let parent = match item.get("parentItemId").and_then(Value::as_str) {
            Some(p) => Some(
                *ids.get(p)
                    .ok_or("a snapshot item names an unknown parent")?,
            ),
            None => None,
        };
        let characteristics = match item.get("characteristics") {
            Some(Value::Object(map)) => map.clone(),
            _ => Map::new(),
        };
        let id = ids[quote_item];
        let (recurring, one_time) = charges.get(quote_item).copied().unwrap_or_default();
        quote_items.insert(id, quote_item.to_owned());
        out.push(NewOrderItem {
            id,
            action: ItemAction::Add,
            offering_id: ProductOfferingId::from_uuid(offering),
            offering_version: version,
            quantity,
            characteristics,
            parent,
            product_instance: None,
            mandatory: true,
            recurring_charge: recurring,
            one_time_charge: one_time,
        });
    }
    Ok((out, quote_items))
}

/// Captures the order of a converted quote, inside the consumer's transaction (`conn`).
pub async fn capture_from_quote(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    conversion: &QuoteConversion,
) -> Result<Captured, AppError> {
    if let Some(existing) = orders::order_of_quote(&mut *conn, conversion.quote_id).await? {
        return Ok(Captured::Existing(existing));
    }
    if orders::load(&mut *conn, conversion.order_id, false)
        .await?
        .is_some()
    {
        return Ok(Captured::Existing(conversion.order_id));
    }
    let verified = verify_snapshot(conversion);
    let (items, quote_items) = items_of_snapshot(&conversion.snapshot)
        .map_err(|reason| AppError::Corrupt(format!("the snapshot is unreadable: {reason}")))?;
    let customer = CustomerId::parse(&conversion.customer_id)
        .map_err(|e| AppError::Corrupt(format!("customer id: {e}")))?;
    let currency = conversion
        .snapshot
        .get("currency")
        .and_then(Value::as_str)
        .unwrap_or("XXX")
        .to_owned();
    let snapshot_hash = canonical_hash(QUOTE_SNAPSHOT_DOMAIN, &conversion.snapshot);
    let new = NewOrder {
        id: conversion.order_id,
        tenant: ctx.tenant_id.clone(),
        customer,
        origin: OrderOrigin::Quote {
            quote_id: conversion.quote_id,
            revision: conversion.revision,
            snapshot_hash,
        },
        currency,
        items,
    };
    let evidence = json!({
        "source": "cpq.quote.converted.v1",
        "eventId": conversion.event_id,
        "quoteId": conversion.quote_id.to_string(),
        "revision": conversion.revision,
        "priceHash": conversion.price_hash,
        "sentSnapshotHash": conversion.snapshot_hash,
        "actorId": ctx.actor.actor_id.as_str(),
    });
    let record = CaptureRecord {
        snapshot: Some(&conversion.snapshot),
        evidence: &evidence,
        created_by: ctx.actor.actor_id.as_str(),
        correlation_id: &ctx.correlation_id,
        business_transaction_id: &ctx.business_transaction_id,
        quote_items: &quote_items,
    };
    match verified {
        Ok(()) => {
            let (order, changes) = Order::capture(new)?;
            persist_capture(
                conn,
                ctx,
                &order,
                &changes,
                &record,
                "the quote was converted",
            )
            .await?;
            Ok(Captured::Acknowledged(order.id))
        }
        Err(failure) => {
            let order = refuse_capture(conn, ctx, new, &record, failure.clone()).await?;
            Ok(Captured::Refused(order, failure.code))
        }
    }
}

/// Writes a captured order, its events and evidence.
pub async fn persist_capture(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    order: &Order,
    changes: &[crate::domain::OrderChange],
    record: &CaptureRecord<'_>,
    reason: &str,
) -> Result<(), AppError> {
    orders::insert(&mut *conn, order, record).await?;
    for event in events::events_of(order, changes).map_err(|e| AppError::Corrupt(e.to_string()))? {
        outbox::append(&mut *conn, ctx, event).await?;
    }
    audit::record(
        &mut *conn,
        ctx,
        events::evidence("oms.order.captured", None, order, reason.to_owned()),
    )
    .await?;
    Ok(())
}

/// Records an order that cannot be taken: FAILED at capture with a fallout, never fulfilled.
async fn refuse_capture(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    new: NewOrder,
    record: &CaptureRecord<'_>,
    failure: Failure,
) -> Result<OrderId, AppError> {
    let id = new.id;
    // Recorded as captured first (the database admits an order only ACKNOWLEDGED), then
    // refused: both transitions are in the history and the events.
    let (order, changes) = Order::capture(new)?;
    persist_capture(
        conn,
        ctx,
        &order,
        &changes,
        record,
        "captured from the quote",
    )
    .await?;
    let mut refused = order.clone();
    let changes = refused.fail_validation(failure.clone())?;
    crate::app::fulfilment::persist(
        conn,
        ctx,
        &order,
        &mut refused,
        &changes,
        Why::new("oms.order.capture-refused", failure.reason.clone()),
        Utc::now(),
    )
    .await?;
    fallout::record(
        &mut *conn,
        ctx,
        &NewFallout {
            order: id,
            item: None,
            task: None,
            category: FalloutCategory::Capture,
            failure_code: failure.code.clone(),
            message: failure.reason.clone(),
            retryable: false,
        },
    )
    .await?;
    tracing::warn!(order = %id, code = %failure.code, "captured order refused into fallout");
    Ok(id)
}

/// A direct order's item as requested.
#[derive(Debug, Clone)]
pub struct DirectItem {
    /// Client's line reference (unique in the request), used for parents.
    pub line_ref: String,
    /// ADD, MODIFY, DELETE, NO_CHANGE.
    pub action: ItemAction,
    /// The offering.
    pub offering_id: ProductOfferingId,
    /// Its version.
    pub offering_version: u32,
    /// How many.
    pub quantity: u32,
    /// Characteristics (MODIFY: the new ones).
    pub characteristics: Map<String, Value>,
    /// The parent line (add-ons).
    pub parent_ref: Option<String>,
    /// The instance a MODIFY, DELETE or NO_CHANGE concerns.
    pub product_instance: Option<ProductInstanceId>,
    /// Recurring charge to bill.
    pub recurring_charge: Option<Decimal>,
    /// One-time charge to bill.
    pub one_time_charge: Option<Decimal>,
    /// The order completes only with it.
    pub mandatory: bool,
}

/// A direct order as requested.
#[derive(Debug, Clone)]
pub struct DirectOrder {
    /// The customer.
    pub customer: CustomerId,
    /// Currency of the charges.
    pub currency: String,
    /// The items.
    pub items: Vec<DirectItem>,
    /// Capture evidence (channel reference, signed form, …) as the caller gave it.
    pub evidence: Value,
}

/// CaptureDirectOrder · Order · source: none · input: customer, items, capture evidence,
/// Idempotency-Key (mandatory, the runner's) · checks: each MODIFY/DELETE names an ACTIVE
/// instance of the same customer whose operation guard is free · transition: DRAFT →
/// ACKNOWLEDGED; guards taken; MODIFY → instance PENDING_MODIFICATION, DELETE →
/// PENDING_DISCONNECT (with history) · a DELETE of a parent adds DELETE items for its ACTIVE
/// add-ons, visibly, so the plan disconnects them first · emits `oms.order.created.v1` ·
/// failure: `ASSET_OPERATION_IN_PROGRESS` (409), `PRODUCT_INSTANCE_NOT_CHANGEABLE` (422).
pub async fn capture_direct(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    request: DirectOrder,
) -> Result<Order, AppError> {
    let id = OrderId::generate();
    let refs: HashMap<String, OrderItemId> = request
        .items
        .iter()
        .map(|i| (i.line_ref.clone(), OrderItemId::generate()))
        .collect();
    let mut items = Vec::with_capacity(request.items.len());
    let mut instances_taken = Vec::new();
    for item in &request.items {
        let item_id = refs[&item.line_ref];
        let parent = match &item.parent_ref {
            Some(p) => Some(*refs.get(p).ok_or_else(|| {
                AppError::Invalid(vec![common_kernel::error::FieldError::new(
                    "/items/parentRef",
                    "UNKNOWN_PARENT",
                    format!("no line {p:?} in this order"),
                )])
            })?),
            None => None,
        };
        items.push(NewOrderItem {
            id: item_id,
            action: item.action,
            offering_id: item.offering_id,
            offering_version: item.offering_version,
            quantity: item.quantity,
            characteristics: item.characteristics.clone(),
            parent,
            product_instance: item.product_instance,
            mandatory: item.mandatory,
            recurring_charge: item.recurring_charge,
            one_time_charge: item.one_time_charge,
        });
        if let (Some(instance), true) =
            (item.product_instance, item.action.needs_product_instance())
        {
            instances_taken.push((instance, item_id, item.action));
        }
    }
    // A DELETE of a parent disconnects its ACTIVE add-ons first: add their DELETE items.
    let mut implied = Vec::new();
    for (instance, item_id, action) in &instances_taken {
        if *action != ItemAction::Delete {
            continue;
        }
        for child in installed_base::active_children(&mut *conn, *instance).await? {
            if instances_taken.iter().any(|(i, _, _)| *i == child.id) {
                continue;
            }
            let child_item = OrderItemId::generate();
            items.push(NewOrderItem {
                id: child_item,
                action: ItemAction::Delete,
                offering_id: child.offering_id,
                offering_version: child.offering_version,
                quantity: 1,
                characteristics: child.characteristics.clone(),
                parent: Some(*item_id),
                product_instance: Some(child.id),
                mandatory: true,
                recurring_charge: None,
                one_time_charge: None,
            });
            implied.push((child.id, child_item, ItemAction::Delete));
        }
    }
    instances_taken.extend(implied);
    let new = NewOrder {
        id,
        tenant: ctx.tenant_id.clone(),
        customer: request.customer.clone(),
        origin: OrderOrigin::Direct,
        currency: request.currency.clone(),
        items,
    };
    let (order, changes) = Order::capture(new)?;
    let evidence = json!({
        "source": "POST /orders",
        "channel": ctx.channel,
        "actorId": ctx.actor.actor_id.as_str(),
        "idempotencyKey": ctx.idempotency_key,
        "evidence": request.evidence,
    });
    let no_quote_items = HashMap::new();
    let record = CaptureRecord {
        snapshot: None,
        evidence: &evidence,
        created_by: ctx.actor.actor_id.as_str(),
        correlation_id: &ctx.correlation_id,
        business_transaction_id: &ctx.business_transaction_id,
        quote_items: &no_quote_items,
    };
    persist_capture(conn, ctx, &order, &changes, &record, "direct capture").await?;
    let now = Utc::now();
    for (instance_id, item_id, action) in instances_taken {
        let Some((mut instance, references)) =
            installed_base::load(&mut *conn, instance_id, true).await?
        else {
            return Err(AppError::AssetNotFound(instance_id));
        };
        if instance.customer != order.customer {
            return Err(AppError::AssetNotChangeable {
                instance: instance_id,
                reason: "it belongs to another customer".into(),
            });
        }
        if !installed_base::acquire_guard(
            &mut *conn,
            &ctx.tenant_id,
            instance_id,
            order.id,
            item_id,
            action,
        )
        .await?
        {
            return Err(AppError::OperationInFlight(instance_id));
        }
        let entry = match action {
            ItemAction::Modify => instance.begin_modification(now, order.id, item_id),
            _ => instance.begin_disconnect(now, order.id, item_id),
        }
        .map_err(|e| AppError::AssetNotChangeable {
            instance: instance_id,
            reason: e.to_string(),
        })?;
        installed_base::update(&mut *conn, &instance, &references, &entry).await?;
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn conversion() -> QuoteConversion {
        let snapshot = json!({
            "quoteId": "q", "revision": 2, "customerId": "C-1", "currency": "USD",
            "priceHash": "p".repeat(64), "approvedPriceHash": "p".repeat(64),
            "items": [
                {"itemId": "1", "offeringId": "0190b2a4-0000-7000-8000-000000000001", "offeringVersion": 1,
                 "quantity": 1, "characteristics": {"bandwidthMbps": 500}},
                {"itemId": "2", "offeringId": "0190b2a4-0000-7000-8000-000000000002", "offeringVersion": 1,
                 "quantity": 4, "parentItemId": "1", "characteristics": {}}],
            "pricing": {"lines": [
                {"lineId": "1", "charges": [
                    {"kind": "RECURRING_MONTH", "net": {"amount": "149.00", "currency": "USD"}},
                    {"kind": "ONE_TIME", "net": {"amount": "250.00", "currency": "USD"}}]}]},
        });
        QuoteConversion {
            order_id: OrderId::generate(),
            quote_id: QuoteId::generate(),
            customer_id: "C-1".into(),
            revision: 2,
            price_hash: "p".repeat(64),
            snapshot_hash: Some(canonical_hash(QUOTE_SNAPSHOT_DOMAIN, &snapshot)),
            snapshot,
            event_id: "e".into(),
        }
    }

    #[test]
    fn a_snapshot_verifies_only_as_sent_for_the_quotes_customer_and_price() {
        assert_eq!(verify_snapshot(&conversion()), Ok(()));
        let mut changed = conversion();
        changed.snapshot["items"][1]["quantity"] = json!(40);
        assert_eq!(
            verify_snapshot(&changed).unwrap_err().code,
            "SNAPSHOT_NOT_VERIFIED"
        );
        let mut unsigned = conversion();
        unsigned.snapshot_hash = None;
        assert_eq!(
            verify_snapshot(&unsigned).unwrap_err().code,
            "SNAPSHOT_NOT_VERIFIED"
        );
        let mut other_customer = conversion();
        other_customer.customer_id = "C-2".into();
        assert_eq!(
            verify_snapshot(&other_customer).unwrap_err().code,
            "CUSTOMER_MISMATCH"
        );
        let mut other_price = conversion();
        other_price.price_hash = "q".repeat(64);
        assert_eq!(
            verify_snapshot(&other_price).unwrap_err().code,
            "SNAPSHOT_NOT_VERIFIED"
        );
        let mut other_revision = conversion();
        other_revision.revision = 1;
        assert_eq!(
            verify_snapshot(&other_revision).unwrap_err().code,
            "SNAPSHOT_NOT_VERIFIED"
        );
    }

    #[test]
    fn snapshot_items_keep_parents_and_net_charges() {
        let (items, quote_items) = items_of_snapshot(&conversion().snapshot).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].parent, Some(items[0].id));
        assert_eq!(quote_items[&items[1].id], "2");
        assert_eq!(items[0].recurring_charge, Some(Decimal::new(14900, 2)));
        assert_eq!(items[0].one_time_charge, Some(Decimal::new(25000, 2)));
        assert!(items.iter().all(|i| i.action == ItemAction::Add));
        assert!(items_of_snapshot(&json!({"items": [{"itemId": "1"}]})).is_err());
    }
}
