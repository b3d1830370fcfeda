//! Camunda user tasks: what a `zeebe:userTask` resolves to when the token enters — assignee,
//! candidates and schedule evaluated (static or FEEL) against the visible variables, as Zeebe
//! evaluates them on activation. A value of the wrong type is an EXTRACT_VALUE_ERROR incident.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};
use workflow_model::bpmn::UserTask;
use workflow_model::feel::StaticOrExpression;
use workflow_model::timer::parse_date_time;

/// A user task with everything resolved, ready to be stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserTaskSpec {
    /// Input-mapped local variables of the task.
    pub locals: Map<String, Json>,
    /// Who the task is assigned to on creation.
    pub assignee: Option<String>,
    /// Groups that may claim it.
    pub candidate_groups: Vec<String>,
    /// Users that may claim it.
    pub candidate_users: Vec<String>,
    /// When it is due.
    pub due_date: Option<DateTime<Utc>>,
    /// When to look at it again.
    pub follow_up_date: Option<DateTime<Utc>>,
    /// The form the task list shows (`formKey` or `formId`), passed through.
    pub external_form_reference: Option<String>,
}

/// Resolves a user task's assignment and schedule in `context` (instance variables overlaid
/// with the task's input-mapped locals).
pub fn resolve(
    task: &UserTask,
    locals: Map<String, Json>,
    context: &Map<String, Json>,
) -> Result<UserTaskSpec, String> {
    let assignee = match &task.assignee {
        Some(value) => Some(value.evaluate_string(context).map_err(|e| e.to_string())?),
        None => None,
    }
    .filter(|a| !a.trim().is_empty());
    Ok(UserTaskSpec {
        locals,
        assignee,
        candidate_groups: list(task.candidate_groups.as_ref(), context)?,
        candidate_users: list(task.candidate_users.as_ref(), context)?,
        due_date: date(task.due_date.as_ref(), context)?,
        follow_up_date: date(task.follow_up_date.as_ref(), context)?,
        external_form_reference: task.form_key.clone().or_else(|| task.form_id.clone()),
    })
}

/// A candidate list: static text is comma-separated (`sales, finance`); an expression must
/// yield a list of strings, as in Zeebe.
fn list(
    value: Option<&StaticOrExpression>,
    context: &Map<String, Json>,
) -> Result<Vec<String>, String> {
    match value {
        None => Ok(Vec::new()),
        Some(StaticOrExpression::Static(text)) => Ok(text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()),
        Some(StaticOrExpression::Expression(e)) => {
            let expected = |found: &Json| {
                format!(
                    "Expected result of the expression '{}' to be 'ARRAY' of strings, but was '{found}'.",
                    e.source()
                )
            };
            match e.evaluate_in(context).map_err(|err| err.to_string())? {
                Json::Array(items) => items
                    .into_iter()
                    .map(|item| match item {
                        Json::String(s) => Ok(s),
                        other => Err(expected(&other)),
                    })
                    .collect(),
                other => Err(expected(&other)),
            }
        }
    }
}

/// A due or follow-up date: an ISO-8601 date-time with offset, literal or computed.
fn date(
    value: Option<&StaticOrExpression>,
    context: &Map<String, Json>,
) -> Result<Option<DateTime<Utc>>, String> {
    let Some(value) = value else {
        return Ok(None);
    };
    match value.evaluate_in(context).map_err(|e| e.to_string())? {
        Json::Null => Ok(None),
        Json::String(text) => parse_date_time(&text)
            .map(|d| Some(d.with_timezone(&Utc)))
            .map_err(|e| e.to_string()),
        other => Err(format!(
            "Expected result of the expression '{}' to be 'DATE_TIME' or an ISO-8601 string, but was '{other}'.",
            value.text()
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use workflow_model::bpmn::{NodeKind, parse_bpmn};

    use super::*;

    fn review_task() -> UserTask {
        let def = parse_bpmn(include_str!("../../tests/bpmn/user-task-escalation.bpmn"))
            .expect("valid")
            .remove(0);
        match &def.node("Task_Review").expect("task").kind {
            NodeKind::UserTask(task) => task.clone(),
            other => panic!("{other:?}"),
        }
    }

    fn ctx(value: Json) -> Map<String, Json> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn assignment_and_schedule_are_evaluated() {
        let spec = resolve(
            &review_task(),
            Map::new(),
            &ctx(json!({"owner": "jane", "reviewDue": "2030-01-02T10:00:00+01:00"})),
        )
        .expect("resolves");
        assert_eq!(spec.assignee.as_deref(), Some("jane"));
        assert_eq!(spec.candidate_groups, ["sales", "finance"]);
        assert_eq!(
            spec.due_date.map(|d| d.to_rfc3339()),
            Some("2030-01-02T09:00:00+00:00".to_owned())
        );
        assert_eq!(
            spec.follow_up_date.map(|d| d.to_rfc3339()),
            Some("2030-01-31T16:00:00+00:00".to_owned())
        );
    }

    #[test]
    fn a_due_date_that_is_no_date_is_refused() {
        let err = resolve(
            &review_task(),
            Map::new(),
            &ctx(json!({"owner": "jane", "reviewDue": "tomorrow"})),
        )
        .expect_err("not a date");
        assert!(err.contains("tomorrow"), "{err}");
        let err = resolve(
            &review_task(),
            Map::new(),
            &ctx(json!({"owner": 7, "reviewDue": null})),
        )
        .expect_err("assignee must be a string");
        assert!(err.contains("STRING"), "{err}");
    }
}
