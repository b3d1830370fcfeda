//! CancelQuote: abandons a quote that is not yet accepted.

use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::CpqResult;
use super::ports::Ports;
use super::views::QuoteView;
use super::{commit_change, lock_quote};
use crate::domain::QuoteId;

/// Cancels the quote, recording `reason`.
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
    let event = quote.cancel(expected, reason)?;
    commit_change(conn, ports, ctx, &mut quote, &event).await?;
    super::current_view(conn, ports, ctx, &quote).await
}
