//! Bodies of the business metrics, the projections' state and their rebuild.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::rebuild::RebuildRow;
use crate::infra::business_metrics::{HourRow, MetricRows};

fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Quote metrics.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuoteMetricsView {
    /// Quotes created.
    pub created: i64,
    /// Quotes accepted.
    pub accepted: i64,
    /// Quotes converted into orders.
    pub converted: i64,
    /// Created in the last hour.
    pub created_last_hour: i64,
    /// Accepted in the last hour.
    pub accepted_last_hour: i64,
    /// Converted ÷ created (null before the first quote).
    pub conversion_rate: Option<f64>,
    /// Quotes with a manual price override.
    pub overridden: i64,
    /// Manual price overrides in all.
    pub price_overrides: i64,
    /// Overridden ÷ created.
    pub override_frequency: Option<f64>,
}

/// Approval metrics.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalMetricsView {
    /// Requests pending.
    pub pending: i64,
    /// Age of the oldest pending, seconds.
    pub oldest_pending_seconds: Option<f64>,
    /// Requests decided.
    pub decided: i64,
    /// Median time to a decision, seconds.
    pub decision_p50_seconds: Option<f64>,
    /// 95th percentile time to a decision, seconds.
    pub decision_p95_seconds: Option<f64>,
}

/// Order metrics.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderMetricsView {
    /// Orders created.
    pub created: i64,
    /// Created in the last hour.
    pub created_last_hour: i64,
    /// Orders completed.
    pub completed: i64,
    /// Orders cancelled.
    pub cancelled: i64,
    /// Cancelled ÷ created.
    pub cancellation_rate: Option<f64>,
    /// Median capture-to-completion, seconds.
    pub fulfilment_p50_seconds: Option<f64>,
    /// 95th percentile capture-to-completion, seconds.
    pub fulfilment_p95_seconds: Option<f64>,
    /// Orders stuck now.
    pub stuck: i64,
}

/// Fallout metrics.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FalloutMetricsView {
    /// Not yet resolved or closed.
    pub open: i64,
    /// Ever raised.
    pub total: i64,
}

/// Task metrics.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskMetricsView {
    /// Dispatches of a task after its first.
    pub retries: i64,
}

/// One hour of activity.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HourView {
    /// Start of the hour.
    pub hour: DateTime<Utc>,
    /// Quotes created.
    pub quotes_created: i64,
    /// Quotes accepted.
    pub quotes_accepted: i64,
    /// Orders created.
    pub orders_created: i64,
}

/// The business metrics of the caller's tenant, as projected.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BusinessMetricsView {
    /// When computed.
    pub generated_at: DateTime<Utc>,
    /// Quotes.
    pub quotes: QuoteMetricsView,
    /// Approvals.
    pub approvals: ApprovalMetricsView,
    /// Orders.
    pub orders: OrderMetricsView,
    /// Fallout.
    pub fallout: FalloutMetricsView,
    /// Fulfilment tasks.
    pub tasks: TaskMetricsView,
    /// The last 24 hours, oldest first.
    pub hourly: Vec<HourView>,
}

impl BusinessMetricsView {
    /// The view of the computed rows.
    pub fn new(m: MetricRows, stuck: i64, hours: Vec<HourRow>) -> Self {
        Self {
            generated_at: Utc::now(),
            quotes: QuoteMetricsView {
                created: m.quotes_created,
                accepted: m.quotes_accepted,
                converted: m.quotes_converted,
                created_last_hour: m.quotes_created_last_hour,
                accepted_last_hour: m.quotes_accepted_last_hour,
                conversion_rate: rate(m.quotes_converted, m.quotes_created),
                overridden: m.quotes_overridden,
                price_overrides: m.price_overrides,
                override_frequency: rate(m.quotes_overridden, m.quotes_created),
            },
            approvals: ApprovalMetricsView {
                pending: m.approvals_pending,
                oldest_pending_seconds: m.approval_oldest_pending_seconds,
                decided: m.approvals_decided,
                decision_p50_seconds: m.approval_decision_p50_seconds,
                decision_p95_seconds: m.approval_decision_p95_seconds,
            },
            orders: OrderMetricsView {
                created: m.orders_created,
                created_last_hour: m.orders_created_last_hour,
                completed: m.orders_completed,
                cancelled: m.orders_cancelled,
                cancellation_rate: rate(m.orders_cancelled, m.orders_created),
                fulfilment_p50_seconds: m.fulfilment_p50_seconds,
                fulfilment_p95_seconds: m.fulfilment_p95_seconds,
                stuck,
            },
            fallout: FalloutMetricsView {
                open: m.fallout_open,
                total: m.fallout_total,
            },
            tasks: TaskMetricsView {
                retries: m.task_retries,
            },
            hourly: hours
                .into_iter()
                .map(|h| HourView {
                    hour: h.hour,
                    quotes_created: h.quotes_created,
                    quotes_accepted: h.quotes_accepted,
                    orders_created: h.orders_created,
                })
                .collect(),
        }
    }
}

/// One topic's projection lag.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopicLagView {
    /// The topic.
    pub topic: String,
    /// Messages not yet projected, over its partitions (null before the first measurement).
    pub lag_messages: Option<i64>,
    /// When its newest projected event happened.
    pub last_event_at: Option<DateTime<Utc>>,
}

/// A rebuild run.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RebuildView {
    /// The run.
    pub rebuild_id: Uuid,
    /// The generation it builds.
    pub generation: i32,
    /// RUNNING, SWAPPED or FAILED.
    pub status: String,
    /// Who asked.
    pub requested_by: String,
    /// Why.
    pub reason: String,
    /// Events replayed (at the swap).
    pub events_replayed: i64,
    /// Why it failed.
    pub failure: Option<String>,
    /// Started at.
    pub started_at: DateTime<Utc>,
    /// Finished at.
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<RebuildRow> for RebuildView {
    fn from(row: RebuildRow) -> Self {
        Self {
            rebuild_id: row.rebuild_id,
            generation: row.generation,
            status: row.status,
            requested_by: row.requested_by,
            reason: row.reason,
            events_replayed: row.events_replayed,
            failure: row.failure,
            started_at: row.started_at,
            finished_at: row.finished_at,
        }
    }
}

/// The projections' state: the live generation, lag per topic, the latest rebuild.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectionStatusView {
    /// The generation the views show.
    pub generation: i32,
    /// Per topic read.
    pub topics: Vec<TopicLagView>,
    /// The latest rebuild, if any.
    pub rebuild: Option<RebuildView>,
}

/// A rebuild request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RebuildRequest {
    /// Why (required; kept with the run and in the audit evidence).
    pub reason: String,
}
