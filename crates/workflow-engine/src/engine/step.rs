use serde_json::{Map, Value as Json};
use workflow_model::bpmn::{BoundaryTrigger, ElementId, Node, NodeKind, ProcessDefinition};
use workflow_model::feel::StaticOrExpression;
use workflow_model::mapping;

use super::user_task::UserTaskSpec;

/// Zeebe's incident error types for the incidents this engine raises (same names, so operators
/// and tooling read them the same way against either engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentType {
    /// A job failed with no retries left.
    JobNoRetries,
    /// A task listener's job failed with no retries left.
    TaskListenerNoRetries,
    /// A gateway condition failed or none matched without a default flow.
    ConditionError,
    /// An input or output mapping failed.
    IoMappingError,
    /// An expression yielded the wrong type (job type, retries).
    ExtractValueError,
    /// A BPMN error that no boundary event catches.
    UnhandledErrorEvent,
}

impl IncidentType {
    /// The stored and reported name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JobNoRetries => "JOB_NO_RETRIES",
            Self::TaskListenerNoRetries => "TASK_LISTENER_NO_RETRIES",
            Self::ConditionError => "CONDITION_ERROR",
            Self::IoMappingError => "IO_MAPPING_ERROR",
            Self::ExtractValueError => "EXTRACT_VALUE_ERROR",
            Self::UnhandledErrorEvent => "UNHANDLED_ERROR_EVENT",
        }
    }
}

/// The job a service task creates, with everything resolved against the variables.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    /// Job type workers subscribe to.
    pub job_type: String,
    /// Initial retries.
    pub retries: i32,
    /// Task headers, in model order.
    pub headers: Map<String, Json>,
    /// Input-mapped local variables of the task.
    pub locals: Map<String, Json>,
}

/// What happens to a token arriving at an element.
#[derive(Debug, Clone, PartialEq)]
pub enum Activation {
    /// Wait in the element for a worker to complete the job.
    CreateJob(JobSpec),
    /// Leave immediately through these sequence flows.
    Leave(Vec<ElementId>),
    /// The token is consumed (end event).
    Consume,
    /// An intermediate catch event: the token waits for its timer or message
    /// (see [`super::waits::catch_wait`]).
    Catch,
    /// Wait in the element until the user task is completed through the REST API.
    UserTask(UserTaskSpec),
    /// The token stops here until an operator resolves the incident.
    Incident {
        /// Zeebe's error type.
        kind: IncidentType,
        /// Why, in Zeebe's words where Zeebe has them.
        message: String,
    },
}

/// Decides what a token does at `node`, given the variables visible there.
pub fn activate(def: &ProcessDefinition, node: &Node, visible: &Map<String, Json>) -> Activation {
    let outgoing = || Activation::Leave(def.outgoing(node.id.as_str()).to_vec());
    match &node.kind {
        NodeKind::StartEvent | NodeKind::ParallelGateway | NodeKind::BoundaryEvent(_) => outgoing(),
        NodeKind::EndEvent => Activation::Consume,
        NodeKind::ErrorEndEvent { error_code } => Activation::Incident {
            kind: IncidentType::UnhandledErrorEvent,
            message: uncaught_message(error_code, ""),
        },
        NodeKind::ServiceTask(task) => {
            let locals = match mapping::apply_input_mappings(&node.inputs, visible) {
                Ok(locals) => locals,
                Err(e) => return incident(IncidentType::IoMappingError, e.to_string()),
            };
            let mut context = visible.clone();
            context.extend(locals.clone());
            let job_type = match task.job_type.evaluate_string(&context) {
                Ok(t) => t,
                Err(e) => return incident(IncidentType::ExtractValueError, e.to_string()),
            };
            let retries = match retries(&task.retries, &context) {
                Ok(r) => r,
                Err(message) => return incident(IncidentType::ExtractValueError, message),
            };
            let headers = task
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                .collect();
            Activation::CreateJob(JobSpec {
                job_type,
                retries,
                headers,
                locals,
            })
        }
        NodeKind::ExclusiveGateway { default_flow } => {
            // As in Zeebe, a gateway with one outgoing flow and no condition on it (a merge)
            // passes the token on without evaluating anything.
            if let [only] = def.outgoing(node.id.as_str())
                && def
                    .flow(only.as_str())
                    .is_some_and(|f| f.condition.is_none())
            {
                return Activation::Leave(vec![only.clone()]);
            }
            for flow_id in def.outgoing(node.id.as_str()) {
                if default_flow.as_ref() == Some(flow_id) {
                    continue;
                }
                let Some(condition) = def
                    .flow(flow_id.as_str())
                    .and_then(|f| f.condition.as_ref())
                else {
                    continue;
                };
                match condition.evaluate_condition(visible) {
                    Ok(true) => return Activation::Leave(vec![flow_id.clone()]),
                    Ok(false) => {}
                    Err(e) => return incident(IncidentType::ConditionError, e.to_string()),
                }
            }
            match default_flow {
                Some(flow) => Activation::Leave(vec![flow.clone()]),
                None => incident(
                    IncidentType::ConditionError,
                    format!(
                        "Expected at least one condition to evaluate to true, or to have a default flow (gateway '{}')",
                        node.id
                    ),
                ),
            }
        }
        NodeKind::TimerCatchEvent(_) | NodeKind::MessageCatchEvent(_) => Activation::Catch,
        NodeKind::UserTask(task) => {
            let locals = match mapping::apply_input_mappings(&node.inputs, visible) {
                Ok(locals) => locals,
                Err(e) => return incident(IncidentType::IoMappingError, e.to_string()),
            };
            let mut context = visible.clone();
            context.extend(locals.clone());
            match super::user_task::resolve(task, locals, &context) {
                Ok(spec) => Activation::UserTask(spec),
                Err(message) => incident(IncidentType::ExtractValueError, message),
            }
        }
    }
}

