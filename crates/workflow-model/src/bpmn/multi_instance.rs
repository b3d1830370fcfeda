//! Reads `bpmn:multiInstanceLoopCharacteristics` (ADR 0039): parallel multi-instance service
//! tasks with `zeebe:loopCharacteristics`. What the engine does not run — sequential
//! multi-instance, `completionCondition`, `loopCardinality`, multi-instance on other elements —
//! is refused here with element and line, because silently running it differently from Zeebe
//! would change what the same BPMN does on Camunda 8.

use roxmltree::Node as Xml;

use super::error::ProblemCode;
use super::model::MultiInstance;
use super::parse::{Reader, bpmn_children, tag, zeebe_descendant};

impl Reader<'_, '_> {
    /// The multi-instance characteristics `mi` of the flow node `el`, or `None` after
    /// reporting why they cannot run.
    pub(super) fn read_multi_instance(
        &mut self,
        el: Xml<'_, '_>,
        mi: Xml<'_, '_>,
        id: &str,
    ) -> Option<MultiInstance> {
        if el.tag_name().name() != "serviceTask" {
            self.report(
                ProblemCode::UnsupportedElement,
                mi,
                Some(id),
                format!(
                    "multi-instance is only supported on service tasks by the embedded engine, not on {}",
                    tag(el)
                ),
            );
            return None;
        }
        match mi.attribute("isSequential") {
            None | Some("false") => {}
            Some("true") => {
                self.report(
                    ProblemCode::UnsupportedAttribute,
                    mi,
                    Some(id),
                    "sequential multi-instance (isSequential=\"true\") is not supported by the embedded engine; only parallel multi-instance runs",
                );
                return None;
            }
            Some(other) => {
                self.report(
                    ProblemCode::InvalidAttribute,
                    mi,
                    Some(id),
                    format!("isSequential must be true or false, not '{other}'"),
                );
                return None;
            }
        }
        let mut refused = false;
        for child in bpmn_children(mi) {
            match child.tag_name().name() {
                "extensionElements" => {
                    let before = self.problems.len();
                    self.refuse_zeebe_extensions(child, id, &["loopCharacteristics"]);
                    refused |= self.problems.len() > before;
                }
                "documentation" => {}
                name => {
                    let why = if name == "completionCondition" {
                        "completionCondition is not supported by the embedded engine (every inner instance must complete)"
                    } else {
                        "is not supported inside multiInstanceLoopCharacteristics (use zeebe:loopCharacteristics inputCollection)"
                    };
                    self.report(
                        ProblemCode::UnsupportedElement,
                        child,
                        Some(id),
                        format!("{} {why}", tag(child)),
                    );
                    refused = true;
                }
            }
        }
        let Some(loop_chars) = zeebe_descendant(mi, "loopCharacteristics") else {
            self.report(
                ProblemCode::MissingAttribute,
                mi,
                Some(id),
                "a multi-instance activity needs zeebe:loopCharacteristics with an inputCollection",
            );
            return None;
        };
        let input_collection = match nonempty(loop_chars, "inputCollection") {
            Some(raw) => self.expression(raw, loop_chars, id, "inputCollection"),
            None => {
                self.report(
                    ProblemCode::MissingAttribute,
                    loop_chars,
                    Some(id),
                    "zeebe:loopCharacteristics needs an inputCollection expression",
                );
                None
            }
        };
        let input_element = self.variable_name(loop_chars, "inputElement", id);
        let output_collection = self.variable_name(loop_chars, "outputCollection", id);
        let output_element = nonempty(loop_chars, "outputElement")
            .map(|raw| self.expression(raw, loop_chars, id, "outputElement"));
        let output_element = match (&output_collection, output_element) {
            (Some(Some(_)), None) => {
                self.report(
                    ProblemCode::MissingAttribute,
                    loop_chars,
                    Some(id),
                    "outputCollection needs an outputElement expression",
                );
                None
            }
            (Some(None), Some(_)) => {
                self.report(
                    ProblemCode::MissingAttribute,
                    loop_chars,
                    Some(id),
                    "outputElement needs an outputCollection to collect into",
                );
                None
            }
            (_, Some(parsed)) => Some(parsed?),
            (_, None) => None,
        };
        if refused {
            return None;
        }
        Some(MultiInstance {
            input_collection: input_collection?,
            input_element: input_element?,
            output_collection: output_collection?,
            output_element,
        })
    }

    /// An optional variable-name attribute: `Some(None)` when absent, `None` when malformed.
    fn variable_name(&mut self, el: Xml<'_, '_>, attr: &str, id: &str) -> Option<Option<String>> {
        let Some(raw) = nonempty(el, attr) else {
            return Some(None);
        };
        let name = raw.trim();
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_alphanumeric() || c == '_');
        if valid {
            Some(Some(name.to_owned()))
        } else {
            self.report(
                ProblemCode::InvalidAttribute,
                el,
                Some(id),
                format!("{attr} must be a variable name, not '{raw}'"),
            );
            None
        }
    }
}

fn nonempty<'a>(el: Xml<'a, '_>, attr: &str) -> Option<&'a str> {
    el.attribute(attr).filter(|v| !v.trim().is_empty())
}
