//! Storage shapes of `cpq_schema` and their mapping to the quote aggregate. Rows never leave
//! `infra`: the repository returns the aggregate, and a row that does not read back as one is
//! reported as corrupt rather than guessed at.

use chrono::{DateTime, Utc};
use cpq_configuration::{ItemId, OfferingId};
use cpq_pricing::{ChargeKind, PricingState};
use domain_kernel::money::Currency;
use domain_kernel::{Actor, ActorId, ActorType, TenantId};
use rust_decimal::Decimal;
use serde_json::Value;
use uuid::Uuid;

use crate::app::ports::StoreError;
use crate::domain::approval::{ApprovalRequestId, ApprovalRequestRef};
use crate::domain::quote::items::ResolvedConfiguration;
use crate::domain::quote::{
    Acceptance, Approval, ApprovalBasis, Approved, Commitment, ConfigurationViolation, Conversion,
    ItemConfiguration, PriceBookPin, PriceOverride, PriceSnapshot, Quote, QuoteIdentity, QuoteItem,
    QuoteParts, QuotePrice, QuoteStatus,
};
use crate::domain::{CustomerId, OrderId, PriceBookId, QuoteId};

/// Columns of [`QuoteRow`], in order.
pub const QUOTE_COLUMNS: &str = "quote_id, tenant_id, customer_id, currency, status, revision, valid_until, \
    aggregate_version, price_book_id, price_book_version, pricing_state, price_hash, approved_price_hash, approved_at, \
    approved_by, policy_snapshot, approval_request_id, approval_policy_id, approval_policy_version, accepted_at, \
    accepted_by, acceptance_channel, acceptance_reference, created_at, created_by, updated_at";

/// A stored quote root.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuoteRow {
    pub quote_id: Uuid,
    pub tenant_id: String,
    pub customer_id: String,
    pub currency: String,
    pub status: String,
    pub revision: i32,
    pub valid_until: DateTime<Utc>,
    pub aggregate_version: i64,
    pub price_book_id: Uuid,
    pub price_book_version: i32,
    pub pricing_state: String,
    pub price_hash: Option<String>,
    pub approved_price_hash: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub approved_by: Option<String>,
    pub policy_snapshot: Option<Value>,
    pub approval_request_id: Option<Uuid>,
    pub approval_policy_id: Option<String>,
    pub approval_policy_version: Option<String>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub accepted_by: Option<String>,
    pub acceptance_channel: Option<String>,
    pub acceptance_reference: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
}

/// Columns of [`ItemRow`], in order.
pub const ITEM_COLUMNS: &str = "item_id, position, offering_id, offering_version, quantity, term_months, \
    discount_percent, characteristics, parent_item_id, configuration_status, configuration_hash, configuration, violations";

/// A stored quote item of one revision.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub item_id: String,
    pub position: i32,
    pub offering_id: Uuid,
    pub offering_version: i32,
    pub quantity: i64,
    pub term_months: Option<i32>,
    pub discount_percent: Option<Decimal>,
    pub characteristics: Value,
    pub parent_item_id: Option<String>,
    pub configuration_status: String,
    pub configuration_hash: Option<String>,
    pub configuration: Option<Value>,
    pub violations: Value,
}

/// A stored price snapshot.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SnapshotRow {
    pub price_hash: String,
    pub trace_hash: String,
    pub one_time_total: Decimal,
    pub result: Value,
    pub trace: Value,
    pub frozen: bool,
    pub priced_at: DateTime<Utc>,
    pub priced_by: String,
}

/// A stored manual override.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OverrideRow {
    pub item_id: String,
    pub charge: String,
    pub original_price: Decimal,
    pub new_price: Decimal,
    pub actor_id: String,
    pub actor_type: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// A stored conversion.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversionRow {
    pub order_id: Uuid,
    pub revision: i32,
    pub price_hash: String,
    pub snapshot: Value,
    pub converted_at: DateTime<Utc>,
    pub converted_by: String,
}

