use chrono::{TimeZone, Utc};
use domain_kernel::TenantId;

use super::*;

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 20, 10, minute, 0)
        .single()
        .unwrap()
}

fn created() -> (ProductInstance, OrderId, OrderItemId) {
    let (order, item) = (OrderId::generate(), OrderItemId::generate());
    let (instance, entry) = ProductInstance::pending_activation(
        NewProductInstance {
            id: ProductInstanceId::generate(),
            tenant: TenantId::parse("acme").unwrap(),
            customer: CustomerId::parse("CUST-1").unwrap(),
            offering_id: ProductOfferingId::generate(),
            offering_version: 1,
            characteristics: serde_json::Map::new(),
            parent: None,
            subscription: None,
            order,
            item,
        },
        at(0),
    );
    assert_eq!(instance.version, 1);
    assert_eq!(entry.change, AssetChangeKind::Add);
    assert_eq!(entry.status, AssetStatus::PendingActivation);
    (instance, order, item)
}

#[test]
fn an_asset_lives_from_activation_to_disconnection() {
    let (mut asset, order, item) = created();
    let entry = asset.activate(at(1), order, item).unwrap();
    assert_eq!((entry.version, entry.status), (2, AssetStatus::Active));
    assert_eq!(asset.activation_date, Some(at(1)));

    let (modify_order, modify_item) = (OrderId::generate(), OrderItemId::generate());
    asset
        .begin_modification(at(2), modify_order, modify_item)
        .unwrap();
    // One pending operation at a time.
    let again = asset.begin_modification(at(3), OrderId::generate(), OrderItemId::generate());
    assert_eq!(again.unwrap_err().code(), "ASSET_NOT_ACTIVE");
    // Only its owner finishes it.
    let stranger = asset.complete_modification(serde_json::Map::new(), at(3), order, item);
    assert_eq!(stranger.unwrap_err().code(), "ASSET_OPERATION_CONFLICT");
    let mut changed = serde_json::Map::new();
    changed.insert("bandwidth".into(), "1G".into());
    let entry = asset
        .complete_modification(changed.clone(), at(4), modify_order, modify_item)
        .unwrap();
    assert_eq!(entry.change, AssetChangeKind::Modify);
    assert_eq!(entry.characteristics, changed);
    assert_eq!((entry.order, entry.item), (modify_order, modify_item));
    assert_eq!(asset.origin_item, item);

    let (delete_order, delete_item) = (OrderId::generate(), OrderItemId::generate());
    asset
        .begin_disconnect(at(5), delete_order, delete_item)
        .unwrap();
    let entry = asset.disconnect(at(6), delete_order, delete_item).unwrap();
    assert_eq!(entry.change, AssetChangeKind::Delete);
    assert_eq!(asset.status, AssetStatus::Disconnected);
    assert_eq!(asset.termination_date, Some(at(6)));
    assert_eq!(asset.version, 6);

    let before = asset.clone();
    for refused in [
        asset.begin_modification(at(7), delete_order, delete_item),
        asset.recover(at(7), delete_order, delete_item),
        asset.begin_disconnect(at(7), delete_order, delete_item),
    ] {
        assert_eq!(refused.unwrap_err().code(), "ASSET_DISCONNECTED");
    }
    assert_eq!(asset, before);
}

#[test]
fn an_asset_that_errored_before_activation_gets_its_activation_date_on_recovery() {
    let (mut asset, order, item) = created();
    asset.mark_error(at(1), order, item).unwrap();
    assert_eq!(
        asset.activate(at(2), order, item).unwrap_err().code(),
        "ILLEGAL_TRANSITION"
    );
    asset.recover(at(3), order, item).unwrap();
    assert_eq!(asset.status, AssetStatus::Active);
    assert_eq!(asset.activation_date, Some(at(3)));
}
