//! What one fact changes in the per-aggregate views beside the timeline: a quote's status and
//! milestones, an approval's, a fallout record's, an order's milestones and the product
//! instances a completed order installed. Pure reading of the published payloads; the store
//! applies these with version guards so order and duplicates do not matter.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// A milestone of a quote, kept at its first occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteMilestone {
    /// `cpq.quote.created`.
    Created,
    /// `cpq.quote.accepted`.
    Accepted,
    /// `cpq.quote.converted`.
    Converted,
}

/// A product instance an order installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledAsset {
    /// The instance.
    pub product_instance_id: String,
    /// Its offering.
    pub offering_id: String,
    /// The item's status as the order ended.
    pub status: String,
}

/// A fallout record as its event states it.
#[derive(Debug, Clone, PartialEq)]
pub struct FalloutState {
    /// The record.
    pub fallout_id: String,
    /// Its task, if any.
    pub task_id: Option<String>,
    /// Where it comes from.
    pub category: String,
    /// How bad.
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
    /// Resolved at.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// What a fact changes beyond the timeline.
#[derive(Debug, Clone, PartialEq)]
pub enum ViewUpdate {
    /// Nothing beyond the timeline.
    None,
    /// A quote's status, and a milestone when the event is one.
    Quote {
        /// The milestone this event marks.
        milestone: Option<QuoteMilestone>,
    },
    /// An approval request's status.
    Approval {
        /// The request.
        request_id: String,
        /// Whether the request was opened by this event.
        requested: bool,
        /// Who decided, when this event is a decision.
        decided_by: Option<String>,
    },
    /// A fallout record's state.
    Fallout(FalloutState),
    /// What a completed order installed.
    Assets(Vec<InstalledAsset>),
}

fn text(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn instant(value: &Value, pointer: &str) -> Option<DateTime<Utc>> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
        .map(|at| at.with_timezone(&Utc))
}

/// Reads what `event_type`'s `payload` changes in the views.
pub fn view_update(event_type: &str, payload: &Value) -> ViewUpdate {
    let name = event_type.rsplit_once('.').map_or(event_type, |(n, _)| n);
    match name {
        "cpq.quote.created" => ViewUpdate::Quote {
            milestone: Some(QuoteMilestone::Created),
        },
        "cpq.quote.accepted" => ViewUpdate::Quote {
            milestone: Some(QuoteMilestone::Accepted),
        },
        "cpq.quote.converted" => ViewUpdate::Quote {
            milestone: Some(QuoteMilestone::Converted),
        },
        n if n.starts_with("cpq.quote.") => ViewUpdate::Quote { milestone: None },
        "approval.requested"
        | "approval.escalated"
        | "approval.approved"
        | "approval.rejected"
        | "approval.superseded"
        | "approval.recalled"
        | "approval.expired" => {
            let Some(request_id) = text(payload, "/requestId") else {
                return ViewUpdate::None;
            };
            let decided_by = matches!(name, "approval.approved" | "approval.rejected")
                .then(|| {
                    payload["decisions"]
                        .as_array()
                        .and_then(|d| d.last())
                        .and_then(|d| text(d, "/actorId"))
                        .or_else(|| text(payload, "/actor/actorId"))
                })
                .flatten();
            ViewUpdate::Approval {
                request_id,
                requested: name == "approval.requested",
                decided_by,
            }
        }
        "oms.fallout.status-changed" => {
            let state = (|| {
                Some(FalloutState {
                    fallout_id: text(payload, "/falloutId")?,
                    task_id: text(payload, "/taskId"),
                    category: text(payload, "/category")?,
                    severity: text(payload, "/severity")?,
                    owner_team: text(payload, "/ownerTeam")?,
                    status: text(payload, "/status")?,
                    failure_code: text(payload, "/failureCode")?,
                    message: text(payload, "/message").unwrap_or_default(),
                    retryable: payload["retryable"].as_bool()?,
                    opened_at: instant(payload, "/openedAt")?,
                    resolved_at: instant(payload, "/resolvedAt"),
                })
            })();
            state.map_or(ViewUpdate::None, ViewUpdate::Fallout)
        }
        "oms.order.completed" => ViewUpdate::Assets(
            payload["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|item| {
                    Some(InstalledAsset {
                        product_instance_id: text(item, "/productInstanceId")?,
                        offering_id: text(item, "/offeringId")?,
                        status: text(item, "/status")?,
                    })
                })
                .collect(),
        ),
        _ => ViewUpdate::None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn quote_milestones_approvals_fallout_and_assets_are_read_from_their_payloads() {
        assert_eq!(
            view_update("cpq.quote.accepted.v1", &json!({})),
            ViewUpdate::Quote {
                milestone: Some(QuoteMilestone::Accepted)
            }
        );
        assert_eq!(
            view_update("cpq.quote.priced.v1", &json!({})),
            ViewUpdate::Quote { milestone: None }
        );
        assert_eq!(
            view_update(
                "approval.approved.v1",
                &json!({"requestId": "r-1", "decisions": [{"actorId": "manager1"}]})
            ),
            ViewUpdate::Approval {
                request_id: "r-1".into(),
                requested: false,
                decided_by: Some("manager1".into())
            }
        );
        // A request that ended without a decision leaves the aging queue by its status.
        assert_eq!(
            view_update(
                "approval.expired.v1",
                &json!({"requestId": "r-2", "status": "EXPIRED"})
            ),
            ViewUpdate::Approval {
                request_id: "r-2".into(),
                requested: false,
                decided_by: None
            }
        );
        assert!(matches!(
            view_update("approval.recalled.v1", &json!({"requestId": "r-3"})),
            ViewUpdate::Approval { ref request_id, .. } if request_id == "r-3"
        ));
        let fallout = view_update(
            "oms.fallout.status-changed.v1",
            &json!({"falloutId": "f-1", "category": "RETRIES_EXHAUSTED", "severity": "HIGH",
                "ownerTeam": "order-repair", "status": "OPEN", "failureCode": "TIMEOUT",
                "message": "m", "retryable": true, "openedAt": "2026-12-07T10:00:00Z"}),
        );
        assert!(matches!(fallout, ViewUpdate::Fallout(ref f) if f.status == "OPEN" && f.retryable));
        let assets = view_update(
            "oms.order.completed.v1",
            &json!({"items": [{"productInstanceId": "p-1", "offeringId": "o-1", "status": "COMPLETED"},
                              {"productInstanceId": null, "offeringId": "o-2", "status": "COMPLETED"}]}),
        );
        assert_eq!(
            assets,
            ViewUpdate::Assets(vec![InstalledAsset {
                product_instance_id: "p-1".into(),
                offering_id: "o-1".into(),
                status: "COMPLETED".into()
            }])
        );
        assert_eq!(
            view_update("oms.fallout.status-changed.v1", &json!({})),
            ViewUpdate::None
        );
    }
}
