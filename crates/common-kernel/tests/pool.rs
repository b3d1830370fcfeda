//! The service pool against a real PostgreSQL: a connection is pinged before use only after it
//! sat idle, and one the server dropped meanwhile is replaced, not handed out.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use std::time::Duration;

use common_kernel::db::{self, PING_IF_IDLE_FOR};
use common_kernel::settings::{DatabaseSettings, Secret};
use sqlx::{Connection, PgConnection, PgPool};

async fn pool() -> PgPool {
    let settings = DatabaseSettings {
        url: Secret::new(test_support::admin_url()),
        max_connections: 1,
        acquire_timeout: Duration::from_secs(5),
    };
    db::connect(&settings, "public").await.unwrap()
}

async fn backend(pool: &PgPool) -> i32 {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_connection_the_server_dropped_while_idle_is_replaced_on_acquire() {
    let pool = pool().await;
    let first = backend(&pool).await;
    terminate(first).await;
    tokio::time::sleep(PING_IF_IDLE_FOR + Duration::from_millis(200)).await;
    let second = backend(&pool).await;
    assert_ne!(second, first, "the dropped connection was replaced");
}

#[tokio::test]
async fn a_connection_used_a_moment_ago_is_handed_out_without_a_ping() {
    let pool = pool().await;
    let first = backend(&pool).await;
    terminate(first).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // No ping: the next query meets the dropped connection and fails (a retryable 503 at the
    // HTTP edge); the pool discards it, and the query after that gets a new one.
    let failed = sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()")
        .fetch_one(&pool)
        .await;
    assert!(failed.is_err(), "{failed:?}");
    assert_ne!(backend(&pool).await, first);
}

async fn terminate(pid: i32) {
    let mut admin = PgConnection::connect(&test_support::admin_url())
        .await
        .unwrap();
    let terminated: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert!(terminated);
}
