//! ConvertQuoteToOrder: exactly one conversion per quote. The row lock orders concurrent
//! calls; every call after the first answers with the same conversion (same order id), and the
//! primary key of `quote_conversion` makes a second one impossible whatever happens.

use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::{CpqError, CpqResult};
use super::ports::Ports;
use super::views::{ConversionView, conversion_view};
use super::{commit_change, db_now, lock_quote};
use crate::domain::QuoteId;
use crate::domain::quote::ConversionOutcome;

/// Converts the quote, or answers with its existing conversion.
#[tracing::instrument(skip_all, fields(quote = %id), err(level = "info"))]
pub async fn execute(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: QuoteId,
) -> CpqResult<ConversionView> {
    ctx.authorize(Action::ConvertQuote)?;
    let mut quote = lock_quote(conn, ports, ctx, id).await?;
    if let ConversionOutcome::Converted(event) = quote.convert(&ctx.actor, db_now())? {
        commit_change(conn, ports, ctx, &mut quote, &event).await?;
    }
    quote
        .commitment()
        .conversion()
        .map(|c| conversion_view(quote.id(), c))
        .ok_or_else(|| CpqError::Corrupt("a converted quote without its conversion".into()))
}
