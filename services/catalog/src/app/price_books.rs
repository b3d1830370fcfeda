//! Price book commands; the queries live in `queries` (re-exported here).

use common_kernel::context::RequestContext;
use common_kernel::db::violated_constraint;
use common_kernel::money::Currency;
use domain_kernel::access::Action;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::error::{CatalogError, CatalogResult};
use super::events::{self, price_book_event};
use super::views::{ChargeView, PriceBookVersionView};
use super::{ChangeRecord, LifecycleInput, check_expected_version, record_change, reject_if_any};
use crate::domain::lifecycle::{PriceBookCommand, PriceBookStatus, price_book_transition};
use crate::domain::price_book::{Charge, ChargeInput, TierInput, validate_price_book};
use crate::domain::violation::{Violations, check_code};
use crate::domain::{PriceBookId, ProductOfferingId};
use crate::infra::history::{Change, HistoryTable};
use crate::infra::price_books as repo;
pub use queries::{get, get_version, list};
use queries::{load_content, version_in_tx};

mod queries;

/// Prices of one offering version as submitted.
#[derive(Debug, Clone)]
pub struct EntryInput {
    /// Offering.
    pub offering_id: Uuid,
    /// Offering version.
    pub offering_version: i32,
    /// Its charges.
    pub charges: Vec<ChargeSpec>,
}

/// One charge as submitted.
#[derive(Debug, Clone)]
pub struct ChargeSpec {
    /// ONE_TIME or RECURRING.
    pub charge_type: String,
    /// Period of a recurring charge.
    pub period: Option<String>,
    /// Flat unit price.
    pub unit_price: Option<rust_decimal::Decimal>,
    /// RANGE or SLAB.
    pub tier_mode: Option<String>,
    /// Tiers.
    pub tiers: Option<Vec<TierInput>>,
}

/// Input of `CreatePriceBook`.
#[derive(Debug, Clone)]
pub struct NewPriceBook {
    /// Code, unique per tenant.
    pub code: String,
    /// Name of version 1.
    pub name: String,
    /// ISO-4217 currency.
    pub currency: String,
    /// Prices per offering version.
    pub entries: Vec<EntryInput>,
}

fn not_found(id: Uuid) -> CatalogError {
    CatalogError::NotFound {
        resource: "price book",
        id: id.to_string(),
    }
}

fn version_not_found(id: Uuid, version: i32) -> CatalogError {
    CatalogError::NotFound {
        resource: "price book version",
        id: format!("{id} v{version}"),
    }
}

fn flatten(entries: &[EntryInput]) -> Vec<(String, ChargeInput)> {
    entries
        .iter()
        .enumerate()
        .flat_map(|(e, entry)| {
            entry.charges.iter().enumerate().map(move |(c, charge)| {
                (
                    format!("/entries/{e}/charges/{c}"),
                    ChargeInput {
                        offering_id: ProductOfferingId::from_uuid(entry.offering_id),
                        offering_version: entry.offering_version,
                        charge_type: charge.charge_type.clone(),
                        period: charge.period.clone(),
                        unit_price: charge.unit_price,
                        tier_mode: charge.tier_mode.clone(),
                        tiers: charge.tiers.clone(),
                    },
                )
            })
        })
        .collect()
}

/// Validates charges and checks that every priced offering version exists for the tenant and
/// is not archived.
async fn validated_charges(
    conn: &mut PgConnection,
    tenant: &str,
    name: &str,
    currency: Currency,
    entries: &[EntryInput],
    mut violations: Violations,
) -> CatalogResult<Vec<Charge>> {
    if entries.is_empty() {
        violations.push(
            "/entries",
            "REQUIRED",
            "a price book prices at least one offering version",
        );
    }
    let charges = validate_price_book(&mut violations, name, currency, &flatten(entries));
    let pairs: Vec<(Uuid, i32)> = entries
        .iter()
        .map(|e| (e.offering_id, e.offering_version))
        .collect();
    let found = repo::offering_version_statuses(conn, tenant, &pairs).await?;
    for (i, (id, version)) in pairs.iter().enumerate() {
        match found.iter().find(|(fid, fv, _)| fid == id && fv == version) {
            None => violations.push(
                format!("/entries/{i}/offeringId"),
                "UNKNOWN_REFERENCE",
                "no such offering version for this tenant",
            ),
            Some((_, _, status)) if status == "ARCHIVED" => violations.push(
                format!("/entries/{i}/offeringVersion"),
                "ARCHIVED",
                "archived offering versions cannot be priced",
            ),
            Some(_) => {}
        }
        if entries[i].charges.is_empty() {
            violations.push(
                format!("/entries/{i}/charges"),
                "REQUIRED",
                "an entry needs at least one charge",
            );
        }
    }
    reject_if_any(violations.into_vec())?;
    Ok(charges)
}

