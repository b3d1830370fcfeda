//! From a handler's result to the command sent to the engine. Pure, so every rule is unit
//! tested without an engine.
//!
//! | handler result                         | command                                         |
//! |----------------------------------------|-------------------------------------------------|
//! | `Ok(output)`                           | `CompleteJob` with the output as variables      |
//! | `JobError::Technical`                  | `FailJob`, retries − 1, back-off ([`crate::backoff`]) or `retry_after` |
//! | `JobError::Technical` `with_retries(n)`| `FailJob`, retries = n (the handler's own budget; the job's retries = a wait), back-off as above; n = 0 ⇒ incident |
//! | panic                                  | same as technical (message `handler panicked: …`) |
//! | `JobError::Business`                   | `ThrowError` with code, message, variables      |
//! | `ListenerVerdict::Allow` (listener)    | `CompleteJob` without variables                 |
//! | `ListenerVerdict::Deny { reason }`     | `CompleteJob` with `result.denied = true` and `{"deniedReason": reason}` (no variables without a reason); should the gateway refuse the variables (Camunda 8.8), the worker denies again without them |
//! | `JobError::Business` from a listener   | `FailJob` with **0 retries** ⇒ incident (listeners deny, they never throw) |
//! | variables do not fit the input type    | `FailJob` with **0 retries** ⇒ incident         |
//! | output is not an object                | `FailJob` with **0 retries** ⇒ incident         |
//!
//! Input that does not deserialise fails the same way on every attempt, so retrying only
//! delays the incident and burns back-off time; an immediate incident tells the operator to fix
//! the variables (`SetVariables`), give the job retries and resolve it. A panic may come from
//! transient state, and its retries are bounded, so it is treated like a technical failure.
//! Task listener jobs take no variables (Camunda refuses them), so an allowal sends none; a
//! denial's reason travels as the one variable the embedded engine accepts on a denied
//! listener job ([`crate::listener`]).

use std::error::Error as _;
use std::time::Duration;

use serde_json::Value;

use crate::backoff::RetryPolicy;
use crate::context::JobContext;
use crate::error::JobError;
use crate::handler::JobHandler;
use crate::listener::{DENIED_REASON_VARIABLE, ListenerVerdict};

/// What running a handler produced, before it is mapped to a command.
#[derive(Debug)]
pub enum Attempt {
    /// The output variables (a JSON object, empty for `()`).
    Output(Value),
    /// A task listener's verdict.
    Verdict(ListenerVerdict),
    /// The handler returned an error.
    Failed(JobError),
    /// The variables did not deserialise into the handler's input (message names the path).
    InvalidInput(String),
    /// The output did not serialise to a JSON object.
    InvalidOutput(String),
    /// The handler panicked (message is the panic payload).
    Panicked(String),
}

/// The command the worker sends for a job.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `CompleteJob`.
    Complete {
        /// Variables merged into the process (a JSON object).
        variables: Value,
    },
    /// `FailJob`; `retries == 0` raises an incident.
    Fail {
        /// Retries left after this failure.
        retries: i32,
        /// Error message (the incident's message when `retries == 0`).
        message: String,
        /// `retryBackOff`: how long the engine waits before offering the job again.
        backoff: Duration,
    },
    /// `CompleteJob` of a task listener's job with `result.denied = true`.
    Deny {
        /// Variables sent with the denial: `{"deniedReason": …}`, or empty without a reason.
        variables: Value,
    },
    /// `ThrowError` (BPMN error).
    ThrowError {
        /// BPMN error code.
        code: String,
        /// Error message.
        message: String,
        /// Variables for the catching scope.
        variables: Option<Value>,
    },
}

