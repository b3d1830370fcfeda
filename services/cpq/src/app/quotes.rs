//! Quote commands and queries. Each command locks the quote row (`FOR UPDATE`), so commands on
//! one quote run one after the other; the domain transition table decides, the database
//! constraints back it up.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::SystemTime;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use common_kernel::audit::PolicyRef;
use common_kernel::context::RequestContext;
use common_kernel::money::Currency;
use cpq_configuration::quote_state::{
    self, AcceptanceFacts, QuoteCommand, QuoteStatus, check_accept, check_configure,
};
use cpq_configuration::{
    CharacteristicSetting, ItemId, ItemResult, OfferingCatalog, OfferingId, OfferingStatus,
    QuoteItem, ValidationReport, validate_quote,
};
use cpq_pricing::{
    ChargeKind, Discount, DiscountValue, LineInput, ManualOverride, PricedQuote, PricingCommand,
    PricingRequest, PricingState,
};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::error::{CpqError, CpqResult, FieldViolation, PriceBookProblem};
use super::events;
use super::views::{
    AcceptanceView, ApprovalView, ConversionView, ItemView, PriceBookPin, PriceTraceView,
    QuoteSummary, QuoteView, ViolationView,
};
use super::{ChangeRecord, check_expected_version, record_change};
use crate::domain::approval::{self, POLICY_VERSION, RequestedDiscount};
use crate::domain::{CustomerId, OrderId, QuoteId, terms};
use crate::infra::catalog_client::CatalogClient;
use crate::infra::history::Change;
use crate::infra::quotes::{
    self as repo, ConversionRow, ItemRow, NewSnapshot, OverrideRow, QuoteRow,
};

/// Most items one request may carry; larger quotes are split by the client.
pub const MAX_ITEMS: usize = 1_000;
/// Longest validity a quote may be given.
pub const MAX_VALIDITY_DAYS: i64 = 366;
/// Longest commitment term, in months.
pub const MAX_TERM_MONTHS: i32 = 120;

/// One item as requested.
#[derive(Debug, Clone)]
pub struct ItemInput {
    /// Client item id (default: its 1-based position).
    pub id: Option<String>,
    /// Offering.
    pub offering_id: Uuid,
    /// Offering version; the published one when absent.
    pub offering_version: Option<i32>,
    /// Units (at least 1).
    pub quantity: i64,
    /// Commitment term in months.
    pub term_months: Option<i32>,
    /// Seller's line discount, percent.
    pub discount_percent: Option<Decimal>,
    /// Characteristic values by name.
    pub characteristics: Map<String, Value>,
    /// Parent item id (add-ons).
    pub parent_id: Option<String>,
}

/// Input of `CreateQuote`.
#[derive(Debug, Clone)]
pub struct NewQuote {
    /// Customer.
    pub customer_id: String,
    /// ISO-4217 currency; must be the price book's.
    pub currency: String,
    /// Price book.
    pub price_book_id: Uuid,
    /// Price book version; the published one when absent.
    pub price_book_version: Option<i32>,
    /// End of validity.
    pub valid_until: DateTime<Utc>,
    /// Items, configured right away when present.
    pub items: Option<Vec<ItemInput>>,
}

/// Input of `OverridePrice`.
#[derive(Debug, Clone)]
pub struct OverrideInput {
    /// `ONE_TIME`, `RECURRING_MONTH`, … (the charge of the item).
    pub charge: String,
    /// The computed price the actor saw.
    pub original_price: Decimal,
    /// The price that replaces it.
    pub new_price: Decimal,
    /// Why.
    pub reason: String,
}

/// Input of `AcceptQuote`.
#[derive(Debug, Clone, Default)]
pub struct AcceptInput {
    /// Channel of the acceptance (default: the request's channel).
    pub channel: Option<String>,
    /// Customer's reference (PO number, signature id).
    pub reference: Option<String>,
}

/// The current time at the database's precision (microseconds), so an answer built in memory
/// equals the same record read back later.
fn db_now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn status_of(row: &QuoteRow) -> CpqResult<QuoteStatus> {
    QuoteStatus::parse(&row.status)
        .ok_or_else(|| CpqError::Corrupt(format!("status {}", row.status)))
}

fn pricing_of(row: &QuoteRow) -> CpqResult<PricingState> {
    PricingState::parse(&row.pricing_state)
        .ok_or_else(|| CpqError::Corrupt(format!("pricing state {}", row.pricing_state)))
}

async fn locked(conn: &mut PgConnection, ctx: &RequestContext, id: Uuid) -> CpqResult<QuoteRow> {
    repo::lock(conn, ctx.tenant_id.as_str(), id)
        .await?
        .ok_or(CpqError::QuoteNotFound(id))
}

/// Locks the quote, checks `If-Match`, then asks the lifecycle table for `command`, in that
/// order for every command: a stale client hears about its version before about the state.
async fn locked_for(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: Uuid,
    expected: Option<i64>,
    command: QuoteCommand,
) -> CpqResult<(QuoteRow, QuoteStatus)> {
    let before = locked(conn, ctx, id).await?;
    check_expected_version(expected, before.aggregate_version)?;
    let status = quote_state::transition(status_of(&before)?, command)?;
    Ok((before, status))
}

fn summary_json(row: &QuoteRow) -> Value {
    json!({
        "status": row.status,
        "revision": row.revision,
        "pricingState": row.pricing_state,
        "priceHash": row.price_hash,
        "approvedPriceHash": row.approved_price_hash,
        "aggregateVersion": row.aggregate_version,
    })
}

fn base_payload(row: &QuoteRow, from: Option<&str>) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("quoteId".into(), json!(row.quote_id));
    map.insert("customerId".into(), json!(row.customer_id));
    map.insert("revision".into(), json!(row.revision));
    map.insert("fromStatus".into(), json!(from));
    map.insert("toStatus".into(), json!(row.status));
    map
}

/// Writes history, event and audit of a transition from `before` to `after`.
#[expect(
    clippy::too_many_arguments,
    reason = "the parts of one record, named at each call"
)]
async fn record(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    before: Option<&QuoteRow>,
    after: &QuoteRow,
    command: &str,
    event_type: &'static str,
    extra: Value,
    reason: Option<&str>,
) -> CpqResult<()> {
    let mut payload = base_payload(after, before.map(|b| b.status.as_str()));
    if let Value::Object(extra) = &extra {
        payload.extend(extra.clone());
    }
    let policy = (event_type == events::SUBMITTED).then(|| PolicyRef {
        policy_id: "cpq-approval-policy".to_owned(),
        policy_version: POLICY_VERSION.to_owned(),
    });
    record_change(
        conn,
        ctx,
        ChangeRecord {
            change: Change {
                quote_id: after.quote_id,
                revision: after.revision,
                command,
                from_status: before.map(|b| b.status.as_str()),
                to_status: &after.status,
                aggregate_version: after.aggregate_version,
                reason,
                details: Some(&extra),
            },
            event_type,
            payload: Value::Object(payload),
            before: before.map(summary_json),
            after: Some(summary_json(after)),
            policy,
        },
    )
    .await
}

