//! Capture and validation: the order's shape is checked once, at capture, so every later
//! command can rely on it (items exist, parents are in the order, MODIFY/DELETE name their
//! product instance).

use std::collections::{HashMap, HashSet};

use domain_kernel::Lifecycle;
use domain_kernel::money::Currency;

use super::super::{ItemAction, ItemCommand, ItemStatus, OrderCommand, OrderItemId, OrderStatus};
use super::{Changes, Failure, MAX_ITEMS, NewOrder, Order, OrderChange, OrderError, OrderItem};

impl Order {
    /// DRAFT → ACKNOWLEDGED in one step (capture); items PENDING. Validates shape: ≥1 item,
    /// parent ids in the order and not self (nor a cycle), MODIFY/DELETE/NO_CHANGE carry a
    /// product instance and ADD none (an ADD creates it), quantity ≥ 1, charges not negative,
    /// an ISO 4217 currency.
    ///
    /// Changes: the order created ACKNOWLEDGED, each item created PENDING (`from: None`).
    pub fn capture(new: NewOrder) -> Result<(Order, Vec<OrderChange>), OrderError> {
        check_shape(&new)?;
        let status = OrderStatus::Draft.apply(OrderCommand::Acknowledge)?;
        let mut changes = vec![OrderChange::Order {
            from: None,
            to: status,
        }];
        let items: Vec<OrderItem> = new
            .items
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                changes.push(OrderChange::Item {
                    item: item.id,
                    from: None,
                    to: ItemStatus::Pending,
                });
                OrderItem {
                    id: item.id,
                    line: u32::try_from(index + 1).unwrap_or(u32::MAX),
                    action: item.action,
                    offering_id: item.offering_id,
                    offering_version: item.offering_version,
                    quantity: item.quantity,
                    characteristics: item.characteristics,
                    parent: item.parent,
                    product_instance: item.product_instance,
                    status: ItemStatus::Pending,
                    version: 1,
                    mandatory: item.mandatory,
                    recurring_charge: item.recurring_charge,
                    one_time_charge: item.one_time_charge,
                    failure: None,
                }
            })
            .collect();
        let order = Order {
            id: new.id,
            tenant: new.tenant,
            customer: new.customer,
            origin: new.origin,
            status,
            version: 1,
            currency: new.currency,
            items,
            tasks: Vec::new(),
            plan_hash: None,
            plan_revision: 0,
            failure: None,
        };
        Ok((order, changes))
    }

    /// ACKNOWLEDGED → VALIDATED (items PENDING → VALIDATED). Idempotent: already past
    /// VALIDATED (not FAILED; a cancellation of a decomposed order counts, so a later process
    /// run passes through) ⇒ `Ok(vec![])`. A cancelled or failed order is refused.
    pub fn validate(&mut self) -> Result<Vec<OrderChange>, OrderError> {
        if is_validated(self.status)
            || (self.status == OrderStatus::CancellationPending && self.plan_hash.is_some())
        {
            return Ok(Vec::new());
        }
        self.transact(|order, changes: &mut Changes| {
            order.move_order(OrderCommand::Validate, changes)?;
            for index in 0..order.items.len() {
                order.move_item(index, ItemCommand::Validate, changes)?;
            }
            Ok(())
        })
        .map(|((), changes)| changes)
    }

    /// ACKNOWLEDGED → FAILED with the failure recorded (validation refused). Idempotent when
    /// already FAILED. Items stay PENDING: none of them started.
    pub fn fail_validation(&mut self, failure: Failure) -> Result<Vec<OrderChange>, OrderError> {
        if self.status == OrderStatus::Failed {
            return Ok(Vec::new());
        }
        self.transact(|order, changes: &mut Changes| {
            order.move_order(OrderCommand::FailValidation, changes)?;
            order.failure = Some(failure);
            Ok(())
        })
        .map(|((), changes)| changes)
    }
}

/// States only a validated order reaches (FALLOUT included: it is entered from VALIDATED on).
/// CANCELLATION_PENDING, CANCELLED and CLOSED are left out: they do not say whether validation
/// happened, and validating them is pointless, so they are refused by the table.
fn is_validated(status: OrderStatus) -> bool {
    matches!(
        status,
        OrderStatus::Validated
            | OrderStatus::Decomposed
            | OrderStatus::InProgress
            | OrderStatus::Held
            | OrderStatus::PartiallyCompleted
            | OrderStatus::Completed
            | OrderStatus::Fallout
    )
}

fn check_shape(new: &NewOrder) -> Result<(), OrderError> {
    if new.items.is_empty() {
        return Err(OrderError::EmptyOrder);
    }
    if new.items.len() > MAX_ITEMS {
        return Err(OrderError::TooManyItems {
            count: new.items.len(),
            max: MAX_ITEMS,
        });
    }
    if Currency::parse(&new.currency).is_err() {
        return Err(OrderError::InvalidCurrency(new.currency.clone()));
    }
    let mut ids = HashSet::new();
    for item in &new.items {
        if !ids.insert(item.id) {
            return Err(OrderError::DuplicateItem { item: item.id });
        }
    }
    let parents: HashMap<OrderItemId, OrderItemId> = new
        .items
        .iter()
        .filter_map(|i| i.parent.map(|p| (i.id, p)))
        .collect();
    for item in &new.items {
        if item.quantity == 0 {
            return Err(OrderError::InvalidQuantity { item: item.id });
        }
        if let Some(parent) = item.parent {
            if parent == item.id {
                return Err(OrderError::ParentIsSelf { item: item.id });
            }
            if !ids.contains(&parent) {
                return Err(OrderError::ParentNotInOrder {
                    item: item.id,
                    parent,
                });
            }
        }
        match (item.action, item.product_instance) {
            (ItemAction::Add, Some(_)) => {
                return Err(OrderError::AddWithProductInstance { item: item.id });
            }
            (ItemAction::Modify | ItemAction::Delete | ItemAction::NoChange, None) => {
                return Err(OrderError::NeedsProductInstance {
                    item: item.id,
                    action: item.action,
                });
            }
            _ => {}
        }
        if [item.recurring_charge, item.one_time_charge]
            .into_iter()
            .flatten()
            .any(|c| c.is_sign_negative() && !c.is_zero())
        {
            return Err(OrderError::NegativeCharge { item: item.id });
        }
        // Walk up the parents: more steps than items means a cycle.
        let mut current = item.id;
        for _ in 0..=new.items.len() {
            match parents.get(&current) {
                Some(parent) => current = *parent,
                None => break,
            }
        }
        if parents.contains_key(&current) {
            return Err(OrderError::ParentCycle { item: item.id });
        }
    }
    Ok(())
}