impl Outcome {
    /// Maps an attempt of a job that had `retries_left` when activated.
    pub fn from_attempt(attempt: Attempt, retries_left: i32, policy: &RetryPolicy) -> Self {
        match attempt {
            Attempt::Output(variables) => Self::Complete { variables },
            Attempt::Verdict(ListenerVerdict::Allow) => Self::Complete {
                variables: Value::Object(serde_json::Map::new()),
            },
            Attempt::Verdict(ListenerVerdict::Deny { reason }) => {
                let mut variables = serde_json::Map::new();
                if let Some(reason) = reason.filter(|r| !r.trim().is_empty()) {
                    variables.insert(DENIED_REASON_VARIABLE.to_owned(), Value::String(reason));
                }
                Self::Deny {
                    variables: Value::Object(variables),
                }
            }
            Attempt::Failed(JobError::Business {
                code,
                message,
                variables,
            }) => Self::ThrowError {
                code,
                message,
                variables,
            },
            Attempt::Failed(error @ JobError::Technical { .. }) => {
                let (retry_after, retries) = match &error {
                    JobError::Technical {
                        retry_after,
                        retries,
                        ..
                    } => (*retry_after, *retries),
                    JobError::Business { .. } => (None, None),
                };
                match retries {
                    Some(retries) => Self::Fail {
                        retries,
                        message: message_with_sources(&error),
                        backoff: if retries == 0 {
                            Duration::ZERO
                        } else {
                            retry_after.unwrap_or_else(|| policy.backoff_for(retries_left))
                        },
                    },
                    None => Self::retry(
                        message_with_sources(&error),
                        retry_after,
                        retries_left,
                        policy,
                    ),
                }
            }
            Attempt::Panicked(payload) => Self::retry(
                format!("handler panicked: {payload}"),
                None,
                retries_left,
                policy,
            ),
            Attempt::InvalidInput(detail) => Self::Fail {
                retries: 0,
                message: format!("job variables do not match the handler's input {detail}"),
                backoff: Duration::ZERO,
            },
            Attempt::InvalidOutput(detail) => Self::Fail {
                retries: 0,
                message: format!("handler output cannot be sent: {detail}"),
                backoff: Duration::ZERO,
            },
        }
    }

    fn retry(
        message: String,
        retry_after: Option<Duration>,
        retries_left: i32,
        policy: &RetryPolicy,
    ) -> Self {
        let retries = retries_left.saturating_sub(1).max(0);
        let backoff = if retries == 0 {
            Duration::ZERO
        } else {
            retry_after.unwrap_or_else(|| policy.backoff_for(retries_left))
        };
        Self::Fail {
            retries,
            message,
            backoff,
        }
    }

    /// Metric / log label: `completed`, `denied`, `failed` or `errored`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Complete { .. } => "completed",
            Self::Deny { .. } => "denied",
            Self::Fail { .. } => "failed",
            Self::ThrowError { .. } => "errored",
        }
    }
}

/// Runs `handler` on `variables` and maps the result as the worker would, without an engine:
/// the way to test a handler's wiring end to end in a service's unit tests.
pub async fn evaluate(
    handler: &impl JobHandler,
    ctx: JobContext,
    variables: &Value,
    policy: &RetryPolicy,
) -> Outcome {
    let retries = ctx.retries;
    Outcome::from_attempt(handler.run(ctx, variables).await, retries, policy)
}

