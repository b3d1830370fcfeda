//! Delivery: the same evidence delivered twice is one entry; the audit service stopped while
//! 5,000 real commands run (the catalog's, through its outbox and relay) catches up when it
//! starts again, losing nothing and keeping a valid tree.

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;

use crate::harness::{AuditStack, auditor, database, issuer, quote_evidence, settings, tenant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_delivery_of_1000_gives_exactly_1000_entries() {
    let stack = AuditStack::start().await;
    let t = tenant("duplicates");
    let evidence = quote_evidence(&t, "q-dup", 1_000);
    for round in 0..2 {
        for chunk in evidence.chunks(100) {
            stack.publish(chunk).await;
        }
        if round == 0 {
            stack
                .wait_entries(&t, 1_000, Duration::from_secs(120))
                .await;
        }
    }
    // A sentinel with the same partition key, published after the redeliveries, is read after
    // them: once it is in its log, every redelivery has been taken.
    let sentinel = tenant("sentinel");
    stack.publish(&quote_evidence(&sentinel, "q-dup", 1)).await;
    stack
        .wait_entries(&sentinel, 1, Duration::from_secs(60))
        .await;
    let taken: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM inbox_message WHERE consumer_group = 'audit.evidence-log'",
    )
    .fetch_one(&stack.owner)
    .await
    .unwrap();
    assert_eq!(taken, 1_001, "one inbox row per event id");
    assert_eq!(stack.entries(&t).await, 1_000);
    let (_, report) = stack.post("/audit/verify", &auditor(&t), None).await;
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["entriesChecked"], 1_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_down_while_5000_commands_run_catches_up_with_nothing_lost() {
    let mut stack = AuditStack::start().await;
    stack.stop_audit().await;
    let catalog_db = database(catalog::SERVICE, catalog::SCHEMA, &catalog::MIGRATOR).await;
    let catalog_app = catalog::Application::build(settings(
        catalog::SERVICE,
        &catalog_db.url,
        &stack.brokers,
        &[],
    ))
    .await
    .expect("catalog starts");
    let catalog = crate::serve!(catalog_app);
    let t = tenant("catchup");
    let admin = issuer().token_as(&t, "catalog1", &["catalog-admin"], None);
    let http = stack.http.clone();
    let started = Instant::now();
    let created = futures::stream::iter(0..5_000)
        .map(|i| {
            let (http, admin, base) = (http.clone(), admin.clone(), catalog.base.clone());
            async move {
                let response = http
                    .post(format!("{base}/product-specifications"))
                    .bearer_auth(&admin)
                    .json(&json!({"code": format!("SPEC-{i}"), "name": format!("Spec {i}"), "characteristics": []}))
                    .send()
                    .await
                    .expect("create");
                response.status().as_u16()
            }
        })
        .buffer_unordered(8)
        .filter(|status| std::future::ready(*status == 201))
        .count()
        .await;
    assert_eq!(created, 5_000, "every command succeeded");
    let commands = started.elapsed();
    stack.start_audit().await;
    let caught_up = Instant::now();
    stack
        .wait_entries(&t, 5_000, Duration::from_secs(300))
        .await;
    eprintln!(
        "5,000 catalog commands in {commands:?}; the audit service caught up in {:?}",
        caught_up.elapsed()
    );
    let distinct: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT resource_id) FROM evidence_entry WHERE tenant_id = $1 AND resource_type = 'PRODUCT_SPECIFICATION'",
    )
    .bind(&t)
    .fetch_one(&stack.owner)
    .await
    .unwrap();
    assert_eq!(distinct, 5_000);
    let (_, report) = stack.post("/audit/verify", &auditor(&t), None).await;
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["entriesChecked"], 5_000);
    catalog.stop().await;
}
