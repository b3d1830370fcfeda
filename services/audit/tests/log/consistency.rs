//! Checkpoints at sizes 10 and 1,000 have a valid consistency proof; a history rewritten
//! afterwards (one entry changed, every stored hash above it recomputed so the log looks
//! whole) no longer proves consistent with what was signed.

use std::collections::HashMap;
use std::time::Duration;

use audit_proof::Hash;
use audit_proof::bundle::parse_hash;
use audit_proof::checkpoint::{from_base64, verify_note};
use audit_proof::tree::{self, Subtree, verify_consistency};
use serde_json::Value;

use crate::harness::{AuditStack, auditor, quote_evidence, tenant};

fn hashes(list: &Value) -> Vec<Hash> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|h| parse_hash(h.as_str().unwrap()).unwrap())
        .collect()
}

fn root(checkpoint: &Value) -> Hash {
    parse_hash(checkpoint["rootHash"].as_str().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_checkpoints_stay_consistent_until_history_is_rewritten() {
    let stack = AuditStack::start().await;
    let t = tenant("consistency");
    let token = auditor(&t);
    stack.publish(&quote_evidence(&t, "q-early", 10)).await;
    stack.wait_entries(&t, 10, Duration::from_secs(30)).await;
    let (_, at_10) = stack.post("/audit/checkpoints", &token, None).await;
    assert_eq!(at_10["treeSize"], 10, "{at_10}");
    for chunk in quote_evidence(&t, "q-late", 990).chunks(100) {
        stack.publish(chunk).await;
    }
    stack
        .wait_entries(&t, 1_000, Duration::from_secs(120))
        .await;
    let (_, at_1000) = stack.post("/audit/checkpoints", &token, None).await;
    assert_eq!(at_1000["treeSize"], 1_000, "{at_1000}");
    let (_, keys) = stack.get("/audit/signing-keys", &token).await;
    let key = from_base64(keys["keys"][0]["publicKey"].as_str().unwrap()).unwrap();
    for checkpoint in [&at_10, &at_1000] {
        verify_note(
            &key,
            checkpoint["note"].as_str().unwrap(),
            &from_base64(checkpoint["signature"].as_str().unwrap()).unwrap(),
        )
        .expect("signed");
    }

    let (status, proof) = stack
        .get("/audit/consistency?from=10&to=1000", &token)
        .await;
    assert_eq!(status, 200, "{proof}");
    assert_eq!(proof["fromCheckpoint"]["treeSize"], 10);
    verify_consistency(
        &root(&at_10),
        10,
        &root(&at_1000),
        1_000,
        &hashes(&proof["proof"]),
    )
    .expect("the log of 10 is a prefix of the log of 1,000");

    // Rewrite entry 3 and every stored hash above it, as a forger with the database would.
    let mut tx = stack.owner.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE evidence_entry SET (canonical, leaf_hash) = (SELECT c, sha256('\\x00'::bytea || convert_to(c, 'UTF8')) \
         FROM (SELECT replace(canonical, '\"step 4\"', '\"rewritten\"') AS c) AS rewritten) \
         WHERE tenant_id = $1 AND leaf_index = 3",
    )
    .bind(&t)
    .execute(&mut *tx)
    .await
    .unwrap();
    let leaves: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT leaf_hash FROM evidence_entry WHERE tenant_id = $1 ORDER BY leaf_index",
    )
    .bind(&t)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    let mut rebuilt: HashMap<Subtree, Hash> = HashMap::new();
    let mut nodes = Vec::new();
    for (size, leaf) in leaves.iter().enumerate() {
        let leaf: Hash = leaf.as_slice().try_into().unwrap();
        let siblings: Vec<Hash> = tree::append_needs(size as u64)
            .iter()
            .map(|needed| rebuilt[needed])
            .collect();
        rebuilt.insert(
            Subtree {
                level: 0,
                index: size as u64,
            },
            leaf,
        );
        for (subtree, hash) in tree::append(size as u64, leaf, &siblings) {
            rebuilt.insert(subtree, hash);
            nodes.push((subtree, hash));
        }
    }
    for (subtree, hash) in nodes {
        sqlx::query(
            "UPDATE merkle_node SET hash = $4 WHERE tenant_id = $1 AND level = $2 AND node_index = $3",
        )
        .bind(&t)
        .bind(i16::from(subtree.level))
        .bind(subtree.index as i64)
        .bind(&hash[..])
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let (_, forged) = stack
        .get("/audit/consistency?from=10&to=1000", &token)
        .await;
    let forged_path = hashes(&forged["proof"]);
    assert!(
        verify_consistency(&root(&at_10), 10, &root(&at_1000), 1_000, &forged_path).is_err(),
        "a rewritten history must not prove consistent with the signed checkpoints"
    );
    let forged_old = parse_hash(forged["fromRootHash"].as_str().unwrap()).unwrap();
    assert_ne!(
        forged_old,
        root(&at_10),
        "the rewritten log has another root at 10"
    );
    let (_, report) = stack.post("/audit/verify", &token, None).await;
    assert_eq!(report["valid"], false, "{report}");
    assert_eq!(
        report["firstMismatch"]["problem"], "CHECKPOINT_MISMATCH",
        "{report}"
    );
}
