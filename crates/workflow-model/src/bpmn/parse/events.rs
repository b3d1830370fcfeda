//! Event definitions on start, intermediate, boundary and end events: errors, messages and
//! timers, read and checked the way `Reader` reads every other element.

use roxmltree::Node as Xml;

use super::super::error::ProblemCode;
use super::super::model::{
    BoundaryEvent, BoundaryTrigger, ElementId, MessageSubscription, NodeKind, TimerDefinition,
};
use super::{Reader, bpmn_children, tag};
use crate::timer::{IsoDuration, TimerSchedule, parse_date_time};

impl<'a, 'input> Reader<'a, 'input> {
    pub(super) fn read_event(
        &mut self,
        el: Xml<'_, '_>,
        id: &str,
        definitions: &[Xml<'_, '_>],
    ) -> Option<NodeKind> {
        let local = el.tag_name().name();
        if local == "endEvent" && definitions.is_empty() {
            return Some(NodeKind::EndEvent);
        }
        let [def] = definitions else {
            let message = if definitions.is_empty() {
                format!(
                    "{} needs a timer, message or error event definition",
                    tag(el)
                )
            } else {
                "multiple event definitions on one event are not supported".to_owned()
            };
            self.report(
                ProblemCode::UnsupportedEventDefinition,
                el,
                Some(id),
                message,
            );
            return None;
        };
        let def = *def;
        let supported = match local {
            "endEvent" => &["errorEventDefinition"][..],
            "intermediateCatchEvent" => &["timerEventDefinition", "messageEventDefinition"][..],
            _ => &[
                "timerEventDefinition",
                "messageEventDefinition",
                "errorEventDefinition",
            ][..],
        };
        let def_name = def.tag_name().name();
        if !supported.contains(&def_name) {
            self.report(
                ProblemCode::UnsupportedEventDefinition,
                def,
                Some(id),
                format!("{} on {} is not supported", tag(def), tag(el)),
            );
            return None;
        }
        match (local, def_name) {
            ("endEvent", _) => {
                let error_code = self.error_code(def, id, true)?;
                Some(NodeKind::ErrorEndEvent {
                    error_code: error_code?,
                })
            }
            ("intermediateCatchEvent", "timerEventDefinition") => {
                self.read_timer(def, id).map(NodeKind::TimerCatchEvent)
            }
            ("intermediateCatchEvent", _) => {
                self.read_message(def, id).map(NodeKind::MessageCatchEvent)
            }
            _ => {
                let Some(attached) = el.attribute("attachedToRef") else {
                    self.report(
                        ProblemCode::MissingAttribute,
                        el,
                        Some(id),
                        "a boundary event needs attachedToRef",
                    );
                    return None;
                };
                let cancel_activity = match el.attribute("cancelActivity") {
                    None | Some("true") => true,
                    Some("false") => false,
                    Some(other) => {
                        self.report(
                            ProblemCode::InvalidAttribute,
                            el,
                            Some(id),
                            format!("cancelActivity must be true or false, not '{other}'"),
                        );
                        return None;
                    }
                };
                let trigger = match def_name {
                    "timerEventDefinition" => BoundaryTrigger::Timer(self.read_timer(def, id)?),
                    "messageEventDefinition" => {
                        BoundaryTrigger::Message(self.read_message(def, id)?)
                    }
                    _ => {
                        if !cancel_activity {
                            self.report(ProblemCode::UnsupportedAttribute, el, Some(id), "error boundary events are always interrupting (cancelActivity=\"false\" is not allowed)");
                            return None;
                        }
                        BoundaryTrigger::Error {
                            error_code: self.error_code(def, id, false)?,
                        }
                    }
                };
                Some(NodeKind::BoundaryEvent(BoundaryEvent {
                    attached_to: ElementId::new(attached),
                    cancel_activity,
                    trigger,
                }))
            }
        }
    }

    /// Resolves `errorRef`; `Some(None)` is a catch-all (only allowed when not `required`).
    pub(super) fn error_code(
        &mut self,
        def: Xml<'_, '_>,
        id: &str,
        required: bool,
    ) -> Option<Option<String>> {
        match def.attribute("errorRef") {
            None if required => {
                self.report(
                    ProblemCode::MissingAttribute,
                    def,
                    Some(id),
                    "an error end event needs an errorRef",
                );
                None
            }
            None => Some(None),
            Some(error_ref) => match self.errors.get(error_ref) {
                Some(error) => Some(Some(error.error_code.clone())),
                None => {
                    self.report(
                        ProblemCode::UnknownReference,
                        def,
                        Some(id),
                        format!("errorRef '{error_ref}' names no bpmn:error with an errorCode"),
                    );
                    None
                }
            },
        }
    }

    pub(super) fn read_message(
        &mut self,
        def: Xml<'_, '_>,
        id: &str,
    ) -> Option<MessageSubscription> {
        let Some(message_ref) = def.attribute("messageRef") else {
            self.report(
                ProblemCode::MissingAttribute,
                def,
                Some(id),
                "a message event needs a messageRef",
            );
            return None;
        };
        let Some(message) = self.messages.get(message_ref).cloned() else {
            self.report(
                ProblemCode::UnknownReference,
                def,
                Some(id),
                format!("messageRef '{message_ref}' names no bpmn:message with a name"),
            );
            return None;
        };
        let Some(correlation_key) = message.correlation_key else {
            self.report(
                ProblemCode::MissingAttribute,
                def,
                Some(id),
                format!(
                    "message '{message_ref}' needs a zeebe:subscription correlationKey to be caught"
                ),
            );
            return None;
        };
        Some(MessageSubscription {
            message_id: message.id,
            message_name: message.name,
            correlation_key,
        })
    }

    pub(super) fn read_timer(&mut self, def: Xml<'_, '_>, id: &str) -> Option<TimerDefinition> {
        let values: Vec<Xml<'_, '_>> = bpmn_children(def).collect();
        let [value] = values.as_slice() else {
            self.report(
                ProblemCode::MissingAttribute,
                def,
                Some(id),
                "a timer needs exactly one of timeDuration or timeDate",
            );
            return None;
        };
        let value = *value;
        let kind = value.tag_name().name();
        if kind != "timeDuration" && kind != "timeDate" {
            self.report(
                ProblemCode::UnsupportedElement,
                value,
                Some(id),
                format!(
                    "{} timers are not supported (only timeDuration and timeDate)",
                    tag(value)
                ),
            );
            return None;
        }
        let text = value.text().unwrap_or("").trim();
        if let Some(expression) = text.strip_prefix('=') {
            let expression = self.parse_feel(expression, value, id, kind)?;
            return Some(if kind == "timeDuration" {
                TimerDefinition::DurationExpression(expression)
            } else {
                TimerDefinition::DateExpression(expression)
            });
        }
        let schedule = if kind == "timeDuration" {
            text.parse::<IsoDuration>().map(TimerSchedule::Duration)
        } else {
            parse_date_time(text).map(TimerSchedule::Date)
        };
        match schedule {
            Ok(schedule) => Some(TimerDefinition::Static(schedule)),
            Err(e) => {
                self.report(ProblemCode::InvalidTimer, value, Some(id), e.to_string());
                None
            }
        }
    }
}
