//! The commands a job's outcome stands for, sent through zeebe-rs, and the log line of each.

use std::time::Duration;

use serde_json::Value;

use super::millis;
use crate::listener::DENIED_REASON_VARIABLE;
use crate::outcome::Outcome;

pub(super) fn log_outcome(outcome: &Outcome, elapsed: Duration) {
    let elapsed_ms = millis(elapsed);
    match outcome {
        Outcome::Complete { .. } => tracing::info!(elapsed_ms, "job completed"),
        Outcome::Deny { variables } => {
            let reason = variables
                .get(DENIED_REASON_VARIABLE)
                .and_then(|r| r.as_str())
                .unwrap_or_default();
            tracing::info!(elapsed_ms, reason, "task listener denied the transition");
        }
        Outcome::Fail {
            retries: 0,
            message,
            ..
        } => tracing::error!(
            elapsed_ms,
            message = %message,
            "job failed with no retries left; the engine raises an incident"
        ),
        Outcome::Fail {
            retries,
            message,
            backoff,
        } => tracing::warn!(
            elapsed_ms,
            retries_left = retries,
            backoff_ms = millis(*backoff),
            message = %message,
            "job failed; the engine retries it after the back-off"
        ),
        Outcome::ThrowError { code, message, .. } => tracing::info!(
            elapsed_ms,
            error_code = %code,
            message = %message,
            "job raised a BPMN error"
        ),
    }
}

/// Sends the command an outcome stands for.
pub(super) async fn send(
    client: &zeebe_rs::Client,
    job_key: i64,
    outcome: &Outcome,
) -> Result<(), zeebe_rs::ClientError> {
    match outcome {
        Outcome::Complete { variables } => {
            client
                .complete_job()
                .with_job_key(job_key)
                .with_variables(variables)?
                .send()
                .await?;
        }
        Outcome::Deny { variables } => deny(client, job_key, variables).await?,
        Outcome::Fail {
            retries,
            message,
            backoff,
        } => {
            client
                .fail_job()
                .with_job_key(job_key)
                .with_retries(*retries)
                .with_error_message(message.clone())
                .with_retry_back_off(*backoff)
                .send()
                .await?;
        }
        Outcome::ThrowError {
            code,
            message,
            variables,
        } => {
            let mut request = client
                .throw_error()
                .with_job_key(job_key)
                .with_error_code(code.clone())
                .with_error_message(message.clone());
            if let Some(variables) = variables {
                request = request.with_variables(variables)?;
            }
            request.send().await?;
        }
    }
    Ok(())
}

/// `CompleteJob` with `result.denied = true`. The reason travels as a variable, which the
/// embedded engine accepts on a denied listener job; Camunda 8.8 refuses any variable on a
/// listener job (INVALID_ARGUMENT), and then the denial is sent again without the reason, so
/// the transition is denied either way.
async fn deny(
    client: &zeebe_rs::Client,
    job_key: i64,
    variables: &Value,
) -> Result<(), zeebe_rs::ClientError> {
    match send_denial(client, job_key, variables).await {
        Err(zeebe_rs::ClientError::RequestFailed(status))
            // zeebe-rs speaks another tonic version: compare the gRPC code by number
            // (3 = INVALID_ARGUMENT).
            if status.code() as i32 == 3
                && variables.as_object().is_some_and(|v| !v.is_empty()) =>
        {
            tracing::warn!(
                refusal = status.message(),
                "the gateway refused the denial's reason (Camunda takes no variables on listener jobs); denying without it"
            );
            send_denial(client, job_key, &Value::Object(serde_json::Map::new())).await
        }
        other => other,
    }
}

async fn send_denial(
    client: &zeebe_rs::Client,
    job_key: i64,
    variables: &Value,
) -> Result<(), zeebe_rs::ClientError> {
    client
        .complete_job()
        .with_job_key(job_key)
        .with_variables(variables)?
        .with_job_result()
        .with_denied(true)
        .build()
        .send()
        .await
        .map(|_| ())
}