// ------------------------------------------------------------------------------------------
// Input validation and catalog resolution
// ------------------------------------------------------------------------------------------

fn item_id(input: &ItemInput, index: usize) -> String {
    input.id.clone().unwrap_or_else(|| (index + 1).to_string())
}

/// Field checks that need no catalog: shape, bounds, unique ids.
fn validate_items(items: &[ItemInput], require_some: bool) -> CpqResult<()> {
    let mut violations = Vec::new();
    if items.len() > MAX_ITEMS {
        return Err(CpqError::invalid(
            "/items",
            "TOO_MANY_ITEMS",
            format!(
                "a request carries at most {MAX_ITEMS} items; it had {}",
                items.len()
            ),
        ));
    }
    if require_some && items.is_empty() {
        violations.push(FieldViolation::new(
            "/items",
            "REQUIRED",
            "a quote needs at least one item",
        ));
    }
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let id = item_id(item, i);
        if id.trim().is_empty() || id.chars().count() > 64 || id.chars().any(char::is_control) {
            violations.push(FieldViolation::new(
                format!("/items/{i}/id"),
                "INVALID",
                "an item id has 1-64 printable characters",
            ));
        } else if !seen.insert(id.clone()) {
            violations.push(FieldViolation::new(
                format!("/items/{i}/id"),
                "DUPLICATE_ITEM_ID",
                format!("item id {id} is used twice"),
            ));
        }
        if item.quantity < 1 {
            violations.push(FieldViolation::new(
                format!("/items/{i}/quantity"),
                "QUANTITY_INVALID",
                "the quantity must be at least 1",
            ));
        }
        if item.offering_version.is_some_and(|v| v < 1) {
            violations.push(FieldViolation::new(
                format!("/items/{i}/offeringVersion"),
                "OUT_OF_RANGE",
                "versions start at 1",
            ));
        }
        if item
            .term_months
            .is_some_and(|t| !(1..=MAX_TERM_MONTHS).contains(&t))
        {
            violations.push(FieldViolation::new(
                format!("/items/{i}/termMonths"),
                "OUT_OF_RANGE",
                format!("the term is 1-{MAX_TERM_MONTHS} months"),
            ));
        }
        if item
            .discount_percent
            .is_some_and(|d| d < Decimal::ZERO || d > Decimal::from(100))
        {
            violations.push(FieldViolation::new(
                format!("/items/{i}/discountPercent"),
                "OUT_OF_RANGE",
                "a discount is 0-100 percent",
            ));
        }
        if item.parent_id.as_deref() == Some(id.as_str()) {
            violations.push(FieldViolation::new(
                format!("/items/{i}/parentId"),
                "PARENT_CYCLE",
                "an item cannot be its own parent",
            ));
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(CpqError::Invalid(violations))
    }
}

/// Resolves each item's offering version against the live catalog: unknown offerings, versions
/// that are not sellable and stale pins are refused (nothing is written); the snapshots of the
/// versions used are returned with the version each item pins.
async fn resolve_offerings(
    ctx: &RequestContext,
    catalog: &CatalogClient,
    items: &[ItemInput],
) -> CpqResult<(OfferingCatalog, Vec<i32>)> {
    let distinct: BTreeSet<Uuid> = items.iter().map(|i| i.offering_id).collect();
    let mut lifecycles = BTreeMap::new();
    for id in distinct {
        lifecycles.insert(id, catalog.offering(ctx, id).await?);
    }
    let mut unknown = Vec::new();
    let mut not_sellable = Vec::new();
    let mut stale = Vec::new();
    let mut pins = Vec::with_capacity(items.len());
    let mut wanted: BTreeMap<(Uuid, i32), OfferingStatus> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let Some(lifecycle) = lifecycles.get(&item.offering_id).and_then(Option::as_ref) else {
            unknown.push(FieldViolation::new(
                format!("/items/{i}/offeringId"),
                "UNKNOWN_OFFERING",
                format!("no offering {} for this tenant", item.offering_id),
            ));
            pins.push(0);
            continue;
        };
        let version = match item.offering_version.or(lifecycle.published_version) {
            Some(v) => v,
            None => {
                not_sellable.push(FieldViolation::new(
                    format!("/items/{i}/offeringId"),
                    "OFFERING_NOT_SELLABLE",
                    "the offering has no published version",
                ));
                pins.push(0);
                continue;
            }
        };
        pins.push(version);
        match lifecycle.status_of(version) {
            None => unknown.push(FieldViolation::new(
                format!("/items/{i}/offeringVersion"),
                "UNKNOWN_OFFERING_VERSION",
                format!("offering {} has no version {version}", item.offering_id),
            )),
            Some(OfferingStatus::Published) => {
                wanted.insert((item.offering_id, version), OfferingStatus::Published);
            }
            Some(status) => match lifecycle.published_version {
                Some(published) => stale.push(FieldViolation::new(
                    format!("/items/{i}/offeringVersion"),
                    "OFFERING_VERSION_STALE",
                    format!("version {version} is {status}; the published version is {published}"),
                )),
                None => not_sellable.push(FieldViolation::new(
                    format!("/items/{i}/offeringVersion"),
                    "OFFERING_NOT_SELLABLE",
                    format!(
                        "version {version} is {status} and the offering has no published version"
                    ),
                )),
            },
        }
    }
    if !unknown.is_empty() {
        unknown.extend(not_sellable);
        unknown.extend(stale);
        return Err(CpqError::UnknownOffering(unknown));
    }
    if !not_sellable.is_empty() {
        not_sellable.extend(stale);
        return Err(CpqError::OfferingNotSellable(not_sellable));
    }
    if !stale.is_empty() {
        return Err(CpqError::OfferingVersionStale(stale));
    }
    let mut snapshots = Vec::with_capacity(wanted.len());
    for ((id, version), status) in wanted {
        let content = catalog
            .offering_content(ctx, id, version, status)
            .await?
            .ok_or_else(|| CpqError::Corrupt(format!("offering {id} v{version} vanished")))?;
        snapshots.push(content.to_snapshot(status)?);
    }
    let offering_catalog =
        OfferingCatalog::new(snapshots).map_err(|e| CpqError::Corrupt(e.to_string()))?;
    Ok((offering_catalog, pins))
}

