//! Response and request bodies of the queues, the customer view, search, the business metrics
//! and the projections' state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::app::rebuild::RebuildRow;
use crate::infra::business_metrics::{HourRow, MetricRows};
use crate::infra::customers::{CustomerAssetRow, CustomerOrderRow, CustomerQuoteRow, SearchRow};
use crate::infra::queues::{FalloutGroupRow, FalloutRow, PendingApprovalRow};

/// A fallout record in the queue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FalloutItemView {
    /// The record (the order service's `/fallouts/{id}`).
    pub fallout_id: String,
    /// The order.
    pub order_id: String,
    /// Its task, if any.
    pub task_id: Option<String>,
    /// Where it comes from (RETRIES_EXHAUSTED, RECONCILIATION, …).
    pub category: String,
    /// LOW, MEDIUM, HIGH or CRITICAL.
    pub severity: String,
    /// The owning team.
    pub owner_team: String,
    /// Its status.
    pub status: String,
    /// Stable failure code.
    pub failure_code: String,
    /// Explanation.
    pub message: String,
    /// Whether a retry may succeed.
    pub retryable: bool,
    /// Raised at.
    pub opened_at: DateTime<Utc>,
    /// Seconds since it was raised.
    pub age_seconds: f64,
}

impl From<FalloutRow> for FalloutItemView {
    fn from(row: FalloutRow) -> Self {
        Self {
            fallout_id: row.fallout_id,
            order_id: row.order_id,
            task_id: row.task_id,
            category: row.category,
            severity: row.severity,
            owner_team: row.owner_team,
            status: row.status,
            failure_code: row.failure_code,
            message: row.message,
            retryable: row.retryable,
            opened_at: row.opened_at,
            age_seconds: row.age_seconds,
        }
    }
}

/// The queue's records of one category and team.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FalloutGroupView {
    /// Category.
    pub category: String,
    /// Team.
    pub owner_team: String,
    /// Records.
    pub count: i64,
    /// Age of the oldest, in seconds.
    pub oldest_age_seconds: f64,
}

impl From<FalloutGroupRow> for FalloutGroupView {
    fn from(row: FalloutGroupRow) -> Self {
        Self {
            category: row.category,
            owner_team: row.owner_team,
            count: row.count,
            oldest_age_seconds: row.oldest_age_seconds,
        }
    }
}

/// The fallout queue: records oldest first, and their groups by category and team.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FalloutQueueView {
    /// Records.
    pub items: Vec<FalloutItemView>,
    /// Groups, largest first.
    pub groups: Vec<FalloutGroupView>,
}

/// An approval request waiting for a decision.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingApprovalView {
    /// The request (the approval service's `/approval-requests/{id}`).
    pub request_id: String,
    /// Its quote.
    pub quote_id: Option<String>,
    /// Its status (PENDING).
    pub status: String,
    /// Asked at.
    pub requested_at: DateTime<Utc>,
    /// Seconds waiting.
    pub age_seconds: f64,
}

impl From<PendingApprovalRow> for PendingApprovalView {
    fn from(row: PendingApprovalRow) -> Self {
        Self {
            request_id: row.request_id,
            quote_id: row.quote_id,
            status: row.status,
            requested_at: row.requested_at,
            age_seconds: row.age_seconds,
        }
    }
}

/// How many requests have waited how long.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgeBucketView {
    /// `< 1 h`, `1–4 h`, `4–24 h`, `> 24 h`.
    pub label: String,
    /// Requests in it.
    pub count: i64,
}

/// Approval aging: the waiting requests, longest first, and their age buckets.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalAgingView {
    /// Requests.
    pub items: Vec<PendingApprovalView>,
    /// Buckets, youngest first.
    pub buckets: Vec<AgeBucketView>,
}

