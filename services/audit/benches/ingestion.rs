//! Ingestion throughput of the audit log (issue 25's performance goal): entries appended *and
//! proven* per second, against the raw PostgreSQL insert rate of the same rows in the same run.
//!
//! - **audit:** `BENCH_ENTRIES` (5,000) pieces of evidence wait on the private broker; the audit
//!   service starts and takes them (inbox, normalisation, append with the perfect subtrees each
//!   completes), then signs a checkpoint over all of them. Rate = entries ÷ (first append → the
//!   covering checkpoint), by the database's clock.
//! - **raw insert:** the same rows (the stored entries' columns) inserted into a plain table with
//!   only a primary key, one transaction per row, from one connection: what storing each message
//!   in its own transaction costs without any of the log's work. A multi-row baseline (500 rows
//!   per statement) is reported too, as the ceiling of batching.
//!
//! Run: `cargo bench -p audit --bench ingestion` (needs `tansu`, PostgreSQL and Redis).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a bench fails loudly and reports on stdout"
)]

#[path = "../tests/log/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use harness::{AuditStack, auditor, quote_evidence, tenant};
use sqlx::Row;

type RawRow = (
    String,
    i64,
    uuid::Uuid,
    String,
    DateTime<Utc>,
    String,
    String,
    String,
    String,
    String,
    String,
    Vec<u8>,
);

const RAW_TABLE: &str = "CREATE TABLE IF NOT EXISTS bench_raw_evidence (
    tenant_id text NOT NULL, leaf_index bigint NOT NULL, audit_event_id uuid NOT NULL,
    event_type text NOT NULL, occurred_at timestamptz NOT NULL, actor_id text NOT NULL,
    resource_type text NOT NULL, resource_id text NOT NULL, correlation_id text NOT NULL,
    business_transaction_id text NOT NULL, canonical text NOT NULL, leaf_hash bytea NOT NULL,
    PRIMARY KEY (tenant_id, leaf_index))";