fn violation_json(v: &cpq_configuration::Violation) -> Value {
    json!({ "code": v.code.as_str(), "path": v.path, "message": v.message, "details": v.details })
}

fn configuration_json(c: &cpq_configuration::Configuration) -> Value {
    let characteristics: Map<String, Value> = c
        .characteristics
        .iter()
        .map(|(name, value)| (name.clone(), value.to_json()))
        .collect();
    json!({
        "offeringId": c.offering_id,
        "offeringVersion": c.offering_version,
        "quantity": c.quantity,
        "parentOfferingId": c.parent_offering_id,
        "characteristics": characteristics,
    })
}

/// Resolves, validates with the configuration engine and maps to rows; the report says
/// whether the quote may become CONFIGURED.
async fn configure(
    ctx: &RequestContext,
    catalog: &CatalogClient,
    items: &[ItemInput],
) -> CpqResult<(Vec<ItemRow>, ValidationReport)> {
    let (offerings, pins) = resolve_offerings(ctx, catalog, items).await?;
    let quote_items: Vec<QuoteItem> = items
        .iter()
        .zip(&pins)
        .enumerate()
        .map(|(i, (item, version))| QuoteItem {
            id: ItemId::new(item_id(item, i)),
            offering_id: OfferingId::from_uuid(item.offering_id),
            offering_version: *version,
            quantity: item.quantity,
            characteristics: item
                .characteristics
                .iter()
                .map(|(name, value)| CharacteristicSetting::new(name.clone(), value.clone()))
                .collect(),
            parent_id: item.parent_id.clone().map(ItemId::new),
        })
        .collect();
    let report = validate_quote(&offerings, &quote_items);
    let mut rows = Vec::with_capacity(items.len());
    for (i, ((item, version), outcome)) in items.iter().zip(&pins).zip(&report.items).enumerate() {
        let (status, hash, configuration, violations) = match &outcome.result {
            ItemResult::Valid(valid) => (
                "VALID",
                Some(valid.hash.as_str().to_owned()),
                Some(configuration_json(&valid.configuration)),
                Value::Array(Vec::new()),
            ),
            ItemResult::Invalid(found) => (
                "INVALID",
                None,
                None,
                Value::Array(found.iter().map(violation_json).collect()),
            ),
        };
        rows.push(ItemRow {
            item_id: item_id(item, i),
            position: i32::try_from(i).unwrap_or(i32::MAX),
            offering_id: item.offering_id,
            offering_version: *version,
            quantity: item.quantity,
            term_months: item.term_months,
            discount_percent: item.discount_percent,
            characteristics: Value::Object(item.characteristics.clone()),
            parent_item_id: item.parent_id.clone(),
            configuration_status: status.to_owned(),
            configuration_hash: hash,
            configuration,
            violations,
        });
    }
    Ok((rows, report))
}

// ------------------------------------------------------------------------------------------
// Views
// ------------------------------------------------------------------------------------------

fn item_view(row: ItemRow) -> ItemView {
    let violations = match row.violations {
        Value::Array(found) => found
            .into_iter()
            .map(|v| ViolationView {
                code: v["code"].as_str().unwrap_or_default().to_owned(),
                path: v["path"].as_str().unwrap_or_default().to_owned(),
                message: v["message"].as_str().unwrap_or_default().to_owned(),
                details: v["details"].clone(),
            })
            .collect(),
        _ => Vec::new(),
    };
    ItemView {
        id: row.item_id,
        offering_id: row.offering_id,
        offering_version: row.offering_version,
        quantity: row.quantity,
        term_months: row.term_months,
        discount_percent: row.discount_percent,
        characteristics: row.characteristics,
        parent_item_id: row.parent_item_id,
        configuration_status: row.configuration_status,
        configuration_hash: row.configuration_hash,
        violations,
    }
}

