//! Maps the records the repositories return to the views this layer publishes. The storage
//! layer knows nothing of the views; every representation choice (range bounds normalised,
//! prices at the currency's minor units, latest and published versions derived from the
//! version list) is made here.

use common_kernel::money::Currency;
use rust_decimal::Decimal;
use serde_json::Value;

use super::views::{
    CharacteristicView, ChargeView, FulfilmentProfileView, OfferingLifecycleView,
    OfferingVersionContent, OfferingView, PriceBookVersionContent, PriceBookVersionView,
    PriceBookView, RangeView, RelationshipView, SpecificationView, TaskTemplateView, TierView,
    VersionSummary,
};
use crate::infra::VersionRecord;
use crate::infra::fulfilment::{FulfilmentProfileRecord, TaskTemplateRecord};
use crate::infra::offerings::{
    OfferingContentRecord, OfferingLifecycleRecord, OfferingRecord, RelationshipRecord,
};
use crate::infra::price_books::{
    ChargeRecord, PriceBookContentRecord, PriceBookLifecycleRecord, PriceBookRecord, TierRecord,
};
use crate::infra::specifications::{CharacteristicRecord, SpecificationRecord};

/// A stored characteristic definition as published: no allowed values means any value, and a
/// range appears only when a bound is set, its bounds without trailing zeros.
pub fn characteristic_view(record: CharacteristicRecord) -> CharacteristicView {
    let allowed_values = match record.allowed_values {
        Some(Value::Array(values)) => values,
        _ => Vec::new(),
    };
    let range = (record.min_value.is_some() || record.max_value.is_some()).then_some(RangeView {
        min: record.min_value.map(|d| d.normalize()),
        max: record.max_value.map(|d| d.normalize()),
    });
    CharacteristicView {
        name: record.name,
        value_type: record.value_type,
        required: record.required,
        allowed_values,
        range,
        default_value: record.default_value,
        unit: record.unit,
        description: record.description,
    }
}

/// A stored specification as published.
pub fn specification_view(record: SpecificationRecord) -> SpecificationView {
    SpecificationView {
        id: record.id,
        code: record.code,
        name: record.name,
        description: record.description,
        characteristics: record
            .characteristics
            .into_iter()
            .map(characteristic_view)
            .collect(),
        created_at: record.created_at,
    }
}

fn relationship_view(record: RelationshipRecord) -> RelationshipView {
    RelationshipView {
        relationship_type: record.relationship_type,
        target_offering_id: record.target_offering_id,
        target_offering_code: record.target_code,
        min_cardinality: record.min_cardinality,
        max_cardinality: record.max_cardinality,
    }
}

fn task_template_view(record: TaskTemplateRecord) -> TaskTemplateView {
    TaskTemplateView {
        task_type: record.task_type,
        operation: record.operation,
        depends_on: record.depends_on,
        depends_on_parent: record.depends_on_parent,
        depends_on_children: record.depends_on_children,
        reversible: record.compensation.is_some(),
        compensation: record.compensation,
        point_of_no_return: record.point_of_no_return,
    }
}

/// A stored fulfilment profile as published: every field present, `reversible` derived from the
/// stored compensation (the one fact it follows from).
pub fn fulfilment_profile_view(record: FulfilmentProfileRecord) -> FulfilmentProfileView {
    FulfilmentProfileView {
        starts_subscription: record.starts_subscription,
        actions: record
            .actions
            .into_iter()
            .map(|(action, tasks)| (action, tasks.into_iter().map(task_template_view).collect()))
            .collect(),
    }
}

/// The frozen content of an offering version as published (and cached).
pub fn offering_content(record: OfferingContentRecord) -> OfferingVersionContent {
    OfferingVersionContent {
        offering_id: record.offering_id,
        tenant_id: record.tenant_id,
        code: record.code,
        version: record.version,
        name: record.name,
        description: record.description,
        product_specification_id: record.product_specification_id,
        product_specification_code: record.specification_code,
        characteristics: record
            .characteristics
            .into_iter()
            .map(characteristic_view)
            .collect(),
        relationships: record
            .relationships
            .into_iter()
            .map(relationship_view)
            .collect(),
        fulfilment_profile: record.fulfilment_profile.map(fulfilment_profile_view),
        created_at: record.created_at,
        created_by: record.created_by,
    }
}

