//! Response bodies.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::infra::reads::{StuckRow, TimelineRow};

/// One step of a timeline.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntryView {
    /// The event's id.
    pub event_id: Uuid,
    /// Its type (`oms.order.status-changed.v1`).
    pub event_type: String,
    /// `ORDER_STATE`, `TASK`, `EXTERNAL_CALL`, `QUOTE_STATE`, `APPROVAL`, `AUDIT_DECISION` or `OTHER`.
    pub kind: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Who caused it.
    pub actor_id: String,
    /// The request it belongs to.
    pub correlation_id: String,
    /// The status it left, if any.
    pub to_status: Option<String>,
    /// What moved, from what to what, and why.
    #[schema(value_type = Object)]
    pub summary: Value,
}

impl From<TimelineRow> for TimelineEntryView {
    fn from(row: TimelineRow) -> Self {
        Self {
            event_id: row.event_id,
            event_type: row.event_type,
            kind: row.kind,
            occurred_at: row.occurred_at,
            actor_id: row.actor_id,
            correlation_id: row.correlation_id,
            to_status: row.to_status,
            summary: row.summary,
        }
    }
}

/// A page of a timeline, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineView {
    /// The steps.
    pub entries: Vec<TimelineEntryView>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

/// An order that made no progress for longer than its status allows.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StuckOrderView {
    /// The order.
    pub order_id: String,
    /// Its customer.
    pub customer_id: Option<String>,
    /// The quote it came from.
    pub quote_id: Option<String>,
    /// The status it sits in.
    pub status: String,
    /// Since when.
    pub status_since: DateTime<Utc>,
    /// Its last order, task or external-call event.
    pub last_progress_at: DateTime<Utc>,
    /// The threshold of its status, in seconds.
    pub threshold_seconds: u64,
}

impl StuckOrderView {
    /// A row with its status's threshold.
    pub fn new(row: StuckRow, threshold_seconds: u64) -> Self {
        Self {
            order_id: row.order_id,
            customer_id: row.customer_id,
            quote_id: row.quote_id,
            status: row.status,
            status_since: row.status_since,
            last_progress_at: row.last_progress_at,
            threshold_seconds,
        }
    }
}

/// The stuck orders, longest idle first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StuckOrderList {
    /// The orders.
    pub items: Vec<StuckOrderView>,
}
