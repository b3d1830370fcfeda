//! Read models returned by the application layer and serialised by the HTTP layer as they are.
//! They are neither rows nor domain types: they are the catalog's published representation,
//! and the frozen ones are what the cache stores under versioned keys.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// Numeric bounds of a characteristic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RangeView {
    /// Inclusive lower bound (decimal string).
    #[schema(value_type = Option<String>, example = "10")]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub min: Option<Decimal>,
    /// Inclusive upper bound (decimal string).
    #[schema(value_type = Option<String>, example = "10000")]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub max: Option<Decimal>,
}

/// A characteristic definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CharacteristicView {
    /// Name, unique within its specification.
    pub name: String,
    /// STRING, INTEGER, DECIMAL or BOOLEAN.
    pub value_type: String,
    /// Whether a configuration must provide it (or use the default).
    pub required: bool,
    /// Allowed values; empty means any value of the type.
    pub allowed_values: Vec<Value>,
    /// Numeric range.
    pub range: Option<RangeView>,
    /// Default value.
    pub default_value: Option<Value>,
    /// Unit.
    pub unit: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// A product specification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpecificationView {
    /// Id.
    pub id: Uuid,
    /// Code, unique per tenant.
    pub code: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Characteristic definitions in declaration order.
    pub characteristics: Vec<CharacteristicView>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A relationship rule of an offering version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RelationshipView {
    /// REQUIRES, EXCLUDES or ADD_ON_OF.
    #[serde(rename = "type")]
    pub relationship_type: String,
    /// The related offering.
    pub target_offering_id: Uuid,
    /// Code of the related offering.
    pub target_offering_code: String,
    /// Fewest instances of the target.
    pub min_cardinality: i32,
    /// Most instances of the target (null = unbounded).
    pub max_cardinality: Option<i32>,
}

/// One task template of a fulfilment profile: a task the order service creates for an item of
/// this offering version when the item's action is the one the template is listed under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskTemplateView {
    /// Task type, unique within its action.
    #[schema(example = "ACTIVATE_SERVICE")]
    pub task_type: String,
    /// The integration service operation the task runs.
    #[schema(example = "PROVISIONING_ACTIVATE")]
    pub operation: String,
    /// Task types of the same action that must succeed first (each declared earlier).
    pub depends_on: Vec<String>,
    /// Task types of the parent item's plan that must succeed first, when the parent is in the
    /// same order (add-ons).
    pub depends_on_parent: Vec<String>,
    /// Task types of the add-on items' plans in the same order that must succeed first.
    pub depends_on_children: Vec<String>,
    /// Whether a compensation undoes the task.
    pub reversible: bool,
    /// The operation that undoes the task; null exactly when it is not reversible.
    #[schema(example = "PROVISIONING_DEACTIVATE")]
    pub compensation: Option<String>,
    /// Once the task succeeded, the item can no longer be cancelled.
    pub point_of_no_return: bool,
}

/// What it takes to fulfil an offering version: per item action, the task templates the order
/// service decomposes an order item into. Part of the version's content, frozen on publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "startsSubscription": true,
    "actions": {
        "ADD": [
            {"taskType": "RESERVE_INVENTORY", "operation": "INVENTORY_RESERVE", "dependsOn": [],
             "dependsOnParent": [], "dependsOnChildren": [], "reversible": true,
             "compensation": "INVENTORY_RELEASE", "pointOfNoReturn": false},
            {"taskType": "ACTIVATE_SERVICE", "operation": "PROVISIONING_ACTIVATE", "dependsOn": ["RESERVE_INVENTORY"],
             "dependsOnParent": [], "dependsOnChildren": [], "reversible": true,
             "compensation": "PROVISIONING_DEACTIVATE", "pointOfNoReturn": false},
            {"taskType": "START_BILLING", "operation": "BILLING_START", "dependsOn": ["ACTIVATE_SERVICE"],
             "dependsOnParent": [], "dependsOnChildren": [], "reversible": true,
             "compensation": "BILLING_REVERSE", "pointOfNoReturn": true}
        ],
        "DELETE": [
            {"taskType": "DEACTIVATE_SERVICE", "operation": "PROVISIONING_DEACTIVATE", "dependsOn": [],
             "dependsOnParent": [], "dependsOnChildren": ["DEACTIVATE_SERVICE"], "reversible": false,
             "compensation": null, "pointOfNoReturn": true}
        ]
    }
}))]
pub struct FulfilmentProfileView {
    /// Whether an ADD of the offering starts a subscription (add-ons join their parent's).
    pub starts_subscription: bool,
    /// Task templates per item action, in execution order: keys ADD, MODIFY and DELETE, each
    /// present only when the action has tasks (an action without a key cannot be fulfilled).
    pub actions: BTreeMap<String, Vec<TaskTemplateView>>,
}