/// The rows of one quote's current revision.
#[derive(Debug)]
pub struct StoredQuote {
    pub root: QuoteRow,
    pub items: Vec<ItemRow>,
    pub snapshot: Option<SnapshotRow>,
    pub overrides: Vec<OverrideRow>,
    pub conversion: Option<ConversionRow>,
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn actor_id(value: &str) -> Result<ActorId, StoreError> {
    ActorId::parse(value).map_err(|e| corrupt(format!("actor {value}: {e}")))
}

/// Reads a status column.
pub fn quote_status(value: &str) -> Result<QuoteStatus, StoreError> {
    QuoteStatus::parse(value).ok_or_else(|| corrupt(format!("status {value}")))
}

fn item(row: ItemRow) -> Result<QuoteItem, StoreError> {
    let resolved = || -> Result<ResolvedConfiguration, StoreError> {
        match (row.configuration_hash.clone(), row.configuration.clone()) {
            (Some(hash), Some(document)) => Ok(ResolvedConfiguration { hash, document }),
            _ => Err(corrupt(format!(
                "item {} without its configuration",
                row.item_id
            ))),
        }
    };
    let configuration = match row.configuration_status.as_str() {
        "VALID" => ItemConfiguration::Valid(resolved()?),
        "FROZEN" => ItemConfiguration::Frozen(resolved()?),
        "INVALID" => ItemConfiguration::Invalid(
            serde_json::from_value::<Vec<ConfigurationViolation>>(row.violations.clone())
                .map_err(corrupt)?,
        ),
        other => return Err(corrupt(format!("configuration status {other}"))),
    };
    let Value::Object(characteristics) = row.characteristics else {
        return Err(corrupt("characteristics are not an object"));
    };
    Ok(QuoteItem {
        id: ItemId::new(row.item_id),
        offering_id: OfferingId::from_uuid(row.offering_id),
        offering_version: row.offering_version,
        quantity: row.quantity,
        term_months: row.term_months,
        discount_percent: row.discount_percent,
        characteristics,
        parent_id: row.parent_item_id.map(ItemId::new),
        configuration,
    })
}

fn price(state: &str, snapshot: Option<SnapshotRow>) -> Result<QuotePrice, StoreError> {
    let state =
        PricingState::parse(state).ok_or_else(|| corrupt(format!("pricing state {state}")))?;
    match (state, snapshot) {
        (PricingState::NotPriced, _) => Ok(QuotePrice::NotPriced),
        (state, Some(s)) => Ok(QuotePrice::Priced {
            state,
            snapshot: PriceSnapshot {
                price_hash: s.price_hash,
                trace_hash: s.trace_hash,
                one_time_total: s.one_time_total,
                result: s.result,
                trace: s.trace,
                frozen: s.frozen,
                priced_at: s.priced_at,
                priced_by: actor_id(&s.priced_by)?,
            },
        }),
        (state, None) => Err(corrupt(format!("pricing state {state} without a snapshot"))),
    }
}

fn price_override(row: OverrideRow) -> Result<PriceOverride, StoreError> {
    Ok(PriceOverride {
        charge: ChargeKind::parse(&row.charge)
            .ok_or_else(|| corrupt(format!("charge {}", row.charge)))?,
        actor: Actor {
            actor_id: actor_id(&row.actor_id)?,
            actor_type: ActorType::parse(&row.actor_type)
                .ok_or_else(|| corrupt(format!("actor type {}", row.actor_type)))?,
        },
        item_id: row.item_id,
        original_price: row.original_price,
        new_price: row.new_price,
        reason: row.reason,
        created_at: row.created_at,
    })
}

fn commitment(
    root: &QuoteRow,
    status: QuoteStatus,
    conversion: Option<ConversionRow>,
) -> Result<Commitment, StoreError> {
    let basis = match (
        root.approval_request_id,
        &root.approval_policy_id,
        &root.approval_policy_version,
        &root.policy_snapshot,
    ) {
        (Some(request_id), Some(policy_id), Some(policy_version), None) => {
            Some(ApprovalBasis::Request(ApprovalRequestRef {
                request_id: ApprovalRequestId::from_uuid(request_id),
                policy_id: policy_id.clone(),
                policy_version: policy_version.clone(),
            }))
        }
        (None, None, None, Some(evaluation)) => {
            Some(ApprovalBasis::LegacyPolicy(evaluation.clone()))
        }
        (None, None, None, None) => None,
        _ => {
            return Err(corrupt(
                "an approval request named in part, or beside a v1 evaluation",
            ));
        }
    };
    let approval = match (
        &root.approved_price_hash,
        root.approved_at,
        &root.approved_by,
    ) {
        (Some(hash), Some(at), Some(by)) => Some(Approval {
            price_hash: hash.clone(),
            approved_at: at,
            approved_by: by.clone(),
        }),
        _ => None,
    };
    let acceptance = match (
        root.accepted_at,
        &root.accepted_by,
        &root.acceptance_channel,
    ) {
        (Some(at), Some(by), Some(channel)) => Some(Acceptance {
            accepted_at: at,
            accepted_by: actor_id(by)?,
            channel: channel.clone(),
            reference: root.acceptance_reference.clone(),
        }),
        _ => None,
    };
    let approved = match (basis.clone(), approval) {
        (Some(basis), Some(approval)) => Some(Approved { basis, approval }),
        (None, Some(_)) => return Err(corrupt("an approval without what it rests on")),
        _ => None,
    };
    Ok(match (approved, acceptance, conversion) {
        (Some(approved), Some(acceptance), Some(c)) if status == QuoteStatus::Converted => {
            Commitment::Converted(
                approved,
                acceptance,
                Conversion {
                    order_id: OrderId::from_uuid(c.order_id),
                    revision: c.revision,
                    price_hash: c.price_hash,
                    snapshot: c.snapshot,
                    converted_at: c.converted_at,
                    converted_by: actor_id(&c.converted_by)?,
                },
            )
        }
        (Some(approved), Some(acceptance), _) => Commitment::Accepted(approved, acceptance),
        (Some(approved), None, _) => Commitment::Approved(approved),
        (None, None, _) => basis.map_or(Commitment::Open, Commitment::Referred),
        (None, Some(_), _) => return Err(corrupt("an acceptance without an approval")),
    })
}

/// Rebuilds the aggregate from its rows.
pub fn to_quote(stored: StoredQuote) -> Result<Quote, StoreError> {
    let StoredQuote {
        root,
        items,
        snapshot,
        overrides,
        conversion,
    } = stored;
    let status = quote_status(&root.status)?;
    let identity = QuoteIdentity {
        id: QuoteId::from_uuid(root.quote_id),
        tenant: TenantId::parse(&root.tenant_id).map_err(corrupt)?,
        customer: CustomerId::parse(&root.customer_id).map_err(corrupt)?,
        currency: Currency::parse(&root.currency).map_err(corrupt)?,
        price_book: PriceBookPin {
            id: PriceBookId::from_uuid(root.price_book_id),
            version: root.price_book_version,
        },
        created_at: root.created_at,
        created_by: actor_id(&root.created_by)?,
    };
    let parts = QuoteParts {
        identity,
        valid_until: root.valid_until,
        updated_at: root.updated_at,
        version: root.aggregate_version,
        revision: root.revision,
        status,
        items: items.into_iter().map(item).collect::<Result<_, _>>()?,
        price: price(&root.pricing_state, snapshot)?,
        overrides: overrides
            .into_iter()
            .map(price_override)
            .collect::<Result<_, _>>()?,
        commitment: commitment(&root, status, conversion)?,
    };
    Quote::restore(parts).map_err(corrupt)
}
