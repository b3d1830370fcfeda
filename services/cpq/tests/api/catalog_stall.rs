//! A slow catalog never holds a quote's row lock or a pooled connection: commands read the
//! catalog before their transaction (ADR 0027), so while the catalog stalls another command
//! takes the quote's lock at once, even with more stalled commands than the pool has
//! connections, and the stalled commands decide afresh under the lock once the catalog answers.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{TestApp, expect_problem};

/// Connections in CPQ's pool; the test stalls more commands than this.
const POOL: usize = 3;
const STALLED: usize = 2 * POOL;

#[tokio::test]
async fn a_stalled_catalog_holds_no_row_lock_and_no_pool_connection() {
    let app = TestApp::spawn_behind_proxy(HashMap::from([(
        "APP__DATABASE__MAX_CONNECTIONS",
        POOL.to_string(),
    )]))
    .await;
    let quote = app.configured_quote().await;
    let proxy = app.catalog_proxy.as_ref().expect("a proxied catalog");
    proxy.stall();

    let items = json!({"items": [app.item("1", 3)]});
    let path = format!("/quotes/{quote}/items");
    let stalled = join_all((0..STALLED).map(|_| app.put(&path, &items)));
    let meanwhile = async {
        // Every replace-items command is now waiting for the catalog (each holds one request).
        let deadline = Instant::now() + Duration::from_secs(3);
        while proxy.held_chunks() < STALLED {
            assert!(
                Instant::now() < deadline,
                "only {} requests reached the stalled catalog",
                proxy.held_chunks()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }

        // No CPQ session sits in an open transaction or waits on a lock.
        let sessions: Vec<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT state, wait_event_type FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&app.db)
        .await
        .expect("pg_stat_activity");
        for (state, wait) in &sessions {
            assert_ne!(
                state.as_deref(),
                Some("idle in transaction"),
                "{sessions:?}"
            );
            assert_ne!(wait.as_deref(), Some("Lock"), "{sessions:?}");
        }

        // Another command takes the quote's lock and a pooled connection at once.
        let started = Instant::now();
        let cancelled = app.command(quote, "cancel").await;
        let took = started.elapsed();
        assert_eq!(cancelled["status"], "CANCELLED", "{cancelled}");
        assert!(
            took < Duration::from_secs(2),
            "cancel waited {took:?} behind the stalled catalog"
        );
        assert_eq!(
            proxy.held_chunks(),
            STALLED,
            "the catalog was still stalled meanwhile"
        );
        proxy.unblock();
    };
    let (answers, ()) = tokio::join!(stalled, meanwhile);

    // Once the catalog answered, each stalled command took the lock and found the quote
    // cancelled: the decision is made under the lock, not from what was read before.
    for answer in answers {
        expect_problem(answer, StatusCode::CONFLICT, "ILLEGAL_TRANSITION").await;
    }
    assert_eq!(app.quote(quote).await["status"], "CANCELLED");
    app.stop().await;
}
