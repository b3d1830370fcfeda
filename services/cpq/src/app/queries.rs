//! Quote queries: one quote, a page of quotes, the price trace. They read on a pooled
//! connection without locks and map stored data to views.

use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::{CpqError, CpqResult};
use super::ports::{ListFilter, Ports};
use super::views::{PriceTraceView, QuoteSummary, QuoteView, price_trace_view, summary_view};
use crate::domain::QuoteId;
use crate::domain::input::InputViolation;
use crate::domain::quote::{Quote, QuoteError, QuoteStatus};

async fn load(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: QuoteId,
) -> CpqResult<Quote> {
    ports
        .quotes
        .load(conn, &ctx.tenant_id, id)
        .await?
        .ok_or(CpqError::QuoteNotFound(id))
}

/// Reads a quote with its current revision.
pub async fn get(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: QuoteId,
) -> CpqResult<QuoteView> {
    ctx.authorize(Action::ViewQuote)?;
    let quote = load(conn, ports, ctx, id).await?;
    super::current_view(conn, ports, ctx, &quote).await
}

/// Lists the tenant's quotes, newest first, optionally by status and customer.
pub async fn list(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    status: Option<&str>,
    customer_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> CpqResult<(Vec<QuoteSummary>, i64)> {
    ctx.authorize(Action::ViewQuote)?;
    let status = match status {
        None => None,
        Some(name) => Some(QuoteStatus::parse(name).ok_or_else(|| {
            CpqError::Invalid(vec![InputViolation::new(
                "query:status",
                "UNKNOWN_STATUS",
                format!("{name} is not a quote status"),
            )])
        })?),
    };
    let filter = ListFilter {
        status,
        customer_id,
        limit,
        offset,
    };
    let (rows, total) = ports.quotes.list(conn, &ctx.tenant_id, filter).await?;
    Ok((rows.iter().map(summary_view).collect(), total))
}

/// The price trace of the current revision.
pub async fn price_trace(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: QuoteId,
) -> CpqResult<PriceTraceView> {
    ctx.authorize(Action::ViewQuote)?;
    let quote = load(conn, ports, ctx, id).await?;
    let snapshot = quote.pricing().snapshot().ok_or(QuoteError::NotPriced {
        status: quote.status(),
    })?;
    Ok(price_trace_view(&quote, snapshot))
}
