//! A published event read as a fact about an order or a quote: which order or quote it
//! concerns, what kind of step it is, and the state it leaves behind. Unknown event types are
//! still facts (kind `OTHER`) so a timeline never silently drops what happened.

use serde_json::{Value, json};

/// What kind of step a fact is, as timelines group them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactKind {
    /// The order changed state.
    OrderState,
    /// A fulfilment task changed state.
    Task,
    /// An external call ended (the integration service's outcome).
    ExternalCall,
    /// The quote changed state (created, priced, submitted, approved, …).
    QuoteState,
    /// An approval request moved (requested, approved, rejected, …).
    Approval,
    /// A decision's audit evidence.
    AuditDecision,
    /// A fallout record was raised or moved.
    Fallout,
    /// A workflow incident was raised or resolved.
    Incident,
    /// Anything else.
    Other,
}

impl FactKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderState => "ORDER_STATE",
            Self::Task => "TASK",
            Self::ExternalCall => "EXTERNAL_CALL",
            Self::QuoteState => "QUOTE_STATE",
            Self::Approval => "APPROVAL",
            Self::AuditDecision => "AUDIT_DECISION",
            Self::Fallout => "FALLOUT",
            Self::Incident => "INCIDENT",
            Self::Other => "OTHER",
        }
    }
}

/// One event as the operators' views read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// The kind of step.
    pub kind: FactKind,
    /// The order it concerns, if any.
    pub order_id: Option<String>,
    /// The quote it concerns, if any.
    pub quote_id: Option<String>,
    /// The customer, when the event names one.
    pub customer_id: Option<String>,
    /// The status it leaves (an order's, a task's, a call's, a quote's).
    pub to_status: Option<String>,
    /// A downstream system's reference of an effect, for search.
    pub external_reference: Option<String>,
    /// A short, stable summary for a timeline row (what moved, from what to what, why).
    pub summary: Value,
}

