//! Structural checks on a read process, and assembly of the indexed [`ProcessDefinition`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::error::{Problem, ProblemCode};
use super::model::{ElementId, Node, NodeKind, ProcessDefinition, SequenceFlow};
use super::parse::{RawFlow, RawNode, RawProcess};

/// Everything the checks need besides the process itself.
pub(crate) struct Checked<'p> {
    raw: &'p RawProcess,
    nodes: BTreeMap<&'p str, &'p RawNode>,
    outgoing: BTreeMap<&'p str, Vec<&'p RawFlow>>,
    incoming: BTreeMap<&'p str, Vec<&'p RawFlow>>,
    problems: Vec<Problem>,
}

impl<'p> Checked<'p> {
    pub fn new(raw: &'p RawProcess) -> Self {
        let nodes = raw.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        Self {
            raw,
            nodes,
            outgoing: BTreeMap::new(),
            incoming: BTreeMap::new(),
            problems: Vec::new(),
        }
    }

    fn node_problem(&mut self, code: ProblemCode, node: &RawNode, message: impl Into<String>) {
        self.problems.push(Problem {
            code,
            element_id: Some(node.id.clone()),
            tag: node.tag.clone(),
            line: node.line,
            message: message.into(),
        });
    }

    fn flow_problem(&mut self, code: ProblemCode, flow: &RawFlow, message: impl Into<String>) {
        self.problems.push(Problem {
            code,
            element_id: Some(flow.id.clone()),
            tag: flow.tag.clone(),
            line: flow.line,
            message: message.into(),
        });
    }

    /// Runs every check and returns the problems found.
    pub fn run(mut self) -> Vec<Problem> {
        self.check_start_events();
        self.check_flow_references();
        self.check_flow_counts();
        self.check_gateways_and_conditions();
        self.check_boundaries();
        self.check_reachability();
        self.problems
    }

    fn check_start_events(&mut self) {
        let count = self
            .raw
            .nodes
            .iter()
            .filter(|n| n.tag == "bpmn:startEvent")
            .count();
        if count != 1 {
            self.problems.push(Problem {
                code: ProblemCode::StartEventCount,
                element_id: Some(self.raw.id.clone()),
                tag: "bpmn:process".to_owned(),
                line: self.raw.line,
                message: format!("a process needs exactly one none start event, found {count}"),
            });
        }
    }

    fn check_flow_references(&mut self) {
        let raw = self.raw;
        for flow in &raw.flows {
            let mut ok = true;
            for (role, id) in [("sourceRef", &flow.source), ("targetRef", &flow.target)] {
                if !self.nodes.contains_key(id.as_str()) {
                    self.flow_problem(
                        ProblemCode::UnknownReference,
                        flow,
                        format!("{role} '{id}' is not a flow node of this process"),
                    );
                    ok = false;
                }
            }
            if ok {
                self.outgoing
                    .entry(flow.source.as_str())
                    .or_default()
                    .push(flow);
                self.incoming
                    .entry(flow.target.as_str())
                    .or_default()
                    .push(flow);
            }
        }
    }

    fn check_flow_counts(&mut self) {
        let raw = self.raw;
        for node in &raw.nodes {
            let incoming = self.incoming.get(node.id.as_str()).map_or(0, Vec::len);
            let outgoing = self.outgoing.get(node.id.as_str()).map_or(0, Vec::len);
            let is_boundary = matches!(node.kind, Some(NodeKind::BoundaryEvent(_)))
                || node.tag == "bpmn:boundaryEvent";
            let (needs_in, allows_in, needs_out, allows_out) = match node.tag.as_str() {
                "bpmn:startEvent" => (false, false, true, true),
                "bpmn:endEvent" => (true, true, false, false),
                _ if is_boundary => (false, false, true, true),
                _ => (true, true, true, true),
            };
            if needs_in && incoming == 0 {
                self.node_problem(
                    ProblemCode::InvalidFlowCount,
                    node,
                    "the element has no incoming sequence flow",
                );
            }
            if !allows_in && incoming > 0 {
                self.node_problem(
                    ProblemCode::InvalidFlowCount,
                    node,
                    "the element must not have incoming sequence flows",
                );
            }
            if needs_out && outgoing == 0 {
                self.node_problem(
                    ProblemCode::InvalidFlowCount,
                    node,
                    "the element has no outgoing sequence flow",
                );
            }
            if !allows_out && outgoing > 0 {
                self.node_problem(
                    ProblemCode::InvalidFlowCount,
                    node,
                    "an end event must not have outgoing sequence flows",
                );
            }
        }
    }

