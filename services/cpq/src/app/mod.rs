//! Application layer: one module per use case. A command plans first (reads what it needs
//! without locks and asks the catalog), then takes the quote's lock, lets the aggregate decide,
//! and writes rows, history, outbox event and audit evidence in the caller's transaction. No
//! network call happens while the quote's row is locked.

pub mod accept_quote;
pub mod approval_outcomes;
pub mod approval_views;
pub mod cancel_quote;
pub mod configure;
pub mod convert_quote;
pub mod create_quote;
pub mod error;
pub mod expire_quotes;
pub mod override_price;
pub mod ports;
pub mod price_quote;
pub mod queries;
pub mod recording;
pub mod replace_items;
pub mod revise_quote;
pub mod submit_quote;
pub mod views;

use chrono::{DateTime, SubsecRound, Utc};
use common_kernel::context::RequestContext;
use sqlx::PgConnection;

use crate::domain::QuoteId;
use crate::domain::quote::{Quote, QuoteCommand, QuoteError, QuoteEvent, lifecycle};
use error::{CpqError, CpqResult};
use ports::{Ports, QuoteHead};
use views::{QuoteView, quote_view};

/// The current time at the database's precision (microseconds), so an answer built in memory
/// equals the same record read back later.
pub fn db_now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Locks the tenant's quote for the rest of the transaction.
pub async fn lock_quote(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: QuoteId,
) -> CpqResult<Quote> {
    ports
        .quotes
        .lock(conn, &ctx.tenant_id, id)
        .await?
        .ok_or(CpqError::QuoteNotFound(id))
}

/// Saves what `event` changed and publishes its outbox event and audit evidence.
pub async fn commit_change(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    quote: &mut Quote,
    event: &QuoteEvent,
) -> CpqResult<()> {
    ports.quotes.save(conn, ctx, quote, event).await?;
    recording::publish(conn, ctx, event).await
}

/// Reads the quote's head without a lock and refuses early what the lock would refuse anyway
/// (unknown quote, stale `If-Match`, a command the status does not allow), so a doomed command
/// never waits for the catalog. The aggregate checks all of it again under the lock.
pub async fn plan_head(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: QuoteId,
    expected: Option<i64>,
    command: QuoteCommand,
) -> CpqResult<QuoteHead> {
    let head = ports
        .quotes
        .head(conn, &ctx.tenant_id, id)
        .await?
        .ok_or(CpqError::QuoteNotFound(id))?;
    if let Some(expected) = expected
        && expected != head.version
    {
        return Err(QuoteError::VersionMismatch {
            expected,
            current: head.version,
        }
        .into());
    }
    lifecycle::transition(head.status, command).map_err(QuoteError::from)?;
    Ok(head)
}

/// The quote as clients see it, with the latest approval request the approval service
/// published for its current revision (read from CPQ's copy in the caller's transaction).
pub async fn current_view(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    quote: &Quote,
) -> CpqResult<QuoteView> {
    let evidence = ports
        .approvals
        .latest(conn, &ctx.tenant_id, quote.id(), quote.revision())
        .await?;
    let mut view = quote_view(quote);
    view.approval_request = evidence.as_ref().map(approval_views::approval_request_view);
    Ok(view)
}