const INSERT: &str =
    "INSERT INTO bench_raw_evidence VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let entries: usize = std::env::var("BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    if std::env::var("BENCH_LOG").is_ok() {
        std::mem::forget(common_kernel::telemetry::init(
            "bench",
            common_kernel::settings::LogFormat::Pretty,
        ));
    }
    let mut stack = AuditStack::start().await;
    stack.stop_audit().await;
    let t = tenant("bench");
    // Many business transactions, as in production: keys spread over the three partitions.
    let mut evidence = Vec::with_capacity(entries);
    for chunk in 0..entries.div_ceil(50) {
        evidence.extend(quote_evidence(&t, &format!("q-{chunk}"), 50));
    }
    evidence.truncate(entries);
    for chunk in evidence.chunks(500) {
        stack.publish(chunk).await;
    }
    println!("{entries} evidence events published; starting the audit service");

    stack.start_audit().await;
    stack
        .wait_entries(&t, entries as i64, Duration::from_secs(900))
        .await;
    let (status, checkpoint) = stack.post("/audit/checkpoints", &auditor(&t), None).await;
    assert!(status == 201 || status == 200, "{checkpoint}");
    let covered = checkpoint["treeSize"].as_u64().unwrap();
    assert_eq!(covered, entries as u64);
    let row = sqlx::query(
        "SELECT min(e.ingested_at) AS first, \
                (SELECT issued_at FROM checkpoint WHERE tenant_id = $1 AND tree_size = $2) AS proven, \
                max(e.ingested_at) AS last \
           FROM evidence_entry e WHERE e.tenant_id = $1",
    )
    .bind(&t)
    .bind(entries as i64)
    .fetch_one(&stack.owner)
    .await
    .unwrap();
    let first: DateTime<Utc> = row.get("first");
    let last: DateTime<Utc> = row.get("last");
    let proven: DateTime<Utc> = row.get("proven");
    let appended_for = (last - first).to_std().unwrap_or_default();
    let proven_for = (proven - first).to_std().unwrap_or_default();
    let audit_rate = entries as f64 / proven_for.as_secs_f64();
    let append_rate = entries as f64 / appended_for.as_secs_f64();
    let (_, report) = stack.post("/audit/verify", &auditor(&t), None).await;
    assert_eq!(report["valid"], true, "{report}");

    // The same rows, raw.
    sqlx::query(RAW_TABLE).execute(&stack.owner).await.unwrap();
    let rows: Vec<RawRow> = sqlx::query_as(
        "SELECT tenant_id, leaf_index, audit_event_id, event_type, occurred_at, actor_id, resource_type, \
         resource_id, correlation_id, business_transaction_id, canonical, leaf_hash \
         FROM evidence_entry WHERE tenant_id = $1 ORDER BY leaf_index",
    )
    .bind(&t)
    .fetch_all(&stack.owner)
    .await
    .unwrap();
    let mut conn = stack.owner.acquire().await.unwrap();
    let started = Instant::now();
    for row in &rows {
        sqlx::query(INSERT)
            .bind(&row.0)
            .bind(row.1)
            .bind(row.2)
            .bind(&row.3)
            .bind(row.4)
            .bind(&row.5)
            .bind(&row.6)
            .bind(&row.7)
            .bind(&row.8)
            .bind(&row.9)
            .bind(&row.10)
            .bind(&row.11)
            .execute(&mut *conn)
            .await
            .unwrap();
    }
    let raw_rate = rows.len() as f64 / started.elapsed().as_secs_f64();
    sqlx::query("TRUNCATE bench_raw_evidence")
        .execute(&mut *conn)
        .await
        .unwrap();
    let started = Instant::now();
    for chunk in rows.chunks(500) {
        let mut insert = sqlx::QueryBuilder::new("INSERT INTO bench_raw_evidence ");
        insert.push_values(chunk, |mut b, row| {
            b.push_bind(&row.0)
                .push_bind(row.1)
                .push_bind(row.2)
                .push_bind(&row.3)
                .push_bind(row.4)
                .push_bind(&row.5)
                .push_bind(&row.6)
                .push_bind(&row.7)
                .push_bind(&row.8)
                .push_bind(&row.9)
                .push_bind(&row.10)
                .push_bind(&row.11);
        });
        insert.build().execute(&mut *conn).await.unwrap();
    }
    let batch_rate = rows.len() as f64 / started.elapsed().as_secs_f64();
    drop(conn);

    // The profile: the same ingestion without the broker (the handler called in batches of 500
    // on one connection), and the contract check alone, to see where the time goes.
    let direct = tenant("direct");
    let envelopes: Vec<serde_json::Value> = (0..entries.div_ceil(50))
        .flat_map(|chunk| quote_evidence(&direct, &format!("q-{chunk}"), 50))
        .take(entries)
        .collect();
    let started = Instant::now();
    for envelope in &envelopes {
        event_contracts::validate(envelope).unwrap();
    }
    let validate_rate = entries as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for chunk in envelopes.chunks(500) {
        let mut tx = stack.owner.begin().await.unwrap();
        let messages: Vec<(&serde_json::Value, audit::app::ingest::Location)> = chunk
            .iter()
            .map(|e| {
                (
                    e,
                    audit::app::ingest::Location {
                        topic: "bench".into(),
                        partition: 0,
                        offset: 0,
                    },
                )
            })
            .collect();
        audit::app::ingest::ingest(&mut tx, &messages)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let direct_rate = entries as f64 / started.elapsed().as_secs_f64();
    let broker_rate = read_all(&stack.brokers, entries).await;

    println!("audit ingestion of {entries} entries (Kafka → inbox → append → signed checkpoint):");
    println!(
        "  appended: {:.0} entries/s over {:.2} s; appended and proven: {:.0} entries/s over {:.2} s",
        append_rate,
        appended_for.as_secs_f64(),
        audit_rate,
        proven_for.as_secs_f64()
    );
    println!(
        "raw insert of the same rows: {raw_rate:.0} rows/s one transaction per row; {batch_rate:.0} rows/s 500 rows per statement"
    );
    println!(
        "ratio (appended and proven ÷ raw per-row insert): {:.2}× (goal ≥ 0.5×); against 500-row batches: {:.2}×",
        audit_rate / raw_rate,
        audit_rate / batch_rate
    );
    println!(
        "profile: ingestion without the broker {direct_rate:.0} entries/s (500 per transaction); the event contract check alone {validate_rate:.0} envelopes/s; the broker alone delivers {broker_rate:.0} messages/s to a bare consumer"
    );
    stack.stop_audit().await;
}

/// How fast the broker hands the topic's messages to a consumer that does nothing with them.
async fn read_all(brokers: &str, count: usize) -> f64 {
    use rdkafka::consumer::{Consumer, StreamConsumer};
    let consumer: StreamConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("bench-{}", uuid::Uuid::now_v7()))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "25")
        .create()
        .unwrap();
    consumer
        .subscribe(&[common_kernel::audit::AUDIT_TOPIC])
        .unwrap();
    let first = consumer.recv().await.unwrap();
    drop(first);
    let started = Instant::now();
    for _ in 1..count {
        let _ = consumer.recv().await.unwrap();
    }
    count as f64 / started.elapsed().as_secs_f64()
}
