//! The control API: health, where the systems listen, the effects log, and faults.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{delete, get};
use serde::Deserialize;
use serde_json::json;
use tokio::time::Instant;

use crate::Sim;
use crate::faults::{Fault, Mode};
use crate::problem::{json_answer, problem};

/// The filters of `GET /effects`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EffectsQuery {
    system: Option<String>,
    operation: Option<String>,
    idempotency_key: Option<String>,
}

async fn health() -> Response {
    json_answer(200, &json!({"status": "UP"}))
}

async fn systems(State(sim): State<Arc<Sim>>) -> Response {
    let urls: BTreeMap<&str, String> = sim
        .systems
        .iter()
        .map(|s| (s.name, format!("http://{}", s.addr)))
        .collect();
    json_answer(200, &json!(urls))
}

async fn effects(State(sim): State<Arc<Sim>>, Query(query): Query<EffectsQuery>) -> Response {
    let effects = sim.ledger.effects(
        query.system.as_deref(),
        query.operation.as_deref(),
        query.idempotency_key.as_deref(),
    );
    json_answer(200, &json!({"effects": effects}))
}

fn invalid(errors: Vec<(&str, String)>) -> Response {
    let mut answer = problem(422, "INVALID_FAULT", "the fault cannot be injected");
    let body = json!({
        "type": "https://cpq-oms.dev/problems/downstream/invalid_fault",
        "title": "Unprocessable Entity", "status": 422, "code": "INVALID_FAULT",
        "detail": "the fault cannot be injected",
        "errors": errors.iter().map(|(field, message)| json!({"field": field, "message": message})).collect::<Vec<_>>(),
    });
    *answer.body_mut() = axum::body::Body::from(body.to_string());
    answer
}

async fn add_fault(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let fault: Fault = match serde_json::from_slice(&body) {
        Ok(fault) => fault,
        Err(error) => return invalid(vec![("/", error.to_string())]),
    };
    let problems = fault.problems();
    if !problems.is_empty() {
        return invalid(problems);
    }
    let fault = sim.faults.add(fault);
    if fault.mode == Mode::Unavailable
        && let Some(slot) = sim.systems.iter().find(|s| s.name == fault.system)
    {
        let id = fault.fault_id;
        let until = Instant::now() + fault.wait();
        slot.availability.send_replace(Some((id, until)));
        let sim = Arc::clone(&sim);
        let name = slot.name;
        tokio::spawn(async move {
            tokio::time::sleep_until(until).await;
            sim.faults.remove(id);
            if let Some(slot) = sim.systems.iter().find(|s| s.name == name) {
                slot.availability.send_if_modified(|outage| match outage {
                    Some((current, _)) if *current == id => {
                        *outage = None;
                        true
                    }
                    _ => false,
                });
            }
        });
    }
    json_answer(201, &json!(fault))
}

async fn list_faults(State(sim): State<Arc<Sim>>) -> Response {
    json_answer(200, &json!({"faults": sim.faults.list()}))
}

async fn clear_faults(State(sim): State<Arc<Sim>>) -> Response {
    sim.faults.clear();
    for slot in &sim.systems {
        slot.availability.send_replace(None);
    }
    json_answer(204, &json!(null))
}

async fn remove_fault(State(sim): State<Arc<Sim>>, Path(id): Path<u64>) -> Response {
    if !sim.faults.remove(id) {
        return problem(404, "FAULT_NOT_FOUND", format!("no fault {id}"));
    }
    for slot in &sim.systems {
        slot.availability.send_if_modified(|outage| match outage {
            Some((current, _)) if *current == id => {
                *outage = None;
                true
            }
            _ => false,
        });
    }
    json_answer(204, &json!(null))
}

/// The control router.
pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/systems", get(systems))
        .route("/effects", get(effects))
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/faults/{id}", delete(remove_fault))
        .with_state(sim)
}
