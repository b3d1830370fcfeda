//! The approval service's side, as CPQ's tests need it: events that satisfy the
//! `approval.*.v1` contracts, and the one way tests deliver them without a broker — CPQ's own
//! consumer handler, in a transaction on the jobs role's pool, as the consumer runs it after its
//! inbox insert. No test writes approval rows itself.

use chrono::Utc;
use cpq::app::approval_outcomes::ApprovalEffect;
use serde_json::{Value, json};
use service_host::messaging::consumer::IncomingEvent;
use uuid::Uuid;

use crate::harness::{TENANT, TestApp};

/// One approval event of one request, built field by field.
#[derive(Debug, Clone)]
pub struct ApprovalEvent {
    /// Event id (a redelivery keeps it).
    pub event_id: Uuid,
    /// `approval.requested.v1`, …
    pub event_type: &'static str,
    /// The request.
    pub request: Uuid,
    /// The request's aggregate version.
    pub version: i64,
    /// The quote.
    pub quote: Uuid,
    /// The quote revision.
    pub revision: i64,
    /// The price hash.
    pub price_hash: String,
    /// Status before.
    pub from_status: Option<&'static str>,
    /// Status after.
    pub status: &'static str,
    /// Why (required for rejections and supersessions).
    pub reason: Option<String>,
    /// Decisions so far.
    pub decisions: Vec<Value>,
    /// Who caused it.
    pub actor: &'static str,
    /// Tenant.
    pub tenant: String,
}

impl ApprovalEvent {
    /// The opening of a request for the quote `view` (its current revision and price):
    /// `PENDING` or `NOT_REQUIRED`.
    pub fn requested(view: &Value, status: &'static str) -> Self {
        Self {
            event_id: Uuid::now_v7(),
            event_type: "approval.requested.v1",
            request: Uuid::now_v7(),
            version: 1,
            quote: view["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("quote id"),
            revision: view["revision"].as_i64().expect("revision"),
            price_hash: view["priceHash"]
                .as_str()
                .expect("a priced quote")
                .to_owned(),
            from_status: None,
            status,
            reason: None,
            decisions: Vec::new(),
            actor: "approval-service",
            tenant: TENANT.to_owned(),
        }
    }

    /// The next event of the same request: a new event id and version.
    pub fn then(&self, event_type: &'static str, status: &'static str) -> Self {
        let mut next = self.clone();
        next.event_id = Uuid::now_v7();
        next.event_type = event_type;
        next.version += 1;
        next.from_status = Some(self.status);
        next.status = status;
        next.reason = None;
        next
    }

    /// The request approved by `manager1` at the MANAGER level.
    pub fn approved(&self) -> Self {
        let mut next = self.then("approval.approved.v1", "APPROVED");
        next.actor = "manager1";
        next.decisions.push(decision("APPROVE", "fine by me"));
        next
    }

    /// The request rejected by `manager1` with a reason.
    pub fn rejected(&self, reason: &str) -> Self {
        let mut next = self.then("approval.rejected.v1", "REJECTED");
        next.actor = "manager1";
        next.reason = Some(reason.to_owned());
        next.decisions.push(decision("REJECT", reason));
        next
    }

    /// The envelope, checked against its contract (so CPQ is tested against what the approval
    /// service may really send).
    pub fn envelope(&self) -> Value {
        let now = Utc::now();
        let level_state = match self.status {
            "APPROVED" => "SATISFIED",
            "REJECTED" => "REJECTED",
            _ => "OPEN",
        };
        let levels = if self.status == "NOT_REQUIRED" {
            json!([])
        } else {
            json!([{"level": "MANAGER", "state": level_state, "groups": ["sales-managers"]}])
        };
        let mut payload = json!({
            "requestId": self.request, "quoteId": self.quote, "revision": self.revision,
            "priceHash": self.price_hash, "fromStatus": self.from_status, "status": self.status,
            "policyId": "quote-approval", "policyVersion": "1", "levels": levels,
            "decisions": self.decisions, "reason": self.reason,
            "actor": {"actorId": self.actor, "actorType": "HUMAN_AGENT", "via": null},
            "occurredAt": now,
        });
        if self.event_type == "approval.escalated.v1" {
            payload["escalation"] = json!({"requestId": self.request, "level": "MANAGER",
                "kind": "REMINDER", "dueBefore": now, "dueAfter": now, "at": now});
        }
        let envelope = json!({
            "eventId": self.event_id, "eventType": self.event_type, "eventVersion": 1,
            "occurredAt": now, "tenantId": self.tenant, "aggregateType": "ApprovalRequest",
            "aggregateId": self.request.to_string(), "aggregateVersion": self.version,
            "correlationId": format!("approval-{}", self.event_id), "causationId": Uuid::now_v7().to_string(),
            "businessTransactionId": format!("quote-{}", self.quote), "actorId": self.actor,
            "partitionKey": self.request.to_string(), "payload": payload,
        });
        event_contracts::validate(&envelope).expect("a test approval event keeps its contract");
        envelope
    }
}

fn decision(verdict: &str, reason: &str) -> Value {
    json!({"decisionId": Uuid::now_v7(), "level": "MANAGER", "decision": verdict, "actorId": "manager1",
           "onBehalfOf": null, "reason": reason, "decidedAt": Utc::now()})
}

impl TestApp {
    /// Delivers `event` through CPQ's approval consumer handler, in one transaction on the
    /// jobs role's pool (as the consumer runs it), and commits.
    pub async fn deliver(&self, event: &ApprovalEvent) -> ApprovalEffect {
        let envelope = event.envelope();
        let incoming = IncomingEvent {
            event_id: event.event_id,
            event_type: event.event_type.to_owned(),
            aggregate_type: "ApprovalRequest".to_owned(),
            aggregate_id: event.request.to_string(),
            aggregate_version: event.version,
            envelope,
            topic: "cpq.approval.events.v1".to_owned(),
            partition: 0,
            offset: 0,
        };
        let jobs = self.jobs_pool().await;
        let mut tx = jobs.begin().await.expect("begin");
        let effect = self
            .approval_handler()
            .apply(&mut tx, &incoming)
            .await
            .expect("the handler applies the event");
        tx.commit().await.expect("commit");
        jobs.close().await;
        effect
    }

    /// The approval service's policy requires no approval for the quote's current revision;
    /// returns the quote as it then reads.
    pub async fn approve(&self, quote: Uuid) -> Value {
        let view = self.quote(quote).await;
        let effect = self
            .deliver(&ApprovalEvent::requested(&view, "NOT_REQUIRED"))
            .await;
        assert!(
            matches!(effect, ApprovalEffect::Moved { .. }),
            "{effect:?} for {view}"
        );
        self.quote(quote).await
    }
}
