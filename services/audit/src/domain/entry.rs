//! An entry of the evidence log: the spec's audit shape (architecture §9) as normalised here,
//! and its canonical JSON document, the leaf the tenant's Merkle tree hashes.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::ResourceType;

/// The format version entries carry (`formatVersion`).
pub const ENTRY_FORMAT_VERSION: i64 = 1;

/// An audit event's id: the submitted evidence's `auditEventId`, equal to its event id, so a
/// redelivery is the same entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AuditEventId(pub Uuid);

/// Who decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryActor {
    /// The principal.
    pub actor_id: String,
    /// What kind of principal (`HUMAN_AGENT`, `WORKFLOW_WORKER`, …).
    pub actor_type: String,
    /// Whom the actor acted for, when the evidence names someone.
    pub on_behalf_of: Option<String>,
}

/// What the decision was about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryResource {
    /// Normalised type.
    pub resource_type: ResourceType,
    /// Its id.
    pub resource_id: String,
    /// Its version after the decision.
    pub resource_version: i64,
}

/// The policy that governed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPolicy {
    /// Policy id.
    pub policy_id: String,
    /// Policy version.
    pub policy_version: String,
}

/// Where the evidence came from: kept so an entry can be traced back to the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySource {
    /// The resource type exactly as the submitting service spelt it.
    pub resource_type: String,
    /// The client the actor's token was issued to, when known.
    pub client: Option<String>,
    /// The service that carried the actor's decision, when one did.
    pub via: Option<String>,
    /// The channel (`API`, `PORTAL`, `WORKFLOW`, …).
    pub channel: Option<String>,
}

/// One normalised entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Its id.
    pub audit_event_id: AuditEventId,
    /// What happened (`cpq.quote.price-overridden`).
    pub event_type: String,
    /// When the decision was made (microsecond precision).
    pub occurred_at: DateTime<Utc>,
    /// Whose log it joins.
    pub tenant_id: String,
    /// Who.
    pub actor: EntryActor,
    /// On what.
    pub resource: EntryResource,
    /// Why, as the actor said.
    pub business_reason: Option<String>,
    /// State before (none for a creation).
    pub before: Option<Value>,
    /// State after.
    pub after: Option<Value>,
    /// The governing policy.
    pub policy: Option<EntryPolicy>,
    /// Request correlation.
    pub correlation_id: String,
    /// The command that caused it.
    pub causation_id: String,
    /// The business transaction.
    pub business_transaction_id: String,
    /// Where it came from.
    pub source: EntrySource,
}

impl AuditEntry {
    /// The entry's JSON document: every field present (`null` when absent), numbers only as
    /// safe integers (the normaliser made sure), so its canonical encoding is the leaf.
    pub fn document(&self) -> Value {
        json!({
            "formatVersion": ENTRY_FORMAT_VERSION,
            "auditEventId": self.audit_event_id.0.to_string(),
            "eventType": self.event_type,
            "occurredAt": audit_proof::checkpoint::note_time(self.occurred_at),
            "tenantId": self.tenant_id,
            "actor": {
                "actorId": self.actor.actor_id,
                "actorType": self.actor.actor_type,
                "onBehalfOf": self.actor.on_behalf_of,
            },
            "resource": {
                "resourceType": self.resource.resource_type.as_str(),
                "resourceId": self.resource.resource_id,
                "resourceVersion": self.resource.resource_version,
            },
            "businessReason": self.business_reason,
            "before": self.before,
            "after": self.after,
            "policy": self.policy.as_ref().map(|policy| json!({
                "policyId": policy.policy_id,
                "policyVersion": policy.policy_version,
            })),
            "correlationId": self.correlation_id,
            "causationId": self.causation_id,
            "businessTransactionId": self.business_transaction_id,
            "source": {
                "resourceType": self.source.resource_type,
                "client": self.source.client,
                "via": self.source.via,
                "channel": self.source.channel,
            },
        })
    }

    /// The canonical bytes the leaf hash covers.
    pub fn canonical(&self) -> String {
        // `document` holds only safe integers (resourceVersion is checked on the way in), so
        // the encoding cannot fail; the fallback keeps that an invariant rather than a panic.
        audit_proof::canonical::entry_bytes(&self.document()).unwrap_or_else(|_| {
            domain_kernel::canonical::canonical_json(&audit_proof::canonical::sanitize_numbers(
                self.document(),
            ))
        })
    }
}
