//! One handler for every request a simulated system receives: find the route, let a fault act,
//! apply the effect once per key, answer.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use axum::response::Response;
use serde_json::json;

use crate::Sim;
use crate::faults::{Fault, Mode};
use crate::ledger::Outcome;
use crate::listener::Killer;
use crate::problem::{json_answer, problem};
use crate::systems::{self, Route};

/// What a system's router knows.
#[derive(Debug, Clone)]
pub struct SystemState {
    /// The simulator.
    pub sim: Arc<Sim>,
    /// Which system this listener is.
    pub system: &'static str,
}

/// What a fault does before the request is processed; `Some` answers at once.
async fn before(fault: Option<&Fault>) -> Option<Response> {
    let fault = fault?;
    match fault.mode {
        Mode::Delay => {
            tokio::time::sleep(fault.wait()).await;
            None
        }
        Mode::Error5xx => Some(problem(
            503,
            "SERVICE_UNAVAILABLE",
            "the downstream is failing (injected)",
        )),
        Mode::Reject => Some(problem(
            422,
            fault.code.as_deref().unwrap_or("BUSINESS_RULE_VIOLATION"),
            fault
                .message
                .clone()
                .unwrap_or_else(|| "refused (injected)".into()),
        )),
        Mode::Timeout | Mode::DropConnection | Mode::Unavailable => None,
    }
}

/// What a fault does after the request was processed.
async fn after(fault: Option<&Fault>, killer: &Killer, response: Response) -> Response {
    match fault.map(|f| (f.mode, f.wait())) {
        Some((Mode::Timeout, wait)) => {
            tokio::time::sleep(wait).await;
            response
        }
        Some((Mode::DropConnection, _)) => {
            killer.0.notify_one();
            std::future::pending::<Response>().await
        }
        _ => response,
    }
}

fn with_correlation(mut response: Response, headers: &HeaderMap) -> Response {
    if let Some(id) = headers.get("x-correlation-id") {
        response
            .headers_mut()
            .insert("x-correlation-id", id.clone());
    }
    response
}

/// Serves one request of `state.system`.
pub async fn handle(
    State(state): State<SystemState>,
    Extension(killer): Extension<Killer>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let system = state.system;
    let Some(route) = systems::route(system, method.as_str(), uri.path()) else {
        return problem(
            404,
            "NOT_FOUND",
            format!("{system} has no {method} {}", uri.path()),
        );
    };
    if route == Route::Health {
        return json_answer(200, &json!({"status": "UP", "system": system}));
    }
    if let Some(key) = &state.sim.api_key {
        let expected = format!("Bearer {key}");
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
            return problem(401, "UNAUTHENTICATED", "a valid bearer token is required");
        }
    }
    let response = match route {
        Route::Health => json_answer(200, &json!({"status": "UP"})),
        Route::Status(key) => {
            let fault = state.sim.faults.hit(system, "status");
            if let Some(early) = before(fault.as_ref()).await {
                return with_correlation(early, &headers);
            }
            let answer = match state.sim.ledger.status(system, &key) {
                Some(stored) => json_answer(
                    200,
                    &json!({"idempotencyKey": key, "status": "APPLIED", "operation": stored.operation,
                            "httpStatus": stored.status, "response": stored.response,
                            "appliedAt": stored.applied_at}),
                ),
                None => json_answer(
                    404,
                    &json!({"idempotencyKey": key, "status": "NOT_APPLIED"}),
                ),
            };
            after(fault.as_ref(), &killer, answer).await
        }
        Route::Operation {
            name,
            target,
            second,
        } => {
            let fault = state.sim.faults.hit_body(system, name, &body);
            if let Some(early) = before(fault.as_ref()).await {
                return with_correlation(early, &headers);
            }
            let key = headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok())
                .filter(|k| !k.trim().is_empty() && k.len() <= 200);
            let Some(key) = key else {
                return problem(
                    400,
                    "IDEMPOTENCY_KEY_REQUIRED",
                    "every request that changes something needs an Idempotency-Key of 1 to 200 characters",
                );
            };
            let outcome = state.sim.ledger.apply(
                system,
                name,
                key,
                target.as_deref(),
                second.as_deref(),
                &body,
            );
            let answer = match outcome {
                Outcome::Applied(stored) => json_answer(stored.status, &stored.response),
                Outcome::Replayed(stored) => {
                    let mut answer = json_answer(stored.status, &stored.response);
                    answer
                        .headers_mut()
                        .insert("idempotent-replayed", HeaderValue::from_static("true"));
                    answer
                }
                Outcome::KeyReused => problem(
                    409,
                    "IDEMPOTENCY_KEY_REUSED",
                    "this key was used for another request",
                ),
                Outcome::Refused(refusal) => problem(refusal.status, refusal.code, refusal.detail),
            };
            after(fault.as_ref(), &killer, answer).await
        }
    };
    with_correlation(response, &headers)
}
