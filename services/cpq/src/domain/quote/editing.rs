//! Commands that shape a revision before it is submitted: create, replace items, price and
//! override a price. Each doc comment is the command's table from state-machines.md.

use chrono::{DateTime, Duration, Utc};
use cpq_configuration::{ItemId, ValidationReport};
use cpq_pricing::{ChargeKind, PriceBook, PricingCommand};
use domain_kernel::money::Currency;
use domain_kernel::{Actor, TenantId};
use rust_decimal::Decimal;

use super::aggregate::{PriceBookPin, Quote, QuoteIdentity};
use super::commitment::Commitment;
use super::error::QuoteError;
use super::events::{
    Created, EventDetail, ItemsReplaced, PriceOverridden, Priced, QuoteEvent, ReplacedOverride,
};
use super::guards::check_configure;
use super::items::{ItemConfiguration, QuoteItem};
use super::lifecycle::{QuoteCommand, QuoteStatus, transition};
use super::price::{PriceOverride, PricingRun, QuotePrice, run_pricing};
use crate::domain::input::Violations;
use crate::domain::{CustomerId, PriceBookId, QuoteId};

/// Longest validity a quote may be given.
pub const MAX_VALIDITY_DAYS: i64 = 366;

/// The checked facts of a new quote.
#[derive(Debug, Clone)]
pub struct NewQuote {
    /// Tenant.
    pub tenant: TenantId,
    /// Customer.
    pub customer: CustomerId,
    /// Currency; the price book's.
    pub currency: Currency,
    /// The published price-book version.
    pub price_book: PriceBookPin,
    /// End of validity.
    pub valid_until: DateTime<Utc>,
}

/// Checks the fields of a create request that need no catalog; every problem at once.
pub fn check_new_quote(
    customer_id: &str,
    currency: &str,
    valid_until: DateTime<Utc>,
    price_book_version: Option<i32>,
    now: DateTime<Utc>,
    violations: &mut Violations,
) -> Option<(CustomerId, Currency)> {
    let customer = CustomerId::parse(customer_id)
        .map_err(|e| violations.push("/customerId", "INVALID", e.to_string()))
        .ok();
    let currency = Currency::parse(currency)
        .map_err(|e| violations.push("/currency", "UNKNOWN_CURRENCY", e.to_string()))
        .ok();
    if valid_until <= now {
        violations.push(
            "/validUntil",
            "IN_THE_PAST",
            "validity must end in the future",
        );
    } else if valid_until > now + Duration::days(MAX_VALIDITY_DAYS) {
        violations.push(
            "/validUntil",
            "OUT_OF_RANGE",
            format!("a quote is valid for at most {MAX_VALIDITY_DAYS} days"),
        );
    }
    if price_book_version.is_some_and(|v| v < 1) {
        violations.push("/priceBookVersion", "OUT_OF_RANGE", "versions start at 1");
    }
    customer.zip(currency)
}

/// The live state of a price book, as the catalog reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceBookFacts {
    /// ISO-4217 currency of every version.
    pub currency: String,
    /// Version in force, if any.
    pub published_version: Option<i32>,
    /// Every version with its status name.
    pub versions: Vec<(i32, String)>,
}

/// Why a quote cannot be pinned to the requested price book.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriceBookRefusal {
    /// No such price book (or version) for the tenant.
    #[error("no price book {0} for this tenant")]
    Unknown(String),
    /// The version is not the one in force.
    #[error("price book version {version} is {status}; quote against the published version")]
    NotPublished {
        /// Requested version (0: none published).
        version: i32,
        /// Its status.
        status: String,
    },
    /// Quote and price book currencies differ.
    #[error("the quote is in {quote} but the price book is in {price_book}")]
    CurrencyMismatch {
        /// Quote currency.
        quote: String,
        /// Price book currency.
        price_book: String,
    },
}

/// Pins a new quote to the requested (or the published) version of price book `id`: it must
/// be PUBLISHED and in the quote's currency. `facts` is `None` when the book is unknown.
pub fn pin_price_book(
    id: PriceBookId,
    requested: Option<i32>,
    facts: Option<&PriceBookFacts>,
    currency: Currency,
) -> Result<PriceBookPin, PriceBookRefusal> {
    let unknown = |version: Option<i32>| {
        PriceBookRefusal::Unknown(match version {
            Some(v) => format!("{id} v{v}"),
            None => id.to_string(),
        })
    };
    let facts = facts.ok_or_else(|| unknown(requested))?;
    let version = match requested.or(facts.published_version) {
        Some(version) => version,
        None => {
            return Err(PriceBookRefusal::NotPublished {
                version: 0,
                status: "not published".into(),
            });
        }
    };
    let status = facts
        .versions
        .iter()
        .find(|(v, _)| *v == version)
        .map(|(_, status)| status.clone())
        .ok_or_else(|| unknown(Some(version)))?;
    if status != "PUBLISHED" {
        return Err(PriceBookRefusal::NotPublished { version, status });
    }
    if facts.currency != currency.code() {
        return Err(PriceBookRefusal::CurrencyMismatch {
            quote: currency.code().to_owned(),
            price_book: facts.currency.clone(),
        });
    }
    Ok(PriceBookPin { id, version })
}

