//! CreateQuote: checks the request, pins the published price-book version and configures the
//! items against the catalog (concurrently, before any transaction), then writes the quote.

use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::configure::{Configured, configure_items};
use super::error::{CpqError, CpqResult};
use super::ports::Ports;
use super::views::{QuoteView, quote_view};
use super::{commit_change, db_now};
use crate::domain::PriceBookId;
use crate::domain::input::Violations;
use crate::domain::quote::editing::{NewQuote, check_new_quote, pin_price_book};
use crate::domain::quote::items::check_drafts;
use crate::domain::quote::{ItemDraft, Quote};

/// Input of `CreateQuote`.
#[derive(Debug, Clone)]
pub struct CreateQuote {
    /// Customer.
    pub customer_id: String,
    /// ISO-4217 currency; must be the price book's.
    pub currency: String,
    /// Price book.
    pub price_book_id: PriceBookId,
    /// Price book version; the published one when absent.
    pub price_book_version: Option<i32>,
    /// End of validity.
    pub valid_until: DateTime<Utc>,
    /// Items, configured right away when present.
    pub items: Option<Vec<ItemDraft>>,
}

/// What the catalog said, gathered before the transaction.
#[derive(Debug, Clone)]
pub struct CreatePlan {
    new: NewQuote,
    configured: Option<Configured>,
}

/// Checks the input and reads the catalog: the price book's live state and, with items, the
/// offerings they name, all concurrently. Nothing is written.
pub async fn plan(
    ports: &Ports,
    ctx: &RequestContext,
    input: CreateQuote,
) -> CpqResult<CreatePlan> {
    ctx.authorize(Action::EditQuote)?;
    let mut violations = Violations::default();
    let checked = check_new_quote(
        &input.customer_id,
        &input.currency,
        input.valid_until,
        input.price_book_version,
        db_now(),
        &mut violations,
    );
    if let Some(items) = &input.items
        && let Err(found) = check_drafts(items, false)
    {
        violations.extend(found);
    }
    let (Some((customer, currency)), true) = (checked, violations.is_empty()) else {
        return Err(CpqError::Invalid(
            violations.finish().err().unwrap_or_default(),
        ));
    };
    let drafts = input.items.filter(|items| !items.is_empty());
    let book_facts = ports.catalog.price_book_facts(ctx, input.price_book_id);
    let configured = async {
        match &drafts {
            Some(drafts) => configure_items(ports, ctx, drafts).await.map(Some),
            None => Ok(None),
        }
    };
    let (book_facts, configured) = futures::join!(book_facts, configured);
    // The price book is checked first: its problems are reported before the items'.
    let price_book = pin_price_book(
        input.price_book_id,
        input.price_book_version,
        book_facts?.as_ref(),
        currency,
    )?;
    Ok(CreatePlan {
        new: NewQuote {
            tenant: ctx.tenant_id.clone(),
            customer,
            currency,
            price_book,
            valid_until: input.valid_until,
        },
        configured: configured?,
    })
}

/// Writes the planned quote: DRAFT, or CONFIGURED when every item is valid.
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn execute(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    plan: CreatePlan,
) -> CpqResult<QuoteView> {
    let configured = plan.configured.map(|c| (c.items, c.report));
    let (mut quote, event) = Quote::create(plan.new, configured, &ctx.actor, db_now())?;
    commit_change(conn, ports, ctx, &mut quote, &event).await?;
    Ok(quote_view(&quote))
}
