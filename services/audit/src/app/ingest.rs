//! Ingestion: one submitted evidence message becomes the next entry of its tenant's log, or is
//! quarantined with every reason it cannot be one. Runs inside the consumer's inbox
//! transaction, so a redelivery is a no-op and an entry exists exactly when its message was
//! taken.

use chrono::Utc;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::normalise;
use crate::infra::log_store::{self, Appended};
use crate::infra::quarantine::{self, Quarantined};

/// Where a message was read (kept with quarantined evidence).
#[derive(Debug, Clone)]
pub struct Location {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// Appended at this position.
    Appended(Appended),
    /// Quarantined with these reasons.
    Quarantined(Vec<(String, String)>),
}

/// Takes one envelope: contract check, normalisation, then append or quarantine.
pub async fn ingest(
    conn: &mut PgConnection,
    envelope: &Value,
    location: &Location,
) -> Result<Ingested, sqlx::Error> {
    let reasons = match event_contracts::validate(envelope) {
        Err(error) if error.violations().is_empty() => vec![(String::new(), error.to_string())],
        Err(error) => error
            .violations()
            .iter()
            .map(|v| (v.pointer.clone(), v.message.clone()))
            .collect(),
        Ok(()) => match normalise(envelope) {
            Ok(entry) => {
                let appended = log_store::append(conn, &entry).await?;
                metrics::counter!("audit_entries_appended_total").increment(1);
                return Ok(Ingested::Appended(appended));
            }
            Err(rejection) => rejection.reasons,
        },
    };
    let text = |field: &str| envelope.get(field).and_then(Value::as_str);
    quarantine::insert(
        conn,
        &Quarantined {
            quarantine_id: Uuid::now_v7(),
            event_id: text("eventId").and_then(|id| Uuid::parse_str(id).ok()),
            tenant_id: text("tenantId").map(str::to_owned),
            topic: location.topic.clone(),
            partition: location.partition,
            offset: location.offset,
            reasons: Value::Array(
                reasons
                    .iter()
                    .map(|(pointer, message)| json!({"pointer": pointer, "message": message}))
                    .collect(),
            ),
            envelope: envelope.to_string(),
            quarantined_at: Utc::now(),
        },
    )
    .await?;
    metrics::counter!("audit_evidence_quarantined_total").increment(1);
    tracing::warn!(
        topic = %location.topic, partition = location.partition, offset = location.offset,
        reasons = ?reasons, "evidence quarantined: it cannot be an audit entry"
    );
    Ok(Ingested::Quarantined(reasons))
}
