//! The business metrics the ops service projects equal counts taken independently from the
//! source services' own databases after a scripted run of 200 quotes and 100 orders (issue 26):
//! 100 quotes priced, submitted, approved, accepted and converted, 100 more priced (every tenth
//! with a manual price override), and the 100 orders fulfilled; the first ten ran while
//! provisioning failed, spent their retries, fell out and were retried in bulk.

use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::actions::{Catalog, id};
use super::stack::{Stack, TENANT};

const CONVERTED: usize = 100;
const PRICED_ONLY: usize = 100;

async fn priced_quote(stack: &Stack, catalog: Catalog, n: usize) {
    let cpq = &stack.cpq.base;
    let created = stack
        .ok(
            "sales1",
            Method::POST,
            format!("{cpq}/quotes"),
            Some(&json!({
                "customerId": format!("CUST-M-{n}"), "currency": "USD", "priceBookId": catalog.price_book,
                "validUntil": chrono::Utc::now() + chrono::Duration::days(30),
                "items": [{"id": "1", "offeringId": catalog.internet, "quantity": 1, "termMonths": 24,
                           "characteristics": {"bandwidthMbps": 500}}]})),
        )
        .await;
    let quote = id(&created, "id");
    stack
        .ok(
            "sales1",
            Method::POST,
            format!("{cpq}/quotes/{quote}/price"),
            None,
        )
        .await;
    if n.is_multiple_of(10) {
        stack
            .ok(
                "sales1",
                Method::POST,
                format!("{cpq}/quotes/{quote}/items/1/price-override"),
                Some(
                    &json!({"charge": "RECURRING_MONTH", "originalPrice": "134.10",
                             "newPrice": "129.00", "reason": "loyalty"}),
                ),
            )
            .await;
    }
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn seconds(pool: &PgPool, sql: &str) -> Option<f64> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn close(projected: &Value, source: Option<f64>, what: &str) {
    match (projected.as_f64(), source) {
        (Some(p), Some(s)) => assert!((p - s).abs() < 1.0, "{what}: ops {p} vs source {s}"),
        (None, None) => {}
        other => panic!("{what}: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn business_metrics_equal_the_source_databases_after_200_quotes_and_100_orders() {
    let stack = Stack::start_with(
        true,
        vec![("APP__ORDER__STUCK_CALL_AFTER_SECONDS", "60".to_owned())],
    )
    .await;
    let (ops, _ops_db) = stack
        .start_ops(&[("APP__OPS__METRICS_EVERY_SECONDS", "1".to_owned())])
        .await;
    let catalog = stack.seed_catalog().await;
    // Provisioning fails while the first ten orders run: they spend their retries and fall out.
    stack
        .sim
        .add_fault(json!({"system": "provisioning", "operation": "activate", "mode": "ERROR_5XX"}))
        .await;

    let mut orders: Vec<Uuid> = Vec::new();
    for chunk in (0..CONVERTED).collect::<Vec<_>>().chunks(10) {
        let customers: Vec<String> = chunk.iter().map(|n| format!("CUST-Q-{n}")).collect();
        let done = join_all(
            customers
                .iter()
                .map(|customer| stack.quote_to_order(catalog, customer)),
        )
        .await;
        orders.extend(done.into_iter().map(|(_, order)| order));
        if orders.len() == 10 {
            for order in &orders {
                let fell = stack.wait_order(*order, &["FALLOUT", "COMPLETED"]).await;
                assert_eq!(fell["status"], "FALLOUT", "{fell}");
            }
            stack.sim.clear_faults().await;
        }
    }
    for chunk in (0..PRICED_ONLY).collect::<Vec<_>>().chunks(10) {
        join_all(chunk.iter().map(|n| priced_quote(&stack, catalog, *n))).await;
    }
    for order in &orders {
        stack.wait_order(*order, &["COMPLETED", "FALLOUT"]).await;
    }
    let retry = json!({"action": "RETRY", "reason": "provisioning is back", "evidence": {"incident": "INC-M"},
                       "filter": {"category": "RETRIES_EXHAUSTED", "status": "OPEN"}});
    let (status, retried) = stack
        .call(
            "ops1",
            Method::POST,
            format!("{}/fallouts/bulk-actions", stack.order_base),
            Some(&retry),
            Some("metrics-retry"),
        )
        .await;
    assert!(status.is_success(), "{retried}");
    for order in &orders {
        stack.wait_order(*order, &["COMPLETED"]).await;
    }

    let cpq = PgPool::connect(&stack.cpq_db_url).await.unwrap();
    let approval = PgPool::connect(&stack.approval_db_url).await.unwrap();
    let order_db = &stack.order_db;
    let source = json!({
        "quotes": {
            "created": count(&cpq, "SELECT count(*) FROM cpq_schema.quote").await,
            "accepted": count(&cpq, "SELECT count(*) FROM cpq_schema.quote WHERE accepted_at IS NOT NULL").await,
            "converted": count(&cpq, "SELECT count(*) FROM cpq_schema.quote_conversion").await,
            "overridden": count(&cpq, "SELECT count(DISTINCT quote_id) FROM cpq_schema.quote_price_override").await,
            "priceOverrides": count(&cpq, "SELECT count(*) FROM cpq_schema.quote_price_override").await,
        },
        "approvals": {
            "pending": count(&approval, "SELECT count(*) FROM approval_schema.approval_request WHERE status = 'PENDING'").await,
        },
        "orders": {
            "created": count(order_db, "SELECT count(*) FROM customer_order").await,
            "completed": count(order_db, "SELECT count(*) FROM customer_order WHERE status = 'COMPLETED'").await,
            "cancelled": count(order_db, "SELECT count(*) FROM customer_order WHERE status = 'CANCELLED'").await,
        },
        "fallout": {
            "open": count(order_db, "SELECT count(*) FROM order_fallout WHERE status NOT IN ('RESOLVED', 'CLOSED')").await,
            "total": count(order_db, "SELECT count(*) FROM order_fallout").await,
        },
        "tasks": {
            "retries": count(order_db, "SELECT coalesce(sum(greatest(attempts - 1, 0)), 0)::int8 FROM fulfilment_task").await,
        },
    });
    assert_eq!(source["quotes"]["created"], CONVERTED + PRICED_ONLY);
    assert_eq!(source["orders"]["completed"], CONVERTED);
    assert!(
        source["tasks"]["retries"].as_i64().unwrap() > 0,
        "some orders were retried: {source:#}"
    );

    // The projections catch up; then every figure equals its source's.
    let url = format!("{}/business-metrics", ops.base);
    let started = Instant::now();
    let metrics = loop {
        let (_, metrics) = stack
            .call("ops1", Method::GET, url.clone(), None, None)
            .await;
        let caught_up = metrics["quotes"]["created"] == source["quotes"]["created"]
            && metrics["orders"]["completed"] == source["orders"]["completed"]
            && metrics["quotes"]["converted"] == source["quotes"]["converted"];
        if caught_up {
            break metrics;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the projections never caught up: {metrics:#}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    for (group, fields) in [
        (
            "quotes",
            &[
                "created",
                "accepted",
                "converted",
                "overridden",
                "priceOverrides",
            ][..],
        ),
        ("approvals", &["pending"][..]),
        ("orders", &["created", "completed", "cancelled"][..]),
        ("fallout", &["open", "total"][..]),
        ("tasks", &["retries"][..]),
    ] {
        for field in fields {
            assert_eq!(
                metrics[group][field], source[group][field],
                "{group}.{field}: ops {metrics:#} vs source {source:#}"
            );
        }
    }
    assert_eq!(
        metrics["quotes"]["createdLastHour"],
        source["quotes"]["created"]
    );
    assert_eq!(
        metrics["orders"]["createdLastHour"],
        source["orders"]["created"]
    );
    assert_eq!(metrics["orders"]["stuck"], 0);
    assert_eq!(
        metrics["quotes"]["conversionRate"],
        json!(CONVERTED as f64 / (CONVERTED + PRICED_ONLY) as f64)
    );
    assert_eq!(metrics["quotes"]["overrideFrequency"], json!(0.05));
    assert_eq!(metrics["orders"]["cancellationRate"], json!(0.0));
    let durations = "SELECT percentile_cont({q}) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - created_at))::float8 \
                     FROM customer_order WHERE completed_at IS NOT NULL";
    close(
        &metrics["orders"]["fulfilmentP50Seconds"],
        seconds(order_db, &durations.replace("{q}", "0.5")).await,
        "fulfilment p50",
    );
    close(
        &metrics["orders"]["fulfilmentP95Seconds"],
        seconds(order_db, &durations.replace("{q}", "0.95")).await,
        "fulfilment p95",
    );

    // The same figures as Prometheus series.
    let exported = format!(
        "ops_business_quotes_created{{tenant=\"{TENANT}\"}} {}",
        source["quotes"]["created"]
    );
    let started = Instant::now();
    loop {
        let text = stack
            .http
            .get(format!("{}/metrics", ops.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.lines().any(|line| line == exported) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{exported} not in /metrics"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    stack.stop().await;
}
