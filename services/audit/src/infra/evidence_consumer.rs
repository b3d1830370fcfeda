//! The consumer of submitted evidence (`audit.evidence.events.v1`): every service's
//! `audit.evidence-submitted.v1`, taken once each through the inbox (keyed by event id, which is
//! the audit event id) on the jobs role's pool, and handed to ingestion in the inbox
//! transaction. Evidence that cannot be an entry is quarantined, so the handler fails only when
//! the database does (retried, never skipped).

use common_kernel::audit::AUDIT_TOPIC;
use messaging::consumer::{EventHandler, HandlerError, IncomingEvent};
use sqlx::PgConnection;

use crate::app::ingest::{Location, ingest};

/// This consumer's group.
pub const CONSUMER_GROUP: &str = "audit.evidence-log";
/// The topic it reads.
pub const EVIDENCE_TOPIC: &str = AUDIT_TOPIC;

/// Appends submitted evidence to the tenants' logs.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvidenceHandler;

impl EventHandler for EvidenceHandler {
    async fn handle(
        &self,
        conn: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandlerError> {
        let location = Location {
            topic: event.topic.clone(),
            partition: event.partition,
            offset: event.offset,
        };
        ingest(conn, &event.envelope, &location).await?;
        Ok(())
    }
}
