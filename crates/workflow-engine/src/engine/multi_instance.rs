//! Pure rules of parallel multi-instance activities (ADR 0039), following Zeebe: the input
//! collection must be a list, each inner instance gets its element and a 1-based loop counter
//! as locals, and each completed inner instance's `outputElement` lands at its own position of
//! the body's `outputCollection`, so the collection keeps the input order whatever the order
//! the jobs complete in.

use serde_json::{Map, Value as Json};
use workflow_model::bpmn::MultiInstance;
use workflow_model::feel::FeelError;

/// Zeebe's name of the inner instance's 1-based position.
pub const LOOP_COUNTER: &str = "loopCounter";

/// Evaluates `inputCollection` in the activity's scope; anything but a list is the message of
/// Zeebe's EXTRACT_VALUE_ERROR incident.
pub fn input_elements(
    mi: &MultiInstance,
    visible: &Map<String, Json>,
) -> Result<Vec<Json>, String> {
    let expression = &mi.input_collection;
    match expression.evaluate_in(visible) {
        Ok(Json::Array(items)) => Ok(items),
        Ok(other) => Err(format!(
            "Expected result of the expression '{}' to be 'ARRAY', but was '{}'.",
            expression.source(),
            type_name(&other)
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// The locals an inner instance starts with: `inputElement` (when named) and `loopCounter`.
pub fn inner_locals(mi: &MultiInstance, element: Json, loop_counter: i32) -> Map<String, Json> {
    let mut locals = Map::new();
    if let Some(name) = &mi.input_element {
        locals.insert(name.clone(), element);
    }
    locals.insert(LOOP_COUNTER.to_owned(), Json::from(loop_counter));
    locals
}

/// The body's initial `outputCollection`: one `null` per inner instance (Zeebe's shape).
pub fn initial_output(mi: &MultiInstance, count: usize) -> Map<String, Json> {
    let mut locals = Map::new();
    if let Some(name) = &mi.output_collection {
        locals.insert(name.clone(), Json::Array(vec![Json::Null; count]));
    }
    locals
}

/// Evaluates `outputElement` for a completing inner instance (`None` without one).
pub fn output_element(
    mi: &MultiInstance,
    context: &Map<String, Json>,
) -> Option<Result<Json, FeelError>> {
    mi.output_element.as_ref().map(|e| e.evaluate_in(context))
}

/// Puts `value` at `loop_counter - 1` of `collection` (grown with nulls if it is shorter,
/// replaced by a list if something overwrote it with another type).
pub fn collect(collection: Option<&Json>, loop_counter: i32, value: Json) -> Json {
    let mut items = match collection {
        Some(Json::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    let index = usize::try_from(loop_counter.max(1) - 1).unwrap_or(0);
    if items.len() <= index {
        items.resize(index + 1, Json::Null);
    }
    items[index] = value;
    Json::Array(items)
}

/// FEEL's type names, as Zeebe reports them in incident messages.
fn type_name(value: &Json) -> &'static str {
    match value {
        Json::Null => "NULL",
        Json::Bool(_) => "BOOLEAN",
        Json::Number(_) => "NUMBER",
        Json::String(_) => "STRING",
        Json::Array(_) => "ARRAY",
        Json::Object(_) => "CONTEXT",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use workflow_model::bpmn::{NodeKind, parse_bpmn};

    use super::*;

    fn mi() -> MultiInstance {
        let def = parse_bpmn(include_str!("../../tests/bpmn/multi-instance.bpmn"))
            .expect("valid")
            .remove(0);
        let node = def.node("Task_RunReadyTasks").expect("task");
        assert!(matches!(node.kind, NodeKind::ServiceTask(_)));
        node.multi_instance.clone().expect("multi-instance")
    }

    fn vars(value: Json) -> Map<String, Json> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn input_collection_must_be_a_list() {
        let mi = mi();
        assert_eq!(
            input_elements(&mi, &vars(json!({"readyTasks": [1, 2]}))),
            Ok(vec![json!(1), json!(2)])
        );
        let err = input_elements(&mi, &vars(json!({"readyTasks": "x"}))).expect_err("string");
        assert!(err.contains("'ARRAY', but was 'STRING'"), "{err}");
        assert!(input_elements(&mi, &vars(json!({}))).is_err());
    }

    #[test]
    fn inner_locals_and_collection_positions() {
        let mi = mi();
        assert_eq!(
            Json::Object(inner_locals(&mi, json!({"a": 1}), 2)),
            json!({"task": {"a": 1}, "loopCounter": 2})
        );
        assert_eq!(
            Json::Object(initial_output(&mi, 2)),
            json!({"taskResults": [null, null]})
        );
        let once = collect(Some(&json!([null, null])), 2, json!("b"));
        assert_eq!(collect(Some(&once), 1, json!("a")), json!(["a", "b"]));
        assert_eq!(collect(None, 2, json!(1)), json!([null, 1]));
    }
}
