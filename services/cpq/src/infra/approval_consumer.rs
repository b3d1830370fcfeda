//! The consumer `cpq.approval-outcomes` on `cpq.approval.events.v1`: the messaging runtime
//! dedupes by event id in its inbox and calls [`ApprovalOutcomes`] inside the inbox
//! transaction, which runs the application command
//! [`crate::app::approval_outcomes::apply`]. Refusals that a retry cannot fix are dead-lettered
//! at once; database failures are retried.

use service_host::messaging::consumer::{EventHandler, HandlerError, IncomingEvent};
use sqlx::PgConnection;

use crate::app::approval_outcomes::{self, ApprovalEffect};
use crate::app::error::CpqError;
use crate::app::ports::Ports;

/// The event handler of approval outcomes (ADR 0035). Public so that tests — CPQ's and the
/// approval service's scenarios — drive CPQ through exactly the code the consumer runs.
#[derive(Debug, Clone)]
pub struct ApprovalOutcomes {
    ports: Ports,
}

impl ApprovalOutcomes {
    /// A handler over CPQ's ports.
    pub fn new(ports: Ports) -> Self {
        Self { ports }
    }

    /// Applies one event in `conn`'s transaction, as the consumer does after its inbox insert;
    /// the caller commits.
    pub async fn apply(
        &self,
        conn: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<ApprovalEffect, HandlerError> {
        approval_outcomes::apply(conn, &self.ports, &event.envelope)
            .await
            .map_err(classify)
    }
}

/// Whether a failed event is worth retrying.
fn classify(error: CpqError) -> HandlerError {
    match error {
        CpqError::Database(error) => HandlerError::Retryable(error.to_string()),
        other => HandlerError::Permanent(other.to_string()),
    }
}

impl EventHandler for ApprovalOutcomes {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        self.apply(conn, event).await.map(|_| ())
    }
}
