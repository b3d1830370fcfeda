//! What the demo prints: the timeline (each step with its wall-clock time and the milliseconds
//! since the start), then the order's tasks, the product instances and the subscription it left.
//! The views are the order API's, read leniently: only the fields printed.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::say;

/// The demo's clock: started once, every step measured against it.
#[derive(Debug)]
pub struct Timeline {
    began: Instant,
}

impl Timeline {
    /// Starts the clock and prints the header.
    pub fn start(title: &str) -> Self {
        say(&format!("==> {title}"));
        Self {
            began: Instant::now(),
        }
    }

    /// Prints one step, now.
    pub fn step(&self, what: &str) {
        say(&step_line(Utc::now(), self.began.elapsed(), what));
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.began.elapsed()
    }
}

/// `    14:02:07.481Z  +   1234 ms  what`.
fn step_line(at: DateTime<Utc>, elapsed: Duration, what: &str) -> String {
    format!(
        "    {}  +{:>7} ms  {what}",
        at.format("%H:%M:%S%.3fZ"),
        elapsed.as_millis()
    )
}

/// A failure as the order API shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureSeen {
    /// Stable code.
    pub code: String,
    /// Explanation.
    pub reason: String,
}

/// A fulfilment task as the order API shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskSeen {
    /// RESERVE_INVENTORY, ACTIVATE_SERVICE, …
    pub task_type: String,
    /// The integration operation.
    pub operation: String,
    /// CREATED … SUCCEEDED, FAILED_*.
    pub status: String,
    /// The downstream's reference of the effect.
    #[serde(default)]
    pub external_reference: Option<String>,
    /// Why it failed.
    #[serde(default)]
    pub failure: Option<FailureSeen>,
}

/// A fallout record.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FalloutSeen {
    /// Stable code.
    pub failure_code: String,
    /// Explanation.
    pub message: String,
    /// Who owns the repair.
    pub owner_team: String,
}

/// An order as `GET /orders/{id}` shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSeen {
    /// The order.
    pub id: String,
    /// ACKNOWLEDGED … COMPLETED, FALLOUT, FAILED.
    pub status: String,
    /// Why it failed or fell out.
    #[serde(default)]
    pub failure: Option<FailureSeen>,
    /// The plan's tasks in plan order.
    #[serde(default)]
    pub tasks: Vec<TaskSeen>,
    /// Fallout records.
    #[serde(default)]
    pub fallouts: Vec<FalloutSeen>,
}

/// Where an order stands, for the demo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Still moving.
    Open,
    /// Done: the assets are ACTIVE.
    Completed,
    /// Stopped: FALLOUT or FAILED (or CANCELLED), needs a person.
    Stopped,
}

impl OrderSeen {
    /// Whether the demo can stop polling, and how it ended.
    pub fn outcome(&self) -> Outcome {
        match self.status.as_str() {
            "COMPLETED" => Outcome::Completed,
            "FALLOUT" | "FAILED" | "CANCELLED" => Outcome::Stopped,
            _ => Outcome::Open,
        }
    }

    /// Why a stopped order stopped: its own failure, each failed task's, each fallout record.
    pub fn reasons(&self) -> Vec<String> {
        let mut reasons: Vec<String> = self
            .failure
            .iter()
            .map(|f| format!("order: {} {}", f.code, f.reason))
            .collect();
        reasons.extend(self.tasks.iter().filter_map(|t| {
            t.failure.as_ref().map(|f| {
                format!(
                    "task {} ({}) {}: {} {}",
                    t.task_type, t.operation, t.status, f.code, f.reason
                )
            })
        }));
        reasons.extend(self.fallouts.iter().map(|f| {
            format!(
                "fallout {}: {} (owner {})",
                f.failure_code, f.message, f.owner_team
            )
        }));
        reasons
    }
}

