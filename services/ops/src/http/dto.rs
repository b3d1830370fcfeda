//! Response bodies of the queues, the customer view and search.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

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