fn text(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Reads an envelope (`eventType`, `payload`, …) as a fact.
pub fn classify(envelope: &Value) -> Fact {
    let event_type = envelope["eventType"].as_str().unwrap_or_default();
    let payload = &envelope["payload"];
    let family = event_type.split('.').take(2).collect::<Vec<_>>().join(".");
    let fact = |kind, order_id, quote_id, to_status, summary| Fact {
        kind,
        order_id,
        quote_id,
        customer_id: text(payload, "/customerId"),
        to_status,
        external_reference: text(payload, "/externalReference")
            .or_else(|| text(payload, "/result/externalReference")),
        summary,
    };
    match family.as_str() {
        "oms.order" => fact(
            FactKind::OrderState,
            text(payload, "/orderId"),
            text(payload, "/quoteId"),
            text(payload, "/toStatus"),
            json!({
                "from": payload["fromStatus"], "to": payload["toStatus"],
                "failure": payload["failure"],
            }),
        ),
        "oms.fulfillment-task" => fact(
            FactKind::Task,
            text(payload, "/orderId"),
            None,
            text(payload, "/toStatus"),
            json!({
                "taskId": payload["taskId"], "taskType": payload["taskType"],
                "operation": payload["operation"], "from": payload["fromStatus"],
                "to": payload["toStatus"], "failure": payload["failure"],
                "purpose": payload["purpose"],
            }),
        ),
        "cpq.quote" => fact(
            FactKind::QuoteState,
            text(payload, "/orderId"),
            text(payload, "/quoteId"),
            text(payload, "/toStatus"),
            json!({
                "from": payload["fromStatus"], "to": payload["toStatus"],
                "revision": payload["revision"], "priceHash": payload["priceHash"],
                "decidedBy": payload.pointer("/approval/decidedBy").cloned().unwrap_or(Value::Null),
            }),
        ),
        "approval.approved"
        | "approval.rejected"
        | "approval.requested"
        | "approval.escalated"
        | "approval.superseded"
        | "approval.recalled"
        | "approval.expired" => fact(
            FactKind::Approval,
            None,
            text(payload, "/quoteId").or_else(|| text(payload, "/quote/quoteId")),
            text(payload, "/status"),
            json!({
                "requestId": payload["requestId"], "status": payload["status"],
                "revision": payload["revision"], "priceHash": payload["priceHash"],
                "actor": payload.pointer("/actor/actorId").cloned().unwrap_or(Value::Null),
            }),
        ),
        "oms.fallout" => fact(
            FactKind::Fallout,
            text(payload, "/orderId"),
            None,
            text(payload, "/status"),
            json!({
                "falloutId": payload["falloutId"], "category": payload["category"],
                "ownerTeam": payload["ownerTeam"], "from": payload["fromStatus"],
                "to": payload["status"], "failureCode": payload["failureCode"],
                "resolutionType": payload["resolutionType"],
            }),
        ),
        family if family.starts_with("integration.") => fact(
            FactKind::ExternalCall,
            text(payload, "/orderId"),
            None,
            text(payload, "/status"),
            json!({
                "system": payload["system"], "operation": payload["operation"],
                "outcome": payload["outcome"], "attempts": payload["attempts"],
                "externalReference": payload.pointer("/result/externalReference").cloned().unwrap_or(Value::Null),
                "failure": payload["failure"],
            }),
        ),
        "audit.evidence-submitted" => {
            let resource_type = text(payload, "/resource/resourceType").unwrap_or_default();
            let resource_id = text(payload, "/resource/resourceId");
            // Evidence about another resource of an order (a fallout record, a product
            // instance) names the order in its state.
            let named = |field: &str| {
                text(payload, &format!("/after/{field}"))
                    .or_else(|| text(payload, &format!("/before/{field}")))
            };
            let (order_id, quote_id) = match resource_type.as_str() {
                "Order" => (resource_id, None),
                "Quote" => (None, resource_id),
                _ => (named("orderId"), named("quoteId")),
            };
            fact(
                FactKind::AuditDecision,
                order_id,
                quote_id,
                None,
                json!({
                    "decision": payload["eventType"], "actor": payload.pointer("/actor/actorId"),
                    "reason": payload["businessReason"], "resourceType": resource_type,
                }),
            )
        }
        _ => fact(
            FactKind::Other,
            text(payload, "/orderId"),
            text(payload, "/quoteId"),
            None,
            json!({}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_task_call_quote_and_evidence_land_on_their_aggregates() {
        let order = classify(
            &json!({"eventType": "oms.order.status-changed.v1", "payload": {
            "orderId": "o-1", "customerId": "c-1", "quoteId": "q-1", "fromStatus": "ACKNOWLEDGED", "toStatus": "IN_PROGRESS"}}),
        );
        assert_eq!(
            (
                order.kind,
                order.order_id.as_deref(),
                order.to_status.as_deref()
            ),
            (FactKind::OrderState, Some("o-1"), Some("IN_PROGRESS"))
        );
        assert_eq!(order.quote_id.as_deref(), Some("q-1"));
        let task = classify(
            &json!({"eventType": "oms.fulfillment-task.status-changed.v1", "payload": {
            "orderId": "o-1", "taskId": "t-1", "taskType": "ACTIVATE_SERVICE", "fromStatus": "READY", "toStatus": "DISPATCHED"}}),
        );
        assert_eq!(
            (task.kind, task.order_id.as_deref()),
            (FactKind::Task, Some("o-1"))
        );
        let call = classify(
            &json!({"eventType": "integration.provisioning.activation-succeeded.v1", "payload": {
            "orderId": "o-1", "system": "PROVISIONING", "status": "SUCCEEDED", "result": {"externalReference": "X-1"}}}),
        );
        assert_eq!(call.kind, FactKind::ExternalCall);
        assert_eq!(call.summary["externalReference"], "X-1");
        assert_eq!(call.external_reference.as_deref(), Some("X-1"));
        let fallout = classify(
            &json!({"eventType": "oms.fallout.status-changed.v1", "payload": {
            "falloutId": "f-1", "orderId": "o-1", "status": "OPEN", "category": "RETRIES_EXHAUSTED"}}),
        );
        assert_eq!(
            (
                fallout.kind,
                fallout.order_id.as_deref(),
                fallout.to_status.as_deref()
            ),
            (FactKind::Fallout, Some("o-1"), Some("OPEN"))
        );
        let approval = classify(&json!({"eventType": "approval.requested.v1", "payload": {
            "requestId": "r-1", "quoteId": "q-1", "status": "PENDING"}}));
        assert_eq!(approval.summary["requestId"], "r-1");
        let quote = classify(&json!({"eventType": "cpq.quote.priced.v1", "payload": {
            "quoteId": "q-1", "customerId": "c-1", "fromStatus": "DRAFT", "toStatus": "PRICED", "priceHash": "ab"}}));
        assert_eq!(
            (quote.kind, quote.quote_id.as_deref()),
            (FactKind::QuoteState, Some("q-1"))
        );
        let evidence = classify(
            &json!({"eventType": "audit.evidence-submitted.v1", "payload": {
            "eventType": "oms.order.cancellation-requested", "actor": {"actorId": "ops1"},
            "resource": {"resourceType": "Order", "resourceId": "o-1"}, "businessReason": "withdrawn"}}),
        );
        assert_eq!(
            (evidence.kind, evidence.order_id.as_deref()),
            (FactKind::AuditDecision, Some("o-1"))
        );
        assert_eq!(evidence.summary["actor"], "ops1");
        let repair = classify(
            &json!({"eventType": "audit.evidence-submitted.v1", "payload": {
            "eventType": "oms.fallout.retried", "actor": {"actorId": "ops1"},
            "resource": {"resourceType": "Fallout", "resourceId": "f-1"},
            "after": {"orderId": "o-1", "status": "RETRY_SCHEDULED"}}}),
        );
        assert_eq!(
            (repair.kind, repair.order_id.as_deref()),
            (FactKind::AuditDecision, Some("o-1"))
        );
        let other = classify(&json!({"eventType": "catalog.price-book.created.v1", "payload": {}}));
        assert_eq!(other.kind, FactKind::Other);
    }
}
