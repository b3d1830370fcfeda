//! The immutable, validated process model an engine steps tokens through.

use std::collections::BTreeMap;
use std::fmt;

use crate::feel::{Expression, StaticOrExpression};
use crate::mapping::VariableMapping;
use crate::timer::TimerSchedule;

/// A BPMN element id (`Task_Approve`), unique within a deployed file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ElementId(String);

impl ElementId {
    /// Wraps an id read from the XML (already checked to be non-empty and unique).
    pub(crate) fn new(id: &str) -> Self {
        Self(id.to_owned())
    }

    /// The id as written in the BPMN file, for records and incidents.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ElementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::borrow::Borrow<str> for ElementId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// A flow node with the data every kind shares; `kind` says how the engine executes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The element id.
    pub id: ElementId,
    /// The modeler label, for operators.
    pub name: Option<String>,
    /// 1-based line of the element in the BPMN file, for incidents pointing at the model.
    pub line: u32,
    /// `zeebe:input` mappings, applied on activation.
    pub inputs: Vec<VariableMapping>,
    /// `zeebe:output` mappings, applied on completion.
    pub outputs: Vec<VariableMapping>,
    /// Parallel multi-instance characteristics (service tasks only): the element then runs
    /// once per element of a collection, inside a multi-instance body.
    pub multi_instance: Option<MultiInstance>,
    /// What the node does.
    pub kind: NodeKind,
}

/// `bpmn:multiInstanceLoopCharacteristics` with `zeebe:loopCharacteristics`, parallel only
/// (sequential and `completionCondition` are refused at deploy). Zeebe's semantics: the body
/// creates one inner instance per element of `input_collection`; each inner instance gets the
/// element as the local `input_element` and a 1-based `loopCounter`; `output_element` is
/// collected into `output_collection` at the inner instance's position.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiInstance {
    /// `inputCollection`: evaluated when the body is entered; must yield a list.
    pub input_collection: Expression,
    /// `inputElement`: the local variable holding an inner instance's element.
    pub input_element: Option<String>,
    /// `outputCollection`: the body-local list the results are collected into, propagated to
    /// the process scope when the body completes.
    pub output_collection: Option<String>,
    /// `outputElement`: evaluated when an inner instance completes (set with
    /// `output_collection`).
    pub output_element: Option<Expression>,
}

/// The supported flow-node kinds; everything else is refused at deploy time.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// The process's single none start event.
    StartEvent,
    /// A none end event: the token is consumed.
    EndEvent,
    /// An error end event: throws `error_code` to the nearest matching error boundary.
    ErrorEndEvent {
        /// The `bpmn:error` errorCode thrown.
        error_code: String,
    },
    /// A job for a worker.
    ServiceTask(ServiceTask),
    /// A Camunda user task (`zeebe:userTask`).
    UserTask(UserTask),
    /// Takes the first outgoing flow whose condition is true, else the default flow.
    ExclusiveGateway {
        /// The flow taken when no condition holds; without it that case is an incident.
        default_flow: Option<ElementId>,
    },
    /// Forks into all outgoing flows; joins by waiting for a token on every incoming flow.
    ParallelGateway,
    /// Waits until the timer is due.
    TimerCatchEvent(TimerDefinition),
    /// Waits for a correlated message.
    MessageCatchEvent(MessageSubscription),
    /// Attached to a task; fires on a timer, message or error.
    BoundaryEvent(BoundaryEvent),
}

/// A `bpmn:serviceTask` with its `zeebe:taskDefinition`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceTask {
    /// The job type workers subscribe to.
    pub job_type: StaticOrExpression,
    /// Job retries (static values are checked to be integers; default `3`, as in Zeebe).
    pub retries: StaticOrExpression,
    /// `zeebe:taskHeaders`, passed to the worker unchanged and in order.
    pub headers: Vec<(String, String)>,
}

/// A Camunda user task's assignment and schedule (all optional, static or FEEL).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserTask {
    /// `zeebe:assignmentDefinition assignee`.
    pub assignee: Option<StaticOrExpression>,
    /// `candidateGroups`: a comma-separated static list or a FEEL list.
    pub candidate_groups: Option<StaticOrExpression>,
    /// `candidateUsers`: a comma-separated static list or a FEEL list.
    pub candidate_users: Option<StaticOrExpression>,
    /// `zeebe:taskSchedule dueDate` (ISO date-time).
    pub due_date: Option<StaticOrExpression>,
    /// `zeebe:taskSchedule followUpDate` (ISO date-time).
    pub follow_up_date: Option<StaticOrExpression>,
    /// `zeebe:formDefinition formKey`, handed to task lists.
    pub form_key: Option<String>,
    /// `zeebe:formDefinition formId` (a linked Camunda form).
    pub form_id: Option<String>,
    /// `zeebe:taskHeaders`, in model order; handed to the task's listener jobs.
    pub headers: Vec<(String, String)>,
    /// `zeebe:taskListeners`, in model order (the order they run in).
    pub listeners: Vec<TaskListener>,
}

impl UserTask {
    /// The listeners of one event type, in the order they run.
    pub fn listeners_of(
        &self,
        event: TaskListenerEventType,
    ) -> impl Iterator<Item = &TaskListener> {
        self.listeners.iter().filter(move |l| l.event_type == event)
    }
}

/// A `zeebe:taskListener`: a job created when the user task reaches `event_type`, which must be
/// completed (or denied) before the task's lifecycle transition goes on (Camunda 8.8).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskListener {
    /// When the listener runs.
    pub event_type: TaskListenerEventType,
    /// The listener job's type (static or FEEL, like a service task's).
    pub job_type: StaticOrExpression,
    /// The listener job's retries (default `3`, as in Zeebe).
    pub retries: StaticOrExpression,
}

