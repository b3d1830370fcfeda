//! Correlation fields and W3C `traceparent` carried through process variables, so a job
//! handler logs under the same correlation id as the request that started the process and
//! its spans can join the caller's trace.
//!
//! Variable names match the envelope fields of the platform's events and the request context
//! (`common_kernel::context`): `correlationId`, `causationId`, `businessTransactionId`,
//! `traceparent`.

use std::collections::HashMap;

use common_kernel::context::{RequestContext, is_valid_traceparent};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::VariablesError;

/// Variable holding the correlation id of the originating request.
pub const CORRELATION_ID: &str = "correlationId";
/// Variable naming what caused the process instance (the creating command).
pub const CAUSATION_ID: &str = "causationId";
/// Variable holding the business transaction id.
pub const BUSINESS_TRANSACTION_ID: &str = "businessTransactionId";
/// Variable holding the W3C trace context of the originating request.
pub const TRACEPARENT: &str = "traceparent";

/// The correlation fields of one process instance, each optional (instances started without
/// them still run).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Correlation {
    /// Correlation id of the originating request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// What caused the instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    /// Business transaction id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_transaction_id: Option<String>,
    /// W3C traceparent (only a valid one is kept, as the specification requires).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

impl Correlation {
    /// The fields a service puts on an instance it creates while handling `ctx`: the request's
    /// correlation, business transaction and trace, caused by this command execution.
    pub fn from_request(ctx: &RequestContext) -> Self {
        Self {
            correlation_id: Some(ctx.correlation_id.clone()),
            causation_id: Some(ctx.command_id.to_string()),
            business_transaction_id: Some(ctx.business_transaction_id.clone()),
            traceparent: ctx.traceparent.clone(),
        }
    }

    /// Reads the fields from a job's variables; non-string values and an invalid traceparent
    /// are ignored rather than failing the job.
    pub fn from_variables(variables: &Value) -> Self {
        let text = |name: &str| {
            variables
                .get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Self {
            correlation_id: text(CORRELATION_ID),
            causation_id: text(CAUSATION_ID),
            business_transaction_id: text(BUSINESS_TRANSACTION_ID),
            traceparent: text(TRACEPARENT).filter(|t| is_valid_traceparent(t)),
        }
    }

    /// Writes the present fields into a variables object (overwriting same-named entries).
    pub fn insert_into(&self, variables: &mut Map<String, Value>) {
        let fields = [
            (CORRELATION_ID, &self.correlation_id),
            (CAUSATION_ID, &self.causation_id),
            (BUSINESS_TRANSACTION_ID, &self.business_transaction_id),
            (TRACEPARENT, &self.traceparent),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                variables.insert(name.to_owned(), Value::String(value.clone()));
            }
        }
    }
}

/// Variables for `CreateProcessInstance`: the business variables plus the correlation fields
/// of the request, so every job of the instance runs under the request's correlation.
pub fn instance_variables(
    correlation: &Correlation,
    business: &impl Serialize,
) -> Result<Value, VariablesError> {
    let mut value = object_of(business)?;
    if let Value::Object(map) = &mut value {
        correlation.insert_into(map);
    }
    Ok(value)
}

/// The OpenTelemetry context of a remote parent span described by a valid W3C `traceparent`,
/// for joining a job's span to the trace of the request that started the instance.
pub(crate) fn remote_parent(traceparent: &str) -> Option<opentelemetry::Context> {
    use opentelemetry::propagation::TextMapPropagator;
    use opentelemetry::trace::TraceContextExt;

    let carrier = HashMap::from([(TRACEPARENT.to_owned(), traceparent.to_owned())]);
    let context = TraceContextPropagator::new().extract(&carrier);
    context.span().span_context().is_valid().then_some(context)
}

/// Serialises `value` to a JSON object (`null`, e.g. from `()`, becomes `{}`).
pub(crate) fn object_of(value: &impl Serialize) -> Result<Value, VariablesError> {
    match serde_json::to_value(value).map_err(VariablesError::Serialise)? {
        Value::Null => Ok(Value::Object(Map::new())),
        object @ Value::Object(_) => Ok(object),
        other => Err(VariablesError::NotAnObject(kind(&other))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn fields_are_read_from_variables_and_bad_values_ignored() {
        let c = Correlation::from_variables(&json!({
            "correlationId": "c-1", "causationId": "cmd-1",
            "businessTransactionId": 42, "traceparent": TP, "other": 1
        }));
        assert_eq!(c.correlation_id.as_deref(), Some("c-1"));
        assert_eq!(c.causation_id.as_deref(), Some("cmd-1"));
        assert_eq!(c.business_transaction_id, None, "not a string");
        assert_eq!(c.traceparent.as_deref(), Some(TP));
        let bad = Correlation::from_variables(&json!({"traceparent": "garbage"}));
        assert_eq!(bad, Correlation::default());
    }

    #[test]
    fn a_valid_traceparent_becomes_a_remote_parent() {
        use opentelemetry::trace::TraceContextExt;

        let parent = remote_parent(TP).expect("valid traceparent");
        let span = parent.span();
        let context = span.span_context();
        assert!(context.is_remote());
        assert_eq!(
            context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(context.span_id().to_string(), "00f067aa0ba902b7");
        assert!(context.is_sampled());
        assert!(remote_parent("00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none());
        assert!(remote_parent("garbage").is_none());
    }

    #[test]
    fn instance_variables_merge_business_and_correlation() {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Order {
            order_id: &'static str,
        }
        let c = Correlation {
            correlation_id: Some("c-1".into()),
            traceparent: Some(TP.into()),
            ..Correlation::default()
        };
        let v = instance_variables(&c, &Order { order_id: "o-1" }).expect("object");
        assert_eq!(
            v,
            json!({"orderId": "o-1", "correlationId": "c-1", "traceparent": TP})
        );
        assert_eq!(Correlation::from_variables(&v), c, "round trip");
        assert!(matches!(
            instance_variables(&c, &[1, 2]),
            Err(VariablesError::NotAnObject("an array"))
        ));
        assert_eq!(
            instance_variables(&c, &()).expect("unit")["correlationId"],
            "c-1"
        );
    }
}