impl ApprovalAgingView {
    /// The view of `rows`, bucketed by age.
    pub fn new(rows: Vec<PendingApprovalRow>) -> Self {
        const BUCKETS: [(&str, f64); 4] = [
            ("< 1 h", 3_600.0),
            ("1–4 h", 4.0 * 3_600.0),
            ("4–24 h", 24.0 * 3_600.0),
            ("> 24 h", f64::INFINITY),
        ];
        let mut counts = [0_i64; 4];
        for row in &rows {
            let index = BUCKETS
                .iter()
                .position(|(_, below)| row.age_seconds < *below)
                .unwrap_or(3);
            counts[index] += 1;
        }
        Self {
            items: rows.into_iter().map(Into::into).collect(),
            buckets: BUCKETS
                .iter()
                .zip(counts)
                .map(|((label, _), count)| AgeBucketView {
                    label: (*label).to_owned(),
                    count,
                })
                .collect(),
        }
    }
}

/// A customer's quote.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerQuoteView {
    /// The quote.
    pub quote_id: String,
    /// Its status.
    pub status: String,
    /// Created at.
    pub created_at: Option<DateTime<Utc>>,
    /// The order it became.
    pub order_id: Option<String>,
}

/// A customer's order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerOrderView {
    /// The order.
    pub order_id: String,
    /// Its status.
    pub status: String,
    /// The quote it came from.
    pub quote_id: Option<String>,
    /// Created at.
    pub created_at: Option<DateTime<Utc>>,
    /// Completed at.
    pub completed_at: Option<DateTime<Utc>>,
}

/// A customer's installed product.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerAssetView {
    /// The product instance (the order service's `/assets/{id}`).
    pub product_instance_id: String,
    /// The order that installed it.
    pub order_id: String,
    /// Its offering.
    pub offering_id: String,
    /// Its item's status as the order ended.
    pub status: String,
}

/// Everything projected about one customer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerView {
    /// The customer.
    pub customer_id: String,
    /// Quotes, newest first.
    pub quotes: Vec<CustomerQuoteView>,
    /// Orders, newest first.
    pub orders: Vec<CustomerOrderView>,
    /// Installed products.
    pub assets: Vec<CustomerAssetView>,
}

impl CustomerView {
    /// The view of one customer's rows.
    pub fn new(customer_id: String, rows: crate::infra::customers::CustomerRows) -> Self {
        let quote = |q: CustomerQuoteRow| CustomerQuoteView {
            quote_id: q.quote_id,
            status: q.status,
            created_at: q.created_at,
            order_id: q.order_id,
        };
        let order = |o: CustomerOrderRow| CustomerOrderView {
            order_id: o.order_id,
            status: o.status,
            quote_id: o.quote_id,
            created_at: o.created_at,
            completed_at: o.completed_at,
        };
        let asset = |a: CustomerAssetRow| CustomerAssetView {
            product_instance_id: a.product_instance_id,
            order_id: a.order_id,
            offering_id: a.offering_id,
            status: a.status,
        };
        Self {
            customer_id,
            quotes: rows.quotes.into_iter().map(quote).collect(),
            orders: rows.orders.into_iter().map(order).collect(),
            assets: rows.assets.into_iter().map(asset).collect(),
        }
    }
}

/// One search hit.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchResultView {
    /// ORDER, QUOTE, CUSTOMER or EXTERNAL_REFERENCE.
    pub kind: String,
    /// What matched.
    pub id: String,
    /// The order concerned.
    pub order_id: Option<String>,
    /// The quote concerned.
    pub quote_id: Option<String>,
    /// The customer concerned.
    pub customer_id: Option<String>,
    /// The order's or quote's status.
    pub status: Option<String>,
}

impl From<SearchRow> for SearchResultView {
    fn from(row: SearchRow) -> Self {
        Self {
            kind: row.kind,
            id: row.id,
            order_id: row.order_id,
            quote_id: row.quote_id,
            customer_id: row.customer_id,
            status: row.status,
        }
    }
}

/// Search results.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchView {
    /// Hits: orders, quotes, customers, external references.
    pub results: Vec<SearchResultView>,
}

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
