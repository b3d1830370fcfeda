//! Request bodies and query strings. Every body refuses unknown fields; amounts are decimal
//! strings; conversion to application inputs happens here, at the edge.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::LifecycleInput;
use crate::app::offerings::{ContentPatch, NewOffering};
use crate::app::price_books::{ChargeSpec, EntryInput, NewPriceBook};
use crate::app::specifications::NewSpecification;
use crate::domain::ProductOfferingId;
use crate::domain::characteristic::CharacteristicInput;
use crate::domain::fulfilment::{FulfilmentProfileInput, TaskTemplateInput};
use crate::domain::offering::RelationshipInput;
use crate::domain::price_book::TierInput;

/// Numeric bounds, as decimal strings.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RangeRequest {
    /// Inclusive lower bound.
    #[schema(example = "10", pattern = r"^-?[0-9]{1,15}(\.[0-9]{1,10})?$")]
    pub min: Option<String>,
    /// Inclusive upper bound.
    #[schema(example = "10000", pattern = r"^-?[0-9]{1,15}(\.[0-9]{1,10})?$")]
    pub max: Option<String>,
}

/// A characteristic definition.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CharacteristicRequest {
    /// Name, unique within the specification: a letter, then letters, digits or `_`.
    #[schema(example = "bandwidthMbps", pattern = "^[A-Za-z][A-Za-z0-9_]{0,63}$")]
    pub name: String,
    /// STRING, INTEGER, DECIMAL or BOOLEAN.
    #[schema(example = "INTEGER", pattern = "^(STRING|INTEGER|DECIMAL|BOOLEAN)$")]
    pub value_type: String,
    /// Whether a configuration must provide it.
    #[serde(default)]
    pub required: bool,
    /// Allowed values (JSON strings, integers or booleans; decimal strings for DECIMAL).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub allowed_values: Vec<Value>,
    /// Numeric range (INTEGER and DECIMAL only).
    pub range: Option<RangeRequest>,
    /// Default value.
    #[schema(value_type = Option<Object>)]
    pub default_value: Option<Value>,
    /// Unit.
    pub unit: Option<String>,
    /// Description.
    pub description: Option<String>,
}

/// Body of `POST /product-specifications`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateSpecificationRequest {
    /// Code, unique per tenant (A–Z, 0–9, `_`, `-`).
    #[schema(example = "INTERNET-ACCESS", pattern = "^[A-Z0-9][A-Z0-9_-]{0,63}$")]
    pub code: String,
    /// Name: not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Characteristic definitions.
    #[serde(default)]
    pub characteristics: Vec<CharacteristicRequest>,
}

impl From<CreateSpecificationRequest> for NewSpecification {
    fn from(r: CreateSpecificationRequest) -> Self {
        Self {
            code: r.code,
            name: r.name,
            description: r.description,
            characteristics: r
                .characteristics
                .into_iter()
                .map(|c| CharacteristicInput {
                    name: c.name,
                    value_type: c.value_type,
                    required: c.required,
                    allowed_values: c.allowed_values,
                    range: c.range.map(|r| (r.min, r.max)),
                    default_value: c.default_value,
                    unit: c.unit,
                    description: c.description,
                })
                .collect(),
        }
    }
}

/// A relationship rule.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RelationshipRequest {
    /// REQUIRES, EXCLUDES or ADD_ON_OF.
    #[serde(rename = "type")]
    #[schema(example = "REQUIRES", pattern = "^(REQUIRES|EXCLUDES|ADD_ON_OF)$")]
    pub relationship_type: String,
    /// The related offering.
    pub target_offering_id: Uuid,
    /// Fewest instances of the target (default 0).
    #[serde(default)]
    pub min_cardinality: u32,
    /// Most instances of the target (null = unbounded).
    pub max_cardinality: Option<u32>,
}

impl From<RelationshipRequest> for RelationshipInput {
    fn from(r: RelationshipRequest) -> Self {
        Self {
            relationship_type: r.relationship_type,
            target: ProductOfferingId::from_uuid(r.target_offering_id),
            min_cardinality: r.min_cardinality,
            max_cardinality: r.max_cardinality,
        }
    }
}

