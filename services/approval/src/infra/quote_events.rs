//! The consumer of CPQ's quote events (`cpq.quote.events.v1`): a submission
//! (`cpq.quote.submitted.v2`, or a v1 that carries the policy input) opens an approval
//! request (policy evaluated here, once); a revision, cancellation or expiry of the quote
//! supersedes what no longer matches. Runs in the inbox transaction on the jobs role's pool
//! (cross-tenant; `migrations/approval/20261216000002_intake_and_process_sync.sql` grants what
//! it writes), so a duplicate delivery is acknowledged without effect and a failure rolls back
//! with the inbox row.

use std::sync::Arc;

use common_kernel::context::RequestContext;
use domain_kernel::access::{Authority, Role};
use domain_kernel::{ActorId, ActorType, TenantId};
use messaging::consumer::{EnvelopeHead, EventHandler, HandlerError, IncomingEvent};
use serde::Deserialize;
use sqlx::PgConnection;

use crate::app::error::AppError;
use crate::app::intake::{self, IntakeRules, Submission};
use crate::app::ports::Ports;
use crate::app::supersede::{self, SupersedeInput};
use crate::domain::{PriceHash, QuoteId, QuoteRef, QuoteRevision, Reason};

/// The topic CPQ publishes quote events on.
pub const QUOTE_TOPIC: &str = "cpq.quote.events.v1";
/// This consumer's group.
pub const CONSUMER_GROUP: &str = "approval.quote-submissions";
/// Channel a newly opened request is announced on at commit, so the process starter wakes.
pub const OPENED_CHANNEL: &str = "approval_request_opened";

/// What a submitted, revised, cancelled or expired quote event says (`cpq.v1` transition).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QuoteTransition {
    quote_id: QuoteId,
    revision: i32,
    #[serde(default)]
    price_hash: Option<String>,
    #[serde(default)]
    policy_input: Option<approval_policy::PolicyInput>,
}

/// Applies CPQ's quote events to approval requests.
#[derive(Debug, Clone)]
pub struct QuoteEventHandler {
    ports: Ports,
    rules: Arc<IntakeRules>,
}

impl QuoteEventHandler {
    /// A handler over the service's ports and intake rules.
    pub fn new(ports: Ports, rules: Arc<IntakeRules>) -> Self {
        Self { ports, rules }
    }
}

fn permanent(what: impl std::fmt::Display) -> HandlerError {
    HandlerError::Permanent(what.to_string())
}

/// A database failure or a concurrent change is worth retrying; a refusal or bad data is not.
fn classify(error: AppError) -> HandlerError {
    match error {
        AppError::Database(source) => HandlerError::Retryable(format!("database error: {source}")),
        AppError::Conflict(_) => HandlerError::Retryable(error.to_string()),
        other => HandlerError::Permanent(format!("{}: {other}", other.code())),
    }
}

/// The context the consumer acts in: the quote's tenant, the user who changed the quote (CPQ
/// authorized them before publishing; the event stands for that permission, so the context
/// carries the sales role and says it came via CPQ) and the event's correlation.
fn context(envelope: &EnvelopeHead, event: &IncomingEvent) -> Result<RequestContext, HandlerError> {
    let tenant = TenantId::parse(&envelope.tenant_id).map_err(permanent)?;
    let actor = ActorId::parse(&envelope.actor_id).map_err(permanent)?;
    let mut ctx = RequestContext::system(
        tenant,
        actor,
        ActorType::HumanAgent,
        "kafka",
        Authority {
            roles: vec![Role::SalesAgent],
            client: "cpq".into(),
            via: Some("cpq".into()),
            ..Authority::default()
        },
    );
    ctx.correlation_id = envelope.correlation_id.clone();
    ctx.business_transaction_id = envelope.business_transaction_id.clone();
    ctx.causation_id = Some(event.event_id.to_string());
    ctx.traceparent = envelope.traceparent.clone();
    Ok(ctx)
}

impl EventHandler for QuoteEventHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        let envelope = event.head().map_err(permanent)?;
        let reason = match envelope.event_type.as_str() {
            // v2 (ADR 0035) always carries the policy input; v1 only since ADR 0033.
            "cpq.quote.submitted.v1" | "cpq.quote.submitted.v2" => None,
            "cpq.quote.revised.v1" => Some("the quote was revised"),
            "cpq.quote.cancelled.v1" => Some("the quote was cancelled"),
            "cpq.quote.expired.v1" => Some("the quote expired"),
            _ => return Ok(()),
        };
        let quote: QuoteTransition =
            serde_json::from_value(envelope.payload.clone()).map_err(permanent)?;
        let revision = QuoteRevision::new(quote.revision).map_err(permanent)?;
        let mut ctx = context(&envelope, event)?;
        if let Some(actor_type) = quote.policy_input.as_ref().map(|p| p.actor_type) {
            ctx.actor.actor_type = actor_type;
        }
        match reason {
            Some(reason) => {
                supersede::execute(
                    conn,
                    &self.ports,
                    &ctx,
                    SupersedeInput {
                        quote_id: quote.quote_id,
                        revision,
                        price_hash: None,
                        reason: Reason::parse(reason).map_err(permanent)?,
                    },
                )
                .await
                .map_err(classify)?;
                // The superseded requests' instances are cancelled by the process sync.
                notify(conn).await
            }
            None => {
                let Some(policy_input) = quote.policy_input else {
                    // Published before ADR 0033: CPQ's own policy v1 decided that submit.
                    tracing::warn!(quote = %quote.quote_id, "a submission without policyInput: left to CPQ's own decision");
                    return Ok(());
                };
                let price_hash = quote
                    .price_hash
                    .as_deref()
                    .ok_or_else(|| permanent("a submission without priceHash"))
                    .and_then(|h| PriceHash::parse(h).map_err(permanent))?;
                let opened = intake::execute(
                    conn,
                    &self.ports,
                    &ctx,
                    &self.rules,
                    Submission {
                        quote: QuoteRef {
                            quote_id: quote.quote_id,
                            revision,
                            price_hash,
                        },
                        policy_input,
                    },
                )
                .await
                .map_err(classify)?;
                if !opened.repeated {
                    tracing::info!(request = %opened.request.id(), status = %opened.request.status().as_str(), "approval request opened");
                }
                notify(conn).await
            }
        }
    }
}

/// Wakes the process sync when the transaction commits (PostgreSQL delivers a notification at
/// commit and drops it on rollback).
async fn notify(conn: &mut PgConnection) -> Result<(), HandlerError> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(OPENED_CHANNEL)
        .execute(conn)
        .await?;
    Ok(())
}