fn incident(kind: IncidentType, message: String) -> Activation {
    Activation::Incident { kind, message }
}

pub(super) fn retries(
    value: &StaticOrExpression,
    context: &Map<String, Json>,
) -> Result<i32, String> {
    let text = match value {
        StaticOrExpression::Static(s) => s.trim().to_owned(),
        StaticOrExpression::Expression(e) => match e.evaluate_in(context) {
            Ok(Json::Number(n)) => n.to_string(),
            Ok(Json::String(s)) => s,
            Ok(other) => {
                return Err(format!(
                    "Expected result of the expression '{}' to be 'NUMBER', but was '{other}'.",
                    e.source()
                ));
            }
            Err(err) => return Err(err.to_string()),
        },
    };
    text.parse::<i32>()
        .map_err(|_| format!("job retries '{text}' is not an integer"))
}

/// Zeebe's message for a BPMN error nothing catches.
pub(crate) fn uncaught_message(code: &str, error_message: &str) -> String {
    format!(
        "Expected to throw an error event with the code '{code}' with message '{error_message}', but it was not caught. No error events are available in the scope."
    )
}

/// The error boundary event on `element` that catches `code`: a matching code first, then a
/// catch-all (no code), as Zeebe resolves it.
pub fn catch_error<'a>(def: &'a ProcessDefinition, element: &str, code: &str) -> Option<&'a Node> {
    let boundaries: Vec<&Node> = def
        .boundary_events(element)
        .iter()
        .filter_map(|id| def.node(id.as_str()))
        .collect();
    let catches = |node: &&Node, wanted: Option<&str>| {
        matches!(&node.kind, NodeKind::BoundaryEvent(b)
            if matches!(&b.trigger, BoundaryTrigger::Error { error_code } if error_code.as_deref() == wanted))
    };
    boundaries
        .iter()
        .find(|n| catches(n, Some(code)))
        .or_else(|| boundaries.iter().find(|n| catches(n, None)))
        .copied()
}

/// The variables a completing element propagates (output mappings over the job's variables).
pub fn completion(
    node: &Node,
    visible: &Map<String, Json>,
    job_variables: &Map<String, Json>,
) -> Result<Map<String, Json>, String> {
    mapping::completion_variables(&node.outputs, visible, job_variables).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use workflow_model::bpmn::parse_bpmn;

    use super::*;

    fn model(xml: &str) -> ProcessDefinition {
        parse_bpmn(xml).expect("valid").remove(0)
    }

    fn vars(value: Json) -> Map<String, Json> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn gateway_takes_first_true_condition_then_default() {
        let def = model(include_str!("../../tests/bpmn/gateway.bpmn"));
        let gw = def.node("Gw").expect("gateway");
        let taken = |v: Json| match activate(&def, gw, &vars(v)) {
            Activation::Leave(flows) => flows[0].to_string(),
            other => format!("{other:?}"),
        };
        assert_eq!(taken(json!({"amount": 1000})), "F_Big");
        assert_eq!(taken(json!({"amount": 1})), "F_Small");
        assert_eq!(taken(json!({"amount": -5})), "F_Default");
        assert!(taken(json!({})).contains("ConditionError"));
    }

    #[test]
    fn service_task_job_has_input_mapped_locals_and_default_retries() {
        let def = model(include_str!("../../tests/bpmn/sequence.bpmn"));
        let task = def.node("Task_Price").expect("task");
        let Activation::CreateJob(spec) = activate(&def, task, &vars(json!({"order": {"qty": 4}})))
        else {
            panic!("expected a job");
        };
        assert_eq!((spec.job_type.as_str(), spec.retries), ("seq-price", 3));
        assert_eq!(Json::Object(spec.locals), json!({"qty": 4}));
    }

    #[test]
    fn error_boundary_matches_code_and_nothing_else() {
        let def = model(include_str!("../../tests/bpmn/error-boundary.bpmn"));
        assert_eq!(
            catch_error(&def, "Task_Charge", "CARD_DECLINED").map(|n| n.id.to_string()),
            Some("Boundary_Declined".to_owned())
        );
        assert!(catch_error(&def, "Task_Charge", "OTHER").is_none());
    }
}
