//! What the application needs from the outside: a downstream that can be asked to apply an
//! effect under a key and asked by key what became of it. `infra::adapters` implements it over
//! HTTP; the port speaks only the domain's words.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::{
    Answer, BusinessIdentity, Classification, ExternalCommand, IdempotencyKey, Operation,
    RetryBudget, StatusAnswer,
};

/// The correlation a call carries to the downstream and into the call log.
#[derive(Debug, Clone, Default)]
pub struct CallTrace {
    /// Request correlation id, sent as `X-Correlation-Id`.
    pub correlation_id: String,
    /// W3C trace context, sent as `traceparent` when present.
    pub traceparent: Option<String>,
}

/// What went over the wire, for the call log: bodies are kept as text (the log caps them).
#[derive(Debug, Clone)]
pub struct Wire {
    /// When the request left.
    pub started_at: DateTime<Utc>,
    /// How long until the answer (or the fault).
    pub latency: Duration,
    /// The HTTP status, when one came back.
    pub http_status: Option<u16>,
    /// The downstream's code, or the transport's (`TIMEOUT`, `CONNECTION_REFUSED`, `HTTP_503`).
    pub failure_code: Option<String>,
    /// What the transport or the downstream said, for the operator.
    pub detail: Option<String>,
    /// The request body as sent (empty for a status query).
    pub request_body: String,
    /// The response body as received.
    pub response_body: Option<String>,
}

/// One attempt: its meaning and its wire record.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The taxonomy's class.
    pub classification: Classification,
    /// What it means for the operation.
    pub answer: Answer,
    /// What went over the wire.
    pub wire: Wire,
}

/// One status query: its finding and its wire record.
#[derive(Debug, Clone)]
pub struct StatusExchange {
    /// What the downstream said about the key.
    pub answer: StatusAnswer,
    /// What went over the wire.
    pub wire: Wire,
}

/// A downstream system family reachable by operation.
#[async_trait]
pub trait Downstream: Send + Sync + std::fmt::Debug {
    /// Asks the operation's system to apply `command` for `identity` under `key`. Never
    /// fails: every fault is an [`Exchange`] with its class.
    async fn send(
        &self,
        command: &ExternalCommand,
        identity: &BusinessIdentity,
        key: &IdempotencyKey,
        trace: &CallTrace,
    ) -> Exchange;

    /// Asks the operation's system what became of `key`.
    async fn query_status(
        &self,
        operation: Operation,
        key: &IdempotencyKey,
        trace: &CallTrace,
    ) -> StatusExchange;

    /// The retry budget configured for the operation's system.
    fn budget(&self, operation: Operation) -> RetryBudget;
}
