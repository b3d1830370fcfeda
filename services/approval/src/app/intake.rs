//! Intake: CPQ published `cpq.quote.submitted.v1` for a quote revision; the policy is
//! evaluated here, once (ADR 0031), and a request opens: PENDING with its chain, NOT_REQUIRED,
//! or APPROVED at once when smart re-approval skipped every level.
//!
//! Command OpenFromSubmission · aggregate ApprovalRequest · source: none · input: the quote
//! revision, price hash and the policy input CPQ took from the priced quote (ADR 0033) ·
//! checks: SubmitQuote (CPQ checked it for the submitter; the consumer's context stands for
//! that) · steps: supersede what the quote's terms no longer match, evaluate the DMN policy,
//! plan the chain, compare with the quote's previous request (smart re-approval), open ·
//! idempotency: one request per quote revision and price hash — a redelivered or replayed
//! submission returns the request it opened (the inbox dedupes the event id as well).

use chrono::Duration;
use common_kernel::context::RequestContext;
use sqlx::PgConnection;

use super::db_now;
use super::error::{AppError, AppResult};
use super::open_request::{self, OpenInput};
use super::ports::Ports;
use super::supersede::{self, SupersedeInput};
use crate::domain::policy::{self, ApproverRouting};
use crate::domain::reapproval::{self, LevelReuse};
use crate::domain::{ApprovalRequest, ApprovalStatus, QuoteRef, Reason};

/// A submitted quote revision as the event tells it.
#[derive(Debug, Clone)]
pub struct Submission {
    /// Quote, revision and the price hash submitted.
    pub quote: QuoteRef,
    /// What the policy reads, from the priced quote.
    pub policy_input: approval_policy::PolicyInput,
}

/// How long things take: each level's due date comes from the routing; a PENDING request's
/// time is over after `request_ttl`.
#[derive(Debug, Clone)]
pub struct IntakeRules {
    /// Groups and durations per level.
    pub routing: ApproverRouting,
    /// Lifetime of a PENDING request.
    pub request_ttl: Duration,
}

/// What intake did.
#[derive(Debug, Clone)]
pub struct Intake {
    /// The request for the submitted revision.
    pub request: ApprovalRequest,
    /// Whether it already existed (a redelivery): nothing was written.
    pub repeated: bool,
}

/// Opens the request for `submission`, or returns the one already opened for it.
#[tracing::instrument(skip_all, fields(quote = %submission.quote.quote_id, revision = %submission.quote.revision), err(level = "info"))]
pub async fn execute(
    conn: &mut PgConnection,
    ports: &Ports,
    ctx: &RequestContext,
    rules: &IntakeRules,
    submission: Submission,
) -> AppResult<Intake> {
    let quote = submission.quote;
    // Whatever vouches for or may approve another revision or price of this quote ends first:
    // the quote was revised to get here. This also locks the quote's requests, so two
    // deliveries of one submission serialise here.
    supersede::execute(
        conn,
        ports,
        ctx,
        SupersedeInput {
            quote_id: quote.quote_id,
            revision: quote.revision,
            price_hash: Some(quote.price_hash.clone()),
            reason: Reason::parse("the quote was resubmitted at a new revision or price")?,
        },
    )
    .await?;
    let requests = ports
        .requests
        .by_quote(conn, &ctx.tenant_id, quote.quote_id, true)
        .await?;
    if let Some(existing) = requests.iter().find(|r| r.quote() == &quote) {
        return Ok(Intake {
            request: existing.clone(),
            repeated: true,
        });
    }
    let evaluation = approval_policy::evaluate(&submission.policy_input)
        .map_err(|e| AppError::Corrupt(format!("the approval policy could not run: {e}")))?;
    let snapshot = policy::snapshot(&evaluation)
        .map_err(|e| AppError::Corrupt(format!("the policy's evaluation does not map: {e}")))?;
    let now = db_now();
    let chain = rules
        .routing
        .plan(&snapshot, now)
        .map_err(|e| AppError::Corrupt(format!("the approver routing failed: {e}")))?;
    // Smart re-approval compares with the newest earlier request that may vouch (ADR 0032).
    let skips = requests
        .iter()
        .find(|r| {
            matches!(
                r.status(),
                ApprovalStatus::Superseded | ApprovalStatus::Rejected
            )
        })
        .map(|previous| {
            reapproval::plan(previous, &snapshot)
                .into_iter()
                .filter_map(LevelReuse::into_skip)
                .collect()
        })
        .unwrap_or_default();
    let request = open_request::execute(
        conn,
        ports,
        ctx,
        OpenInput {
            quote,
            snapshot,
            chain,
            skips,
            expires_at: now + rules.request_ttl,
        },
    )
    .await?;
    Ok(Intake {
        request,
        repeated: false,
    })
}