async fn record(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    change: Change<'_>,
    event_type: &'static str,
    payload: Value,
    before: Option<Value>,
    after: Option<Value>,
) -> CatalogResult<()> {
    let event = price_book_event(event_type, change.id, change.aggregate_version, payload);
    let record = ChangeRecord {
        table: HistoryTable::PriceBook,
        change,
        event,
        business_reason: change.reason.map(str::to_owned),
        before,
        after,
    };
    record_change(conn, ctx, record).await
}

/// CreatePriceBook · aggregate: price book · source: none · input: code, name, currency,
/// entries · checks: code unique per tenant, ISO currency with minor units, charge rules,
/// priced offering versions exist and are not archived · transition: → v1 DRAFT · writes:
/// root + version + charges, history, `catalog.price-book.created.v1`, audit.
pub async fn create(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    input: NewPriceBook,
) -> CatalogResult<PriceBookVersionView> {
    ctx.authorize(Action::ManageCatalog)?;
    let tenant = ctx.tenant_id.as_str();
    let mut violations = Violations::new();
    check_code(&mut violations, "/code", &input.code);
    let currency = Currency::parse(&input.currency)
        .map_err(|e| CatalogError::invalid("/currency", "UNKNOWN_CURRENCY", e.to_string()))?;
    let charges = validated_charges(
        conn,
        tenant,
        &input.name,
        currency,
        &input.entries,
        violations,
    )
    .await?;
    let id = PriceBookId::generate().as_uuid();
    repo::insert_root(
        conn,
        tenant,
        id,
        &input.code,
        currency.code(),
        ctx.actor.actor_id.as_str(),
    )
    .await
    .map_err(|e| match violated_constraint(&e) {
        Some("price_book_code_key") => CatalogError::CodeTaken {
            resource: "price book",
            code: input.code.clone(),
        },
        _ => CatalogError::Database(e),
    })?;
    repo::insert_version(
        conn,
        tenant,
        id,
        1,
        input.name.trim(),
        &charges,
        ctx.actor.actor_id.as_str(),
    )
    .await?;
    let view = version_in_tx(conn, tenant, id, 1).await?;
    let after = serde_json::to_value(&view.content).ok();
    record(
        conn,
        ctx,
        Change {
            id,
            version: 1,
            command: "CREATE",
            from_status: None,
            to_status: PriceBookStatus::Draft.as_str(),
            aggregate_version: 1,
            reason: None,
        },
        events::price_book::CREATED,
        json!({ "priceBookId": id, "code": input.code, "currency": currency.code(), "version": 1 }),
        None,
        after,
    )
    .await?;
    Ok(view)
}