/// A task template of a fulfilment profile.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskTemplateRequest {
    /// Task type, unique within its action.
    #[schema(example = "ACTIVATE_SERVICE", pattern = "^[A-Z][A-Z0-9_]{1,63}$")]
    pub task_type: String,
    /// The integration service operation the task runs.
    #[schema(
        example = "PROVISIONING_ACTIVATE",
        pattern = "^(INVENTORY_RESERVE|INVENTORY_RELEASE|PROVISIONING_ACTIVATE|PROVISIONING_MODIFY|PROVISIONING_DEACTIVATE|BILLING_START|BILLING_REVERSE|CRM_UPDATE_ORDER_STATUS|CONTRACT_REGISTER|NOTIFICATION_SEND)$"
    )]
    pub operation: String,
    /// Task types of the same action that must succeed first; each must be declared earlier in
    /// the list (default none).
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// Task types of the parent item's plan to wait for when the parent is in the same order
    /// (add-ons; default none).
    #[serde(default)]
    pub depends_on_parent: Vec<String>,
    /// Task types of the add-on items' plans in the same order to wait for (default none).
    #[serde(default)]
    pub depends_on_children: Vec<String>,
    /// Whether a compensation undoes the task.
    pub reversible: bool,
    /// The operation that undoes the task: required when reversible, null otherwise.
    #[schema(
        example = "PROVISIONING_DEACTIVATE",
        pattern = "^(INVENTORY_RESERVE|INVENTORY_RELEASE|PROVISIONING_ACTIVATE|PROVISIONING_MODIFY|PROVISIONING_DEACTIVATE|BILLING_START|BILLING_REVERSE|CRM_UPDATE_ORDER_STATUS|CONTRACT_REGISTER|NOTIFICATION_SEND)$"
    )]
    pub compensation: Option<String>,
    /// Once the task succeeded, the item can no longer be cancelled (default false).
    #[serde(default)]
    pub point_of_no_return: bool,
}

/// A fulfilment profile: what it takes to fulfil the offering version, per item action.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({
    "startsSubscription": true,
    "actions": {
        "ADD": [
            {"taskType": "RESERVE_INVENTORY", "operation": "INVENTORY_RESERVE", "reversible": true,
             "compensation": "INVENTORY_RELEASE"},
            {"taskType": "ACTIVATE_SERVICE", "operation": "PROVISIONING_ACTIVATE", "dependsOn": ["RESERVE_INVENTORY"],
             "reversible": true, "compensation": "PROVISIONING_DEACTIVATE"},
            {"taskType": "START_BILLING", "operation": "BILLING_START", "dependsOn": ["ACTIVATE_SERVICE"],
             "reversible": true, "compensation": "BILLING_REVERSE", "pointOfNoReturn": true}
        ],
        "DELETE": [
            {"taskType": "DEACTIVATE_SERVICE", "operation": "PROVISIONING_DEACTIVATE",
             "dependsOnChildren": ["DEACTIVATE_SERVICE"], "reversible": false, "pointOfNoReturn": true}
        ]
    }
}))]
pub struct FulfilmentProfileRequest {
    /// Whether an ADD of the offering starts a subscription (default false).
    #[serde(default)]
    pub starts_subscription: bool,
    /// Task templates per item action: keys ADD, MODIFY and DELETE (each optional, at least one;
    /// NO_CHANGE is refused), each with 1–20 templates in execution order.
    pub actions: BTreeMap<String, Vec<TaskTemplateRequest>>,
}

impl From<FulfilmentProfileRequest> for FulfilmentProfileInput {
    fn from(r: FulfilmentProfileRequest) -> Self {
        Self {
            starts_subscription: r.starts_subscription,
            actions: r
                .actions
                .into_iter()
                .map(|(action, tasks)| {
                    let tasks = tasks
                        .into_iter()
                        .map(|t| TaskTemplateInput {
                            task_type: t.task_type,
                            operation: t.operation,
                            depends_on: t.depends_on,
                            depends_on_parent: t.depends_on_parent,
                            depends_on_children: t.depends_on_children,
                            reversible: t.reversible,
                            compensation: t.compensation,
                            point_of_no_return: t.point_of_no_return,
                        })
                        .collect();
                    (action, tasks)
                })
                .collect(),
        }
    }
}

