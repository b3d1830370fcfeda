//! What the installed base becomes as fulfilment goes: decomposition prepares a PENDING_ACTIVATION
//! product instance for every ADD item (and a subscription for every ADD whose offering starts
//! one), an item's completion activates, modifies or disconnects its instance and releases the
//! operation guard, and the order's completion activates its subscriptions. Each change is a
//! domain transition with its history row, in the command's transaction.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::app::error::AppError;
use crate::app::requests::references_of;
use crate::domain::{
    ItemAction, NewProductInstance, Order, OrderItemId, ProductInstance, ProductInstanceId,
    Subscription, SubscriptionId,
};
use crate::infra::installed_base;

/// Prepares the instances and subscriptions of a freshly decomposed order's ADD items.
/// `starts_subscription` says, per item, whether its offering starts one.
pub async fn prepare(
    conn: &mut PgConnection,
    order: &Order,
    starts_subscription: &HashMap<OrderItemId, bool>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let mut instances: HashMap<OrderItemId, (ProductInstanceId, Option<SubscriptionId>)> =
        HashMap::new();
    // Parents before add-ons, so an add-on finds its parent's instance and subscription.
    let mut items: Vec<_> = order
        .items
        .iter()
        .filter(|i| i.action == ItemAction::Add)
        .collect();
    items.sort_by_key(|i| (i.parent.is_some(), i.line));
    for item in items {
        if installed_base::load_created_by(&mut *conn, item.id)
            .await?
            .is_some()
        {
            continue;
        }
        let (parent_instance, parent_subscription) = match item.parent {
            Some(parent) => match instances.get(&parent) {
                Some((instance, subscription)) => (Some(*instance), *subscription),
                None => (None, None),
            },
            None => match item.product_instance {
                Some(parent) => {
                    let loaded = installed_base::load(&mut *conn, parent, false).await?;
                    (Some(parent), loaded.and_then(|(i, _)| i.subscription))
                }
                None => (None, None),
            },
        };
        let subscription = if parent_subscription.is_none()
            && item.parent.is_none()
            && starts_subscription.get(&item.id).copied().unwrap_or(false)
        {
            let subscription = Subscription::pending(
                SubscriptionId::generate(),
                order.tenant.clone(),
                order.customer.clone(),
                order.id,
                item.id,
            );
            installed_base::insert_subscription(&mut *conn, &subscription).await?;
            Some(subscription.id)
        } else {
            parent_subscription
        };
        let (instance, entry) = ProductInstance::pending_activation(
            NewProductInstance {
                id: ProductInstanceId::generate(),
                tenant: order.tenant.clone(),
                customer: order.customer.clone(),
                offering_id: item.offering_id,
                offering_version: item.offering_version,
                characteristics: item.characteristics.clone(),
                parent: parent_instance,
                subscription,
                order: order.id,
                item: item.id,
            },
            now,
        );
        installed_base::insert(&mut *conn, &instance, &serde_json::Map::new(), &entry).await?;
        instances.insert(item.id, (instance.id, subscription));
    }
    Ok(())
}

/// The subscription a task of `item` bills under, if any.
pub async fn subscription_of_item(
    conn: &mut PgConnection,
    order: &Order,
    item: OrderItemId,
) -> Result<Option<Subscription>, AppError> {
    let Some(item) = order.item(item) else {
        return Ok(None);
    };
    let instance = match item.action {
        ItemAction::Add => installed_base::load_created_by(&mut *conn, item.id).await?,
        _ => match item.product_instance {
            Some(id) => installed_base::load(&mut *conn, id, false).await?,
            None => None,
        },
    };
    match instance.and_then(|(i, _)| i.subscription) {
        Some(id) => installed_base::load_subscription(conn, id).await,
        None => Ok(None),
    }
}

