//! Deploy-time errors: every problem names its element, tag and line.

use std::fmt;

/// Stable machine codes for deployment problems (clients may match on them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProblemCode {
    /// An element the embedded engine does not execute.
    UnsupportedElement,
    /// An event definition the element cannot carry here.
    UnsupportedEventDefinition,
    /// A `zeebe:` extension whose behaviour is not implemented.
    UnsupportedExtension,
    /// An attribute value that changes behaviour in an unsupported way.
    UnsupportedAttribute,
    /// The file contains no `isExecutable="true"` process.
    NoExecutableProcess,
    /// An element without an `id`.
    MissingId,
    /// Two elements share an id.
    DuplicateId,
    /// Not exactly one none start event.
    StartEventCount,
    /// A reference (flow source/target, message, error, attachment) names nothing.
    UnknownReference,
    /// A node lacks a required incoming or outgoing flow, or has a forbidden one.
    InvalidFlowCount,
    /// A node cannot be reached from the start event.
    UnreachableNode,
    /// A required attribute or extension is missing.
    MissingAttribute,
    /// An attribute value is malformed.
    InvalidAttribute,
    /// An exclusive gateway's non-default outgoing flow has no condition.
    MissingCondition,
    /// A condition on a flow that does not leave an exclusive gateway.
    ConditionNotAllowed,
    /// The gateway default flow is not one of its outgoing flows, or has a condition.
    InvalidDefaultFlow,
    /// A boundary event is not attached to a service or user task.
    InvalidBoundaryAttachment,
    /// A FEEL expression does not parse.
    InvalidExpression,
    /// A timer value is not ISO-8601.
    InvalidTimer,
    /// An io-mapping target is malformed.
    InvalidMapping,
}

impl ProblemCode {
    /// The stable SCREAMING_SNAKE_CASE code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnsupportedElement => "UNSUPPORTED_ELEMENT",
            Self::UnsupportedEventDefinition => "UNSUPPORTED_EVENT_DEFINITION",
            Self::UnsupportedExtension => "UNSUPPORTED_EXTENSION",
            Self::UnsupportedAttribute => "UNSUPPORTED_ATTRIBUTE",
            Self::NoExecutableProcess => "NO_EXECUTABLE_PROCESS",
            Self::MissingId => "MISSING_ID",
            Self::DuplicateId => "DUPLICATE_ID",
            Self::StartEventCount => "START_EVENT_COUNT",
            Self::UnknownReference => "UNKNOWN_REFERENCE",
            Self::InvalidFlowCount => "INVALID_FLOW_COUNT",
            Self::UnreachableNode => "UNREACHABLE_NODE",
            Self::MissingAttribute => "MISSING_ATTRIBUTE",
            Self::InvalidAttribute => "INVALID_ATTRIBUTE",
            Self::MissingCondition => "MISSING_CONDITION",
            Self::ConditionNotAllowed => "CONDITION_NOT_ALLOWED",
            Self::InvalidDefaultFlow => "INVALID_DEFAULT_FLOW",
            Self::InvalidBoundaryAttachment => "INVALID_BOUNDARY_ATTACHMENT",
            Self::InvalidExpression => "INVALID_EXPRESSION",
            Self::InvalidTimer => "INVALID_TIMER",
            Self::InvalidMapping => "INVALID_MAPPING",
        }
    }
}

impl fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing wrong with a deployed file, located precisely enough to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The stable code.
    pub code: ProblemCode,
    /// The id of the element concerned (the enclosing element's id for nested tags).
    pub element_id: Option<String>,
    /// The offending XML tag, with the conventional prefix (`bpmn:subProcess`, `zeebe:...`).
    pub tag: String,
    /// 1-based line of the offending tag.
    pub line: u32,
    /// A human-readable explanation.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {} <{}", self.line, self.code, self.tag)?;
        if let Some(id) = &self.element_id {
            write!(f, " id=\"{id}\"")?;
        }
        write!(f, ">: {}", self.message)
    }
}

/// Why a BPMN file cannot be deployed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The file is not well-formed XML.
    #[error("malformed XML at line {line}, column {column}: {source}")]
    MalformedXml {
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// The XML parser's error.
        #[source]
        source: roxmltree::Error,
    },
    /// Well-formed XML, but not a BPMN 2.0 `definitions` document.
    #[error("not a BPMN 2.0 document: the root element is <{root}>, expected <bpmn:definitions>")]
    NotBpmn {
        /// The root element found.
        root: String,
    },
    /// The model has problems; all of them are listed, in line order.
    #[error("{} problem(s) in the BPMN model:\n{}", problems.len(), problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// Every problem found.
        problems: Vec<Problem>,
    },
}
