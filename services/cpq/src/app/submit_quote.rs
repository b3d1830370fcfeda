//! SubmitQuote: the approval policy evaluates the priced revision under the quote's lock; no
//! catalog call is needed.

use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::CpqResult;
use super::ports::Ports;
use super::views::{QuoteView, quote_view};
use super::{commit_change, db_now, lock_quote};
use crate::domain::QuoteId;
use crate::domain::approval::Submitter;

/// Submits the quote; the policy decides between APPROVAL_PENDING and APPROVED.
#[tracing::instrument(skip_all, fields(quote = %id), err(level = "info"))]
pub async fn execute(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: QuoteId,
    expected: Option<i64>,
) -> CpqResult<QuoteView> {
    ctx.authorize(Action::SubmitQuote)?;
    let mut quote = lock_quote(conn, ports, ctx, id).await?;
    let submitter = Submitter {
        actor_type: ctx.actor.actor_type,
        discount_authority: ctx.authority.discount_authority,
    };
    let event = quote.submit(expected, submitter, db_now())?;
    commit_change(conn, ports, ctx, &mut quote, &event).await?;
    Ok(quote_view(&quote))
}
