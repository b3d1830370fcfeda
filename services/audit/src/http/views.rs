//! Response bodies. An entry is served as its normalised document (the spec's audit shape)
//! plus where it sits in the log and its leaf hash, so a reader can recompute the hash from
//! what they were given.

use audit_proof::bundle::{PublicKeyDocument, SignedCheckpoint};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::infra::reads::StoredEntry;

/// Who decided.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActorView {
    /// The principal.
    pub actor_id: String,
    /// Its kind (`HUMAN_AGENT`, `WORKFLOW_WORKER`, …); `REDACTED` for a redacted entry.
    pub actor_type: String,
    /// Whom it acted for, when the evidence says.
    pub on_behalf_of: Option<String>,
}

/// What the decision was about.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceView {
    /// Normalised type (`QUOTE`, `APPROVAL_REQUEST`, `ORDER`, …).
    pub resource_type: String,
    /// Its id.
    pub resource_id: String,
    /// Its version after the decision (0 for a redacted entry).
    pub resource_version: i64,
}

/// The governing policy.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyView {
    /// Policy id.
    pub policy_id: String,
    /// Policy version.
    pub policy_version: String,
}

/// Where the evidence came from.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceView {
    /// The resource type as the submitting service spelt it.
    pub resource_type: String,
    /// The OAuth client of the actor's token.
    pub client: Option<String>,
    /// The service that carried the actor's decision.
    pub via: Option<String>,
    /// The channel.
    pub channel: Option<String>,
}

/// The normalised entry document as stored (format version 1).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryDocument {
    event_type: String,
    occurred_at: DateTime<Utc>,
    actor: ActorView,
    resource: ResourceView,
    business_reason: Option<String>,
    before: Option<Value>,
    after: Option<Value>,
    policy: Option<PolicyView>,
    causation_id: String,
    source: SourceView,
}

/// One audit event: who decided what, on which input, and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventView {
    /// Its id.
    pub audit_event_id: Uuid,
    /// What happened (`cpq.quote.price-overridden`).
    pub event_type: String,
    /// When the decision was made.
    pub occurred_at: DateTime<Utc>,
    /// The tenant.
    pub tenant_id: String,
    /// Who.
    pub actor: ActorView,
    /// On what.
    pub resource: ResourceView,
    /// Why, as the actor said.
    pub business_reason: Option<String>,
    /// State before (null for a creation).
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    /// State after.
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
    /// The governing policy and its version.
    pub policy: Option<PolicyView>,
    /// Request correlation.
    pub correlation_id: String,
    /// The command that caused it.
    pub causation_id: String,
    /// The business transaction.
    pub business_transaction_id: String,
    /// Where the evidence came from (absent for a redacted entry).
    pub source: Option<SourceView>,
    /// Its position in the tenant's log.
    pub leaf_index: i64,
    /// Its RFC 6962 leaf hash (lowercase hex) over `canonical`.
    pub leaf_hash: String,
    /// The exact text the leaf hash covers (docs/audit-evidence-format.md).
    pub canonical: String,
    /// When the log took it.
    pub ingested_at: DateTime<Utc>,
    /// Whether the documented redaction procedure replaced its content.
    pub redacted: bool,
}

