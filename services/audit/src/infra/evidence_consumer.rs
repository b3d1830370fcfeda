//! The consumer of submitted evidence (`audit.evidence.events.v1`): every service's
//! `audit.evidence-submitted.v1`, taken once each through the inbox (keyed by event id, which is
//! the audit event id) on the jobs role's pool, in batches (`messaging::batch_consumer`: one
//! transaction per batch of what the broker has ready), and handed to ingestion in the inbox
//! transaction. Evidence that cannot be an entry is quarantined, so a batch fails only when the
//! database does (retried, then message by message; never skipped silently).

use common_kernel::audit::AUDIT_TOPIC;
use messaging::batch_consumer::BatchHandler;
use messaging::consumer::{HandlerError, IncomingEvent};
use sqlx::PgConnection;

use crate::app::ingest::{Location, ingest};

/// This consumer's group.
pub const CONSUMER_GROUP: &str = "audit.evidence-log";
/// The topic it reads.
pub const EVIDENCE_TOPIC: &str = AUDIT_TOPIC;

/// Appends submitted evidence to the tenants' logs.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvidenceHandler;

impl BatchHandler for EvidenceHandler {
    async fn handle_batch(
        &self,
        conn: &mut PgConnection,
        events: &[IncomingEvent],
    ) -> Result<(), HandlerError> {
        let messages: Vec<(&serde_json::Value, Location)> = events
            .iter()
            .map(|event| {
                (
                    &event.envelope,
                    Location {
                        topic: event.topic.clone(),
                        partition: event.partition,
                        offset: event.offset,
                    },
                )
            })
            .collect();
        ingest(conn, &messages).await?;
        Ok(())
    }
}
