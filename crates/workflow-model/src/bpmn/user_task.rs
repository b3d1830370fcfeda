//! Reads a Camunda user task (`zeebe:userTask`): assignment, schedule, form, headers and task
//! listeners. Listener event types the engine does not run are refused here, naming the event
//! type, because a listener that silently never runs would let a transition through unchecked.

use roxmltree::Node as Xml;

use super::error::ProblemCode;
use super::model::{TaskListener, TaskListenerEventType, UserTask};
use super::parse::{Reader, tag, zeebe_children, zeebe_descendant};
use crate::feel::StaticOrExpression;
use crate::timer::parse_date_time;

/// Camunda 8.8 event types the embedded engine refuses (it runs `completing` only).
const REFUSED_EVENT_TYPES: &[&str] = &[
    "creating",
    "assigning",
    "updating",
    "canceling",
    "assignment",
];

impl Reader<'_, '_> {
    /// A `bpmn:userTask`: only Camunda user tasks (`zeebe:userTask`) are supported.
    pub(super) fn read_user_task(&mut self, el: Xml<'_, '_>, id: &str) -> Option<UserTask> {
        if zeebe_descendant(el, "userTask").is_none() {
            self.report(
                ProblemCode::UnsupportedElement,
                el,
                Some(id),
                "job-worker user tasks are not supported; use a Camunda user task (zeebe:userTask)",
            );
            return None;
        }
        let mut task = UserTask::default();
        if let Some(a) = zeebe_descendant(el, "assignmentDefinition") {
            task.assignee = self.optional_attr(a, "assignee", id);
            task.candidate_groups = self.optional_attr(a, "candidateGroups", id);
            task.candidate_users = self.optional_attr(a, "candidateUsers", id);
        }
        if let Some(s) = zeebe_descendant(el, "taskSchedule") {
            task.due_date = self.optional_attr(s, "dueDate", id);
            task.follow_up_date = self.optional_attr(s, "followUpDate", id);
            for (attr, value) in [
                ("dueDate", &task.due_date),
                ("followUpDate", &task.follow_up_date),
            ] {
                if let Some(StaticOrExpression::Static(text)) = value
                    && let Err(e) = parse_date_time(text)
                {
                    self.report(
                        ProblemCode::InvalidAttribute,
                        s,
                        Some(id),
                        format!("{attr}: {e}"),
                    );
                }
            }
        }
        if let Some(form) = zeebe_descendant(el, "formDefinition") {
            task.form_key = form.attribute("formKey").map(str::to_owned);
            task.form_id = form.attribute("formId").map(str::to_owned);
        }
        task.headers = self.read_task_headers(el, id);
        if let Some(listeners) = zeebe_descendant(el, "taskListeners") {
            task.listeners = self.read_task_listeners(listeners, id);
        }
        Some(task)
    }

    /// The `zeebe:taskListener` children, in order; every refused or malformed one is reported.
    fn read_task_listeners(&mut self, listeners: Xml<'_, '_>, id: &str) -> Vec<TaskListener> {
        for other in listeners
            .children()
            .filter(|c| c.is_element() && !(c.tag_name().name() == "taskListener" && is_zeebe(*c)))
        {
            self.report(
                ProblemCode::UnsupportedExtension,
                other,
                Some(id),
                format!("{} is not a zeebe:taskListener", tag(other)),
            );
        }
        zeebe_children(listeners, "taskListener")
            .filter_map(|listener| self.read_task_listener(listener, id))
            .collect()
    }

    fn read_task_listener(&mut self, listener: Xml<'_, '_>, id: &str) -> Option<TaskListener> {
        let event_type = match listener.attribute("eventType").map(str::trim) {
            None | Some("") => {
                self.report(
                    ProblemCode::MissingAttribute,
                    listener,
                    Some(id),
                    "a task listener needs an eventType",
                );
                None
            }
            // "complete" is Camunda 8.7's name of the same event.
            Some("completing" | "complete") => Some(TaskListenerEventType::Completing),
            Some(refused) if REFUSED_EVENT_TYPES.contains(&refused) => {
                self.report(
                    ProblemCode::UnsupportedAttribute,
                    listener,
                    Some(id),
                    format!(
                        "task listeners with eventType '{refused}' are not supported by the embedded engine; only 'completing' listeners run"
                    ),
                );
                None
            }
            Some(other) => {
                self.report(
                    ProblemCode::InvalidAttribute,
                    listener,
                    Some(id),
                    format!(
                        "eventType '{other}' is not a user task listener event (creating, assigning, updating, completing, canceling)"
                    ),
                );
                None
            }
        };
        let job_type = match listener.attribute("type").filter(|t| !t.trim().is_empty()) {
            Some(raw) => self.static_or_expression(raw, listener, id, "type"),
            None => {
                self.report(
                    ProblemCode::MissingAttribute,
                    listener,
                    Some(id),
                    "a task listener needs a non-empty type",
                );
                None
            }
        };
        let retries = self.read_retries(listener, id);
        Some(TaskListener {
            event_type: event_type?,
            job_type: job_type?,
            retries: retries?,
        })
    }

    fn optional_attr(
        &mut self,
        el: Xml<'_, '_>,
        attr: &str,
        id: &str,
    ) -> Option<StaticOrExpression> {
        let raw = el.attribute(attr).filter(|v| !v.trim().is_empty())?;
        self.static_or_expression(raw, el, id, attr)
    }
}

fn is_zeebe(el: Xml<'_, '_>) -> bool {
    el.tag_name().namespace() == Some(super::parse::ZEEBE_NS)
}
