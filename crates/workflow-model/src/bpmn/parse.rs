//! Reads BPMN XML into raw nodes and flows, refusing unsupported elements with their line.

mod events;

use std::collections::{BTreeMap, HashMap};

use roxmltree::{Document, Node as Xml};

use super::error::{Problem, ProblemCode};
use super::model::{ElementId, ErrorDefinition, MessageDefinition, NodeKind, ServiceTask};
use crate::feel::{Expression, StaticOrExpression};
use crate::mapping::{TargetPath, VariableMapping};

pub(crate) const BPMN_NS: &str = "http://www.omg.org/spec/BPMN/20100524/MODEL";
pub(crate) const ZEEBE_NS: &str = "http://camunda.org/schema/zeebe/1.0";

/// Process children that carry no execution semantics and are skipped.
const ARTIFACTS: &[&str] = &[
    "documentation",
    "extensionElements",
    "laneSet",
    "textAnnotation",
    "association",
    "group",
    "dataObject",
    "dataObjectReference",
    "dataStoreReference",
];

/// A flow node as read; `kind` is `None` when it was refused (its problem is already recorded),
/// so references to it do not produce follow-up noise.
#[derive(Debug)]
pub(crate) struct RawNode {
    pub id: String,
    pub name: Option<String>,
    pub tag: String,
    pub line: u32,
    pub inputs: Vec<VariableMapping>,
    pub outputs: Vec<VariableMapping>,
    pub multi_instance: Option<super::model::MultiInstance>,
    pub kind: Option<NodeKind>,
    /// `default` of an exclusive gateway, checked once flows are known.
    pub default_flow: Option<String>,
}

/// A sequence flow as read.
#[derive(Debug)]
pub(crate) struct RawFlow {
    pub id: String,
    pub source: String,
    pub target: String,
    pub condition: Option<Expression>,
    pub line: u32,
    pub tag: String,
}

/// A process as read, before structural validation.
#[derive(Debug)]
pub(crate) struct RawProcess {
    pub id: String,
    pub name: Option<String>,
    pub line: u32,
    pub nodes: Vec<RawNode>,
    pub flows: Vec<RawFlow>,
}

/// Reading state: the document (for line numbers), declared messages/errors and the problems.
pub(crate) struct Reader<'a, 'input> {
    doc: &'a Document<'input>,
    pub messages: BTreeMap<String, MessageDefinition>,
    pub errors: BTreeMap<String, ErrorDefinition>,
    pub problems: Vec<Problem>,
}

impl<'a, 'input> Reader<'a, 'input> {
    pub fn new(doc: &'a Document<'input>) -> Self {
        Self {
            doc,
            messages: BTreeMap::new(),
            errors: BTreeMap::new(),
            problems: Vec::new(),
        }
    }

    pub fn line(&self, el: Xml<'_, '_>) -> u32 {
        self.doc.text_pos_at(el.range().start).row
    }

    pub fn report(
        &mut self,
        code: ProblemCode,
        el: Xml<'_, '_>,
        id: Option<&str>,
        message: impl Into<String>,
    ) {
        let line = self.line(el);
        self.problems.push(Problem {
            code,
            element_id: id.map(str::to_owned),
            tag: tag(el),
            line,
            message: message.into(),
        });
    }

    /// Records duplicate ids anywhere in the BPMN namespace.
    pub fn check_unique_ids(&mut self, root: Xml<'_, '_>) {
        let mut seen: HashMap<String, u32> = HashMap::new();
        for el in root
            .descendants()
            .filter(|n| n.is_element() && n.tag_name().namespace() == Some(BPMN_NS))
        {
            if let Some(id) = el.attribute("id") {
                let line = self.line(el);
                if let Some(first) = seen.insert(id.to_owned(), line) {
                    self.report(
                        ProblemCode::DuplicateId,
                        el,
                        Some(id),
                        format!("the id is already used on line {first}"),
                    );
                }
            }
        }
    }

