//! Commands that commit a revision or end the quote: submit (for the approval service to
//! decide), revise, accept, cancel, expire and convert. Each doc comment is the command's table from
//! state-machines.md.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use cpq_configuration::config_state::{self, ConfigurationCommand};
use cpq_pricing::PricingState;
use domain_kernel::Actor;
use serde_json::json;

use super::aggregate::Quote;
use super::commitment::{Acceptance, AcceptanceSnapshot, ApprovalSnapshot, Commitment, Conversion};
use super::error::QuoteError;
use super::events::{
    Accepted, Cancelled, Converted, EventDetail, Expired, QuoteEvent, Revised, Submitted,
};
use super::guards::{AcceptanceFacts, check_accept, check_expire};
use super::items::ItemConfiguration;
use super::lifecycle::{QuoteCommand, QuoteStatus, transition};
use super::price::QuotePrice;
use crate::domain::OrderId;
use crate::domain::policy_input::{PolicyInput, Submitter};
use domain_kernel::canonical::{QUOTE_SNAPSHOT_DOMAIN, canonical_hash};

/// What a conversion answers: the one conversion, and the event when this call made it.
#[derive(Debug, Clone, PartialEq)]
pub enum ConversionOutcome {
    /// This call converted the quote.
    Converted(Box<QuoteEvent>),
    /// The quote was converted before; the same conversion is the answer.
    AlreadyConverted,
}

impl Quote {
    /// SubmitQuote · source: PRICED · checks: a current price snapshot · transition: SUBMIT →
    /// SUBMITTED, nothing else: the approval service evaluates its policy on the `policyInput`
    /// this event carries and its outcome moves the quote on ([`Quote::record_approval`]) ·
    /// emits `cpq.quote.submitted.v2`.
    pub fn submit(
        &mut self,
        expected: Option<i64>,
        submitter: Submitter,
    ) -> Result<QuoteEvent, QuoteError> {
        self.check_version(expected)?;
        let status = transition(self.status, QuoteCommand::Submit)?;
        let snapshot = self
            .price
            .snapshot()
            .ok_or(QuoteError::NotPriced { status })?;
        let priced = snapshot
            .priced_quote()
            .map_err(|e| QuoteError::Inconsistent(e.to_string()))?;
        let policy_input = PolicyInput::build(submitter, &priced)?;
        let before = self.summary();
        self.status = status;
        let detail = EventDetail::Submitted(Submitted {
            price_hash: priced.price_hash,
            pricing_state: self.price.state().as_str(),
            policy_input,
        });
        Ok(self.emit(Some(before), "SUBMIT", None, detail))
    }

    /// ReviseQuote · source: SUBMITTED, APPROVAL_PENDING, APPROVED, REJECTED · transition:
    /// REVISE → DRAFT at revision + 1 with the items copied (to be edited, re-configured and
    /// re-priced), the price back to NOT_PRICED and the approval in force superseded (its hash is
    /// named in the event) · emits `cpq.quote.revised.v1`.
    pub fn revise(
        &mut self,
        expected: Option<i64>,
        reason: Option<String>,
    ) -> Result<QuoteEvent, QuoteError> {
        self.check_version(expected)?;
        let status = transition(self.status, QuoteCommand::Revise)?;
        let before = self.summary();
        let detail = EventDetail::Revised(Revised {
            previous_revision: self.revision,
            previous_status: self.status,
            superseded_price_hash: before.price_hash.clone(),
            superseded_approved_price_hash: before.approved_price_hash.clone(),
        });
        self.status = status;
        self.revision += 1;
        self.price = QuotePrice::NotPriced;
        self.overrides.clear();
        self.commitment = Commitment::Open;
        Ok(self.emit(Some(before), "REVISE", reason, detail))
    }

    /// AcceptQuote · source: APPROVED · input: channel, optional customer reference, actor ·
    /// guard: now < valid_until, price FROZEN, price hash = approved hash · transition: ACCEPT
    /// → ACCEPTED; configurations VALID → FROZEN · emits `cpq.quote.accepted.v1`.
    pub fn accept(
        &mut self,
        expected: Option<i64>,
        acceptor: &Actor,
        channel: String,
        reference: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<QuoteEvent, QuoteError> {
        self.check_version(expected)?;
        let status = transition(self.status, QuoteCommand::Accept)?;
        let Commitment::Approved(approved) = &self.commitment else {
            return Err(QuoteError::Inconsistent(
                "an APPROVED quote without approval evidence".into(),
            ));
        };
        check_accept(&AcceptanceFacts {
            now: SystemTime::from(now),
            valid_until: SystemTime::from(self.valid_until),
            price_frozen: self.price.state() == PricingState::Frozen,
            approved_price_hash: &approved.approval.price_hash,
            current_price_hash: self.price.hash().unwrap_or_default(),
        })?;
        let approved = approved.clone();
        for item in &self.items {
            config_state::transition(item.configuration.status(), ConfigurationCommand::Freeze)
                .map_err(|e| QuoteError::Inconsistent(e.to_string()))?;
        }
        for item in &mut self.items {
            if let ItemConfiguration::Valid(resolved) = &item.configuration {
                item.configuration = ItemConfiguration::Frozen(resolved.clone());
            }
        }
        let before = self.summary();
        let acceptance = Acceptance {
            accepted_at: now,
            accepted_by: acceptor.actor_id.clone(),
            channel,
            reference,
        };
        let detail = EventDetail::Accepted(Accepted {
            price_hash: before.price_hash.clone(),
            approved_price_hash: before.approved_price_hash.clone(),
            accepted_by: acceptance.accepted_by.clone(),
            accepted_at: now,
            channel: acceptance.channel.clone(),
            reference: acceptance.reference.clone(),
        });
        self.status = status;
        self.commitment = Commitment::Accepted(approved, acceptance);
        Ok(self.emit(Some(before), "ACCEPT", None, detail))
    }

    /// CancelQuote · source: DRAFT … APPROVED · transition: CANCEL → CANCELLED (terminal) ·
    /// emits `cpq.quote.cancelled.v1`.
    pub fn cancel(
        &mut self,
        expected: Option<i64>,
        reason: Option<String>,
    ) -> Result<QuoteEvent, QuoteError> {
        self.check_version(expected)?;
        let status = transition(self.status, QuoteCommand::Cancel)?;
        let before = self.summary();
        self.status = status;
        Ok(self.emit(
            Some(before),
            "CANCEL",
            reason,
            EventDetail::Cancelled(Cancelled {}),
        ))
    }

    /// ExpireQuote · source: every state that can still expire · guard: now ≥ valid_until ·
    /// transition: EXPIRE → EXPIRED · emits `cpq.quote.expired.v1`.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Result<QuoteEvent, QuoteError> {
        let status = transition(self.status, QuoteCommand::Expire)?;
        check_expire(SystemTime::from(now), SystemTime::from(self.valid_until))?;
        let before = self.summary();
        let detail = EventDetail::Expired(Expired {
            valid_until: self.valid_until,
            approved_price_hash: before.approved_price_hash.clone(),
        });
        self.status = status;
        Ok(self.emit(
            Some(before),
            "EXPIRE",
            Some("validity ended".to_owned()),
            detail,
        ))
    }

