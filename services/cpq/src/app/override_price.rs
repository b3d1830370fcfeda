//! OverridePrice: the request is checked and the pinned price book read before the quote is
//! locked; under the lock the aggregate records the override and re-prices.

use common_kernel::context::RequestContext;
use common_kernel::db::begin_read_for_tenant;
use cpq_configuration::ItemId;
use cpq_pricing::PriceBook;
use domain_kernel::access::Action;
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};

use super::error::{CpqError, CpqResult};
use super::ports::Ports;
use super::price_quote::pinned_book;
use super::views::{QuoteView, quote_view};
use super::{commit_change, db_now, lock_quote};
use crate::domain::QuoteId;
use crate::domain::quote::editing::{OverrideDraft, check_override};
use crate::domain::quote::{QuoteError, QuoteStatus};

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

/// The checked override and the price book to re-price with.
#[derive(Debug, Clone)]
pub struct OverridePlan {
    draft: OverrideDraft,
    book: PriceBook,
}

/// Checks the request, refuses early what the lock would refuse and reads the price book.
pub async fn plan(
    db: &PgPool,
    ports: &Ports,
    ctx: &RequestContext,
    id: QuoteId,
    expected: Option<i64>,
    input: OverrideInput,
) -> CpqResult<OverridePlan> {
    ctx.authorize(Action::OverridePrice)?;
    let draft = check_override(
        &input.charge,
        input.original_price,
        input.new_price,
        &input.reason,
    )
    .map_err(CpqError::Invalid)?;
    let head = {
        let mut conn = begin_read_for_tenant(db, &ctx.tenant_id).await?;
        ports
            .quotes
            .head(&mut conn, &ctx.tenant_id, id)
            .await?
            .ok_or(CpqError::QuoteNotFound(id))?
    };
    if let Some(expected) = expected
        && expected != head.version
    {
        return Err(QuoteError::VersionMismatch {
            expected,
            current: head.version,
        }
        .into());
    }
    if head.status != QuoteStatus::Priced {
        return Err(QuoteError::NotPriced {
            status: head.status,
        }
        .into());
    }
    let book = pinned_book(ports, ctx, head.price_book).await?;
    Ok(OverridePlan { draft, book })
}

/// Records the override of one charge of one item and re-prices.
#[tracing::instrument(skip_all, fields(quote = %id, item = %item), err(level = "info"))]
pub async fn execute(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: QuoteId,
    item: ItemId,
    expected: Option<i64>,
    plan: OverridePlan,
) -> CpqResult<QuoteView> {
    let mut quote = lock_quote(conn, ports, ctx, id).await?;
    let event =
        quote.override_price(expected, item, plan.draft, plan.book, &ctx.actor, db_now())?;
    commit_change(conn, ports, ctx, &mut quote, &event).await?;
    Ok(quote_view(&quote))
}
