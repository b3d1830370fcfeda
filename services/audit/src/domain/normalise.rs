//! Submitted evidence (`audit.evidence-submitted.v1`) to an entry, or the reasons it cannot be
//! one. Nothing is guessed: a field the spec's shape needs and the evidence lacks, or a value
//! that is not what it claims, rejects it, and the caller quarantines it (never drops it).

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::entry::EntrySource;
use super::{AuditEntry, AuditEventId, EntryActor, EntryPolicy, EntryResource, ResourceType};

/// Why evidence cannot become an entry: every problem found, each at a JSON pointer into the
/// envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// `(pointer, message)` pairs.
    pub reasons: Vec<(String, String)>,
}

struct Reader<'a> {
    payload: &'a Value,
    reasons: Vec<(String, String)>,
}

impl<'a> Reader<'a> {
    fn fail(&mut self, pointer: &str, message: &str) {
        self.reasons
            .push((format!("/payload{pointer}"), message.to_owned()));
    }

    fn text(&mut self, pointer: &str, max: usize) -> Option<String> {
        match self.payload.pointer(pointer) {
            Some(Value::String(text)) if !text.trim().is_empty() && text.len() <= max => {
                Some(text.clone())
            }
            Some(Value::String(_)) => {
                self.fail(
                    pointer,
                    &format!("must be 1 to {max} characters, not blank"),
                );
                None
            }
            Some(_) => {
                self.fail(pointer, "must be a string");
                None
            }
            None => {
                self.fail(pointer, "is required");
                None
            }
        }
    }

    fn optional_text(&mut self, pointer: &str, max: usize) -> Option<String> {
        match self.payload.pointer(pointer) {
            None | Some(Value::Null) => None,
            Some(_) => self.text(pointer, max),
        }
    }

    fn state(&self, pointer: &str) -> Option<Value> {
        match self.payload.pointer(pointer) {
            None | Some(Value::Null) => None,
            Some(value) => Some(audit_proof::canonical::sanitize_numbers(value.clone())),
        }
    }
}

/// Reads one envelope of `audit.evidence-submitted.v1` into an entry.
pub fn normalise(envelope: &Value) -> Result<AuditEntry, Rejection> {
    let empty = Value::Null;
    let payload = envelope.get("payload").unwrap_or(&empty);
    let mut read = Reader {
        payload,
        reasons: Vec::new(),
    };
    if !payload.is_object() {
        return Err(Rejection {
            reasons: vec![("/payload".into(), "must be an object".into())],
        });
    }
    let id = read.text("/auditEventId", 64);
    let audit_event_id = id.as_deref().and_then(|id| match Uuid::parse_str(id) {
        Ok(uuid) => Some(uuid),
        Err(_) => {
            read.fail("/auditEventId", "must be a UUID");
            None
        }
    });
    if let (Some(id), Some(event_id)) = (
        audit_event_id,
        envelope.get("eventId").and_then(Value::as_str),
    ) && Uuid::parse_str(event_id).ok() != Some(id)
    {
        read.fail("/auditEventId", "must equal the envelope's eventId");
    }
    let event_type = read.text("/eventType", 200);
    let occurred_at =
        read.text("/occurredAt", 64)
            .and_then(|at| match DateTime::parse_from_rfc3339(&at) {
                Ok(at) => Some(at.with_timezone(&Utc).trunc_subsecs(6)),
                Err(_) => {
                    read.fail("/occurredAt", "must be an RFC 3339 timestamp");
                    None
                }
            });
    let tenant_id = read.text("/tenantId", 64);
    if let (Some(tenant), Some(envelope_tenant)) = (
        tenant_id.as_deref(),
        envelope.get("tenantId").and_then(Value::as_str),
    ) && tenant != envelope_tenant
    {
        read.fail("/tenantId", "must equal the envelope's tenantId");
    }
    let actor_id = read.text("/actor/actorId", 128);
    let actor_type = read.text("/actor/actorType", 64);
    let on_behalf_of = read.optional_text("/actor/onBehalfOf", 128);
    let source_type = read.text("/resource/resourceType", 100);
    let resource_type = source_type.as_deref().and_then(|raw| {
        let parsed = ResourceType::parse(raw);
        if parsed.is_none() {
            read.fail("/resource/resourceType", "is not a resource type name");
        }
        parsed
    });
    let resource_id = read.text("/resource/resourceId", 200);
    let resource_version = match payload.pointer("/resource/resourceVersion") {
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|v| (0..=audit_proof::canonical::MAX_SAFE_INTEGER).contains(v))
            .or_else(|| {
                read.fail(
                    "/resource/resourceVersion",
                    "must be an integer from 0 to 2^53-1",
                );
                None
            }),
        _ => {
            read.fail("/resource/resourceVersion", "must be an integer");
            None
        }
    };
    let business_reason = read.optional_text("/businessReason", 4000);
    let policy = match payload.get("policy") {
        None | Some(Value::Null) => None,
        Some(_) => {
            let policy_id = read.text("/policy/policyId", 200);
            let policy_version = read.text("/policy/policyVersion", 100);
            policy_id
                .zip(policy_version)
                .map(|(policy_id, policy_version)| EntryPolicy {
                    policy_id,
                    policy_version,
                })
        }
    };
    let correlation_id = read.text("/correlationId", 200);
    let causation_id = read.text("/causationId", 200);
    let business_transaction_id = read.text("/businessTransactionId", 200);
    let source = EntrySource {
        resource_type: source_type.clone().unwrap_or_default(),
        client: read.optional_text("/client", 255),
        via: read.optional_text("/via", 255),
        channel: read.optional_text("/channel", 64),
    };
    let (before, after) = (read.state("/before"), read.state("/after"));
    if !read.reasons.is_empty() {
        return Err(Rejection {
            reasons: read.reasons,
        });
    }
    let missing = || Rejection {
        reasons: vec![("/payload".into(), "incomplete".into())],
    };
    Ok(AuditEntry {
        audit_event_id: AuditEventId(audit_event_id.ok_or_else(missing)?),
        event_type: event_type.ok_or_else(missing)?,
        occurred_at: occurred_at.ok_or_else(missing)?,
        tenant_id: tenant_id.ok_or_else(missing)?,
        actor: EntryActor {
            actor_id: actor_id.ok_or_else(missing)?,
            actor_type: actor_type.ok_or_else(missing)?,
            on_behalf_of,
        },
        resource: EntryResource {
            resource_type: resource_type.ok_or_else(missing)?,
            resource_id: resource_id.ok_or_else(missing)?,
            resource_version: resource_version.ok_or_else(missing)?,
        },
        business_reason,
        before,
        after,
        policy,
        correlation_id: correlation_id.ok_or_else(missing)?,
        causation_id: causation_id.ok_or_else(missing)?,
        business_transaction_id: business_transaction_id.ok_or_else(missing)?,
        source,
    })
}

#[cfg(test)]
#[path = "normalise_tests.rs"]
mod tests;