    /// ConvertQuoteToOrder · source: ACCEPTED · checks: price FROZEN, price hash = approved
    /// hash, every configuration FROZEN · transition: CONVERT_TO_ORDER → CONVERTED with the
    /// order id and the full frozen snapshot · emits `cpq.quote.converted.v1` · a converted
    /// quote answers with its one conversion, whoever asks.
    pub fn convert(
        &mut self,
        converter: &Actor,
        now: DateTime<Utc>,
    ) -> Result<ConversionOutcome, QuoteError> {
        if self.status == QuoteStatus::Converted {
            return Ok(ConversionOutcome::AlreadyConverted);
        }
        let status = transition(self.status, QuoteCommand::ConvertToOrder)?;
        let Commitment::Accepted(approved, acceptance) = &self.commitment else {
            return Err(QuoteError::Inconsistent(
                "an ACCEPTED quote without acceptance evidence".into(),
            ));
        };
        let price_hash = self.price.hash().unwrap_or_default().to_owned();
        check_accept(&AcceptanceFacts {
            now: SystemTime::UNIX_EPOCH,
            valid_until: SystemTime::from(self.valid_until),
            price_frozen: self.price.state() == PricingState::Frozen,
            approved_price_hash: &approved.approval.price_hash,
            current_price_hash: &price_hash,
        })?;
        if self
            .items
            .iter()
            .any(|i| !matches!(i.configuration, ItemConfiguration::Frozen(_)))
        {
            return Err(QuoteError::Inconsistent(
                "an accepted quote with an unfrozen configuration".into(),
            ));
        }
        let snapshot = self
            .price
            .snapshot()
            .filter(|s| s.frozen && s.price_hash == price_hash)
            .ok_or_else(|| {
                QuoteError::Inconsistent("no frozen price snapshot with the approved hash".into())
            })?;
        let frozen = json!({
            "quoteId": self.identity.id,
            "revision": self.revision,
            "customerId": self.identity.customer.as_str(),
            "currency": self.identity.currency.code(),
            "priceBook": {"id": self.identity.price_book.id, "version": self.identity.price_book.version},
            "priceHash": price_hash,
            "approvedPriceHash": approved.approval.price_hash,
            "traceHash": snapshot.trace_hash,
            "approval": ApprovalSnapshot::of(approved),
            "acceptance": AcceptanceSnapshot {
                accepted_at: acceptance.accepted_at,
                accepted_by: &acceptance.accepted_by,
                channel: &acceptance.channel,
                reference: acceptance.reference.as_deref(),
            },
            "items": self.items.iter().map(|i| json!({
                "itemId": i.id.as_str(),
                "offeringId": i.offering_id,
                "offeringVersion": i.offering_version,
                "quantity": i.quantity,
                "termMonths": i.term_months,
                "discountPercent": i.discount_percent.map(|d| d.to_string()),
                "parentItemId": i.parent_id.as_ref().map(|p| p.as_str()),
                "characteristics": i.characteristics,
                "configurationStatus": i.configuration.status().as_str(),
                "configurationHash": i.configuration.resolved().map(|r| r.hash.as_str()),
                "configuration": i.configuration.resolved().map(|r| &r.document),
            })).collect::<Vec<_>>(),
            "pricing": snapshot.result,
        });
        let conversion = Conversion {
            order_id: OrderId::generate(),
            revision: self.revision,
            price_hash: price_hash.clone(),
            snapshot: frozen.clone(),
            converted_at: now,
            converted_by: converter.actor_id.clone(),
        };
        let (approved, acceptance) = (approved.clone(), acceptance.clone());
        let before = self.summary();
        let detail = EventDetail::Converted(Converted {
            order_id: conversion.order_id,
            price_hash,
            snapshot_hash: canonical_hash(QUOTE_SNAPSHOT_DOMAIN, &frozen),
            snapshot: frozen,
        });
        self.status = status;
        self.commitment = Commitment::Converted(approved, acceptance, conversion);
        Ok(ConversionOutcome::Converted(Box::new(self.emit(
            Some(before),
            "CONVERT_TO_ORDER",
            None,
            detail,
        ))))
    }
}