/// Body of `POST /product-offerings`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateOfferingRequest {
    /// Code, unique per tenant (A–Z, 0–9, `_`, `-`).
    #[schema(example = "INTERNET-BUSINESS", pattern = "^[A-Z0-9][A-Z0-9_-]{0,63}$")]
    pub code: String,
    /// Name: not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Product specification defining the characteristics.
    pub product_specification_id: Uuid,
    /// Relationship rules.
    #[serde(default)]
    pub relationships: Vec<RelationshipRequest>,
    /// What it takes to fulfil the offering (default: no profile).
    pub fulfilment_profile: Option<FulfilmentProfileRequest>,
}

impl From<CreateOfferingRequest> for NewOffering {
    fn from(r: CreateOfferingRequest) -> Self {
        Self {
            code: r.code,
            name: r.name,
            description: r.description,
            specification_id: r.product_specification_id,
            relationships: r.relationships.into_iter().map(Into::into).collect(),
            fulfilment_profile: r.fulfilment_profile.map(Into::into),
        }
    }
}

/// Body of `PATCH …/versions/{version}` and optional body of `POST …/versions`: fields present
/// replace the current ones; `description: null` and `fulfilmentProfile: null` clear them.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OfferingContentPatch {
    /// New name.
    pub name: Option<String>,
    /// New description.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// New specification.
    pub product_specification_id: Option<Uuid>,
    /// New relationship list (replaces all rules).
    pub relationships: Option<Vec<RelationshipRequest>>,
    /// New fulfilment profile (replaces the whole profile; null removes it).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<FulfilmentProfileRequest>)]
    pub fulfilment_profile: Option<Option<FulfilmentProfileRequest>>,
}

/// Tells a field sent as `null` (`Some(None)`) from a field not sent (`None`, by `default`).
fn double_option<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

impl From<OfferingContentPatch> for ContentPatch {
    fn from(p: OfferingContentPatch) -> Self {
        Self {
            name: p.name,
            description: p.description,
            specification_id: p.product_specification_id,
            relationships: p
                .relationships
                .map(|r| r.into_iter().map(Into::into).collect()),
            fulfilment_profile: p.fulfilment_profile.map(|p| p.map(Into::into)),
        }
    }
}

/// Optional body of lifecycle commands.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LifecycleRequest {
    /// Version to act on (default: the latest).
    pub version: Option<i32>,
    /// Reason, kept in history and audit evidence.
    pub reason: Option<String>,
}

impl LifecycleRequest {
    /// Application input with the `If-Match` precondition.
    pub fn into_input(self, expected_version: Option<i64>) -> LifecycleInput {
        LifecycleInput {
            version: self.version,
            reason: self.reason,
            expected_version,
        }
    }
}

/// A volume tier.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TierRequest {
    /// First quantity (the first tier starts at 1).
    pub from_quantity: u64,
    /// Last quantity (null for the last, open tier).
    pub to_quantity: Option<u64>,
    /// Unit price as a decimal string.
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "12.00", pattern = r"^-?[0-9]{1,15}(\.[0-9]{1,10})?$")]
    pub unit_price: Decimal,
}

/// A charge.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChargeRequest {
    /// ONE_TIME or RECURRING.
    #[schema(example = "RECURRING", pattern = "^(ONE_TIME|RECURRING)$")]
    pub charge_type: String,
    /// MONTH, QUARTER or YEAR (recurring only).
    #[schema(pattern = "^(MONTH|QUARTER|YEAR)$")]
    pub period: Option<String>,
    /// Flat unit price as a decimal string (or give tierMode and tiers).
    #[serde(default, with = "rust_decimal::serde::str_option")]
    #[schema(value_type = Option<String>, example = "149.00", pattern = r"^-?[0-9]{1,15}(\.[0-9]{1,10})?$")]
    pub unit_price: Option<Decimal>,
    /// RANGE or SLAB.
    #[schema(pattern = "^(RANGE|SLAB)$")]
    pub tier_mode: Option<String>,
    /// Volume tiers.
    pub tiers: Option<Vec<TierRequest>>,
}

