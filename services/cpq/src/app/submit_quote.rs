//! SubmitQuote: the priced revision goes to SUBMITTED under the quote's lock, and its event
//! carries the policy input the approval service evaluates (ADR 0035); no catalog call is
//! needed.

use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::CpqResult;
use super::ports::Ports;
use super::views::{QuoteView, quote_view};
use super::{commit_change, lock_quote};
use crate::domain::QuoteId;
use crate::domain::policy_input::Submitter;

/// Submits the quote: SUBMITTED, until the approval service's outcome arrives.
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
    let event = quote.submit(expected, submitter)?;
    commit_change(conn, ports, ctx, &mut quote, &event).await?;
    Ok(quote_view(&quote))
}
