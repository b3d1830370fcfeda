//! BPMN 2.0 + Zeebe extensions: the supported subset, refused elements and structural rules.
//!
//! **Accepted**: executable `process`; none `startEvent` (exactly one); none `endEvent` and
//! error `endEvent`; `serviceTask` (`zeebe:taskDefinition`, `zeebe:taskHeaders`,
//! `zeebe:ioMapping`); Camunda `userTask` (`zeebe:userTask`, `zeebe:assignmentDefinition`,
//! `zeebe:taskSchedule`, `zeebe:formDefinition`, `zeebe:ioMapping`, `zeebe:taskHeaders`,
//! `zeebe:taskListeners` with `completing` listeners); parallel multi-instance service tasks
//! (`zeebe:loopCharacteristics`: inputCollection, inputElement, outputCollection,
//! outputElement); `exclusiveGateway` (with `default`); `parallelGateway`; timer
//! (`timeDuration`, `timeDate`) and message `intermediateCatchEvent`; timer, message and error
//! (a code, or catch-all without `errorRef`) `boundaryEvent` on service/user tasks;
//! `sequenceFlow` (FEEL conditions on exclusive-gateway outgoing flows). Lanes, text
//! annotations, associations, groups, data objects and diagram interchange are ignored.
//!
//! **Refused** (with element, tag and line): every other flow element (sub-processes, call
//! activities, script/send/receive/business-rule/manual tasks, event-based and inclusive
//! gateways, throw events, ...), start events with any event definition (message, timer,
//! signal), timer cycles, signal/escalation/compensation/link/conditional/terminate
//! definitions, standard loops, sequential multi-instance, multi-instance `completionCondition`
//! or `loopCardinality`, multi-instance on anything but service tasks, job-worker user tasks,
//! task listeners of any event type but `completing` (creating, assigning, updating,
//! canceling), error boundary events with `cancelActivity="false"`, and unknown `zeebe:`
//! extensions.

mod error;
mod model;
mod multi_instance;
mod parse;
mod user_task;
mod validate;

pub use error::{DeployError, Problem, ProblemCode};
pub use model::{
    BoundaryEvent, BoundaryTrigger, ElementId, ErrorDefinition, MessageDefinition,
    MessageSubscription, MultiInstance, Node, NodeKind, ProcessDefinition, SequenceFlow,
    ServiceTask, TaskListener, TaskListenerEventType, TimerDefinition, UserTask,
};

use parse::{BPMN_NS, Reader, bpmn_children, tag};

/// Parses and validates a BPMN file, returning its executable processes or every problem.
pub fn parse_bpmn(xml: &str) -> Result<Vec<ProcessDefinition>, DeployError> {
    let doc = roxmltree::Document::parse(xml).map_err(|source| {
        let pos = source.pos();
        DeployError::MalformedXml {
            line: pos.row,
            column: pos.col,
            source,
        }
    })?;
    let root = doc.root_element();
    if root.tag_name().namespace() != Some(BPMN_NS) || root.tag_name().name() != "definitions" {
        return Err(DeployError::NotBpmn { root: tag(root) });
    }
    let mut reader = Reader::new(&doc);
    reader.check_unique_ids(root);
    reader.read_declarations(root);
    let mut raws = Vec::new();
    for process in bpmn_children(root).filter(|e| e.tag_name().name() == "process") {
        if process.attribute("isExecutable") != Some("true") {
            continue;
        }
        match process.attribute("id") {
            Some(id) => raws.push(reader.read_process(process, id)),
            None => reader.report(
                ProblemCode::MissingId,
                process,
                None,
                "a process needs an id",
            ),
        }
    }
    if raws.is_empty() {
        reader.report(
            ProblemCode::NoExecutableProcess,
            root,
            None,
            "the file has no process with isExecutable=\"true\"",
        );
    }
    let mut problems = reader.problems;
    for raw in &raws {
        problems.extend(validate::Checked::new(raw).run());
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| (p.line, p.code));
        return Err(DeployError::Invalid { problems });
    }
    let (messages, errors) = (reader.messages, reader.errors);
    Ok(raws
        .into_iter()
        .filter_map(|raw| validate::assemble(raw, &messages, &errors))
        .collect())
}