/// `message: source: source's source…`, so the engine's incident shows the whole cause.
fn message_with_sources(error: &JobError) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::handler;
    use serde_json::json;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            initial_retries: 3,
            base: Duration::from_millis(500),
            max: Duration::from_secs(60),
        }
    }

    #[test]
    fn output_completes_and_business_error_throws() {
        let out = Outcome::from_attempt(Attempt::Output(json!({"a": 1})), 3, &policy());
        assert_eq!(
            out,
            Outcome::Complete {
                variables: json!({"a": 1})
            }
        );
        let err = JobError::business("DECLINED", "card declined")
            .with_variables(&json!({"reason": "limit"}))
            .expect("object");
        assert_eq!(
            Outcome::from_attempt(Attempt::Failed(err), 3, &policy()),
            Outcome::ThrowError {
                code: "DECLINED".into(),
                message: "card declined".into(),
                variables: Some(json!({"reason": "limit"})),
            }
        );
    }

    #[test]
    fn technical_failure_decrements_retries_with_growing_backoff() {
        let fail = |retries| {
            Outcome::from_attempt(
                Attempt::Failed(JobError::technical("down")),
                retries,
                &policy(),
            )
        };
        assert_eq!(
            fail(3),
            Outcome::Fail {
                retries: 2,
                message: "down".into(),
                backoff: Duration::from_millis(500)
            }
        );
        assert_eq!(
            fail(2),
            Outcome::Fail {
                retries: 1,
                message: "down".into(),
                backoff: Duration::from_secs(1)
            }
        );
        // The last retry: incident, no back-off.
        assert_eq!(
            fail(1),
            Outcome::Fail {
                retries: 0,
                message: "down".into(),
                backoff: Duration::ZERO
            }
        );
        assert!(
            matches!(fail(0), Outcome::Fail { retries: 0, .. }),
            "never negative"
        );
    }

    #[test]
    fn a_handler_budget_sets_the_retries_left_and_zero_raises_an_incident() {
        let with = |left, retries| {
            Outcome::from_attempt(
                Attempt::Failed(
                    JobError::technical("busy")
                        .with_retries(left)
                        .retry_after(Duration::from_secs(2)),
                ),
                retries,
                &policy(),
            )
        };
        // A wait that uses nothing up: the job's own retries come back unchanged.
        assert_eq!(
            with(3, 3),
            Outcome::Fail {
                retries: 3,
                message: "busy".into(),
                backoff: Duration::from_secs(2)
            }
        );
        // The handler's budget, larger than the BPMN's retries.
        assert!(matches!(with(9, 5), Outcome::Fail { retries: 9, .. }));
        assert_eq!(
            with(0, 5),
            Outcome::Fail {
                retries: 0,
                message: "busy".into(),
                backoff: Duration::ZERO
            }
        );
        assert!(matches!(with(-4, 5), Outcome::Fail { retries: 0, .. }));
    }

    #[test]
    fn retry_after_overrides_the_formula_and_sources_reach_the_message() {
        let io = std::io::Error::other("connection refused");
        let err =
            JobError::technical_from("pricing call failed", io).retry_after(Duration::from_secs(7));
        assert_eq!(
            Outcome::from_attempt(Attempt::Failed(err), 3, &policy()),
            Outcome::Fail {
                retries: 2,
                message: "pricing call failed: connection refused".into(),
                backoff: Duration::from_secs(7),
            }
        );
    }

    #[test]
    fn panics_retry_and_bad_input_or_output_raise_an_incident_at_once() {
        assert!(matches!(
            Outcome::from_attempt(Attempt::Panicked("boom".into()), 3, &policy()),
            Outcome::Fail { retries: 2, ref message, .. } if message == "handler panicked: boom"
        ));
        assert!(matches!(
            Outcome::from_attempt(Attempt::InvalidInput("at `qty`: x".into()), 3, &policy()),
            Outcome::Fail {
                retries: 0,
                backoff: Duration::ZERO,
                ..
            }
        ));
        assert!(matches!(
            Outcome::from_attempt(Attempt::InvalidOutput("x".into()), 3, &policy()),
            Outcome::Fail { retries: 0, .. }
        ));
    }

    #[test]
    fn listener_verdicts_complete_without_variables_or_deny_with_the_reason() {
        let allow = Outcome::from_attempt(Attempt::Verdict(ListenerVerdict::Allow), 3, &policy());
        assert_eq!(
            allow,
            Outcome::Complete {
                variables: json!({})
            }
        );
        let deny = Outcome::from_attempt(
            Attempt::Verdict(ListenerVerdict::deny("four eyes")),
            3,
            &policy(),
        );
        assert_eq!(
            deny,
            Outcome::Deny {
                variables: json!({"deniedReason": "four eyes"})
            }
        );
        assert_eq!(deny.kind(), "denied");
        for reason in [None, Some(" ".to_owned())] {
            assert_eq!(
                Outcome::from_attempt(
                    Attempt::Verdict(ListenerVerdict::Deny { reason }),
                    1,
                    &policy()
                ),
                Outcome::Deny {
                    variables: json!({})
                }
            );
        }
    }

    #[tokio::test]
    async fn evaluate_runs_a_handler_like_the_worker() {
        let h = handler(|ctx: JobContext, input: serde_json::Value| async move {
            Ok::<_, JobError>(json!({"seen": input["x"], "key": ctx.job_key}))
        });
        let ctx = JobContext {
            job_key: 9,
            retries: 3,
            ..JobContext::default()
        };
        let out = evaluate(&h, ctx, &json!({"x": 1}), &policy()).await;
        assert_eq!(
            out,
            Outcome::Complete {
                variables: json!({"seen": 1, "key": 9})
            }
        );
        assert_eq!(out.kind(), "completed");
    }
}
