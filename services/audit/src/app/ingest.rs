//! Ingestion: submitted evidence messages become the next entries of their tenants' logs, or are
//! quarantined with every reason they cannot be. Runs inside the consumer's inbox transaction
//! (a batch of new messages at a time), so a redelivery is a no-op and an entry exists exactly
//! when its message was taken.

use std::collections::BTreeMap;

use chrono::Utc;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{AuditEntry, normalise};
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

/// The contract check, then normalisation.
fn read(envelope: &Value) -> Result<AuditEntry, Vec<(String, String)>> {
    match event_contracts::validate(envelope) {
        Err(error) if error.violations().is_empty() => {
            Err(vec![(String::new(), error.to_string())])
        }
        Err(error) => Err(error
            .violations()
            .iter()
            .map(|v| (v.pointer.clone(), v.message.clone()))
            .collect()),
        Ok(()) => normalise(envelope).map_err(|rejection| rejection.reasons),
    }
}

/// Takes messages in order: each tenant's entries are appended in the order read, rejected
/// ones quarantined. Answers in the messages' order.
pub async fn ingest(
    conn: &mut PgConnection,
    messages: &[(&Value, Location)],
) -> Result<Vec<Ingested>, sqlx::Error> {
    let mut outcomes: Vec<Option<Ingested>> = vec![None; messages.len()];
    let mut by_tenant: BTreeMap<String, Vec<(usize, AuditEntry)>> = BTreeMap::new();
    for (i, (envelope, location)) in messages.iter().enumerate() {
        match read(envelope) {
            Ok(entry) => by_tenant
                .entry(entry.tenant_id.clone())
                .or_default()
                .push((i, entry)),
            Err(reasons) => {
                quarantine_one(conn, envelope, location, &reasons).await?;
                outcomes[i] = Some(Ingested::Quarantined(reasons));
            }
        }
    }
    for (tenant, taken) in by_tenant {
        let entries: Vec<AuditEntry> = taken.iter().map(|(_, e)| e.clone()).collect();
        let appended = log_store::append_all(conn, &tenant, &entries).await?;
        metrics::counter!("audit_entries_appended_total").increment(appended.len() as u64);
        for ((i, _), place) in taken.iter().zip(appended) {
            outcomes[*i] = Some(Ingested::Appended(place));
        }
    }
    Ok(outcomes.into_iter().flatten().collect())
}

async fn quarantine_one(
    conn: &mut PgConnection,
    envelope: &Value,
    location: &Location,
    reasons: &[(String, String)],
) -> Result<(), sqlx::Error> {
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
    Ok(())
}
