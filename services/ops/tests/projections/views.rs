//! The queues, the customer view, search and the business metrics over a scripted day; and a
//! rebuild that replays the log into a new generation equal to the live one.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{OpsStack, issuer, operator};
use crate::scenario::{CUSTOMER, REFERENCE, business_day};

const TENANT: &str = "acme";

fn lead() -> String {
    issuer().token_as(TENANT, "opslead1", &["operator", "ops-lead"], None)
}

async fn day_projected(stack: &OpsStack) -> usize {
    let day = business_day(TENANT);
    stack.publish(&day).await;
    stack
        .wait_count(
            "SELECT count(*) FROM projected_event WHERE generation = (SELECT generation FROM projection_state)",
            day.len() as i64,
        )
        .await;
    day.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_customer_search_and_metrics_follow_the_events() {
    let stack = OpsStack::start(&[]).await;
    // The schema's functions (the platform's outbox trigger) resolve names in ops_schema only.
    test_support::assert_functions_pin_search_path(&stack.owner, ops::SCHEMA).await;
    day_projected(&stack).await;
    let token = operator(TENANT);

    let queue = stack.get("/fallout-queue", &token).await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "f-1 was resolved, f-2 is open: {queue:#}");
    assert_eq!(items[0]["falloutId"], "f-2");
    assert_eq!(
        queue["groups"],
        json!([{"category": "RETRIES_EXHAUSTED", "ownerTeam": "order-repair", "count": 1,
                "oldestAgeSeconds": queue["groups"][0]["oldestAgeSeconds"]}])
    );
    assert!(queue["groups"][0]["oldestAgeSeconds"].as_f64().unwrap() > 1_000.0);
    let resolved = stack.get("/fallout-queue?status=RESOLVED", &token).await;
    assert_eq!(resolved["items"][0]["falloutId"], "f-1");
    let other_team = stack
        .get("/fallout-queue?ownerTeam=order-desk", &token)
        .await;
    assert_eq!(other_team["items"], json!([]));

    let aging = stack.get("/approval-aging", &token).await;
    // r-3 expired without a decision: it leaves the queue as r-1's approval did.
    assert_eq!(aging["items"].as_array().unwrap().len(), 1, "{aging:#}");
    assert_eq!(aging["items"][0]["requestId"], "r-2");
    assert_eq!(aging["buckets"][0], json!({"label": "< 1 h", "count": 1}));

    let customer = stack.get(&format!("/customers/{CUSTOMER}"), &token).await;
    let ids = |list: &str, field: &str| -> Vec<String> {
        let mut ids: Vec<String> = customer[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v[field].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids("quotes", "quoteId"), ["q-1", "q-2", "q-3"]);
    assert_eq!(ids("orders", "orderId"), ["o-1", "o-2"]);
    assert_eq!(ids("assets", "productInstanceId"), ["pi-1"]);

    for (term, kind) in [
        ("o-1", "ORDER"),
        ("q-2", "QUOTE"),
        (CUSTOMER, "CUSTOMER"),
        (REFERENCE, "EXTERNAL_REFERENCE"),
    ] {
        let found = stack.get(&format!("/search?q={term}"), &token).await;
        assert!(
            found["results"]
                .as_array()
                .unwrap()
                .iter()
                .any(|hit| hit["kind"] == kind),
            "{term}: {found:#}"
        );
    }
    let by_reference = stack.get(&format!("/search?q={REFERENCE}"), &token).await;
    assert_eq!(by_reference["results"][0]["orderId"], "o-1");
    let nothing = stack.get("/search?q=unknown", &token).await;
    assert_eq!(nothing["results"], json!([]));

    let metrics = stack.get("/business-metrics", &token).await;
    assert_eq!(metrics["quotes"]["created"], 3);
    assert_eq!(metrics["quotes"]["accepted"], 1);
    assert_eq!(metrics["quotes"]["converted"], 1);
    assert_eq!(metrics["quotes"]["overridden"], 1);
    assert_eq!(metrics["quotes"]["priceOverrides"], 2);
    assert_eq!(metrics["approvals"]["pending"], 1);
    assert_eq!(metrics["approvals"]["decided"], 1);
    assert_eq!(metrics["approvals"]["decisionP50Seconds"], 60.0);
    assert_eq!(metrics["orders"]["created"], 2);
    assert_eq!(metrics["orders"]["completed"], 1);
    assert_eq!(metrics["orders"]["cancelled"], 1);
    assert_eq!(metrics["orders"]["cancellationRate"], 0.5);
    assert_eq!(metrics["orders"]["fulfilmentP50Seconds"], 200.0);
    assert_eq!(metrics["fallout"], json!({"open": 1, "total": 2}));
    assert_eq!(metrics["tasks"]["retries"], 1);
    assert_eq!(metrics["hourly"].as_array().unwrap().len(), 24);
    let hourly_orders: i64 = metrics["hourly"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["ordersCreated"].as_i64().unwrap())
        .sum();
    assert_eq!(hourly_orders, 2);

    // Another tenant sees none of it.
    let other = operator("globex");
    let theirs = stack.get("/business-metrics", &other).await;
    assert_eq!(theirs["quotes"]["created"], 0);
    assert_eq!(
        stack.get("/fallout-queue", &other).await["items"],
        json!([])
    );
    stack.stop().await;
}

/// Every view row of the current generation, without the generation and projection time; the
/// rebuild request's own audit evidence (which the projector reads like any other) is left out,
/// since the live rows were taken before it existed.
async fn snapshot(stack: &OpsStack) -> Vec<Value> {
    let mut all = Vec::new();
    for (table, order) in [
        ("projected_event", "event_id"),
        ("order_view", "tenant_id, order_id"),
        ("order_progress", "tenant_id, order_id"),
        ("quote_view", "tenant_id, quote_id"),
        ("approval_view", "tenant_id, request_id"),
        ("fallout_view", "tenant_id, fallout_id"),
        ("asset_view", "tenant_id, product_instance_id"),
    ] {
        let rows: Vec<Value> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT to_jsonb(t) - 'generation' - 'projected_at' FROM {table} t \
             WHERE generation = (SELECT generation FROM projection_state) \
               AND coalesce(to_jsonb(t) #>> '{{summary,resourceType}}', '') <> 'ProjectionRebuild' \
             ORDER BY {order}"
        )))
        .fetch_all(&stack.owner)
        .await
        .unwrap();
        assert!(!rows.is_empty(), "{table} has rows");
        all.push(json!({ table: rows }));
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_replays_the_log_into_fresh_rows_equal_to_the_live_ones() {
    let stack = OpsStack::start(&[]).await;
    let events = day_projected(&stack).await;
    let live = snapshot(&stack).await;

    let reason = json!({"reason": "projection code changed"});
    let refused = stack
        .post("/ops/projections/rebuild", &operator(TENANT), &reason)
        .await;
    assert_eq!(refused.0, 403, "an operator is not a lead: {}", refused.1);
    let unreasoned = stack
        .post("/ops/projections/rebuild", &lead(), &json!({"reason": " "}))
        .await;
    assert_eq!(unreasoned.0, 422);

    let (status, run) = stack
        .post("/ops/projections/rebuild", &lead(), &reason)
        .await;
    assert_eq!(status, 202, "{run:#}");
    assert_eq!(run["generation"], 2);
    let path = format!(
        "/ops/projections/rebuilds/{}",
        run["rebuildId"].as_str().unwrap()
    );
    let started = Instant::now();
    let done = loop {
        let now = stack.get(&path, &lead()).await;
        if now["status"] != "RUNNING" {
            break now;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{now:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done["status"], "SWAPPED", "{done:#}");
    assert!(
        done["eventsReplayed"].as_u64().unwrap() >= events as u64,
        "the day and the request's own evidence: {done:#}"
    );
    assert_eq!(
        snapshot(&stack).await,
        live,
        "the rebuilt views equal the live ones"
    );
    // The replaced generation's rows go after the swap.
    stack
        .wait_count(
            "SELECT count(*) FROM projected_event WHERE generation = 1",
            0,
        )
        .await;
    let status = stack.get("/projections/status", &lead()).await;
    assert_eq!(status["generation"], 2);
    assert_eq!(status["rebuild"]["status"], "SWAPPED");

    // The live projector goes on in the new generation.
    let extra = business_day("globex");
    stack.publish(&extra).await;
    stack
        .wait_count(
            "SELECT count(*) FROM projected_event WHERE generation = 2 AND tenant_id = 'globex'",
            extra.len() as i64,
        )
        .await;

    // One run at a time: a run in progress (its process holds the run lock) refuses another.
    let mut holder = stack.owner.acquire().await.unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(0x6f70_735f_7275_6e00_i64)
        .execute(&mut *holder)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO projection_rebuild (rebuild_id, generation, status, requested_by, tenant_id, reason, \
         correlation_id, started_at) VALUES (gen_random_uuid(), 9, 'RUNNING', 'opslead1', 'acme', 'held', 'c', \
         now() - interval '1 hour')",
    )
    .execute(&stack.owner)
    .await
    .unwrap();
    let (status, problem) = stack
        .post("/ops/projections/rebuild", &lead(), &reason)
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("REBUILD_RUNNING"))
    );
    // Its process stops (the lock goes with its session): the run is failed, a new one starts.
    sqlx::Connection::close(holder.detach()).await.unwrap();
    let (status, run) = stack
        .post("/ops/projections/rebuild", &lead(), &reason)
        .await;
    assert_eq!(status, 202, "{run:#}");
    let orphan: (String, String) =
        sqlx::query_as("SELECT status, failure FROM projection_rebuild WHERE generation = 9")
            .fetch_one(&stack.owner)
            .await
            .unwrap();
    assert_eq!(orphan.0, "FAILED");
    assert!(orphan.1.contains("stopped"), "{}", orphan.1);
    stack.stop().await;
}