    fn check_gateways_and_conditions(&mut self) {
        let raw = self.raw;
        for flow in &raw.flows {
            let from_exclusive = self
                .nodes
                .get(flow.source.as_str())
                .is_some_and(|n| n.tag == "bpmn:exclusiveGateway");
            if flow.condition.is_some() && !from_exclusive {
                self.flow_problem(
                    ProblemCode::ConditionNotAllowed,
                    flow,
                    "conditions are only supported on flows leaving an exclusive gateway",
                );
            }
        }
        for node in raw
            .nodes
            .iter()
            .filter(|n| n.tag == "bpmn:exclusiveGateway")
        {
            let outgoing = self
                .outgoing
                .get(node.id.as_str())
                .cloned()
                .unwrap_or_default();
            if let Some(default) = &node.default_flow {
                match outgoing.iter().find(|f| &f.id == default) {
                    None => self.node_problem(
                        ProblemCode::InvalidDefaultFlow,
                        node,
                        format!("default flow '{default}' is not an outgoing flow of the gateway"),
                    ),
                    Some(flow) if flow.condition.is_some() => {
                        self.flow_problem(
                            ProblemCode::InvalidDefaultFlow,
                            flow,
                            "the default flow must not have a condition",
                        );
                    }
                    Some(_) => {}
                }
            }
            if outgoing.len() > 1 {
                for flow in outgoing
                    .iter()
                    .filter(|f| f.condition.is_none() && Some(&f.id) != node.default_flow.as_ref())
                {
                    self.flow_problem(ProblemCode::MissingCondition, flow, format!("flow leaving exclusive gateway '{}' needs a condition unless it is the default flow", node.id));
                }
            }
        }
    }

    fn check_boundaries(&mut self) {
        let raw = self.raw;
        for node in &raw.nodes {
            let Some(NodeKind::BoundaryEvent(boundary)) = &node.kind else {
                continue;
            };
            match self.nodes.get(boundary.attached_to.as_str()) {
                None => self.node_problem(ProblemCode::UnknownReference, node, format!("attachedToRef '{}' is not a flow node of this process", boundary.attached_to)),
                Some(target) if target.tag != "bpmn:serviceTask" && target.tag != "bpmn:userTask" => self.node_problem(
                    ProblemCode::InvalidBoundaryAttachment,
                    node,
                    format!("boundary events can only be attached to service or user tasks, not to {} '{}'", target.tag, target.id),
                ),
                Some(_) => {}
            }
        }
    }

    fn check_reachability(&mut self) {
        let raw = self.raw;
        let mut attached: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for node in &raw.nodes {
            if let Some(NodeKind::BoundaryEvent(b)) = &node.kind {
                attached
                    .entry(b.attached_to.as_str())
                    .or_default()
                    .push(node.id.as_str());
            }
        }
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut queue: VecDeque<&str> = raw
            .nodes
            .iter()
            .filter(|n| n.tag == "bpmn:startEvent")
            .map(|n| n.id.as_str())
            .collect();
        while let Some(id) = queue.pop_front() {
            if !seen.insert(id) {
                continue;
            }
            let next = self
                .outgoing
                .get(id)
                .into_iter()
                .flatten()
                .map(|f| f.target.as_str());
            queue.extend(next.chain(attached.get(id).into_iter().flatten().copied()));
        }
        for node in &raw.nodes {
            // boundary events without a valid attachment are already reported
            let dangling_boundary = node.tag == "bpmn:boundaryEvent" && node.kind.is_none();
            if !seen.contains(node.id.as_str())
                && !dangling_boundary
                && node.tag != "bpmn:startEvent"
            {
                self.node_problem(
                    ProblemCode::UnreachableNode,
                    node,
                    "the element cannot be reached from the start event",
                );
            }
        }
    }
}

/// Builds the indexed definition; only called when no problem was found.
pub(crate) fn assemble(
    raw: RawProcess,
    messages: &BTreeMap<String, super::model::MessageDefinition>,
    errors: &BTreeMap<String, super::model::ErrorDefinition>,
) -> Option<ProcessDefinition> {
    let mut outgoing: BTreeMap<ElementId, Vec<ElementId>> = BTreeMap::new();
    let mut incoming: BTreeMap<ElementId, Vec<ElementId>> = BTreeMap::new();
    let mut flows = BTreeMap::new();
    for flow in raw.flows {
        let id = ElementId::new(&flow.id);
        outgoing
            .entry(ElementId::new(&flow.source))
            .or_default()
            .push(id.clone());
        incoming
            .entry(ElementId::new(&flow.target))
            .or_default()
            .push(id.clone());
        flows.insert(
            id.clone(),
            SequenceFlow {
                id,
                source: ElementId::new(&flow.source),
                target: ElementId::new(&flow.target),
                condition: flow.condition,
                line: flow.line,
            },
        );
    }
    let mut boundary_events: BTreeMap<ElementId, Vec<ElementId>> = BTreeMap::new();
    let mut nodes = BTreeMap::new();
    let mut start_event = None;
    for node in raw.nodes {
        let kind = node.kind?;
        let id = ElementId::new(&node.id);
        match &kind {
            NodeKind::StartEvent => start_event = Some(id.clone()),
            NodeKind::BoundaryEvent(b) => boundary_events
                .entry(b.attached_to.clone())
                .or_default()
                .push(id.clone()),
            _ => {}
        }
        nodes.insert(
            id.clone(),
            Node {
                id,
                name: node.name,
                line: node.line,
                inputs: node.inputs,
                outputs: node.outputs,
                multi_instance: node.multi_instance,
                kind,
            },
        );
    }
    Some(ProcessDefinition {
        bpmn_process_id: raw.id,
        name: raw.name,
        start_event: start_event?,
        nodes,
        flows,
        outgoing,
        incoming,
        boundary_events,
        messages: messages.clone(),
        errors: errors.clone(),
    })
}
