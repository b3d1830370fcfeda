//! Supersede: the quote's commercial terms changed (a revision, a new price), so every request
//! that still vouches for, or may still approve, an older revision or another price hash
//! (PENDING, APPROVED or NOT_REQUIRED) → SUPERSEDED with `approval.superseded.v1`. A request
//! for exactly the current revision and hash is left alone.
//!
//! Permission EditQuote (CPQ acts for the user who revised). The quote's requests are locked
//! together, newest first, so two supersessions of one quote serialise.

use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::AppResult;
use super::ports::Ports;
use super::{commit_change, db_now};
use crate::domain::{ApprovalRequestId, ApprovalStatus, PriceHash, QuoteId, QuoteRevision, Reason};

/// The quote's terms now.
#[derive(Debug, Clone)]
pub struct SupersedeInput {
    /// The quote.
    pub quote_id: QuoteId,
    /// Its current revision.
    pub revision: QuoteRevision,
    /// Its current price hash, when priced.
    pub price_hash: Option<PriceHash>,
    /// Why (the quote command that changed the terms).
    pub reason: Reason,
}

/// Supersedes what no longer matches; returns the requests superseded.
#[tracing::instrument(skip_all, fields(quote = %input.quote_id), err(level = "info"))]
pub async fn execute(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    input: SupersedeInput,
) -> AppResult<Vec<ApprovalRequestId>> {
    ctx.authorize(Action::EditQuote)?;
    let at = db_now();
    let requests = ports
        .requests
        .by_quote(conn, &ctx.tenant_id, input.quote_id, true)
        .await?;
    let mut superseded = Vec::new();
    for mut request in requests {
        let open = matches!(
            request.status(),
            ApprovalStatus::Pending | ApprovalStatus::Approved | ApprovalStatus::NotRequired
        );
        let current = request.quote().revision == input.revision
            && Some(&request.quote().price_hash) == input.price_hash.as_ref();
        if !open || current {
            continue;
        }
        let event = request.supersede(input.reason.clone(), at)?;
        commit_change(conn, ports, ctx, &request, &event).await?;
        superseded.push(request.id());
    }
    Ok(superseded)
}