/// Applies the completion of `items` to their product instances.
pub async fn complete_items(
    conn: &mut PgConnection,
    order: &Order,
    items: &[OrderItemId],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    for id in items {
        let Some(item) = order.item(*id) else {
            continue;
        };
        let loaded = match item.action {
            ItemAction::Add => installed_base::load_created_by(&mut *conn, item.id).await?,
            ItemAction::Modify | ItemAction::Delete => match item.product_instance {
                Some(instance) => installed_base::load(&mut *conn, instance, true).await?,
                None => None,
            },
            ItemAction::NoChange => None,
        };
        let Some((mut instance, references)) = loaded else {
            continue;
        };
        let references = references_of(order, item, Some(&references));
        let entry = match item.action {
            ItemAction::Add => instance.activate(now, order.id, item.id)?,
            ItemAction::Modify => instance.complete_modification(
                item.characteristics.clone(),
                now,
                order.id,
                item.id,
            )?,
            _ => instance.disconnect(now, order.id, item.id)?,
        };
        installed_base::update(&mut *conn, &instance, &references, &entry).await?;
        if item.action != ItemAction::Add {
            installed_base::release_guard(&mut *conn, instance.id, item.id).await?;
        }
    }
    Ok(())
}

/// Activates the subscriptions an order started (its completion).
pub async fn activate_subscriptions(
    conn: &mut PgConnection,
    order: &Order,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    for mut subscription in installed_base::subscriptions_of_order(&mut *conn, order.id).await? {
        if subscription.activate(now).is_ok() {
            installed_base::update_subscription(&mut *conn, &subscription).await?;
        }
    }
    Ok(())
}

/// Follows items a cancellation withdrew (CANCELLED or COMPENSATED): an ADD's instance is
/// cancelled (never activated) or, when its item had completed and was undone, disconnected,
/// and its pending subscription cancelled; a MODIFY's or DELETE's instance goes back to
/// ACTIVE and the operation guard is released. A withdrawn item never activates anything.
pub async fn withdraw_items(
    conn: &mut PgConnection,
    order: &Order,
    items: &[OrderItemId],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    use crate::domain::AssetStatus;
    for id in items {
        let Some(item) = order.item(*id) else {
            continue;
        };
        match item.action {
            ItemAction::Add => {
                let Some((mut instance, references)) =
                    installed_base::load_created_by(&mut *conn, item.id).await?
                else {
                    continue;
                };
                match instance.status {
                    AssetStatus::PendingActivation => {
                        let entry = instance.cancel_activation(now, order.id, item.id)?;
                        installed_base::update(&mut *conn, &instance, &references, &entry).await?;
                    }
                    AssetStatus::Active => {
                        // Each step is written on its own: the database checks every move.
                        let entry = instance.begin_disconnect(now, order.id, item.id)?;
                        installed_base::update(&mut *conn, &instance, &references, &entry).await?;
                        let entry = instance.disconnect(now, order.id, item.id)?;
                        installed_base::update(&mut *conn, &instance, &references, &entry).await?;
                    }
                    _ => {}
                }
                if let Some(subscription) = instance.subscription
                    && item.parent.is_none()
                    && let Some(mut subscription) =
                        installed_base::load_subscription(&mut *conn, subscription).await?
                    && subscription.order == order.id
                    && subscription.cancel(now).is_ok()
                {
                    installed_base::update_subscription(&mut *conn, &subscription).await?;
                }
            }
            ItemAction::Modify | ItemAction::Delete => {
                let Some(instance_id) = item.product_instance else {
                    continue;
                };
                if let Some((mut instance, references)) =
                    installed_base::load(&mut *conn, instance_id, true).await?
                {
                    let entry = match (item.action, instance.status) {
                        (ItemAction::Modify, AssetStatus::PendingModification) => {
                            Some(instance.abandon_modification(now, order.id, item.id)?)
                        }
                        (ItemAction::Delete, AssetStatus::PendingDisconnect) => {
                            Some(instance.abandon_disconnect(now, order.id, item.id)?)
                        }
                        _ => None,
                    };
                    if let Some(entry) = entry {
                        installed_base::update(&mut *conn, &instance, &references, &entry).await?;
                    }
                }
                installed_base::release_guard(&mut *conn, instance_id, item.id).await?;
            }
            ItemAction::NoChange => {}
        }
    }
    Ok(())
}
