//! What waiting events wait for: timer due instants and message subscriptions, evaluated
//! (FEEL) when the token enters, as Zeebe evaluates them on activation.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};
use workflow_model::bpmn::{
    BoundaryTrigger, ElementId, MessageSubscription, Node, NodeKind, ProcessDefinition,
    TimerDefinition,
};
use workflow_model::timer::{IsoDuration, parse_date_time};

use super::IncidentType;

/// What one event waits for.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitKind {
    /// A timer due at this instant.
    Timer(DateTime<Utc>),
    /// A message with this name and correlation key.
    Message {
        /// Message name.
        name: String,
        /// Correlation key (strings and numbers, as text).
        correlation_key: String,
    },
}

/// An event waiting on behalf of an element instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    /// The event that fires: the catch event itself or a boundary event.
    pub event_id: ElementId,
    /// What it waits for.
    pub kind: WaitKind,
}

/// Why a wait could not be evaluated: becomes an incident on the entering element.
pub type WaitError = (IncidentType, String);

/// The wait of an intermediate catch event (`None` for other nodes).
pub fn catch_wait(
    node: &Node,
    context: &Map<String, Json>,
    now: DateTime<Utc>,
) -> Option<Result<WaitKind, WaitError>> {
    match &node.kind {
        NodeKind::TimerCatchEvent(timer) => Some(timer_due(timer, context, now)),
        NodeKind::MessageCatchEvent(sub) => Some(message_wait(sub, context)),
        _ => None,
    }
}

/// Timer and message boundary events of `node`, evaluated in `context`.
pub fn boundary_waits(
    def: &ProcessDefinition,
    node: &Node,
    context: &Map<String, Json>,
    now: DateTime<Utc>,
) -> Result<Vec<Wait>, WaitError> {
    let mut waits = Vec::new();
    for id in def.boundary_events(node.id.as_str()) {
        let Some(NodeKind::BoundaryEvent(boundary)) = def.node(id.as_str()).map(|n| &n.kind) else {
            continue;
        };
        let kind = match &boundary.trigger {
            BoundaryTrigger::Timer(timer) => timer_due(timer, context, now)?,
            BoundaryTrigger::Message(sub) => message_wait(sub, context)?,
            BoundaryTrigger::Error { .. } => continue,
        };
        waits.push(Wait {
            event_id: id.clone(),
            kind,
        });
    }
    Ok(waits)
}

/// Whether firing `event_id` terminates the element it waits for (catch events and
/// interrupting boundaries do; non-interrupting boundaries spawn a token and keep it).
pub fn interrupts(def: &ProcessDefinition, event_id: &str) -> bool {
    match def.node(event_id).map(|n| &n.kind) {
        Some(NodeKind::BoundaryEvent(b)) => b.cancel_activity,
        _ => true,
    }
}

/// Whether `event_id` is a boundary event (its token leaves from the boundary, not the task).
pub fn is_boundary(def: &ProcessDefinition, event_id: &str) -> bool {
    matches!(
        def.node(event_id).map(|n| &n.kind),
        Some(NodeKind::BoundaryEvent(_))
    )
}

fn extract(message: String) -> WaitError {
    (IncidentType::ExtractValueError, message)
}

fn timer_due(
    timer: &TimerDefinition,
    context: &Map<String, Json>,
    now: DateTime<Utc>,
) -> Result<WaitKind, WaitError> {
    let due = match timer {
        TimerDefinition::Static(schedule) => schedule.due_at(now).map_err(|e| e.to_string()),
        TimerDefinition::DurationExpression(e) => match e.evaluate_in(context) {
            Ok(Json::String(text)) => text
                .parse::<IsoDuration>()
                .and_then(|d| d.after(now))
                .map_err(|e| e.to_string()),
            Ok(other) => Err(format!(
                "Expected result of the expression '{}' to be 'DURATION', but was '{other}'.",
                e.source()
            )),
            Err(err) => Err(err.to_string()),
        },
        TimerDefinition::DateExpression(e) => match e.evaluate_in(context) {
            Ok(Json::String(text)) => parse_date_time(&text)
                .map(|d| d.with_timezone(&Utc))
                .map_err(|e| e.to_string()),
            Ok(other) => Err(format!(
                "Expected result of the expression '{}' to be 'DATE_TIME', but was '{other}'.",
                e.source()
            )),
            Err(err) => Err(err.to_string()),
        },
    };
    due.map(WaitKind::Timer).map_err(extract)
}

fn message_wait(
    sub: &MessageSubscription,
    context: &Map<String, Json>,
) -> Result<WaitKind, WaitError> {
    let name = sub
        .message_name
        .evaluate_string(context)
        .map_err(|e| extract(e.to_string()))?;
    let correlation_key = match sub.correlation_key.evaluate_in(context) {
        Ok(Json::String(s)) => s,
        Ok(Json::Number(n)) => n.to_string(),
        Ok(other) => {
            return Err(extract(format!(
                "Failed to extract the correlation key for '{}': The value must be either a string or a number, but was '{other}'.",
                sub.correlation_key.source()
            )));
        }
        Err(e) => {
            return Err(extract(format!(
                "Failed to extract the correlation key for '{}': {e}",
                sub.correlation_key.source()
            )));
        }
    };
    Ok(WaitKind::Message {
        name,
        correlation_key,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use workflow_model::bpmn::parse_bpmn;

    use super::*;

    #[test]
    fn message_catch_evaluates_correlation_key_and_refuses_objects() {
        let def = parse_bpmn(include_str!("../../tests/bpmn/message-catch.bpmn"))
            .expect("valid")
            .remove(0);
        let node = def.node("Catch_Paid").expect("catch");
        let ctx = |v: Json| v.as_object().cloned().unwrap_or_default();
        let now = Utc::now();
        assert_eq!(
            catch_wait(node, &ctx(json!({"orderId": 42})), now),
            Some(Ok(WaitKind::Message {
                name: "paid".into(),
                correlation_key: "42".into()
            }))
        );
        let bad = catch_wait(node, &ctx(json!({"orderId": {"a": 1}})), now);
        assert!(matches!(
            bad,
            Some(Err((IncidentType::ExtractValueError, _)))
        ));
    }
}