/// PublishPriceBook · aggregate: price book · source: DRAFT · input: optional version (latest
/// by default), reason, If-Match · checks: priced offering versions not archived · the version
/// in force is retired in the same transaction · writes: status + date, history,
/// `catalog.price-book.published.v1` (with the full content) and `…retired.v1`, audit.
pub async fn publish(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: Uuid,
    input: LifecycleInput,
) -> CatalogResult<PriceBookVersionView> {
    ctx.authorize(Action::ManageCatalog)?;
    let tenant = ctx.tenant_id.as_str();
    let root = repo::lock_root(conn, tenant, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    check_expected_version(input.expected_version, root.aggregate_version)?;
    let version = input.version.unwrap_or(root.latest_version);
    let from = repo::version_status(conn, id, version)
        .await?
        .ok_or_else(|| version_not_found(id, version))?;
    let to = price_book_transition(from, PriceBookCommand::Publish)?;
    let priced = repo::charged_offering_versions(conn, id, version).await?;
    let archived: Vec<String> = repo::offering_version_statuses(conn, tenant, &priced)
        .await?
        .into_iter()
        .filter(|(_, _, status)| status == "ARCHIVED")
        .map(|(offering, v, _)| format!("{offering} v{v}"))
        .collect();
    if !archived.is_empty() {
        return Err(CatalogError::invalid(
            "/version",
            "PRICES_ARCHIVED_OFFERING",
            format!(
                "the version prices archived offering versions: {}",
                archived.join(", ")
            ),
        ));
    }
    let reason = input.reason.as_deref();
    if let Some(previous) = repo::published_version(conn, id).await? {
        let retired = price_book_transition(PriceBookStatus::Published, PriceBookCommand::Retire)?;
        repo::set_status(conn, id, previous, retired).await?;
        let aggregate_version = repo::bump_root(conn, id).await?;
        let why = format!("superseded by version {version}");
        record(
            conn,
            ctx,
            Change {
                id,
                version: previous,
                command: "SUPERSEDE",
                from_status: Some("PUBLISHED"),
                to_status: retired.as_str(),
                aggregate_version,
                reason: Some(&why),
            },
            events::price_book::RETIRED,
            json!({ "priceBookId": id, "version": previous, "supersededBy": version }),
            Some(json!({ "status": "PUBLISHED" })),
            Some(json!({ "status": retired.as_str() })),
        )
        .await?;
    }
    repo::set_status(conn, id, version, to).await?;
    let aggregate_version = repo::bump_root(conn, id).await?;
    let view = version_in_tx(conn, tenant, id, version).await?;
    record(
        conn,
        ctx,
        Change {
            id,
            version,
            command: PriceBookCommand::Publish.as_str(),
            from_status: Some(from.as_str()),
            to_status: to.as_str(),
            aggregate_version,
            reason,
        },
        events::price_book::PUBLISHED,
        json!({ "priceBookId": id, "version": version, "content": view.content }),
        Some(json!({ "status": from.as_str() })),
        Some(json!({ "status": to.as_str() })),
    )
    .await?;
    Ok(view)
}

/// CreatePriceBookVersion · source: latest version PUBLISHED or RETIRED (an open draft ⇒ 409
/// `WORKING_VERSION_EXISTS`) · input: optional name and entries (replacing the copied ones) ·
/// writes: version + charges, history, `…version-created.v1`, audit.
pub async fn derive_version(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: Uuid,
    name: Option<String>,
    entries: Option<Vec<EntryInput>>,
    expected_version: Option<i64>,
) -> CatalogResult<PriceBookVersionView> {
    ctx.authorize(Action::ManageCatalog)?;
    let tenant = ctx.tenant_id.as_str();
    let root = repo::lock_root(conn, tenant, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    check_expected_version(expected_version, root.aggregate_version)?;
    let latest = root.latest_version;
    let status = repo::version_status(conn, id, latest)
        .await?
        .ok_or_else(|| version_not_found(id, latest))?;
    if status == PriceBookStatus::Draft {
        return Err(CatalogError::WorkingVersionExists {
            open_version: latest,
            status: status.as_str(),
        });
    }
    price_book_transition(status, PriceBookCommand::DeriveNewVersion)?;
    let base = load_content(conn, tenant, id, latest)
        .await?
        .ok_or_else(|| version_not_found(id, latest))?;
    let currency = Currency::parse(&root.currency)
        .map_err(|e| CatalogError::invalid("/currency", "UNKNOWN_CURRENCY", e.to_string()))?;
    let entries = entries.unwrap_or_else(|| entries_from(&base.charges));
    let name = name.unwrap_or_else(|| base.name.clone());
    let charges =
        validated_charges(conn, tenant, &name, currency, &entries, Violations::new()).await?;
    let version = latest + 1;
    repo::insert_version(
        conn,
        tenant,
        id,
        version,
        name.trim(),
        &charges,
        ctx.actor.actor_id.as_str(),
    )
    .await?;
    let aggregate_version = repo::bump_root(conn, id).await?;
    let view = version_in_tx(conn, tenant, id, version).await?;
    record(
        conn,
        ctx,
        Change {
            id,
            version,
            command: PriceBookCommand::DeriveNewVersion.as_str(),
            from_status: None,
            to_status: PriceBookStatus::Draft.as_str(),
            aggregate_version,
            reason: None,
        },
        events::price_book::VERSION_CREATED,
        json!({ "priceBookId": id, "version": version, "derivedFrom": latest }),
        serde_json::to_value(&base).ok(),
        serde_json::to_value(&view.content).ok(),
    )
    .await?;
    Ok(view)
}

/// Groups stored charges back into entries (for copying a version).
fn entries_from(charges: &[ChargeView]) -> Vec<EntryInput> {
    let mut entries: Vec<EntryInput> = Vec::new();
    for charge in charges {
        let spec = ChargeSpec {
            charge_type: charge.charge_type.clone(),
            period: charge.period.clone(),
            unit_price: charge.unit_price,
            tier_mode: charge.tier_mode.clone(),
            tiers: charge.tiers.as_ref().map(|tiers| {
                tiers
                    .iter()
                    .map(|t| TierInput {
                        from_quantity: t.from_quantity,
                        to_quantity: t.to_quantity,
                        unit_price: t.unit_price,
                    })
                    .collect()
            }),
        };
        match entries.iter_mut().find(|e| {
            e.offering_id == charge.offering_id && e.offering_version == charge.offering_version
        }) {
            Some(entry) => entry.charges.push(spec),
            None => entries.push(EntryInput {
                offering_id: charge.offering_id,
                offering_version: charge.offering_version,
                charges: vec![spec],
            }),
        }
    }
    entries
}