/// The lifecycle part of an offering version answer and the aggregate version read with it.
pub fn offering_lifecycle(record: OfferingLifecycleRecord) -> (OfferingLifecycleView, i64) {
    (
        OfferingLifecycleView {
            status: record.status,
            submitted_at: record.submitted_at,
            published_at: record.published_at,
            retired_at: record.retired_at,
            archived_at: record.archived_at,
        },
        record.aggregate_version,
    )
}

/// What a root's version list says about the whole aggregate: the latest version's number,
/// status and name, the published version, and one summary per version.
struct VersionDigest {
    latest_version: i32,
    status: String,
    name: String,
    published_version: Option<i32>,
    versions: Vec<VersionSummary>,
}

fn digest(versions: Vec<VersionRecord>) -> VersionDigest {
    let (latest_version, status, name) = versions.last().map_or_else(
        || (0, String::new(), String::new()),
        |v| (v.version, v.status.clone(), v.name.clone()),
    );
    let published_version = versions
        .iter()
        .find(|v| v.status == "PUBLISHED")
        .map(|v| v.version);
    VersionDigest {
        latest_version,
        status,
        name,
        published_version,
        versions: versions
            .into_iter()
            .map(|v| VersionSummary {
                version: v.version,
                status: v.status,
            })
            .collect(),
    }
}

/// A stored offering root as published, summarised from its versions.
pub fn offering_view(record: OfferingRecord) -> OfferingView {
    let digest = digest(record.versions);
    OfferingView {
        id: record.id,
        code: record.code,
        name: digest.name,
        status: digest.status,
        latest_version: digest.latest_version,
        published_version: digest.published_version,
        aggregate_version: record.aggregate_version,
        versions: digest.versions,
        created_at: record.created_at,
        updated_at: record.updated_at,
    }
}

/// An amount at the currency's minor units (storage keeps four decimals; validation already
/// refused anything finer than the currency allows, so this never rounds).
fn at_scale(mut amount: Decimal, scale: u32) -> Decimal {
    amount.rescale(scale);
    amount
}

fn tier_view(record: TierRecord, scale: u32) -> TierView {
    TierView {
        from_quantity: record.from_quantity,
        to_quantity: record.to_quantity,
        unit_price: at_scale(record.unit_price, scale),
    }
}

fn charge_view(record: ChargeRecord, scale: u32) -> ChargeView {
    ChargeView {
        offering_id: record.offering_id,
        offering_version: record.offering_version,
        charge_type: record.charge_type,
        period: record.period,
        unit_price: record.unit_price.map(|p| at_scale(p, scale)),
        tier_mode: record.tier_mode,
        tiers: record
            .tiers
            .map(|tiers| tiers.into_iter().map(|t| tier_view(t, scale)).collect()),
    }
}

/// The frozen content of a price book version as published (and cached), every price at the
/// book currency's minor units (four decimals if the stored code is unknown).
pub fn price_book_content(record: PriceBookContentRecord) -> PriceBookVersionContent {
    let scale = Currency::parse(&record.currency).map_or(4, Currency::minor_units);
    PriceBookVersionContent {
        price_book_id: record.price_book_id,
        tenant_id: record.tenant_id,
        code: record.code,
        currency: record.currency,
        version: record.version,
        name: record.name,
        charges: record
            .charges
            .into_iter()
            .map(|c| charge_view(c, scale))
            .collect(),
        created_at: record.created_at,
        created_by: record.created_by,
    }
}

/// A price book version answer: published content joined with its stored lifecycle.
pub fn price_book_version_view(
    content: PriceBookVersionContent,
    lifecycle: PriceBookLifecycleRecord,
) -> PriceBookVersionView {
    PriceBookVersionView {
        content,
        status: lifecycle.status,
        published_at: lifecycle.published_at,
        retired_at: lifecycle.retired_at,
        aggregate_version: lifecycle.aggregate_version,
    }
}

/// A stored price book root as published, summarised from its versions.
pub fn price_book_view(record: PriceBookRecord) -> PriceBookView {
    let digest = digest(record.versions);
    PriceBookView {
        id: record.id,
        code: record.code,
        currency: record.currency,
        name: digest.name,
        status: digest.status,
        latest_version: digest.latest_version,
        published_version: digest.published_version,
        aggregate_version: record.aggregate_version,
        versions: digest.versions,
        created_at: record.created_at,
    }
}