/// The input of an override, checked.
#[derive(Debug, Clone)]
pub struct OverrideDraft {
    /// The charge of the item.
    pub charge: ChargeKind,
    /// The computed price the actor saw.
    pub original_price: Decimal,
    /// The price that replaces it.
    pub new_price: Decimal,
    /// Why (trimmed).
    pub reason: String,
}

/// Checks an override request: known charge, a reason, no negative price.
pub fn check_override(
    charge: &str,
    original_price: Decimal,
    new_price: Decimal,
    reason: &str,
) -> Result<OverrideDraft, Vec<crate::domain::input::InputViolation>> {
    let mut found = Violations::default();
    let kind = ChargeKind::parse(charge);
    if kind.is_none() {
        found.push(
            "/charge",
            "UNKNOWN_CHARGE",
            "one of ONE_TIME, RECURRING_MONTH, RECURRING_QUARTER, RECURRING_YEAR",
        );
    }
    let reason = reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 1000 {
        found.push(
            "/reason",
            "REQUIRED",
            "an override states why (1-1000 characters)",
        );
    }
    for (field, value) in [("/originalPrice", original_price), ("/newPrice", new_price)] {
        if value < Decimal::ZERO {
            found.push(field, "OUT_OF_RANGE", "prices are not negative");
        }
    }
    found.finish()?;
    let charge = kind.ok_or_else(Vec::new)?;
    Ok(OverrideDraft {
        charge,
        original_price,
        new_price,
        reason,
    })
}