/// User-task lifecycle events a listener can run on. Only `completing` is executed by the
/// embedded engine; models with any other event type are refused at deploy time, so a listener
/// is never silently skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskListenerEventType {
    /// Before a completion takes effect; the listener may deny it.
    Completing,
}

impl TaskListenerEventType {
    /// The `eventType` attribute value (Camunda 8.8 spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completing => "completing",
        }
    }
}

/// A timer either fixed at deploy time or computed from variables when the timer is created.
#[derive(Debug, Clone, PartialEq)]
pub enum TimerDefinition {
    /// A static `timeDuration` or `timeDate`.
    Static(TimerSchedule),
    /// `timeDuration="=expr"`: must yield a duration (or an ISO duration string).
    DurationExpression(Expression),
    /// `timeDate="=expr"`: must yield a date-time (or an ISO date-time string).
    DateExpression(Expression),
}

/// A message the token waits for.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageSubscription {
    /// The `bpmn:message` id referenced by the event.
    pub message_id: String,
    /// The message name (static or FEEL), matched against published messages.
    pub message_name: StaticOrExpression,
    /// `zeebe:subscription correlationKey`, evaluated when the subscription opens.
    pub correlation_key: Expression,
}

/// A boundary event on a task.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryEvent {
    /// The task it is attached to.
    pub attached_to: ElementId,
    /// Interrupting (`true`, the default) terminates the task; otherwise a token is spawned.
    pub cancel_activity: bool,
    /// What triggers it.
    pub trigger: BoundaryTrigger,
}

/// The trigger of a boundary event.
#[derive(Debug, Clone, PartialEq)]
pub enum BoundaryTrigger {
    /// A timer started when the task activates.
    Timer(TimerDefinition),
    /// A message subscription opened when the task activates.
    Message(MessageSubscription),
    /// A BPMN error thrown by the task's job: a specific code, or any code when `None`.
    Error {
        /// The caught errorCode; `None` catches every error.
        error_code: Option<String>,
    },
}

/// A `bpmn:sequenceFlow`.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceFlow {
    /// The flow id.
    pub id: ElementId,
    /// The node the flow leaves.
    pub source: ElementId,
    /// The node the flow enters.
    pub target: ElementId,
    /// The FEEL condition (only on exclusive-gateway outgoing flows).
    pub condition: Option<Expression>,
    /// 1-based line in the BPMN file.
    pub line: u32,
}

/// A `bpmn:message` declared in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageDefinition {
    /// The element id.
    pub id: String,
    /// The name (static or FEEL).
    pub name: StaticOrExpression,
    /// `zeebe:subscription correlationKey`; required when a catch event references the message.
    pub correlation_key: Option<Expression>,
}

/// A `bpmn:error` declared in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDefinition {
    /// The element id.
    pub id: String,
    /// The code workers throw and boundary events catch.
    pub error_code: String,
}

/// An executable process, validated and indexed for token stepping. The version is assigned
/// by the engine at deployment, so it is not part of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessDefinition {
    pub(crate) bpmn_process_id: String,
    pub(crate) name: Option<String>,
    pub(crate) start_event: ElementId,
    pub(crate) nodes: BTreeMap<ElementId, Node>,
    pub(crate) flows: BTreeMap<ElementId, SequenceFlow>,
    pub(crate) outgoing: BTreeMap<ElementId, Vec<ElementId>>,
    pub(crate) incoming: BTreeMap<ElementId, Vec<ElementId>>,
    pub(crate) boundary_events: BTreeMap<ElementId, Vec<ElementId>>,
    pub(crate) messages: BTreeMap<String, MessageDefinition>,
    pub(crate) errors: BTreeMap<String, ErrorDefinition>,
}

impl ProcessDefinition {
    /// The process id workers and `CreateProcessInstance` use.
    pub fn bpmn_process_id(&self) -> &str {
        &self.bpmn_process_id
    }

    /// The modeler label.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The none start event where a new instance's token starts.
    pub fn start_event(&self) -> &ElementId {
        &self.start_event
    }

    /// A node by id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// All nodes, ordered by id.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.values()
    }

    /// A sequence flow by id.
    pub fn flow(&self, id: &str) -> Option<&SequenceFlow> {
        self.flows.get(id)
    }

    /// All sequence flows, ordered by id.
    pub fn flows(&self) -> impl Iterator<Item = &SequenceFlow> {
        self.flows.values()
    }

    /// Flows leaving a node, in document order (the order Zeebe evaluates conditions in).
    pub fn outgoing(&self, node: &str) -> &[ElementId] {
        self.outgoing.get(node).map_or(&[], Vec::as_slice)
    }

    /// Flows entering a node, in document order (a parallel join waits for all of them).
    pub fn incoming(&self, node: &str) -> &[ElementId] {
        self.incoming.get(node).map_or(&[], Vec::as_slice)
    }

    /// Boundary events attached to a task, in document order.
    pub fn boundary_events(&self, activity: &str) -> &[ElementId] {
        self.boundary_events
            .get(activity)
            .map_or(&[], Vec::as_slice)
    }

    /// Messages declared in the file, by id.
    pub fn messages(&self) -> &BTreeMap<String, MessageDefinition> {
        &self.messages
    }

    /// Errors declared in the file, by id.
    pub fn errors(&self) -> &BTreeMap<String, ErrorDefinition> {
        &self.errors
    }
}
