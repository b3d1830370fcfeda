//! OpenRequest: a quote revision was submitted; the policy's evaluation (a `PolicySnapshot`)
//! and the planned chain open a request: PENDING, or NOT_REQUIRED when no level is required
//! (and APPROVED at once when smart re-approval skipped every level).
//!
//! Command OpenRequest · aggregate ApprovalRequest · source: none (creation) · input: quote
//! revision and hash, snapshot, chain plans, skips, expiry · checks: SubmitQuote permission,
//! snapshot coherent, chain fits it · related: one PENDING request per revision (schema) ·
//! history OPEN (+ COMPLETE_APPROVAL) · events `approval.requested.v1` (+ `approved.v1`) ·
//! idempotency: the HTTP key; a second open while one is PENDING is refused.

use chrono::{DateTime, Utc};
use common_kernel::context::RequestContext;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::AppResult;
use super::ports::Ports;
use super::{db_now, recording};
use crate::domain::{
    ApprovalRequest, ApprovalRequestId, LevelPlan, NewRequest, PolicySnapshot, QuoteRef,
    SkipEvidence,
};

/// What opening needs; the submitter is the caller (CPQ acts for the user who submitted).
#[derive(Debug, Clone)]
pub struct OpenInput {
    /// The quote revision and price hash submitted.
    pub quote: QuoteRef,
    /// The policy evaluation.
    pub snapshot: PolicySnapshot,
    /// One plan per required level, in order.
    pub chain: Vec<LevelPlan>,
    /// Levels smart re-approval skips.
    pub skips: Vec<SkipEvidence>,
    /// When a PENDING request's time is over.
    pub expires_at: DateTime<Utc>,
}

/// Opens the request and records it.
#[tracing::instrument(skip_all, fields(quote = %input.quote.quote_id), err(level = "info"))]
pub async fn execute(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    input: OpenInput,
) -> AppResult<ApprovalRequest> {
    ctx.authorize(Action::SubmitQuote)?;
    let (request, events) = ApprovalRequest::open(NewRequest {
        id: ApprovalRequestId::generate(),
        tenant: ctx.tenant_id.clone(),
        quote: input.quote,
        submitter: ctx.actor.actor_id.clone(),
        snapshot: input.snapshot,
        chain: input.chain,
        skips: input.skips,
        expires_at: input.expires_at,
        at: db_now(),
    })?;
    ports.requests.insert(conn, ctx, &request, &events).await?;
    for event in &events {
        recording::publish(conn, ctx, &request, event).await?;
    }
    Ok(request)
}
