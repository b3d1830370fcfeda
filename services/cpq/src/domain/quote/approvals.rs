//! RecordApprovalOutcome: the approval service's event applied to the quote (ADR 0035). The
//! rule that decides whether anything moves is [`crate::domain::approval::screen`]; the
//! lifecycle table decides where to. An approval freezes the price it covers.

use chrono::SubsecRound;
use cpq_pricing::{PricingCommand, PricingState};

use super::aggregate::Quote;
use super::commitment::{Approval, ApprovalBasis, Approved, Commitment};
use super::error::QuoteError;
use super::events::{EventDetail, QuoteEvent, recorded};
use super::lifecycle::QuoteCommand;
use super::price::QuotePrice;
use crate::domain::approval::{ApprovalOutcome, IgnoredReason, Standing, screen};

/// What an approval outcome did to the quote.
#[derive(Debug, Clone, PartialEq)]
pub enum ApprovalApplication {
    /// The quote moved; the event describes the transition.
    Applied(Box<QuoteEvent>),
    /// Nothing moved, for this reason (to be recorded as ignored).
    Ignored(IgnoredReason),
}

/// The pricing commands that take a price from `state` to FROZEN for an approval.
fn freeze_path(state: PricingState) -> Option<&'static [PricingCommand]> {
    match state {
        PricingState::Priced | PricingState::Approved => Some(&[PricingCommand::Freeze]),
        PricingState::OverridePendingApproval => {
            Some(&[PricingCommand::Approve, PricingCommand::Freeze])
        }
        _ => None,
    }
}

impl Quote {
    /// The root facts an outcome is screened against.
    pub fn standing(&self) -> Standing<'_> {
        Standing {
            status: self.status,
            revision: self.revision,
            price_hash: self.price.hash(),
        }
    }

    /// RecordApprovalOutcome · source: SUBMITTED (requested PENDING → APPROVAL_REQUESTED →
    /// APPROVAL_PENDING; requested NOT_REQUIRED → APPROVAL_NOT_REQUIRED → APPROVED; approved →
    /// APPROVE → APPROVED; rejected → REJECT → REJECTED) or APPROVAL_PENDING (approved,
    /// rejected) · guard: the outcome's revision and price hash are the quote's current ones ·
    /// effect: an approval freezes the price (an override is approved with it) and records the
    /// approved hash; a rejection rejects a pending override · emits
    /// `cpq.quote.approval-pending.v1`, `cpq.quote.approved.v1` or `cpq.quote.rejected.v1`.
    /// Anything else is [`ApprovalApplication::Ignored`] and leaves the quote as it was.
    pub fn record_approval(
        &mut self,
        outcome: &ApprovalOutcome,
    ) -> Result<ApprovalApplication, QuoteError> {
        let (command, status) = match screen(outcome, self.standing()) {
            Ok(next) => next,
            Err(reason) => return Ok(ApprovalApplication::Ignored(reason)),
        };
        let approving = matches!(
            command,
            QuoteCommand::Approve | QuoteCommand::ApprovalNotRequired
        );
        let pricing = if approving {
            let Some(path) = freeze_path(self.price.state()) else {
                return Ok(ApprovalApplication::Ignored(
                    IgnoredReason::PriceNotFreezable(self.price.state().as_str()),
                ));
            };
            path.iter().try_fold(self.price.state(), |state, c| {
                cpq_pricing::transition(state, *c)
            })?
        } else if command == QuoteCommand::Reject
            && self.price.state() == PricingState::OverridePendingApproval
        {
            cpq_pricing::transition(self.price.state(), PricingCommand::Reject)?
        } else {
            self.price.state()
        };
        let decided_at = outcome.occurred_at.trunc_subsecs(6);
        let before = self.summary();
        let basis = ApprovalBasis::Request(outcome.request.clone());
        if let QuotePrice::Priced { state, snapshot } = &mut self.price {
            *state = pricing;
            snapshot.frozen |= pricing == PricingState::Frozen;
        }
        self.status = status;
        self.commitment = if approving {
            Commitment::Approved(Approved {
                basis,
                approval: Approval {
                    price_hash: outcome.price_hash.clone(),
                    approved_at: decided_at,
                    approved_by: outcome.actor.actor_id.as_str().to_owned(),
                },
            })
        } else {
            Commitment::Referred(basis)
        };
        let detail = recorded(
            &outcome.request,
            outcome.status,
            &outcome.price_hash,
            self.commitment.approval().map(|a| a.price_hash.clone()),
            pricing.as_str(),
            (&outcome.actor.actor_id, decided_at),
            outcome.reason.clone(),
        );
        let detail = match command {
            QuoteCommand::ApprovalRequested => EventDetail::ApprovalPending(detail),
            QuoteCommand::Reject => EventDetail::Rejected(detail),
            _ => EventDetail::Approved(detail),
        };
        Ok(ApprovalApplication::Applied(Box::new(self.emit(
            Some(before),
            command.as_str(),
            outcome.reason.clone(),
            detail,
        ))))
    }
}