impl From<&StoredEntry> for AuditEventView {
    fn from(entry: &StoredEntry) -> Self {
        let document = entry
            .redacted_at
            .is_none()
            .then(|| serde_json::from_str::<EntryDocument>(&entry.canonical).ok())
            .flatten();
        let (actor, resource) = match &document {
            Some(doc) => (doc.actor.clone(), doc.resource.clone()),
            None => (
                ActorView {
                    actor_id: entry.actor_id.clone(),
                    actor_type: "REDACTED".into(),
                    on_behalf_of: None,
                },
                ResourceView {
                    resource_type: entry.resource_type.clone(),
                    resource_id: entry.resource_id.clone(),
                    resource_version: 0,
                },
            ),
        };
        Self {
            audit_event_id: entry.audit_event_id,
            event_type: document
                .as_ref()
                .map_or_else(|| entry.event_type.clone(), |d| d.event_type.clone()),
            occurred_at: document
                .as_ref()
                .map_or(entry.occurred_at, |d| d.occurred_at),
            tenant_id: entry.tenant_id.clone(),
            actor,
            resource,
            business_reason: document.as_ref().and_then(|d| d.business_reason.clone()),
            before: document.as_ref().and_then(|d| d.before.clone()),
            after: document.as_ref().and_then(|d| d.after.clone()),
            policy: document.as_ref().and_then(|d| d.policy.clone()),
            correlation_id: entry.correlation_id.clone(),
            causation_id: document
                .as_ref()
                .map(|d| d.causation_id.clone())
                .unwrap_or_default(),
            business_transaction_id: entry.business_transaction_id.clone(),
            source: document.as_ref().map(|d| d.source.clone()),
            leaf_index: entry.leaf_index,
            leaf_hash: hex::encode(&entry.leaf_hash),
            canonical: entry.canonical.clone(),
            ingested_at: entry.ingested_at,
            redacted: entry.redacted_at.is_some(),
        }
    }
}

/// A page of audit events in decision order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEventPage {
    /// The events.
    pub items: Vec<AuditEventView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// One changed value of a decision.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeView {
    /// JSON pointer into the resource state (`/` for the whole state).
    pub path: String,
    /// `ADDED`, `REMOVED` or `CHANGED`.
    pub change: String,
    /// The value before.
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    /// The value after.
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
}

/// One decision on a resource's timeline.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineStepView {
    /// The decision.
    pub event: AuditEventView,
    /// What it changed, leaf by leaf.
    pub changes: Vec<ChangeView>,
}

/// A resource's decisions in order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineView {
    /// Normalised resource type.
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
    /// The decisions.
    pub steps: Vec<TimelineStepView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// A signed checkpoint (tree head).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointView {
    /// The tenant.
    pub tenant_id: String,
    /// Entries covered.
    pub tree_size: u64,
    /// Root hash, lowercase hex.
    pub root_hash: String,
    /// When it was signed (as the note states it).
    pub issued_at: String,
    /// The signing key's id.
    pub key_id: String,
    /// The exact signed text.
    pub note: String,
    /// Ed25519 signature over `note`, base64.
    pub signature: String,
}

impl From<SignedCheckpoint> for CheckpointView {
    fn from(c: SignedCheckpoint) -> Self {
        Self {
            tenant_id: c.tenant_id,
            tree_size: c.tree_size,
            root_hash: c.root_hash,
            issued_at: c.issued_at,
            key_id: c.key_id,
            note: c.note,
            signature: c.signature,
        }
    }
}

/// A checkpoint signing key.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SigningKeyView {
    /// 16 hex digits of the key's SHA-256.
    pub key_id: String,
    /// `Ed25519`.
    pub algorithm: String,
    /// The raw 32-byte public key, base64.
    pub public_key: String,
    /// `ACTIVE` (signs new checkpoints) or `RETIRED` (verifies older ones).
    pub status: String,
}

impl SigningKeyView {
    /// A key document with its status.
    pub fn new(document: PublicKeyDocument, active: bool) -> Self {
        Self {
            key_id: document.key_id,
            algorithm: document.algorithm,
            public_key: document.public_key,
            status: if active { "ACTIVE" } else { "RETIRED" }.into(),
        }
    }
}

/// The signing keys.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SigningKeyList {
    /// Active first.
    pub keys: Vec<SigningKeyView>,
}

/// One quarantined message.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuarantinedView {
    /// Its id.
    pub quarantine_id: Uuid,
    /// The envelope's event id, when readable.
    pub event_id: Option<Uuid>,
    /// Topic, partition and offset it was read at.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Why it is not an entry: `[{pointer, message}]`.
    #[schema(value_type = Vec<Object>)]
    pub reasons: Value,
    /// The envelope as received.
    pub envelope: String,
    /// When.
    pub quarantined_at: DateTime<Utc>,
}

/// The caller's tenant's quarantine.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuarantineList {
    /// Newest first.
    pub items: Vec<QuarantinedView>,
    /// How many in all.
    pub total: i64,
}