    /// Reads `bpmn:message` and `bpmn:error` declarations.
    pub fn read_declarations(&mut self, definitions: Xml<'_, '_>) {
        for el in bpmn_children(definitions) {
            let Some(id) = el.attribute("id") else {
                continue;
            };
            match el.tag_name().name() {
                "message" => {
                    let Some(raw_name) = el.attribute("name").filter(|n| !n.trim().is_empty())
                    else {
                        self.report(
                            ProblemCode::MissingAttribute,
                            el,
                            Some(id),
                            "a message needs a name",
                        );
                        continue;
                    };
                    let name = self.static_or_expression(raw_name, el, id, "message name");
                    let correlation_key = zeebe_descendant(el, "subscription")
                        .and_then(|sub| sub.attribute("correlationKey").map(|key| (sub, key)))
                        .and_then(|(sub, key)| self.expression(key, sub, id, "correlationKey"));
                    if let Some(name) = name {
                        self.messages.insert(
                            id.to_owned(),
                            MessageDefinition {
                                id: id.to_owned(),
                                name,
                                correlation_key,
                            },
                        );
                    }
                }
                "error" => match el.attribute("errorCode").filter(|c| !c.trim().is_empty()) {
                    Some(code) => {
                        self.errors.insert(
                            id.to_owned(),
                            ErrorDefinition {
                                id: id.to_owned(),
                                error_code: code.to_owned(),
                            },
                        );
                    }
                    None => self.report(
                        ProblemCode::MissingAttribute,
                        el,
                        Some(id),
                        "a bpmn:error needs an errorCode",
                    ),
                },
                _ => {}
            }
        }
    }

    /// Reads one executable process.
    pub fn read_process(&mut self, process: Xml<'_, '_>, id: &str) -> RawProcess {
        let mut raw = RawProcess {
            id: id.to_owned(),
            name: process.attribute("name").map(str::to_owned),
            line: self.line(process),
            nodes: Vec::new(),
            flows: Vec::new(),
        };
        for el in process.children().filter(Xml::is_element) {
            if el.tag_name().namespace() != Some(BPMN_NS) {
                continue;
            }
            let local = el.tag_name().name();
            if ARTIFACTS.contains(&local) {
                if local == "extensionElements" {
                    self.refuse_zeebe_extensions(
                        el,
                        id,
                        &["properties", "userTaskForm", "versionTag"],
                    );
                }
                continue;
            }
            let Some(el_id) = el.attribute("id") else {
                self.report(
                    ProblemCode::MissingId,
                    el,
                    None,
                    "every flow element needs an id",
                );
                continue;
            };
            if local == "sequenceFlow" {
                if let Some(flow) = self.read_flow(el, el_id) {
                    raw.flows.push(flow);
                }
                continue;
            }
            let node = self.read_node(el, el_id);
            raw.nodes.push(node);
        }
        raw
    }

    fn read_flow(&mut self, el: Xml<'_, '_>, id: &str) -> Option<RawFlow> {
        let (Some(source), Some(target)) = (el.attribute("sourceRef"), el.attribute("targetRef"))
        else {
            self.report(
                ProblemCode::MissingAttribute,
                el,
                Some(id),
                "a sequence flow needs sourceRef and targetRef",
            );
            return None;
        };
        let condition =
            match bpmn_children(el).find(|c| c.tag_name().name() == "conditionExpression") {
                Some(cond) => {
                    let text = cond.text().unwrap_or("").trim().to_owned();
                    if text.is_empty() {
                        None
                    } else {
                        self.expression(&text, cond, id, "condition")
                    }
                }
                None => None,
            };
        Some(RawFlow {
            id: id.to_owned(),
            source: source.to_owned(),
            target: target.to_owned(),
            condition,
            line: self.line(el),
            tag: tag(el),
        })
    }

