//! AcceptQuote: records the customer's acceptance of an APPROVED quote whose frozen price is
//! the approved one, before its validity ends.

use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::{CpqError, CpqResult};
use super::ports::Ports;
use super::views::QuoteView;
use super::{commit_change, db_now, lock_quote};
use crate::domain::QuoteId;
use crate::domain::input::InputViolation;

/// Input of `AcceptQuote`.
#[derive(Debug, Clone, Default)]
pub struct AcceptInput {
    /// Channel of the acceptance (default: the request's channel).
    pub channel: Option<String>,
    /// Customer's reference (PO number, signature id).
    pub reference: Option<String>,
}

/// Accepts the quote as the request's actor.
#[tracing::instrument(skip_all, fields(quote = %id), err(level = "info"))]
pub async fn execute(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: QuoteId,
    input: AcceptInput,
    expected: Option<i64>,
) -> CpqResult<QuoteView> {
    ctx.authorize(Action::AcceptQuote)?;
    let channel = input.channel.unwrap_or_else(|| ctx.channel.clone());
    if channel.trim().is_empty() || channel.chars().count() > 64 {
        return Err(invalid("/channel", "INVALID", "1-64 characters"));
    }
    if input
        .reference
        .as_ref()
        .is_some_and(|r| r.chars().count() > 200)
    {
        return Err(invalid("/reference", "TOO_LONG", "at most 200 characters"));
    }
    let mut quote = lock_quote(conn, ports, ctx, id).await?;
    let event = quote.accept(expected, &ctx.actor, channel, input.reference, db_now())?;
    commit_change(conn, ports, ctx, &mut quote, &event).await?;
    super::current_view(conn, ports, ctx, &quote).await
}

fn invalid(field: &str, code: &str, message: &str) -> CpqError {
    CpqError::Invalid(vec![InputViolation::new(field, code, message)])
}
