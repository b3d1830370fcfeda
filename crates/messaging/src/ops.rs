//! `GET /ops/messaging`: what an operator needs to see whether events flow — outbox backlog and
//! the age of its oldest row, dead letters on both sides, and consumer lag.

use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use sqlx::PgPool;

use crate::consumer::ConsumerHandle;

/// What the endpoint reads.
#[derive(Debug, Clone)]
pub struct MessagingOps {
    /// The service's jobs role's pool (its schema's outbox and inbox, every tenant's: the
    /// endpoint counts across tenants, so the app role would see nothing).
    pub pool: PgPool,
    /// Consumers running in this process, for their lag.
    pub consumers: Arc<Vec<(String, Arc<ConsumerHandle>)>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OutboxStatus {
    backlog: i64,
    oldest_unpublished_age_seconds: Option<f64>,
    published: i64,
    dead_letters: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConsumerStatus {
    group: String,
    dead_letters: i64,
    lag: Vec<PartitionLag>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PartitionLag {
    topic: String,
    partition: i32,
    lag: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct MessagingStatus {
    outbox: OutboxStatus,
    consumers: Vec<ConsumerStatus>,
    recent_outbox_dead_letters: Vec<DeadLetter>,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
struct DeadLetter {
    outbox_seq: i64,
    event_id: uuid::Uuid,
    topic: String,
    reason: String,
    dead_lettered_at: chrono::DateTime<chrono::Utc>,
}

/// The route, ready to merge into a service router.
pub fn router(ops: MessagingOps) -> Router {
    Router::new()
        .route("/ops/messaging", get(status))
        .with_state(ops)
}

async fn status(
    State(ops): State<MessagingOps>,
    ctx: common_kernel::context::RequestContext,
) -> Result<Json<MessagingStatus>, common_kernel::error::ApiError> {
    ctx.authorize(common_kernel::access::Action::ViewOperations)?;
    let (backlog, oldest) = crate::backlog::outbox_backlog(&ops.pool).await?;
    let published: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox_event e WHERE e.dead_lettered_at IS NULL \
           AND NOT EXISTS (SELECT 1 FROM outbox_pending p WHERE p.outbox_seq = e.outbox_seq)",
    )
    .fetch_one(&ops.pool)
    .await?;
    let dead_letters: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox_dead_letter")
        .fetch_one(&ops.pool)
        .await?;
    let recent: Vec<DeadLetter> = sqlx::query_as(
        "SELECT outbox_seq, event_id, topic, reason, dead_lettered_at FROM outbox_dead_letter ORDER BY dead_lettered_at DESC LIMIT 20",
    )
    .fetch_all(&ops.pool)
    .await?;
    let consumer_dead: Vec<(String, i64)> =
        sqlx::query_as("SELECT consumer_group, count(*) FROM consumer_dead_letter GROUP BY consumer_group ORDER BY consumer_group")
            .fetch_all(&ops.pool)
            .await?;
    let mut consumers: Vec<ConsumerStatus> = ops
        .consumers
        .iter()
        .map(|(group, handle)| ConsumerStatus {
            group: group.clone(),
            dead_letters: consumer_dead
                .iter()
                .find(|(g, _)| g == group)
                .map_or(0, |(_, n)| *n),
            lag: handle
                .lag()
                .into_iter()
                .map(|((topic, partition), lag)| PartitionLag {
                    topic,
                    partition,
                    lag,
                })
                .collect(),
        })
        .collect();
    for (group, count) in consumer_dead {
        if !consumers.iter().any(|c| c.group == group) {
            consumers.push(ConsumerStatus {
                group,
                dead_letters: count,
                lag: Vec::new(),
            });
        }
    }
    Ok(Json(MessagingStatus {
        outbox: OutboxStatus {
            backlog,
            oldest_unpublished_age_seconds: oldest,
            published,
            dead_letters,
        },
        consumers,
        recent_outbox_dead_letters: recent,
    }))
}
