//! A superuser changes one stored entry with SQL, past the triggers and the leaf-hash check.
//! `/audit/verify` names that entry; a bundle exported before the change still verifies, one
//! exported after does not (checked by the library, by `audit-verify`, and by an independent
//! Python verifier written from docs/audit-evidence-format.md alone).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use audit_proof::bundle::{BundleFailure, EvidenceBundle, verify_bundle};
use audit_proof::checkpoint::from_base64;
use serde_json::Value;

use crate::harness::{AuditStack, auditor, quote_evidence, tenant};

/// Runs a verifier program on a bundle written to a file: exit code and what it said.
fn run_verifier(program: &str, leading: &[&Path], bundle: &Value, key: &str) -> (i32, String) {
    let file = std::env::temp_dir().join(format!("bundle-{}.json", uuid::Uuid::now_v7()));
    std::fs::write(&file, bundle.to_string()).unwrap();
    let output = Command::new(program)
        .args(leading)
        .arg(&file)
        .args(["--public-key", key])
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let _ = std::fs::remove_file(&file);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), said)
}

/// The project's `audit-verify`.
fn audit_verify(bundle: &Value, key: &str) -> (i32, String) {
    run_verifier(env!("CARGO_BIN_EXE_audit-verify"), &[], bundle, key)
}

/// The independent Python verifier, written from docs/audit-evidence-format.md alone.
fn python_verify(bundle: &Value, key: &str) -> (i32, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verifier/verify_bundle.py");
    run_verifier("python3", &[&script], bundle, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampering_is_named_and_only_later_bundles_fail() {
    let stack = AuditStack::start().await;
    let t = tenant("tamper");
    let token = auditor(&t);
    let mut evidence = quote_evidence(&t, "q-1", 8);
    evidence.extend(quote_evidence(&t, "q-2", 12));
    for chunk in evidence.chunks(4) {
        stack.publish(chunk).await;
    }
    stack.wait_entries(&t, 20, Duration::from_secs(30)).await;
    let (status, checkpoint) = stack.post("/audit/checkpoints", &token, None).await;
    assert!(status == 201 || status == 200, "{checkpoint}");
    assert_eq!(checkpoint["treeSize"], 20);
    let (_, keys) = stack.get("/audit/signing-keys", &token).await;
    let key_text = keys["keys"][0]["publicKey"].as_str().unwrap().to_owned();
    let key = from_base64(&key_text).unwrap();

    let (status, before) = stack
        .get(
            "/evidence-bundles?resourceType=QUOTE&resourceId=q-1",
            &token,
        )
        .await;
    assert_eq!(status, 200, "{before}");
    let before_bundle: EvidenceBundle = serde_json::from_value(before.clone()).unwrap();
    assert_eq!(before_bundle.entries.len(), 8);
    verify_bundle(&before_bundle, Some(&key)).expect("a fresh bundle verifies");
    let (code, said) = audit_verify(&before, &key_text);
    assert_eq!(code, 0, "{said}");
    let (code, said) = python_verify(&before, &key_text);
    assert_eq!(
        code, 0,
        "the independent verifier accepts a real bundle: {said}"
    );
    let (_, clean) = stack.post("/audit/verify", &token, None).await;
    assert_eq!(clean["valid"], true, "{clean}");
    assert_eq!(clean["entriesChecked"], 20);
    assert!(clean["checkpointsChecked"].as_u64() >= Some(1), "{clean}");

    // The superuser: triggers off, the leaf-hash check dropped, one reason rewritten.
    let target = &before_bundle.entries[3];
    let target_id = target.entry["auditEventId"].as_str().unwrap().to_owned();
    let mut tx = stack.owner.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE evidence_entry DROP CONSTRAINT evidence_entry_leaf_hash")
        .execute(&mut *tx)
        .await
        .unwrap();
    let changed = sqlx::query(
        "UPDATE evidence_entry SET canonical = replace(canonical, '\"step 4\"', '\"approved by the CEO\"') \
         WHERE tenant_id = $1 AND leaf_index = $2",
    )
    .bind(&t)
    .bind(target.leaf_index as i64)
    .execute(&mut *tx)
    .await
    .unwrap()
    .rows_affected();
    tx.commit().await.unwrap();
    assert_eq!(changed, 1);

    let (_, report) = stack.post("/audit/verify", &token, None).await;
    assert_eq!(report["valid"], false, "{report}");
    assert_eq!(report["firstMismatch"]["leafIndex"], target.leaf_index);
    assert_eq!(report["firstMismatch"]["auditEventId"], target_id.as_str());
    assert_eq!(report["firstMismatch"]["problem"], "CONTENT_ALTERED");

    // The bundle exported before still verifies; one exported now names the entry.
    verify_bundle(&before_bundle, Some(&key)).expect("the earlier bundle still verifies");
    assert_eq!(audit_verify(&before, &key_text).0, 0);
    let (status, after) = stack
        .get(
            "/evidence-bundles?resourceType=QUOTE&resourceId=q-1",
            &token,
        )
        .await;
    assert_eq!(status, 200, "{after}");
    let after_bundle: EvidenceBundle = serde_json::from_value(after.clone()).unwrap();
    match verify_bundle(&after_bundle, Some(&key)) {
        Err(BundleFailure::Entry {
            leaf_index,
            audit_event_id,
            ..
        }) => {
            assert_eq!(leaf_index, target.leaf_index);
            assert_eq!(audit_event_id, target_id);
        }
        other => panic!("the later bundle must name the altered entry, got {other:?}"),
    }
    let (code, said) = audit_verify(&after, &key_text);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains(&target_id), "{said}");
    let (code, said) = python_verify(&after, &key_text);
    assert_ne!(code, 0, "the independent verifier refuses it too: {said}");

    // Content and leaf hash rewritten together: the stored tree no longer matches.
    let mut tx = stack.owner.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE evidence_entry SET (canonical, leaf_hash) = (SELECT c, sha256('\\x00'::bytea || convert_to(c, 'UTF8')) \
         FROM (SELECT replace(canonical, '\"step 9\"', '\"never happened\"') AS c) AS rewritten) \
         WHERE tenant_id = $1 AND resource_id = 'q-2' AND canonical LIKE '%\"step 9\"%'",
    )
    .bind(&t)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let (_, report) = stack.post("/audit/verify", &token, None).await;
    assert_eq!(report["valid"], false);
    assert!(
        report["findings"].as_u64().unwrap() >= 3,
        "content, subtree and checkpoint: {report}"
    );
    assert_eq!(
        report["firstMismatch"]["problem"], "CONTENT_ALTERED",
        "the entry is still named first"
    );
}
