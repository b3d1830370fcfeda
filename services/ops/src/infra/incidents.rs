//! Workflow incidents on the operators' timelines. The engine publishes no incident events, so
//! the ops service reads its operator API (`GET /v1/ops/incidents`, as the ops service's own
//! client with ViewWorkflow) every interval and projects each incident it has not projected yet,
//! once raised and once resolved, as an `INCIDENT` step of the order (or quote) its process
//! instance carries in its variables. The rows' ids derive from the incident key and state, so a
//! repeated read changes nothing; after a rebuild the next read brings them back.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common_kernel::auth::ServiceTokens;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use super::projector::SWAP_LOCK;
use super::store::{self, Projected};
use crate::domain::{Fact, FactKind, ViewUpdate};

/// Incidents read per page, and pages per state and round.
const PAGE: usize = 200;
const MAX_PAGES: usize = 25;
/// One call to the engine.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a round did not complete (the next one tries again).
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    /// The engine could not be read.
    #[error("the engine: {0}")]
    Engine(String),
    /// The database failed.
    #[error("the database: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<reqwest::Error> for IncidentError {
    fn from(error: reqwest::Error) -> Self {
        Self::Engine(error.to_string())
    }
}

/// An incident as the engine lists it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Incident {
    incident_key: Value,
    error_type: String,
    error_message: String,
    element_id: String,
    process_instance_key: Value,
    bpmn_process_id: String,
    state: String,
    creation_time: String,
}

#[derive(Debug, Deserialize)]
struct IncidentPage {
    items: Vec<Incident>,
}

#[derive(Debug, Deserialize)]
struct Variable {
    name: String,
    value: Value,
}

#[derive(Debug, Deserialize)]
struct InstanceDetail {
    #[serde(default)]
    variables: Vec<Variable>,
}

/// Whose an instance is: its tenant and the order or quote it runs for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owner {
    tenant: String,
    order_id: Option<String>,
    quote_id: Option<String>,
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A stable id for one state of one incident.
fn event_id(incident_key: &str, state: &str) -> Uuid {
    let digest = Sha256::digest(format!("workflow-incident:{incident_key}:{state}").as_bytes());
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Reads the engine's incidents and projects the new ones.
pub struct IncidentReader {
    http: reqwest::Client,
    rest_url: String,
    tokens: Arc<ServiceTokens>,
    jobs_db: PgPool,
    owners: HashMap<String, Option<Owner>>,
}

impl std::fmt::Debug for IncidentReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncidentReader")
            .field("rest_url", &self.rest_url)
            .finish_non_exhaustive()
    }
}

impl IncidentReader {
    /// A reader of the engine at `rest_url` (its REST base, e.g. `http://127.0.0.1:8090`).
    pub fn new(
        http: reqwest::Client,
        rest_url: String,
        tokens: Arc<ServiceTokens>,
        jobs_db: PgPool,
    ) -> Self {
        Self {
            http,
            rest_url: rest_url.trim_end_matches('/').to_owned(),
            tokens,
            jobs_db,
            owners: HashMap::new(),
        }
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, IncidentError> {
        let token = self
            .tokens
            .token()
            .await
            .map_err(|e| IncidentError::Engine(e.to_string()))?;
        let response = self
            .http
            .get(format!("{}{path}", self.rest_url))
            .bearer_auth(token.expose())
            .timeout(CALL_TIMEOUT)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(IncidentError::Engine(format!(
                "{path}: {}",
                response.status()
            )));
        }
        Ok(response.json().await?)
    }

    async fn owner(&mut self, instance: &str) -> Result<Option<Owner>, IncidentError> {
        if let Some(known) = self.owners.get(instance) {
            return Ok(known.clone());
        }
        let detail: InstanceDetail = self
            .get(&format!("/v1/ops/process-instances/{instance}"))
            .await?;
        let variable = |name: &str| {
            detail
                .variables
                .iter()
                .find(|v| v.name == name)
                .and_then(|v| v.value.as_str())
                .map(str::to_owned)
        };
        let owner = variable("tenantId").map(|tenant| Owner {
            tenant,
            order_id: variable("orderId"),
            quote_id: variable("quoteId"),
        });
        self.owners.insert(instance.to_owned(), owner.clone());
        Ok(owner)
    }

    /// One round: every incident of both states, the new ones projected; returns how many
    /// incidents were read.
    pub async fn read_once(&mut self) -> Result<usize, IncidentError> {
        let mut incidents = Vec::new();
        for state in ["ACTIVE", "RESOLVED"] {
            for page in 0..MAX_PAGES {
                let found: IncidentPage = self
                    .get(&format!(
                        "/v1/ops/incidents?state={state}&limit={PAGE}&offset={}",
                        page * PAGE
                    ))
                    .await?;
                let full = found.items.len() == PAGE;
                incidents.extend(found.items);
                if !full {
                    break;
                }
            }
        }
        let mut rows = Vec::new();
        for incident in &incidents {
            let instance = key_text(&incident.process_instance_key);
            let Some(owner) = self.owner(&instance).await? else {
                continue;
            };
            rows.push((incident.clone(), owner));
        }
        let mut tx = self.jobs_db.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock_shared($1)")
            .bind(SWAP_LOCK)
            .execute(&mut *tx)
            .await?;
        let generation = store::current_generation(&mut tx).await?;
        let now = Utc::now();
        for (incident, owner) in &rows {
            let key = key_text(&incident.incident_key);
            let resolved = incident.state != "ACTIVE";
            let raised_at = DateTime::parse_from_rfc3339(&incident.creation_time)
                .map(|at| at.with_timezone(&Utc))
                .unwrap_or(now);
            let state = if resolved { "RESOLVED" } else { "ACTIVE" };
            let input = Projected {
                event_id: event_id(&key, state),
                tenant_id: &owner.tenant,
                topic: "workflow.incidents",
                event_type: if resolved {
                    "workflow.incident.resolved"
                } else {
                    "workflow.incident.raised"
                },
                aggregate_type: "Incident",
                aggregate_id: &key,
                aggregate_version: if resolved { 2 } else { 1 },
                occurred_at: if resolved { now } else { raised_at },
                correlation_id: "",
                actor_id: "workflow-engine",
                fact: Fact {
                    kind: FactKind::Incident,
                    order_id: owner.order_id.clone(),
                    quote_id: owner.quote_id.clone(),
                    customer_id: None,
                    to_status: Some(state.to_owned()),
                    external_reference: None,
                    summary: json!({
                        "incidentKey": key, "errorType": incident.error_type,
                        "errorMessage": incident.error_message, "elementId": incident.element_id,
                        "bpmnProcessId": incident.bpmn_process_id,
                        "processInstanceKey": key_text(&incident.process_instance_key),
                    }),
                },
                update: ViewUpdate::None,
            };
            store::project(&mut tx, generation, &input).await?;
        }
        tx.commit().await?;
        Ok(incidents.len())
    }

    /// Reads every `every` until the task is dropped.
    pub async fn run(mut self, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = self.read_once().await {
                tracing::warn!(%error, "workflow incidents not read this round");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_per_incident_and_state() {
        assert_eq!(event_id("42", "ACTIVE"), event_id("42", "ACTIVE"));
        assert_ne!(event_id("42", "ACTIVE"), event_id("42", "RESOLVED"));
        assert_ne!(event_id("42", "ACTIVE"), event_id("43", "ACTIVE"));
        assert_eq!(key_text(&json!("42")), "42");
        assert_eq!(key_text(&json!(42)), "42");
    }
}