/// Prices of one offering version.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceEntryRequest {
    /// Offering priced.
    pub offering_id: Uuid,
    /// Offering version priced.
    pub offering_version: i32,
    /// Charges.
    pub charges: Vec<ChargeRequest>,
}

impl From<PriceEntryRequest> for EntryInput {
    fn from(e: PriceEntryRequest) -> Self {
        Self {
            offering_id: e.offering_id,
            offering_version: e.offering_version,
            charges: e
                .charges
                .into_iter()
                .map(|c| ChargeSpec {
                    charge_type: c.charge_type,
                    period: c.period,
                    unit_price: c.unit_price,
                    tier_mode: c.tier_mode,
                    tiers: c.tiers.map(|tiers| {
                        tiers
                            .into_iter()
                            .map(|t| TierInput {
                                from_quantity: t.from_quantity,
                                to_quantity: t.to_quantity,
                                unit_price: t.unit_price,
                            })
                            .collect()
                    }),
                })
                .collect(),
        }
    }
}

/// Body of `POST /price-books`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreatePriceBookRequest {
    /// Code, unique per tenant (A–Z, 0–9, `_`, `-`).
    #[schema(example = "LIST-USD", pattern = "^[A-Z0-9][A-Z0-9_-]{0,63}$")]
    pub code: String,
    /// Name: not blank, no control characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub name: String,
    /// ISO-4217 currency of every price.
    #[schema(example = "USD", pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// Prices per offering version.
    pub entries: Vec<PriceEntryRequest>,
}

impl From<CreatePriceBookRequest> for NewPriceBook {
    fn from(r: CreatePriceBookRequest) -> Self {
        Self {
            code: r.code,
            name: r.name,
            currency: r.currency,
            entries: r.entries.into_iter().map(Into::into).collect(),
        }
    }
}

/// Optional body of `POST /price-books/{id}/versions`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PriceBookVersionRequest {
    /// New name (default: copied).
    pub name: Option<String>,
    /// New entries (default: copied).
    pub entries: Option<Vec<PriceEntryRequest>>,
}

/// Query of `GET /product-offerings`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListOfferingsQuery {
    /// Only offerings having a version in this status (DRAFT, READY_FOR_REVIEW, PUBLISHED,
    /// RETIRED, ARCHIVED).
    pub status: Option<String>,
    /// Only the offering with this code.
    pub code: Option<String>,
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    pub offset: Option<i64>,
}

/// Query of the other list endpoints.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListByCodeQuery {
    /// Only the resource with this code.
    pub code: Option<String>,
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    pub offset: Option<i64>,
}

/// Request-context headers: the chain of causes a request belongs to. Identity is not among
/// them: tenant, actor and roles come from the bearer token (ADR 0030).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(
    dead_code,
    reason = "documents headers read by the RequestContext extractor"
)]
pub struct ContextHeaders {
    /// Calling channel (default API).
    #[param(rename = "X-Channel")]
    x_channel: Option<String>,
    /// Correlation id; generated when absent and echoed on the response.
    #[param(rename = "X-Correlation-Id")]
    x_correlation_id: Option<String>,
}

/// Headers of commands.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(dead_code, reason = "documents headers read by extractors")]
pub struct CommandHeaders {
    /// Makes the command safe to retry: the same key and request replay the first answer.
    #[param(rename = "Idempotency-Key")]
    idempotency_key: Option<String>,
    /// Aggregate version the client read; a newer one answers 412.
    #[param(rename = "If-Match", example = "\"3\"")]
    if_match: Option<String>,
}

/// Headers of commands that take no precondition (creations: there is no version to expect yet).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[expect(dead_code, reason = "documents headers read by extractors")]
pub struct IdempotencyHeaders {
    /// Makes the command safe to retry: the same key and request replay the first answer.
    #[param(rename = "Idempotency-Key")]
    idempotency_key: Option<String>,
}
