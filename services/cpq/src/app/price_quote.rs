//! PriceQuote: the pinned price-book version is read (from the cache when it can be) before
//! the quote is locked; under the lock the pin is checked again and the engine runs.

use common_kernel::context::RequestContext;
use common_kernel::db::begin_read_for_tenant;
use cpq_pricing::PriceBook;
use domain_kernel::access::Action;
use sqlx::{PgConnection, PgPool};

use super::error::{CpqError, CpqResult};
use super::ports::Ports;
use super::views::{QuoteView, quote_view};
use super::{commit_change, db_now, lock_quote, plan_head};
use crate::domain::QuoteId;
use crate::domain::quote::editing::PriceBookRefusal;
use crate::domain::quote::{PriceBookPin, QuoteCommand};

/// Refuses early what the lock would refuse, then reads the pinned price book.
pub async fn plan(
    db: &PgPool,
    ports: &Ports,
    ctx: &RequestContext,
    id: QuoteId,
    expected: Option<i64>,
) -> CpqResult<PriceBook> {
    ctx.authorize(Action::EditQuote)?;
    let head = {
        let mut conn = begin_read_for_tenant(db, &ctx.tenant_id).await?;
        plan_head(&mut conn, ports, ctx, id, expected, QuoteCommand::Price).await?
    };
    pinned_book(ports, ctx, head.price_book).await
}

/// The content of the pinned price-book version.
pub async fn pinned_book(
    ports: &Ports,
    ctx: &RequestContext,
    pin: PriceBookPin,
) -> CpqResult<PriceBook> {
    ports.catalog.price_book(ctx, pin).await?.ok_or_else(|| {
        CpqError::PriceBook(PriceBookRefusal::Unknown(format!(
            "{} v{}",
            pin.id, pin.version
        )))
    })
}

/// Prices the current revision and stores the snapshot.
#[tracing::instrument(skip_all, fields(quote = %id), err(level = "info"))]
pub async fn execute(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: QuoteId,
    expected: Option<i64>,
    book: PriceBook,
) -> CpqResult<QuoteView> {
    let mut quote = lock_quote(conn, ports, ctx, id).await?;
    let event = quote.price(expected, book, &ctx.actor, db_now())?;
    commit_change(conn, ports, ctx, &mut quote, &event).await?;
    Ok(quote_view(&quote))
}