impl Quote {
    /// CreateQuote · source: none · input: customer, currency, published price-book version,
    /// validity, optional configured items · transition: → DRAFT, then CONFIGURE_ITEMS →
    /// CONFIGURED when every item is valid · emits `cpq.quote.created.v1`.
    pub fn create(
        new: NewQuote,
        configured: Option<(Vec<QuoteItem>, ValidationReport)>,
        creator: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(Self, QuoteEvent), QuoteError> {
        let mut status = QuoteStatus::Draft;
        let (items, item_count) = match configured {
            Some((items, report)) => {
                if check_configure(&report).is_ok() {
                    status = transition(status, QuoteCommand::ConfigureItems)?;
                }
                let count = items.len();
                (items, count)
            }
            None => (Vec::new(), 0),
        };
        let quote = Self {
            identity: QuoteIdentity {
                id: QuoteId::generate(),
                tenant: new.tenant,
                customer: new.customer,
                currency: new.currency,
                price_book: new.price_book,
                created_at: now,
                created_by: creator.actor_id.clone(),
            },
            valid_until: new.valid_until,
            updated_at: now,
            version: 1,
            revision: 1,
            status,
            items,
            price: QuotePrice::NotPriced,
            overrides: Vec::new(),
            commitment: Commitment::Open,
        };
        let event = quote.event(
            None,
            "CREATE",
            None,
            EventDetail::Created(Created {
                currency: new.currency.code().to_owned(),
                valid_until: new.valid_until,
                price_book_id: new.price_book.id.as_uuid(),
                price_book_version: new.price_book.version,
                item_count,
            }),
        );
        Ok((quote, event))
    }

    /// ReplaceItems · source: DRAFT, CONFIGURED, PRICED (after SUBMITTED only a revise opens
    /// edits) · transition: EDIT_ITEMS → DRAFT, then CONFIGURE_ITEMS → CONFIGURED when every
    /// item is VALID · price: NOT_PRICED stays, a price becomes PRICE_STALE; overrides go with
    /// the items they targeted · emits `cpq.quote.items-replaced.v1`.
    pub fn replace_items(
        &mut self,
        expected: Option<i64>,
        items: Vec<QuoteItem>,
        report: &ValidationReport,
    ) -> Result<QuoteEvent, QuoteError> {
        self.check_version(expected)?;
        let mut status = transition(self.status, QuoteCommand::EditItems)?;
        let pricing = cpq_pricing::transition(self.price.state(), PricingCommand::InputsChanged)?;
        let valid = check_configure(report).is_ok();
        if valid {
            status = transition(status, QuoteCommand::ConfigureItems)?;
        }
        let before = self.summary();
        let invalid = items
            .iter()
            .filter(|i| matches!(i.configuration, ItemConfiguration::Invalid(_)))
            .count();
        self.status = status;
        self.set_pricing_state(pricing);
        self.items = items;
        self.overrides.clear();
        let detail = EventDetail::ItemsReplaced(ItemsReplaced {
            item_count: self.items.len(),
            invalid_item_count: invalid,
            configuration_valid: valid,
            pricing_state: pricing.as_str(),
        });
        let command = if valid {
            "CONFIGURE_ITEMS"
        } else {
            "EDIT_ITEMS"
        };
        Ok(self.emit(Some(before), command, None, detail))
    }

    /// PriceQuote · source: CONFIGURED, PRICED · input: the pinned price-book version's
    /// content · transition: PRICE → PRICED; the price state by the result (PRICED, or
    /// OVERRIDE_PENDING_APPROVAL with overrides) · emits `cpq.quote.priced.v1`.
    pub fn price(
        &mut self,
        expected: Option<i64>,
        book: PriceBook,
        pricer: &Actor,
        now: DateTime<Utc>,
    ) -> Result<QuoteEvent, QuoteError> {
        self.check_version(expected)?;
        let status = transition(self.status, QuoteCommand::Price)?;
        let before = self.summary();
        let pricing = self.reprice(book, self.overrides.clone(), pricer, now)?;
        self.status = status;
        let detail = EventDetail::Priced(Priced {
            price_hash: self.price.hash().unwrap_or_default().to_owned(),
            pricing_state: pricing.as_str(),
            price_book_id: self.identity.price_book.id.as_uuid(),
            price_book_version: self.identity.price_book.version,
            currency: self.identity.currency.code().to_owned(),
            totals: self.totals(),
        });
        Ok(self.emit(Some(before), "PRICE", None, detail))
    }

    /// OverridePrice · source: PRICED · input: item, charge, original and new price, reason,
    /// actor · checks: the item exists; the original equals what the engine computes now (else
    /// the engine refuses with OVERRIDE_STALE) · transition: none for the quote; price →
    /// OVERRIDE_PENDING_APPROVAL · emits `cpq.quote.price-overridden.v1`.
    pub fn override_price(
        &mut self,
        expected: Option<i64>,
        item: ItemId,
        draft: OverrideDraft,
        book: PriceBook,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<QuoteEvent, QuoteError> {
        self.check_version(expected)?;
        if self.status != QuoteStatus::Priced {
            return Err(QuoteError::NotPriced {
                status: self.status,
            });
        }
        if !self.items.iter().any(|i| i.id == item) {
            return Err(QuoteError::ItemNotFound(item));
        }
        let before = self.summary();
        let key = (item.as_str().to_owned(), draft.charge);
        let mut overrides = self.overrides.clone();
        let previous = overrides
            .iter()
            .position(|o| (o.item_id.as_str(), o.charge) == (key.0.as_str(), key.1))
            .map(|at| overrides.remove(at));
        overrides.push(PriceOverride {
            item_id: key.0.clone(),
            charge: draft.charge,
            original_price: draft.original_price,
            new_price: draft.new_price,
            actor: actor.clone(),
            reason: draft.reason.clone(),
            created_at: now,
        });
        overrides
            .sort_by(|a, b| (&a.item_id, a.charge.as_str()).cmp(&(&b.item_id, b.charge.as_str())));
        let pricing = self.reprice(book, overrides, actor, now)?;
        let detail = EventDetail::PriceOverridden(PriceOverridden {
            item_id: key.0,
            charge: draft.charge.as_str(),
            currency: self.identity.currency.code().to_owned(),
            original_price: draft.original_price.to_string(),
            new_price: draft.new_price.to_string(),
            overridden_by: actor.actor_id.clone(),
            reason: draft.reason.clone(),
            replaced_override: previous.map(|p| ReplacedOverride {
                new_price: p.new_price.to_string(),
                actor: p.actor.actor_id,
                reason: p.reason,
            }),
            price_hash: self.price.hash().unwrap_or_default().to_owned(),
            pricing_state: pricing.as_str(),
        });
        Ok(self.emit(Some(before), "OVERRIDE_PRICE", Some(draft.reason), detail))
    }

    /// Runs the engine over the current items and `overrides`; on success the snapshot and the
    /// overrides are replaced and the pricing state follows the result, on a refusal nothing
    /// changes. The book must be the pinned version.
    fn reprice(
        &mut self,
        book: PriceBook,
        overrides: Vec<PriceOverride>,
        pricer: &Actor,
        now: DateTime<Utc>,
    ) -> Result<cpq_pricing::PricingState, QuoteError> {
        let pin = self.identity.price_book;
        if book.id != pin.id.to_string() || book.version != pin.version {
            return Err(QuoteError::Inconsistent(format!(
                "priced against {} v{}, pinned to {} v{}",
                book.id, book.version, pin.id, pin.version
            )));
        }
        let (priced, snapshot) = run_pricing(
            book,
            &self.items,
            &overrides,
            PricingRun {
                currency: self.identity.currency,
                priced_by: &pricer.actor_id,
                at: now,
            },
        )?;
        let state = cpq_pricing::transition(self.price.state(), priced.state_command())?;
        self.price = QuotePrice::Priced { state, snapshot };
        self.overrides = overrides;
        Ok(state)
    }

    /// Moves the pricing state without a new snapshot (stale, frozen).
    pub(super) fn set_pricing_state(&mut self, to: cpq_pricing::PricingState) {
        if let QuotePrice::Priced { state, .. } = &mut self.price {
            *state = to;
        }
    }

    /// Totals of the latest snapshot, as the engine wrote them.
    fn totals(&self) -> serde_json::Value {
        self.price
            .snapshot()
            .and_then(|s| s.result.get("totals").cloned())
            .unwrap_or(serde_json::Value::Null)
    }
}
