//! ReviseQuote: opens revision n+1 in DRAFT with the items copied; any approval in force is
//! superseded.

use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::CpqResult;
use super::ports::Ports;
use super::views::{QuoteView, quote_view};
use super::{commit_change, lock_quote};
use crate::domain::QuoteId;

/// Revises the quote, recording `reason`.
#[tracing::instrument(skip_all, fields(quote = %id), err(level = "info"))]
pub async fn execute(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: QuoteId,
    reason: Option<String>,
    expected: Option<i64>,
) -> CpqResult<QuoteView> {
    ctx.authorize(Action::EditQuote)?;
    let mut quote = lock_quote(conn, ports, ctx, id).await?;
    let event = quote.revise(expected, reason)?;
    commit_change(conn, ports, ctx, &mut quote, &event).await?;
    Ok(quote_view(&quote))
}