    fn read_node(&mut self, el: Xml<'_, '_>, id: &str) -> RawNode {
        let local = el.tag_name().name();
        let mut node = RawNode {
            id: id.to_owned(),
            name: el.attribute("name").map(str::to_owned),
            tag: tag(el),
            line: self.line(el),
            inputs: Vec::new(),
            outputs: Vec::new(),
            multi_instance: None,
            kind: None,
            default_flow: None,
        };
        let allowed: &[&str] = match local {
            "serviceTask" => &["taskDefinition", "ioMapping", "taskHeaders", "properties"],
            "userTask" => &[
                "userTask",
                "assignmentDefinition",
                "taskSchedule",
                "ioMapping",
                "formDefinition",
                "taskHeaders",
                "taskListeners",
                "properties",
            ],
            "startEvent" | "endEvent" | "intermediateCatchEvent" | "boundaryEvent" => {
                &["ioMapping", "properties"]
            }
            "exclusiveGateway" | "parallelGateway" => &["properties"],
            _ => {
                self.report(
                    ProblemCode::UnsupportedElement,
                    el,
                    Some(id),
                    format!("{} is not supported by the embedded engine", tag(el)),
                );
                return node;
            }
        };
        if el.attribute("isForCompensation") == Some("true") {
            self.report(
                ProblemCode::UnsupportedAttribute,
                el,
                Some(id),
                "compensation is not supported",
            );
        }
        let problems_before = self.problems.len();
        let mut definitions = Vec::new();
        for child in el.children().filter(Xml::is_element) {
            if child.tag_name().namespace() != Some(BPMN_NS) {
                continue;
            }
            match child.tag_name().name() {
                "incoming" | "outgoing" | "documentation" => {}
                "extensionElements" => self.refuse_zeebe_extensions(child, id, allowed),
                "multiInstanceLoopCharacteristics" => {
                    node.multi_instance = self.read_multi_instance(el, child, id);
                }
                name if name.ends_with("EventDefinition") => definitions.push(child),
                _ => self.report(
                    ProblemCode::UnsupportedElement,
                    child,
                    Some(id),
                    format!("{} inside {} is not supported", tag(child), tag(el)),
                ),
            }
        }
        if let Some(io) = zeebe_descendant(el, "ioMapping") {
            let (inputs, outputs) = self.read_io_mapping(io, id);
            node.inputs = inputs;
            node.outputs = outputs;
        }
        let kind = match local {
            "serviceTask" => self.read_service_task(el, id).map(NodeKind::ServiceTask),
            "userTask" => self.read_user_task(el, id).map(NodeKind::UserTask),
            "exclusiveGateway" => {
                node.default_flow = el.attribute("default").map(str::to_owned);
                Some(NodeKind::ExclusiveGateway {
                    default_flow: node.default_flow.as_deref().map(ElementId::new),
                })
            }
            "parallelGateway" => Some(NodeKind::ParallelGateway),
            "startEvent" => {
                for def in &definitions {
                    self.report(
                        ProblemCode::UnsupportedEventDefinition,
                        *def,
                        Some(id),
                        format!(
                            "only none start events are supported, not a start event with {}",
                            tag(*def)
                        ),
                    );
                }
                Some(NodeKind::StartEvent)
            }
            _ => self.read_event(el, id, &definitions),
        };
        if self.problems.len() == problems_before {
            node.kind = kind;
        }
        node
    }

    fn read_service_task(&mut self, el: Xml<'_, '_>, id: &str) -> Option<ServiceTask> {
        let Some(definition) = zeebe_descendant(el, "taskDefinition") else {
            self.report(
                ProblemCode::MissingAttribute,
                el,
                Some(id),
                "a service task needs zeebe:taskDefinition with a type",
            );
            return None;
        };
        let Some(raw_type) = definition
            .attribute("type")
            .filter(|t| !t.trim().is_empty())
        else {
            self.report(
                ProblemCode::MissingAttribute,
                definition,
                Some(id),
                "zeebe:taskDefinition needs a non-empty type",
            );
            return None;
        };
        let job_type = self.static_or_expression(raw_type, definition, id, "type");
        let retries = self.read_retries(definition, id);
        let headers = self.read_task_headers(el, id);
        Some(ServiceTask {
            job_type: job_type?,
            retries: retries?,
            headers,
        })
    }

    /// `retries` of a job definition: default `3`; a static value must be a whole number.
    pub(super) fn read_retries(&mut self, el: Xml<'_, '_>, id: &str) -> Option<StaticOrExpression> {
        let raw_retries = el.attribute("retries").unwrap_or("3");
        let retries = self.static_or_expression(raw_retries, el, id, "retries");
        if let Some(StaticOrExpression::Static(r)) = &retries
            && r.trim().parse::<u32>().is_err()
        {
            self.report(
                ProblemCode::InvalidAttribute,
                el,
                Some(id),
                format!("retries must be a whole number or an expression, not '{r}'"),
            );
        }
        retries
    }

    /// `zeebe:taskHeaders` of a task, in model order.
    pub(super) fn read_task_headers(&mut self, el: Xml<'_, '_>, id: &str) -> Vec<(String, String)> {
        let mut headers = Vec::new();
        if let Some(task_headers) = zeebe_descendant(el, "taskHeaders") {
            for header in zeebe_children(task_headers, "header") {
                match (header.attribute("key"), header.attribute("value")) {
                    (Some(k), Some(v)) => headers.push((k.to_owned(), v.to_owned())),
                    _ => self.report(
                        ProblemCode::MissingAttribute,
                        header,
                        Some(id),
                        "a task header needs key and value",
                    ),
                }
            }
        }
        headers
    }