/// A product instance as `GET /assets` shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetSeen {
    /// The instance.
    pub id: String,
    /// The offering.
    pub offering_id: String,
    /// ACTIVE, …
    pub status: String,
    /// When it became ACTIVE.
    #[serde(default)]
    pub activation_date: Option<String>,
    /// The order that created it.
    pub origin_order_id: String,
}

/// A subscription as `GET /subscriptions` shows it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionSeen {
    /// The subscription.
    pub id: String,
    /// ACTIVE, …
    pub status: String,
    /// When it started.
    #[serde(default)]
    pub start_date: Option<String>,
    /// The order that started it.
    pub order_id: String,
}

/// The order's tasks: type, operation, status, external reference.
pub fn print_tasks(order: &OrderSeen) {
    say(&format!(
        "==> order {} {}: {} task(s)",
        order.id,
        order.status,
        order.tasks.len()
    ));
    for task in &order.tasks {
        say(&format!(
            "    {:<20} {:<24} {:<18} {}",
            task.task_type,
            task.operation,
            task.status,
            task.external_reference.as_deref().unwrap_or("-")
        ));
    }
}

/// The product instances the order created, with the offering's code where known.
pub fn print_assets(assets: &[AssetSeen], name_of: impl Fn(&str) -> String) {
    say(&format!("==> product instances: {}", assets.len()));
    for asset in assets {
        say(&format!(
            "    {}  {:<18} {:<10} activated {}",
            asset.id,
            name_of(&asset.offering_id),
            asset.status,
            asset.activation_date.as_deref().unwrap_or("-")
        ));
    }
}

/// The subscription(s) the order started.
pub fn print_subscriptions(subscriptions: &[SubscriptionSeen]) {
    say(&format!("==> subscriptions: {}", subscriptions.len()));
    for subscription in subscriptions {
        say(&format!(
            "    {}  {:<10} started {}",
            subscription.id,
            subscription.status,
            subscription.start_date.as_deref().unwrap_or("-")
        ));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_step_shows_the_wall_clock_and_the_elapsed_milliseconds() {
        let at = DateTime::parse_from_rfc3339("2026-12-20T14:02:07.481Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        assert_eq!(
            step_line(at, Duration::from_millis(1234), "quote priced"),
            "    14:02:07.481Z  +   1234 ms  quote priced"
        );
    }

    fn order(status: &str) -> OrderSeen {
        serde_json::from_value(json!({
            "id": "o", "status": status, "customerId": "c", "version": 3,
            "failure": {"code": "PROVISIONING_REJECTED", "reason": "no port", "retryable": false},
            "tasks": [
                {"taskType": "RESERVE_INVENTORY", "operation": "INVENTORY_RESERVE",
                 "status": "SUCCEEDED", "externalReference": "RSV-1", "failure": null},
                {"taskType": "ACTIVATE_SERVICE", "operation": "PROVISIONING_ACTIVATE",
                 "status": "FAILED_BUSINESS", "externalReference": null,
                 "failure": {"code": "PROVISIONING_REJECTED", "reason": "no port", "retryable": false}}
            ],
            "fallouts": [{"failureCode": "PROVISIONING_REJECTED", "message": "no port",
                          "ownerTeam": "fulfilment-ops", "severity": "HIGH"}]
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn completed_ends_well_fallout_and_failed_stop_with_their_reasons() {
        assert_eq!(order("COMPLETED").outcome(), Outcome::Completed);
        assert_eq!(order("IN_PROGRESS").outcome(), Outcome::Open);
        assert_eq!(order("ACKNOWLEDGED").outcome(), Outcome::Open);
        for stopped in ["FALLOUT", "FAILED", "CANCELLED"] {
            assert_eq!(order(stopped).outcome(), Outcome::Stopped);
        }
        let reasons = order("FALLOUT").reasons();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(reasons[1].contains("ACTIVATE_SERVICE"), "{reasons:?}");
        assert!(reasons[2].contains("fulfilment-ops"), "{reasons:?}");
    }
}
