//! Submitted evidence becomes entries in decision order, queryable by resource, actor,
//! business transaction and correlation within a time range; a timeline shows what each
//! decision changed; every entry has a proof against a signed checkpoint; evidence that is not
//! evidence is quarantined; tenants see only their own log.

use std::time::Duration;

use audit_proof::bundle::parse_hash;
use audit_proof::checkpoint::{from_base64, verify_note};
use audit_proof::tree::verify_inclusion;
use serde_json::{Value, json};

use crate::harness::{AuditStack, Said, auditor, quote_evidence, tenant};

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().expect("items")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_becomes_queryable_entries_in_decision_order() {
    let stack = AuditStack::start().await;
    let t = tenant("ingest");
    let token = auditor(&t);
    for envelope in quote_evidence(&t, "q-1", 5) {
        stack.publish(&[envelope]).await;
    }
    let mut approvals = Vec::new();
    for version in 1..=2 {
        let mut said = Said::quote(&t, "q-2", version);
        said.actor = "manager1";
        said.event_type = "approval.request.approved";
        approvals.push(said.envelope());
    }
    stack.publish(&approvals).await;
    stack.wait_entries(&t, 7, Duration::from_secs(30)).await;

    let (status, page) = stack
        .get("/audit-events?resourceType=QUOTE&resourceId=q-1", &token)
        .await;
    assert_eq!(status, 200, "{page}");
    let found = items(&page);
    assert_eq!(found.len(), 5);
    for (i, event) in found.iter().enumerate() {
        assert_eq!(event["resource"]["resourceType"], "QUOTE");
        assert_eq!(event["resource"]["resourceVersion"], i as i64 + 1);
        assert_eq!(event["actor"]["actorId"], "sales1");
        assert_eq!(event["businessReason"], format!("step {}", i + 1));
        assert_eq!(event["policy"]["policyVersion"], "7");
        assert_eq!(event["after"]["ratio"], "0.5", "fractions are kept as text");
        assert_eq!(event["source"]["resourceType"], "Quote");
        assert_eq!(event["leafHash"].as_str().map(str::len), Some(64));
    }

    let (_, first) = stack
        .get(
            "/audit-events?resourceType=Quote&resourceId=q-1&limit=2",
            &token,
        )
        .await;
    let mut seen: Vec<Value> = items(&first).clone();
    let mut cursor = first["nextCursor"].as_str().map(str::to_owned);
    while let Some(next) = cursor {
        let (_, page) = stack
            .get(
                &format!("/audit-events?resourceType=QUOTE&resourceId=q-1&limit=2&cursor={next}"),
                &token,
            )
            .await;
        seen.extend(items(&page).iter().cloned());
        cursor = page["nextCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, *found, "keyset pages add up to the whole list");

    for (query, expected) in [
        ("actorId=manager1", 2),
        ("businessTransactionId=bt-q-2", 2),
        ("correlationId=corr-q-1-3", 1),
        ("from=2999-01-01T00:00:00Z", 0),
        ("to=2000-01-01T00:00:00Z", 0),
    ] {
        let (status, page) = stack.get(&format!("/audit-events?{query}"), &token).await;
        assert_eq!(status, 200, "{query}: {page}");
        assert_eq!(items(&page).len(), expected, "{query}");
    }
    let (status, bad) = stack
        .get("/audit-events?from=yesterday&limit=0", &token)
        .await;
    assert_eq!(status, 422);
    assert_eq!(bad["code"], "VALIDATION_FAILED");
    assert_eq!(bad["errors"].as_array().map(Vec::len), Some(2), "{bad}");

    let (_, timeline) = stack
        .get("/audit/resources/QUOTE/q-1/timeline", &token)
        .await;
    let steps = timeline["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 5);
    let changes: Vec<(String, String)> = steps[0]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["path"].as_str().unwrap().to_owned(),
                c["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        changes.contains(&("/status".into(), "CHANGED".into())),
        "{changes:?}"
    );
    assert!(
        changes.contains(&("/total/amount".into(), "CHANGED".into())),
        "{changes:?}"
    );
    assert!(
        changes.contains(&("/ratio".into(), "ADDED".into())),
        "{changes:?}"
    );

    // The proof of one entry leads to a signed checkpoint.
    let id = found[2]["auditEventId"].as_str().unwrap();
    let (status, proof) = stack
        .get(&format!("/audit-events/{id}/proof"), &token)
        .await;
    assert_eq!(status, 200, "{proof}");
    let path: Vec<_> = proof["auditPath"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| parse_hash(h.as_str().unwrap()).unwrap())
        .collect();
    let root = parse_hash(proof["rootHash"].as_str().unwrap()).unwrap();
    let size = proof["treeSize"].as_u64().unwrap();
    let leaf = proof["event"]["leafIndex"].as_u64().unwrap();
    verify_inclusion(
        &root,
        size,
        leaf,
        proof["event"]["canonical"].as_str().unwrap().as_bytes(),
        &path,
    )
    .expect("the entry is in the tree");
    let (_, keys) = stack.get("/audit/signing-keys", &token).await;
    let key = from_base64(keys["keys"][0]["publicKey"].as_str().unwrap()).unwrap();
    let checkpoint = &proof["checkpoint"];
    verify_note(
        &key,
        checkpoint["note"].as_str().unwrap(),
        &from_base64(checkpoint["signature"].as_str().unwrap()).unwrap(),
    )
    .expect("the checkpoint is signed by the published key");
    assert_eq!(checkpoint["treeSize"], size);

    // Evidence that is not evidence is kept in quarantine, counted, never appended.
    let mut broken = Said::quote(&t, "q-3", 1).envelope();
    broken["payload"].as_object_mut().unwrap().remove("actor");
    stack.publish(&[broken]).await;
    let mut quarantined = json!(null);
    for _ in 0..100 {
        let (_, list) = stack.get("/audit/quarantine", &token).await;
        if list["total"] == 1 {
            quarantined = list;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(quarantined["total"], 1, "quarantined: {quarantined}");
    let reasons = quarantined["items"][0]["reasons"].to_string();
    assert!(reasons.contains("actor"), "{reasons}");
    assert_eq!(stack.entries(&t).await, 7);

    // Another tenant's auditor sees none of it.
    let other = auditor(&tenant("other"));
    let (_, page) = stack.get("/audit-events?resourceType=QUOTE", &other).await;
    assert!(items(&page).is_empty());
    let (status, _) = stack.get(&format!("/audit-events/{id}"), &other).await;
    assert_eq!(status, 404);
}