async fn view(conn: &mut PgConnection, row: QuoteRow) -> CpqResult<QuoteView> {
    let items = repo::items(conn, row.quote_id, row.revision).await?;
    let price = if row.pricing_state == PricingState::NotPriced.as_str() {
        None
    } else {
        repo::snapshot(conn, row.quote_id, row.revision)
            .await?
            .map(|s| s.result)
    };
    let approval = match (&row.approved_price_hash, row.approved_at, &row.approved_by) {
        (Some(hash), Some(at), Some(by)) => Some(ApprovalView {
            approved_price_hash: hash.clone(),
            approved_at: at,
            approved_by: by.clone(),
        }),
        _ => None,
    };
    let acceptance = match (row.accepted_at, &row.accepted_by, &row.acceptance_channel) {
        (Some(at), Some(by), Some(channel)) => Some(AcceptanceView {
            accepted_at: at,
            accepted_by: by.clone(),
            channel: channel.clone(),
            reference: row.acceptance_reference.clone(),
        }),
        _ => None,
    };
    Ok(QuoteView {
        id: row.quote_id,
        customer_id: row.customer_id,
        currency: row.currency,
        status: row.status,
        revision: row.revision,
        valid_until: row.valid_until,
        price_book: PriceBookPin {
            id: row.price_book_id,
            version: row.price_book_version,
        },
        pricing_state: row.pricing_state,
        price_hash: row.price_hash,
        price,
        approval,
        policy_evaluation: row.policy_snapshot,
        acceptance,
        items: items.into_iter().map(item_view).collect(),
        aggregate_version: row.aggregate_version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Reads a quote with its current revision.
pub async fn get(conn: &mut PgConnection, ctx: &RequestContext, id: Uuid) -> CpqResult<QuoteView> {
    let row = repo::get(conn, ctx.tenant_id.as_str(), id)
        .await?
        .ok_or(CpqError::QuoteNotFound(id))?;
    view(conn, row).await
}

/// Lists the tenant's quotes, newest first, optionally by status and customer.
pub async fn list(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    status: Option<&str>,
    customer_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> CpqResult<(Vec<QuoteSummary>, i64)> {
    if let Some(status) = status
        && QuoteStatus::parse(status).is_none()
    {
        return Err(CpqError::invalid(
            "query:status",
            "UNKNOWN_STATUS",
            format!("{status} is not a quote status"),
        ));
    }
    let (rows, total) = repo::list(
        conn,
        ctx.tenant_id.as_str(),
        status,
        customer_id,
        limit,
        offset,
    )
    .await?;
    let items = rows
        .into_iter()
        .map(|r| QuoteSummary {
            id: r.quote_id,
            customer_id: r.customer_id,
            currency: r.currency,
            status: r.status,
            revision: r.revision,
            valid_until: r.valid_until,
            price_hash: r.price_hash,
            aggregate_version: r.aggregate_version,
            created_at: r.created_at,
        })
        .collect();
    Ok((items, total))
}

/// The price trace of the current revision.
pub async fn price_trace(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: Uuid,
) -> CpqResult<PriceTraceView> {
    let row = repo::get(conn, ctx.tenant_id.as_str(), id)
        .await?
        .ok_or(CpqError::QuoteNotFound(id))?;
    let snapshot = if row.pricing_state == PricingState::NotPriced.as_str() {
        None
    } else {
        repo::snapshot(conn, id, row.revision).await?
    };
    let snapshot = snapshot.ok_or(CpqError::NotPriced {
        status: status_of(&row)?.as_str(),
    })?;
    Ok(PriceTraceView {
        quote_id: id,
        revision: row.revision,
        price_hash: snapshot.price_hash,
        trace_hash: snapshot.trace_hash,
        frozen: snapshot.frozen,
        priced_at: snapshot.priced_at,
        priced_by: snapshot.priced_by,
        steps: snapshot.trace,
    })
}

// ------------------------------------------------------------------------------------------
// Commands
// ------------------------------------------------------------------------------------------

/// CreateQuote · aggregate: quote · source: none · input: customer, currency, price book
/// (+version), validity, optional items · checks: customer id, ISO currency, validity in the
/// future and at most a year, price book version PUBLISHED with the quote's currency, items as
/// in ReplaceItems · transition: → DRAFT (→ CONFIGURED when items are all valid) · writes:
/// quote pinned to the price book version, items, history, `cpq.quote.created.v1`, audit ·
/// idempotency: same key ⇒ same quote · failure: nothing written.
#[tracing::instrument(skip_all, fields(customer = %input.customer_id), err)]
pub async fn create(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    catalog: &CatalogClient,
    input: NewQuote,
) -> CpqResult<QuoteView> {
    let mut violations = Vec::new();
    let customer = CustomerId::parse(&input.customer_id)
        .map_err(|e| violations.push(FieldViolation::new("/customerId", "INVALID", e.to_string())))
        .ok();
    let currency = Currency::parse(&input.currency)
        .map_err(|e| {
            violations.push(FieldViolation::new(
                "/currency",
                "UNKNOWN_CURRENCY",
                e.to_string(),
            ))
        })
        .ok();
    let now = db_now();
    if input.valid_until <= now {
        violations.push(FieldViolation::new(
            "/validUntil",
            "IN_THE_PAST",
            "validity must end in the future",
        ));
    } else if input.valid_until > now + Duration::days(MAX_VALIDITY_DAYS) {
        violations.push(FieldViolation::new(
            "/validUntil",
            "OUT_OF_RANGE",
            format!("a quote is valid for at most {MAX_VALIDITY_DAYS} days"),
        ));
    }
    if input.price_book_version.is_some_and(|v| v < 1) {
        violations.push(FieldViolation::new(
            "/priceBookVersion",
            "OUT_OF_RANGE",
            "versions start at 1",
        ));
    }
    if let Some(items) = &input.items
        && let Err(CpqError::Invalid(found)) = validate_items(items, false)
    {
        violations.extend(found);
    }
    let (Some(customer), Some(currency), true) = (customer, currency, violations.is_empty()) else {
        return Err(CpqError::Invalid(violations));
    };

    let book_id = input.price_book_id;
    let version = match input.price_book_version {
        Some(v) => v,
        None => catalog
            .price_book(ctx, book_id)
            .await?
            .ok_or_else(|| CpqError::PriceBook(PriceBookProblem::Unknown(book_id.to_string())))?
            .published_version
            .ok_or(CpqError::PriceBook(PriceBookProblem::NotPublished {
                version: 0,
                status: "not published".into(),
            }))?,
    };
    let book = catalog
        .price_book_version(ctx, book_id, version, true)
        .await?
        .ok_or_else(|| {
            CpqError::PriceBook(PriceBookProblem::Unknown(format!("{book_id} v{version}")))
        })?;
    let status = book.status.unwrap_or_default();
    if status != "PUBLISHED" {
        return Err(CpqError::PriceBook(PriceBookProblem::NotPublished {
            version,
            status,
        }));
    }
    if book.content.currency != currency.code() {
        return Err(CpqError::CurrencyMismatch {
            quote: currency.code().to_owned(),
            price_book: book.content.currency,
        });
    }

    let configured = match &input.items {
        Some(items) if !items.is_empty() => Some(configure(ctx, catalog, items).await?),
        _ => None,
    };
    let mut row = QuoteRow {
        quote_id: QuoteId::generate().as_uuid(),
        tenant_id: ctx.tenant_id.as_str().to_owned(),
        customer_id: customer.as_str().to_owned(),
        currency: currency.code().to_owned(),
        status: QuoteStatus::Draft.as_str().to_owned(),
        revision: 1,
        valid_until: input.valid_until,
        aggregate_version: 1,
        price_book_id: book_id,
        price_book_version: version,
        pricing_state: PricingState::NotPriced.as_str().to_owned(),
        price_hash: None,
        approved_price_hash: None,
        approved_at: None,
        approved_by: None,
        policy_snapshot: None,
        accepted_at: None,
        accepted_by: None,
        acceptance_channel: None,
        acceptance_reference: None,
        created_at: now,
        created_by: ctx.actor.actor_id.as_str().to_owned(),
        updated_at: now,
    };
    if let Some((_, report)) = &configured
        && check_configure(report).is_ok()
    {
        row.status = quote_state::transition(QuoteStatus::Draft, QuoteCommand::ConfigureItems)?
            .as_str()
            .to_owned();
    }
    repo::insert(conn, &row).await?;
    let item_count = configured.as_ref().map_or(0, |(rows, _)| rows.len());
    if let Some((rows, _)) = &configured {
        repo::replace_items(conn, row.quote_id, 1, rows).await?;
    }
    let extra = json!({
        "currency": row.currency,
        "validUntil": row.valid_until,
        "priceBookId": row.price_book_id,
        "priceBookVersion": row.price_book_version,
        "itemCount": item_count,
    });
    record(
        conn,
        ctx,
        None,
        &row,
        "CREATE",
        events::CREATED,
        extra,
        None,
    )
    .await?;
    view(conn, row).await
}

/// ReplaceItems · aggregate: quote · source: DRAFT, CONFIGURED, PRICED (after SUBMITTED only a
/// revise opens edits) · input: items, If-Match · checks: item fields, offerings exist, are
/// sellable and pinned to the published version · transition: EDIT_ITEMS → DRAFT, then
/// CONFIGURE_ITEMS → CONFIGURED when every item is VALID (else DRAFT, violations stored and
/// returned) · price: NOT_PRICED stays, a price becomes PRICE_STALE (overrides of the revision
/// are dropped with the items they targeted) · writes: items of the current revision, history,
/// `cpq.quote.items-replaced.v1`, audit · failure: nothing written.
#[tracing::instrument(skip_all, fields(quote = %id), err)]
pub async fn replace_items(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    catalog: &CatalogClient,
    id: Uuid,
    items: Vec<ItemInput>,
    expected: Option<i64>,
) -> CpqResult<QuoteView> {
    validate_items(&items, true)?;
    let (before, mut status) = locked_for(conn, ctx, id, expected, QuoteCommand::EditItems).await?;
    let pricing = cpq_pricing::transition(pricing_of(&before)?, PricingCommand::InputsChanged)?;
    let (rows, report) = configure(ctx, catalog, &items).await?;
    let valid = check_configure(&report).is_ok();
    if valid {
        status = quote_state::transition(status, QuoteCommand::ConfigureItems)?;
    }
    repo::replace_items(conn, id, before.revision, &rows).await?;
    let mut after = before.clone();
    after.status = status.as_str().to_owned();
    after.pricing_state = pricing.as_str().to_owned();
    after.aggregate_version += 1;
    repo::update(conn, &after).await?;
    let invalid = rows
        .iter()
        .filter(|r| r.configuration_status == "INVALID")
        .count();
    let extra = json!({
        "itemCount": rows.len(),
        "invalidItemCount": invalid,
        "configurationValid": valid,
        "pricingState": after.pricing_state,
    });
    let command = if valid {
        "CONFIGURE_ITEMS"
    } else {
        "EDIT_ITEMS"
    };
    record(
        conn,
        ctx,
        Some(&before),
        &after,
        command,
        events::ITEMS_REPLACED,
        extra,
        None,
    )
    .await?;
    view(conn, after).await
}

/// Prices the current revision of a locked quote (with its overrides) and stores the snapshot;
/// returns the priced quote. Refusals of the engine abort the command.
async fn run_pricing(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    catalog: &CatalogClient,
    quote: &QuoteRow,
) -> CpqResult<PricedQuote> {
    let items = repo::items(conn, quote.quote_id, quote.revision).await?;
    let overrides = repo::overrides(conn, quote.quote_id, quote.revision).await?;
    let book = catalog
        .price_book_version(ctx, quote.price_book_id, quote.price_book_version, false)
        .await?
        .ok_or_else(|| {
            CpqError::PriceBook(PriceBookProblem::Unknown(format!(
                "{} v{}",
                quote.price_book_id, quote.price_book_version
            )))
        })?
        .content
        .to_price_book()?;
    // Refuse before pricing: a book whose tiers punish volume would produce quotes that are
    // internally consistent and commercially wrong.
    cpq_pricing::check_price_ladder(&book)?;
    let currency =
        Currency::parse(&quote.currency).map_err(|e| CpqError::Corrupt(e.to_string()))?;
    let mut lines = Vec::with_capacity(items.len());
    for item in &items {
        let mut item_overrides = Vec::new();
        for o in overrides.iter().filter(|o| o.item_id == item.item_id) {
            item_overrides.push(ManualOverride {
                charge: ChargeKind::parse(&o.charge)
                    .ok_or_else(|| CpqError::Corrupt(format!("charge {}", o.charge)))?,
                original_price: o.original_price,
                new_price: o.new_price,
                actor: o.actor_id.clone(),
                reason: o.reason.clone(),
            });
        }
        lines.push(LineInput {
            line_id: item.item_id.clone(),
            offering_id: item.offering_id.to_string(),
            offering_version: item.offering_version,
            quantity: u64::try_from(item.quantity).unwrap_or(0),
            term_months: item.term_months.and_then(|t| u32::try_from(t).ok()),
            configuration_hash: item.configuration_hash.clone().unwrap_or_default(),
            discounts: item
                .discount_percent
                .filter(|d| !d.is_zero())
                .map(|d| Discount {
                    rule_id: "SELLER-DISCOUNT".to_owned(),
                    reason: "line discount requested by the seller".to_owned(),
                    value: DiscountValue::Percent(d),
                    applies_to: None,
                })
                .into_iter()
                .collect(),
            overrides: item_overrides,
        });
    }
    let request = PricingRequest {
        price_book_id: quote.price_book_id.to_string(),
        price_book_version: quote.price_book_version,
        currency,
        lines,
        term_discounts: terms::term_discounts(),
        quote_discounts: Vec::new(),
    };
    let priced = cpq_pricing::price_quote(book, &request)?;
    let mut result = serde_json::to_value(&priced).map_err(CpqError::corrupt)?;
    // The trace is stored on its own; the priced result carries it only in some shapes.
    if let Some(fields) = result.as_object_mut() {
        fields.remove("trace");
    }
    let price_trace = priced.trace();
    let trace = serde_json::to_value(&price_trace).map_err(CpqError::corrupt)?;
    let trace_hash = price_trace.hash().map_err(CpqError::corrupt)?;
    repo::upsert_snapshot(
        conn,
        quote.quote_id,
        quote.revision,
        &NewSnapshot {
            price_hash: &priced.price_hash,
            trace_hash: &trace_hash,
            currency: &quote.currency,
            price_book_id: quote.price_book_id,
            price_book_version: quote.price_book_version,
            one_time_total: priced.totals.one_time.amount,
            result: &result,
            trace: &trace,
            priced_by: ctx.actor.actor_id.as_str(),
        },
    )
    .await?;
    Ok(priced)
}

fn totals_json(priced: &PricedQuote) -> Value {
    serde_json::to_value(&priced.totals).unwrap_or(Value::Null)
}

/// PriceQuote · aggregate: quote · source: CONFIGURED, PRICED · input: If-Match · checks:
/// pinned price book version resolvable, pricing engine accepts every line · transition: PRICE
/// → PRICED; price state by the result (PRICED, or OVERRIDE_PENDING_APPROVAL with overrides) ·
/// writes: price snapshot (result, trace, hashes), history, `cpq.quote.priced.v1`, audit ·
/// failure: nothing written (engine errors as 422 with one entry per problem).
#[tracing::instrument(skip_all, fields(quote = %id), err)]
pub async fn price(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    catalog: &CatalogClient,
    id: Uuid,
    expected: Option<i64>,
) -> CpqResult<QuoteView> {
    let (before, status) = locked_for(conn, ctx, id, expected, QuoteCommand::Price).await?;
    let priced = run_pricing(conn, ctx, catalog, &before).await?;
    let pricing = cpq_pricing::transition(pricing_of(&before)?, priced.state_command())?;
    let mut after = before.clone();
    after.status = status.as_str().to_owned();
    after.pricing_state = pricing.as_str().to_owned();
    after.price_hash = Some(priced.price_hash.clone());
    after.aggregate_version += 1;
    repo::update(conn, &after).await?;
    let extra = json!({
        "priceHash": priced.price_hash,
        "pricingState": after.pricing_state,
        "priceBookId": after.price_book_id,
        "priceBookVersion": after.price_book_version,
        "currency": after.currency,
        "totals": totals_json(&priced),
    });
    record(
        conn,
        ctx,
        Some(&before),
        &after,
        "PRICE",
        events::PRICED,
        extra,
        None,
    )
    .await?;
    view(conn, after).await
}

/// OverridePrice · aggregate: quote · source: PRICED · input: item, charge, original and new
/// price, reason (actor from the request context), If-Match · checks: item exists in the current
/// revision, reason given, the original equals what the engine computes now (else
/// OVERRIDE_STALE) · transition: none for the quote; price → OVERRIDE_PENDING_APPROVAL · writes:
/// override (original, new, actor, reason), re-priced snapshot, history,
/// `cpq.quote.price-overridden.v1`, audit with before/after · failure: nothing written.
#[tracing::instrument(skip_all, fields(quote = %id, item = %item), err)]
pub async fn override_price(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    catalog: &CatalogClient,
    id: Uuid,
    item: String,
    input: OverrideInput,
    expected: Option<i64>,
) -> CpqResult<QuoteView> {
    let mut violations = Vec::new();
    let charge = ChargeKind::parse(&input.charge);
    if charge.is_none() {
        violations.push(FieldViolation::new(
            "/charge",
            "UNKNOWN_CHARGE",
            "one of ONE_TIME, RECURRING_MONTH, RECURRING_QUARTER, RECURRING_YEAR",
        ));
    }
    let reason = input.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 1000 {
        violations.push(FieldViolation::new(
            "/reason",
            "REQUIRED",
            "an override states why (1-1000 characters)",
        ));
    }
    for (field, value) in [
        ("/originalPrice", input.original_price),
        ("/newPrice", input.new_price),
    ] {
        if value < Decimal::ZERO {
            violations.push(FieldViolation::new(
                field,
                "OUT_OF_RANGE",
                "prices are not negative",
            ));
        }
    }
    let Some(charge) = charge.filter(|_| violations.is_empty()) else {
        return Err(CpqError::Invalid(violations));
    };
    let before = locked(conn, ctx, id).await?;
    check_expected_version(expected, before.aggregate_version)?;
    let status = status_of(&before)?;
    if status != QuoteStatus::Priced {
        return Err(CpqError::NotPriced {
            status: status.as_str(),
        });
    }
    let items = repo::items(conn, id, before.revision).await?;
    if !items.iter().any(|i| i.item_id == item) {
        return Err(CpqError::ItemNotFound(item));
    }
    let previous = repo::overrides(conn, id, before.revision)
        .await?
        .into_iter()
        .find(|o| o.item_id == item && o.charge == charge.as_str());
    let row = OverrideRow {
        item_id: item.clone(),
        charge: charge.as_str().to_owned(),
        original_price: input.original_price,
        new_price: input.new_price,
        actor_id: ctx.actor.actor_id.as_str().to_owned(),
        reason: reason.clone(),
        created_at: db_now(),
    };
    repo::upsert_override(
        conn,
        id,
        before.revision,
        &before.currency,
        &row,
        ctx.actor.actor_type.as_str(),
    )
    .await?;
    let priced = run_pricing(conn, ctx, catalog, &before).await?;
    let pricing = cpq_pricing::transition(pricing_of(&before)?, priced.state_command())?;
    let mut after = before.clone();
    after.pricing_state = pricing.as_str().to_owned();
    after.price_hash = Some(priced.price_hash.clone());
    after.aggregate_version += 1;
    repo::update(conn, &after).await?;
    let extra = json!({
        "itemId": item,
        "charge": charge.as_str(),
        "currency": after.currency,
        "originalPrice": input.original_price.to_string(),
        "newPrice": input.new_price.to_string(),
        "overriddenBy": ctx.actor.actor_id.as_str(),
        "reason": reason,
        "replacedOverride": previous.map(|p| json!({"newPrice": p.new_price.to_string(), "actor": p.actor_id, "reason": p.reason})),
        "priceHash": priced.price_hash,
        "pricingState": after.pricing_state,
    });
    record(
        conn,
        ctx,
        Some(&before),
        &after,
        "OVERRIDE_PRICE",
        events::PRICE_OVERRIDDEN,
        extra,
        Some(&reason),
    )
    .await?;
    view(conn, after).await
}

/// SubmitQuote · aggregate: quote · source: PRICED · input: If-Match · checks: a current price
/// snapshot · transition: SUBMIT → SUBMITTED, then the approval policy: approval needed ⇒
/// POLICY_REQUIRES_APPROVAL → APPROVAL_PENDING; not needed ⇒ POLICY_NO_APPROVAL_NEEDED →
/// APPROVED with the approved hash = the price hash and the price FROZEN · writes: policy
/// evaluation snapshot, approval evidence, history, `cpq.quote.submitted.v1`, audit naming the
/// policy · failure: nothing written.
#[tracing::instrument(skip_all, fields(quote = %id), err)]
pub async fn submit(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: Uuid,
    expected: Option<i64>,
) -> CpqResult<QuoteView> {
    let (before, submitted) = locked_for(conn, ctx, id, expected, QuoteCommand::Submit).await?;
    let snapshot = repo::snapshot(conn, id, before.revision)
        .await?
        .ok_or(CpqError::NotPriced {
            status: submitted.as_str(),
        })?;
    let mut document = snapshot.result.clone();
    if let Some(map) = document.as_object_mut() {
        map.insert("trace".into(), snapshot.trace.clone());
    }
    let priced: PricedQuote = serde_json::from_value(document).map_err(CpqError::corrupt)?;
    let discounts: Vec<RequestedDiscount> = repo::items(conn, id, before.revision)
        .await?
        .into_iter()
        .filter_map(|i| {
            i.discount_percent.map(|percent| RequestedDiscount {
                item_id: i.item_id,
                percent,
            })
        })
        .collect();
    let evaluation = approval::evaluate(ctx.actor.actor_type, &priced, &discounts);
    let policy = serde_json::to_value(&evaluation).map_err(CpqError::corrupt)?;
    let mut after = before.clone();
    after.policy_snapshot = Some(policy.clone());
    after.aggregate_version += 1;
    if evaluation.approval_required() {
        after.status = quote_state::transition(submitted, QuoteCommand::PolicyRequiresApproval)?
            .as_str()
            .to_owned();
    } else {
        after.status = quote_state::transition(submitted, QuoteCommand::PolicyNoApprovalNeeded)?
            .as_str()
            .to_owned();
        after.pricing_state =
            cpq_pricing::transition(pricing_of(&before)?, PricingCommand::Freeze)?
                .as_str()
                .to_owned();
        if !repo::freeze_snapshot(conn, id, before.revision, &priced.price_hash).await? {
            return Err(CpqError::Corrupt(
                "the price snapshot changed under the submit".into(),
            ));
        }
        after.approved_price_hash = Some(priced.price_hash.clone());
        after.approved_at = Some(db_now());
        after.approved_by = Some(format!("policy:{POLICY_VERSION}"));
    }
    repo::update(conn, &after).await?;
    let extra = json!({
        "priceHash": priced.price_hash,
        "approvalRequired": evaluation.approval_required(),
        "approvedPriceHash": after.approved_price_hash,
        "pricingState": after.pricing_state,
        "policyEvaluation": policy,
    });
    record(
        conn,
        ctx,
        Some(&before),
        &after,
        "SUBMIT",
        events::SUBMITTED,
        extra,
        None,
    )
    .await?;
    view(conn, after).await
}

/// ReviseQuote · aggregate: quote · source: SUBMITTED, APPROVAL_PENDING, APPROVED, REJECTED ·
/// input: optional reason, If-Match · transition: REVISE → DRAFT at revision + 1 · writes: the
/// items copied into the new revision (to be edited, re-configured and re-priced), price back to
/// NOT_PRICED, the approval in force cleared (SUPERSEDED: its hash is named in the event and
/// history), `cpq.quote.revised.v1`, audit · failure: nothing written.
#[tracing::instrument(skip_all, fields(quote = %id), err)]
pub async fn revise(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: Uuid,
    reason: Option<String>,
    expected: Option<i64>,
) -> CpqResult<QuoteView> {
    let (before, status) = locked_for(conn, ctx, id, expected, QuoteCommand::Revise).await?;
    let mut after = before.clone();
    after.status = status.as_str().to_owned();
    after.revision = before.revision + 1;
    after.pricing_state = PricingState::NotPriced.as_str().to_owned();
    after.price_hash = None;
    after.approved_price_hash = None;
    after.approved_at = None;
    after.approved_by = None;
    after.policy_snapshot = None;
    after.aggregate_version += 1;
    repo::update(conn, &after).await?;
    repo::copy_items(conn, id, before.revision, after.revision).await?;
    let extra = json!({
        "previousRevision": before.revision,
        "previousStatus": before.status,
        "supersededPriceHash": before.price_hash,
        "supersededApprovedPriceHash": before.approved_price_hash,
    });
    record(
        conn,
        ctx,
        Some(&before),
        &after,
        "REVISE",
        events::REVISED,
        extra,
        reason.as_deref(),
    )
    .await?;
    view(conn, after).await
}

/// AcceptQuote · aggregate: quote · source: APPROVED · input: optional channel and customer
/// reference (actor from the context), If-Match · checks (guard): now < valid_until, price
/// FROZEN, price hash = approved hash · transition: ACCEPT → ACCEPTED; configurations VALID →
/// FROZEN · writes: acceptance evidence (who, when, channel, reference), history,
/// `cpq.quote.accepted.v1`, audit · failure: nothing written; every failed guard reported.
#[tracing::instrument(skip_all, fields(quote = %id), err)]
pub async fn accept(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: Uuid,
    input: AcceptInput,
    expected: Option<i64>,
) -> CpqResult<QuoteView> {
    let channel = input.channel.unwrap_or_else(|| ctx.channel.clone());
    if channel.trim().is_empty() || channel.chars().count() > 64 {
        return Err(CpqError::invalid("/channel", "INVALID", "1-64 characters"));
    }
    if input
        .reference
        .as_ref()
        .is_some_and(|r| r.chars().count() > 200)
    {
        return Err(CpqError::invalid(
            "/reference",
            "TOO_LONG",
            "at most 200 characters",
        ));
    }
    let (before, status) = locked_for(conn, ctx, id, expected, QuoteCommand::Accept).await?;
    let now = db_now();
    check_accept(&AcceptanceFacts {
        now: SystemTime::from(now),
        valid_until: SystemTime::from(before.valid_until),
        price_frozen: pricing_of(&before)? == PricingState::Frozen,
        approved_price_hash: before.approved_price_hash.as_deref().unwrap_or_default(),
        current_price_hash: before.price_hash.as_deref().unwrap_or_default(),
    })?;
    let items = repo::items(conn, id, before.revision).await?;
    for item in &items {
        let from =
            cpq_configuration::config_state::ConfigurationStatus::parse(&item.configuration_status)
                .ok_or_else(|| {
                    CpqError::Corrupt(format!(
                        "configuration status {}",
                        item.configuration_status
                    ))
                })?;
        cpq_configuration::config_state::transition(
            from,
            cpq_configuration::config_state::ConfigurationCommand::Freeze,
        )
        .map_err(|e| CpqError::Corrupt(e.to_string()))?;
    }
    repo::freeze_items(conn, id, before.revision).await?;
    let mut after = before.clone();
    after.status = status.as_str().to_owned();
    after.accepted_at = Some(now);
    after.accepted_by = Some(ctx.actor.actor_id.as_str().to_owned());
    after.acceptance_channel = Some(channel.clone());
    after.acceptance_reference = input.reference.clone();
    after.aggregate_version += 1;
    repo::update(conn, &after).await?;
    let extra = json!({
        "priceHash": after.price_hash,
        "approvedPriceHash": after.approved_price_hash,
        "acceptedBy": after.accepted_by,
        "acceptedAt": now,
        "channel": channel,
        "reference": after.acceptance_reference,
    });
    record(
        conn,
        ctx,
        Some(&before),
        &after,
        "ACCEPT",
        events::ACCEPTED,
        extra,
        None,
    )
    .await?;
    view(conn, after).await
}

/// CancelQuote · aggregate: quote · source: DRAFT … APPROVED · input: optional reason, If-Match
/// · transition: CANCEL → CANCELLED (terminal) · writes: history, `cpq.quote.cancelled.v1`,
/// audit · failure: nothing written.
#[tracing::instrument(skip_all, fields(quote = %id), err)]
pub async fn cancel(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: Uuid,
    reason: Option<String>,
    expected: Option<i64>,
) -> CpqResult<QuoteView> {
    let (before, status) = locked_for(conn, ctx, id, expected, QuoteCommand::Cancel).await?;
    let mut after = before.clone();
    after.status = status.as_str().to_owned();
    after.aggregate_version += 1;
    repo::update(conn, &after).await?;
    record(
        conn,
        ctx,
        Some(&before),
        &after,
        "CANCEL",
        events::CANCELLED,
        json!({}),
        reason.as_deref(),
    )
    .await?;
    view(conn, after).await
}

/// Expires one locked quote whose validity ended (used by the expiry job).
pub async fn expire_locked(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    before: QuoteRow,
) -> CpqResult<()> {
    let status = quote_state::transition(status_of(&before)?, QuoteCommand::Expire)?;
    quote_state::check_expire(SystemTime::now(), SystemTime::from(before.valid_until))?;
    let mut after = before.clone();
    after.status = status.as_str().to_owned();
    after.aggregate_version += 1;
    repo::update(conn, &after).await?;
    let extra = json!({ "validUntil": before.valid_until, "approvedPriceHash": before.approved_price_hash });
    record(
        conn,
        ctx,
        Some(&before),
        &after,
        "EXPIRE",
        events::EXPIRED,
        extra,
        Some("validity ended"),
    )
    .await
}

fn conversion_view(row: ConversionRow) -> ConversionView {
    ConversionView {
        quote_id: row.quote_id,
        order_id: row.order_id,
        revision: row.revision,
        price_hash: row.price_hash,
        converted_at: row.converted_at,
        converted_by: row.converted_by,
        snapshot: row.snapshot,
    }
}

/// ConvertQuoteToOrder · aggregate: quote (the order service creates the order from the event)
/// · source: ACCEPTED · input: none (actor from the context) · checks: price FROZEN, price hash
/// = approved hash, every configuration FROZEN · transition: CONVERT_TO_ORDER → CONVERTED ·
/// writes: `quote_conversion` (its primary key on quote_id makes a second conversion
/// impossible), history, `cpq.quote.converted.v1` with the full frozen snapshot, audit ·
/// idempotency: a converted quote answers with its one conversion (same order id) whatever the
/// key, so 50 concurrent calls give one conversion and 50 equal answers (the row lock orders
/// them) · failure: nothing written.
#[tracing::instrument(skip_all, fields(quote = %id), err)]
pub async fn convert(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: Uuid,
) -> CpqResult<ConversionView> {
    let before = locked(conn, ctx, id).await?;
    if status_of(&before)? == QuoteStatus::Converted {
        let existing = repo::conversion(conn, id)
            .await?
            .ok_or_else(|| CpqError::Corrupt("a converted quote without its conversion".into()))?;
        return Ok(conversion_view(existing));
    }
    let status = quote_state::transition(status_of(&before)?, QuoteCommand::ConvertToOrder)?;
    let price_hash = before.price_hash.clone().unwrap_or_default();
    check_accept(&AcceptanceFacts {
        now: SystemTime::UNIX_EPOCH,
        valid_until: SystemTime::from(before.valid_until),
        price_frozen: pricing_of(&before)? == PricingState::Frozen,
        approved_price_hash: before.approved_price_hash.as_deref().unwrap_or_default(),
        current_price_hash: &price_hash,
    })?;
    let items = repo::items(conn, id, before.revision).await?;
    if items.iter().any(|i| i.configuration_status != "FROZEN") {
        return Err(CpqError::Corrupt(
            "an accepted quote with an unfrozen configuration".into(),
        ));
    }
    let snapshot = repo::snapshot(conn, id, before.revision)
        .await?
        .filter(|s| s.frozen && s.price_hash == price_hash)
        .ok_or_else(|| {
            CpqError::Corrupt("no frozen price snapshot with the approved hash".into())
        })?;
    let frozen = json!({
        "quoteId": before.quote_id,
        "revision": before.revision,
        "customerId": before.customer_id,
        "currency": before.currency,
        "priceBook": {"id": before.price_book_id, "version": before.price_book_version},
        "priceHash": price_hash,
        "approvedPriceHash": before.approved_price_hash,
        "traceHash": snapshot.trace_hash,
        "approval": {"approvedAt": before.approved_at, "approvedBy": before.approved_by, "policyEvaluation": before.policy_snapshot},
        "acceptance": {"acceptedAt": before.accepted_at, "acceptedBy": before.accepted_by, "channel": before.acceptance_channel, "reference": before.acceptance_reference},
        "items": items.iter().map(|i| json!({
            "itemId": i.item_id,
            "offeringId": i.offering_id,
            "offeringVersion": i.offering_version,
            "quantity": i.quantity,
            "termMonths": i.term_months,
            "discountPercent": i.discount_percent.map(|d| d.to_string()),
            "parentItemId": i.parent_item_id,
            "characteristics": i.characteristics,
            "configurationStatus": i.configuration_status,
            "configurationHash": i.configuration_hash,
            "configuration": i.configuration,
        })).collect::<Vec<_>>(),
        "pricing": snapshot.result,
    });
    let conversion = ConversionRow {
        quote_id: id,
        order_id: OrderId::generate().as_uuid(),
        revision: before.revision,
        price_hash: price_hash.clone(),
        snapshot: frozen.clone(),
        converted_at: db_now(),
        converted_by: ctx.actor.actor_id.as_str().to_owned(),
    };
    if !repo::insert_conversion(conn, ctx.tenant_id.as_str(), &conversion).await? {
        // Only reachable if a conversion committed without the status change; the primary key
        // still guarantees one conversion, and the caller gets that one.
        let existing = repo::conversion(conn, id)
            .await?
            .ok_or_else(|| CpqError::Corrupt("conversion vanished".into()))?;
        return Ok(conversion_view(existing));
    }
    let mut after = before.clone();
    after.status = status.as_str().to_owned();
    after.aggregate_version += 1;
    repo::update(conn, &after).await?;
    let extra = json!({
        "orderId": conversion.order_id,
        "priceHash": price_hash,
        "snapshot": frozen,
    });
    record(
        conn,
        ctx,
        Some(&before),
        &after,
        "CONVERT_TO_ORDER",
        events::CONVERTED,
        extra,
        None,
    )
    .await?;
    Ok(conversion_view(conversion))
}