/// The immutable content of an offering version (everything except its lifecycle), with the
/// specification's characteristics resolved so a configurator needs one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfferingVersionContent {
    /// Offering id.
    pub offering_id: Uuid,
    /// Owning tenant (checked again on every cache hit).
    pub tenant_id: String,
    /// Offering code.
    pub code: String,
    /// Version number.
    pub version: i32,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Specification id.
    pub product_specification_id: Uuid,
    /// Specification code.
    pub product_specification_code: String,
    /// The specification's characteristics.
    pub characteristics: Vec<CharacteristicView>,
    /// Relationship rules.
    pub relationships: Vec<RelationshipView>,
    /// What it takes to fulfil the offering; null for versions without a profile. (Defaults to
    /// null when absent, so content cached before profiles existed still reads.)
    #[serde(default)]
    pub fulfilment_profile: Option<FulfilmentProfileView>,
    /// When the version was created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
}

/// Lifecycle state and dates of a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfferingLifecycleView {
    /// DRAFT, READY_FOR_REVIEW, PUBLISHED, RETIRED or ARCHIVED.
    pub status: String,
    /// When submitted for review.
    pub submitted_at: Option<DateTime<Utc>>,
    /// When published.
    pub published_at: Option<DateTime<Utc>>,
    /// When retired.
    pub retired_at: Option<DateTime<Utc>>,
    /// When archived.
    pub archived_at: Option<DateTime<Utc>>,
}

/// One offering version: content plus lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfferingVersionView {
    /// Content.
    #[serde(flatten)]
    pub content: OfferingVersionContent,
    /// Lifecycle.
    #[serde(flatten)]
    pub lifecycle: OfferingLifecycleView,
    /// The offering's aggregate version (send it back in `If-Match`).
    pub aggregate_version: i64,
}

/// A version number and its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionSummary {
    /// Version number.
    pub version: i32,
    /// Status.
    pub status: String,
}

/// An offering with the state of its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfferingView {
    /// Id.
    pub id: Uuid,
    /// Code, unique per tenant.
    pub code: String,
    /// Name of the latest version.
    pub name: String,
    /// Status of the latest version.
    pub status: String,
    /// Highest version number.
    pub latest_version: i32,
    /// The version on sale, if any.
    pub published_version: Option<i32>,
    /// Aggregate version (send it back in `If-Match`).
    pub aggregate_version: i64,
    /// Every version, oldest first.
    pub versions: Vec<VersionSummary>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A volume tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TierView {
    /// First quantity.
    pub from_quantity: u64,
    /// Last quantity (null = open-ended).
    pub to_quantity: Option<u64>,
    /// Price per unit (decimal string).
    #[schema(value_type = String, example = "12.00")]
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
}

/// A charge of one offering version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChargeView {
    /// Offering priced.
    pub offering_id: Uuid,
    /// Offering version priced.
    pub offering_version: i32,
    /// ONE_TIME or RECURRING.
    pub charge_type: String,
    /// MONTH, QUARTER or YEAR for recurring charges.
    pub period: Option<String>,
    /// Flat price per unit (decimal string).
    #[schema(value_type = Option<String>, example = "149.00")]
    #[serde(with = "rust_decimal::serde::str_option")]
    pub unit_price: Option<Decimal>,
    /// RANGE or SLAB for tiered charges.
    pub tier_mode: Option<String>,
    /// Tiers of a tiered charge.
    pub tiers: Option<Vec<TierView>>,
}

/// The immutable content of a price book version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceBookVersionContent {
    /// Price book id.
    pub price_book_id: Uuid,
    /// Owning tenant (checked again on every cache hit).
    pub tenant_id: String,
    /// Code.
    pub code: String,
    /// ISO-4217 currency of every charge.
    pub currency: String,
    /// Version number.
    pub version: i32,
    /// Name.
    pub name: String,
    /// Charges in declaration order.
    pub charges: Vec<ChargeView>,
    /// When the version was created.
    pub created_at: DateTime<Utc>,
    /// Who created it.
    pub created_by: String,
}

/// A price book version: content plus lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceBookVersionView {
    /// Content.
    #[serde(flatten)]
    pub content: PriceBookVersionContent,
    /// DRAFT, PUBLISHED or RETIRED.
    pub status: String,
    /// When published.
    pub published_at: Option<DateTime<Utc>>,
    /// When retired.
    pub retired_at: Option<DateTime<Utc>>,
    /// The price book's aggregate version.
    pub aggregate_version: i64,
}

/// A price book with the state of its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceBookView {
    /// Id.
    pub id: Uuid,
    /// Code.
    pub code: String,
    /// Currency.
    pub currency: String,
    /// Name of the latest version.
    pub name: String,
    /// Status of the latest version.
    pub status: String,
    /// Highest version number.
    pub latest_version: i32,
    /// The version in force, if any.
    pub published_version: Option<i32>,
    /// Aggregate version.
    pub aggregate_version: i64,
    /// Every version, oldest first.
    pub versions: Vec<VersionSummary>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}
