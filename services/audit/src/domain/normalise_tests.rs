use serde_json::{Value, json};

use super::*;

const ID: &str = "0190f5a8-1b2c-7d3e-8f40-123456789abc";

fn envelope() -> Value {
    json!({
        "eventId": ID,
        "tenantId": "acme",
        "payload": {
            "auditEventId": ID,
            "eventType": "cpq.quote.price-overridden",
            "occurredAt": "2026-12-07T10:11:12.123456789Z",
            "tenantId": "acme",
            "actor": {"actorId": "sales1", "actorType": "HUMAN_AGENT"},
            "client": "cpq-portal",
            "channel": "API",
            "resource": {"resourceType": "Quote", "resourceId": "q-1", "resourceVersion": 4},
            "businessReason": "matching a competitor",
            "before": {"unitPrice": {"amount": 100.5, "currency": "EUR"}},
            "after": {"unitPrice": {"amount": "90.00", "currency": "EUR"}},
            "policy": {"policyId": "discount-approval", "policyVersion": "3"},
            "correlationId": "c-1",
            "causationId": "cmd-1",
            "businessTransactionId": "bt-1"
        }
    })
}

#[test]
fn evidence_becomes_the_spec_shape() {
    let entry = normalise(&envelope()).unwrap();
    assert_eq!(entry.resource.resource_type.as_str(), "QUOTE");
    assert_eq!(entry.source.resource_type, "Quote");
    assert_eq!(entry.actor.on_behalf_of, None);
    let document = entry.document();
    assert_eq!(document["occurredAt"], "2026-12-07T10:11:12.123456Z");
    assert_eq!(document["before"]["unitPrice"]["amount"], "100.5");
    assert_eq!(document["policy"]["policyVersion"], "3");
    assert_eq!(document["actor"]["onBehalfOf"], Value::Null);
    let canonical = entry.canonical();
    assert!(canonical.starts_with("{\"actor\":{\"actorId\":\"sales1\""));
    assert_eq!(
        audit_proof::canonical::entry_bytes(&serde_json::from_str(&canonical).unwrap()).unwrap(),
        canonical
    );
}

#[test]
fn every_problem_is_named_at_its_pointer() {
    let mut bad = envelope();
    bad["payload"]["auditEventId"] = json!("not-a-uuid");
    bad["payload"]["tenantId"] = json!("globex");
    bad["payload"]["resource"]["resourceVersion"] = json!(-1);
    bad["payload"]["correlationId"] = json!("  ");
    bad["payload"].as_object_mut().unwrap().remove("actor");
    let rejection = normalise(&bad).unwrap_err();
    let pointers: Vec<&str> = rejection.reasons.iter().map(|(p, _)| p.as_str()).collect();
    for expected in [
        "/payload/auditEventId",
        "/payload/tenantId",
        "/payload/resource/resourceVersion",
        "/payload/correlationId",
        "/payload/actor/actorId",
        "/payload/actor/actorType",
    ] {
        assert!(pointers.contains(&expected), "{expected} in {pointers:?}");
    }
}

#[test]
fn an_id_other_than_the_envelopes_is_refused() {
    let mut bad = envelope();
    bad["eventId"] = json!("0190f5a8-1b2c-7d3e-8f40-000000000000");
    assert_eq!(
        normalise(&bad).unwrap_err().reasons[0].1,
        "must equal the envelope's eventId"
    );
    assert!(normalise(&json!({"payload": 3})).is_err());
}
