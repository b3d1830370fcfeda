//! The consumer of the events that move orders: CPQ's `cpq.quote.converted.v1` (capture, once
//! per quote) and the integration service's outcome events (task state, ADR 0037). Runs in the
//! inbox transaction on the jobs role's pool (the tenant comes from the envelope; the jobs role
//! is granted what capture and outcomes write), so a duplicate delivery is acknowledged without
//! effect and a failure rolls back with the inbox row.

use common_kernel::context::RequestContext;
use domain_kernel::access::{Authority, Role};
use domain_kernel::{ActorId, ActorType, TenantId};
use messaging::consumer::{EnvelopeHead, EventHandler, HandlerError, IncomingEvent};
use serde::Deserialize;
use sqlx::PgConnection;

use crate::app::capture::{self, Captured, QuoteConversion};
use crate::app::error::AppError;
use crate::app::outcomes::{self, OperationOutcome};
use crate::domain::{OrderId, QuoteId};

/// The topics this consumer reads.
pub const TOPICS: [&str; 5] = [
    "cpq.quote.events.v1",
    "integration.inventory.events.v1",
    "integration.provisioning.events.v1",
    "integration.billing.events.v1",
    "integration.engagement.events.v1",
];
/// This consumer's group.
pub const CONSUMER_GROUP: &str = "order.capture-and-outcomes";
/// Channel a captured order is announced on at commit, so the process starter wakes.
pub const CAPTURED_CHANNEL: &str = "order_captured";

/// What `cpq.quote.converted.v1` says (the `cpq.v1` transition plus the conversion).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConvertedPayload {
    quote_id: QuoteId,
    customer_id: String,
    revision: u32,
    order_id: OrderId,
    price_hash: String,
    #[serde(default)]
    snapshot_hash: Option<String>,
    snapshot: serde_json::Value,
}

/// Applies conversions and integration outcomes to orders.
#[derive(Debug, Clone, Default)]
pub struct OrderEventHandler;

fn permanent(what: impl std::fmt::Display) -> HandlerError {
    HandlerError::Permanent(what.to_string())
}

fn classify(error: AppError) -> HandlerError {
    if error.is_transient() {
        HandlerError::Retryable(error.to_string())
    } else {
        HandlerError::Permanent(format!("{}: {error}", error.code()))
    }
}

/// The context the consumer acts in: the event's tenant, its actor (the one who converted the
/// quote, or the integration worker) and its correlation.
fn context(
    envelope: &EnvelopeHead,
    event: &IncomingEvent,
    client: &str,
) -> Result<RequestContext, HandlerError> {
    let tenant = TenantId::parse(&envelope.tenant_id).map_err(permanent)?;
    let actor = ActorId::parse(&envelope.actor_id).map_err(permanent)?;
    let mut ctx = RequestContext::system(
        tenant,
        actor,
        ActorType::InternalService,
        "kafka",
        Authority {
            roles: vec![Role::Service],
            client: client.into(),
            via: Some(client.into()),
            ..Authority::default()
        },
    );
    ctx.correlation_id = envelope.correlation_id.clone();
    ctx.business_transaction_id = envelope.business_transaction_id.clone();
    ctx.causation_id = Some(event.event_id.to_string());
    ctx.traceparent = envelope.traceparent.clone();
    Ok(ctx)
}

impl EventHandler for OrderEventHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        let envelope = event.head().map_err(permanent)?;
        if envelope.event_type == "cpq.quote.converted.v1" {
            let payload: ConvertedPayload =
                serde_json::from_value(envelope.payload.clone()).map_err(permanent)?;
            let ctx = context(&envelope, event, "cpq")?;
            let conversion = QuoteConversion {
                order_id: payload.order_id,
                quote_id: payload.quote_id,
                customer_id: payload.customer_id,
                revision: payload.revision,
                price_hash: payload.price_hash,
                snapshot_hash: payload.snapshot_hash,
                snapshot: payload.snapshot,
                event_id: event.event_id.to_string(),
            };
            let captured = capture::capture_from_quote(conn, &ctx, &conversion)
                .await
                .map_err(classify)?;
            if let Captured::Acknowledged(order) = captured {
                tracing::info!(order = %order, quote = %conversion.quote_id, "order captured from the quote");
                notify_captured(conn).await?;
            }
            return Ok(());
        }
        if event.topic.starts_with("integration.") {
            let outcome: OperationOutcome =
                serde_json::from_value(envelope.payload.clone()).map_err(permanent)?;
            let ctx = context(&envelope, event, "integration")?;
            return outcomes::apply(conn, &ctx, &outcome)
                .await
                .map_err(classify);
        }
        Ok(())
    }
}

/// Wakes the process starter when the transaction commits.
pub async fn notify_captured(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(CAPTURED_CHANNEL)
        .execute(conn)
        .await?;
    Ok(())
}
