//! ReplaceItems: the new item list is checked and configured against the catalog before the
//! quote is locked; under the lock the aggregate decides (version, lifecycle, pricing state).

use common_kernel::context::RequestContext;
use common_kernel::db::begin_read_for_tenant;
use domain_kernel::access::Action;
use sqlx::{PgConnection, PgPool};

use super::configure::{Configured, configure_items};
use super::error::{CpqError, CpqResult};
use super::ports::Ports;
use super::views::{QuoteView, quote_view};
use super::{commit_change, lock_quote, plan_head};
use crate::domain::QuoteId;
use crate::domain::quote::items::check_drafts;
use crate::domain::quote::{ItemDraft, QuoteCommand};

/// Checks the items, refuses early what the lock would refuse, and configures them against
/// the catalog; the head is read in a read-only transaction scoped to the tenant, which ends
/// before the catalog is asked.
pub async fn plan(
    db: &PgPool,
    ports: &Ports,
    ctx: &RequestContext,
    id: QuoteId,
    expected: Option<i64>,
    drafts: Vec<ItemDraft>,
) -> CpqResult<Configured> {
    ctx.authorize(Action::EditQuote)?;
    check_drafts(&drafts, true).map_err(CpqError::Invalid)?;
    {
        let mut conn = begin_read_for_tenant(db, &ctx.tenant_id).await?;
        plan_head(&mut conn, ports, ctx, id, expected, QuoteCommand::EditItems).await?;
    }
    configure_items(ports, ctx, &drafts).await
}

/// Replaces the items of the current revision with the configured ones.
#[tracing::instrument(skip_all, fields(quote = %id), err(level = "info"))]
pub async fn execute(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    id: QuoteId,
    expected: Option<i64>,
    configured: Configured,
) -> CpqResult<QuoteView> {
    let mut quote = lock_quote(conn, ports, ctx, id).await?;
    let event = quote.replace_items(expected, configured.items, &configured.report)?;
    commit_change(conn, ports, ctx, &mut quote, &event).await?;
    Ok(quote_view(&quote))
}