    fn read_io_mapping(
        &mut self,
        io: Xml<'_, '_>,
        id: &str,
    ) -> (Vec<VariableMapping>, Vec<VariableMapping>) {
        let mut inputs = Vec::new();
        let mut outputs = Vec::new();
        for m in io
            .children()
            .filter(|c| c.is_element() && c.tag_name().namespace() == Some(ZEEBE_NS))
        {
            let direction = m.tag_name().name();
            let target = match TargetPath::parse(m.attribute("target").unwrap_or("")) {
                Ok(t) => t,
                Err(e) => {
                    self.report(ProblemCode::InvalidMapping, m, Some(id), e.to_string());
                    continue;
                }
            };
            let source = match m.attribute("source") {
                Some(raw) => match self.static_or_expression(raw, m, id, "source") {
                    Some(s) => Some(s),
                    None => continue,
                },
                None => None,
            };
            let mapping = VariableMapping { source, target };
            match direction {
                "input" => inputs.push(mapping),
                "output" => outputs.push(mapping),
                _ => self.report(
                    ProblemCode::UnsupportedExtension,
                    m,
                    Some(id),
                    format!("{} is not a zeebe:ioMapping entry", tag(m)),
                ),
            }
        }
        (inputs, outputs)
    }

    /// Refuses `zeebe:` extensions outside `allowed` (their behaviour would silently be lost).
    pub(super) fn refuse_zeebe_extensions(
        &mut self,
        extension_elements: Xml<'_, '_>,
        id: &str,
        allowed: &[&str],
    ) {
        for ext in extension_elements
            .children()
            .filter(|c| c.is_element() && c.tag_name().namespace() == Some(ZEEBE_NS))
        {
            if !allowed.contains(&ext.tag_name().name()) {
                self.report(
                    ProblemCode::UnsupportedExtension,
                    ext,
                    Some(id),
                    format!("{} is not supported here", tag(ext)),
                );
            }
        }
    }

    pub(super) fn static_or_expression(
        &mut self,
        raw: &str,
        el: Xml<'_, '_>,
        id: &str,
        what: &str,
    ) -> Option<StaticOrExpression> {
        match StaticOrExpression::parse(raw) {
            Ok(v) => Some(v),
            Err(e) => {
                self.report(
                    ProblemCode::InvalidExpression,
                    el,
                    Some(id),
                    format!("{what}: {e}"),
                );
                None
            }
        }
    }

    /// A value that must be FEEL (`=` prefix), such as a condition or correlation key.
    pub(super) fn expression(
        &mut self,
        raw: &str,
        el: Xml<'_, '_>,
        id: &str,
        what: &str,
    ) -> Option<Expression> {
        match raw.trim_start().strip_prefix('=') {
            Some(text) => self.parse_feel(text, el, id, what),
            None => {
                self.report(
                    ProblemCode::InvalidExpression,
                    el,
                    Some(id),
                    format!("{what} must be a FEEL expression starting with '=', not '{raw}'"),
                );
                None
            }
        }
    }

    fn parse_feel(
        &mut self,
        text: &str,
        el: Xml<'_, '_>,
        id: &str,
        what: &str,
    ) -> Option<Expression> {
        match Expression::parse(text) {
            Ok(e) => Some(e),
            Err(e) => {
                self.report(
                    ProblemCode::InvalidExpression,
                    el,
                    Some(id),
                    format!("{what}: {e}"),
                );
                None
            }
        }
    }
}

/// `bpmn:serviceTask`-style tag for messages, independent of the prefix the file uses.
pub(crate) fn tag(el: Xml<'_, '_>) -> String {
    let prefix = match el.tag_name().namespace() {
        Some(BPMN_NS) => "bpmn:",
        Some(ZEEBE_NS) => "zeebe:",
        _ => "",
    };
    format!("{prefix}{}", el.tag_name().name())
}

pub(crate) fn bpmn_children<'a, 'input>(
    el: Xml<'a, 'input>,
) -> impl Iterator<Item = Xml<'a, 'input>> {
    el.children()
        .filter(|c| c.is_element() && c.tag_name().namespace() == Some(BPMN_NS))
}

/// A `zeebe:<name>` element inside this element's `bpmn:extensionElements`.
pub(super) fn zeebe_descendant<'a, 'input>(
    el: Xml<'a, 'input>,
    name: &str,
) -> Option<Xml<'a, 'input>> {
    bpmn_children(el)
        .filter(|c| c.tag_name().name() == "extensionElements")
        .flat_map(|ext| ext.children())
        .find(|c| {
            c.is_element()
                && c.tag_name().namespace() == Some(ZEEBE_NS)
                && c.tag_name().name() == name
        })
}

pub(super) fn zeebe_children<'a, 'input>(
    el: Xml<'a, 'input>,
    name: &'static str,
) -> impl Iterator<Item = Xml<'a, 'input>> {
    el.children().filter(move |c| {
        c.is_element() && c.tag_name().namespace() == Some(ZEEBE_NS) && c.tag_name().name() == name
    })
}
