//! Parallel multi-instance activities inside a run (ADR 0039): the body element instance
//! waits (boundary events attach to it, `outputCollection` is its local variable) while one
//! inner element instance per input element runs the task with its own job.
//!
//! Deviation from Zeebe, on purpose: an inner instance's job variables and output-mapping
//! results stay in the inner instance (visible to its output mappings and `outputElement`)
//! instead of propagating to the process scope, where siblings would overwrite each other; only
//! `outputCollection` reaches the process scope, when the body completes.

use serde_json::{Map, Value as Json};
use workflow_model::bpmn::{MultiInstance, Node};

use super::Run;
use crate::engine::{self, Activation, IncidentType, multi_instance as mi_rules};
use crate::error::EngineError;
use crate::store::{self, instances::ElementRow, jobs::NewJob};

impl<'a> Run<'a> {
    /// Enters a multi-instance activity (or re-enters its body held by an incident): evaluates
    /// the input collection, opens the body's boundary waits and activates one inner instance
    /// per element. Returns the job types created.
    pub(super) async fn enter_body(
        &mut self,
        node: &Node,
        mi: &MultiInstance,
        existing: Option<i64>,
    ) -> Result<Vec<String>, EngineError> {
        let element_id = &node.id;
        let items = match mi_rules::input_elements(mi, &self.root) {
            Ok(items) => items,
            Err(message) => {
                self.hold(
                    element_id,
                    existing,
                    IncidentType::ExtractValueError,
                    &message,
                )
                .await?;
                return Ok(Vec::new());
            }
        };
        let waits = match engine::boundary_waits(self.def, node, &self.root, self.now) {
            Ok(waits) => waits,
            Err((kind, message)) => {
                self.hold(element_id, existing, kind, &message).await?;
                return Ok(Vec::new());
            }
        };
        let body = self.element_key(element_id, existing).await?;
        store::variables::put(
            self.conn,
            self.instance.key,
            body,
            &mi_rules::initial_output(mi, items.len()),
        )
        .await?;
        if items.is_empty() {
            self.complete_body(body, node, mi).await?;
            return Ok(Vec::new());
        }
        self.open_waits(body, waits).await?;
        let mut job_types = Vec::new();
        for (index, item) in items.into_iter().enumerate() {
            let loop_counter = i32::try_from(index + 1).map_err(|_| {
                EngineError::FailedPrecondition(format!(
                    "the input collection of '{element_id}' has too many elements"
                ))
            })?;
            let inner = store::instances::insert_inner(
                self.conn,
                self.instance.key,
                element_id.as_str(),
                body,
                loop_counter,
            )
            .await?;
            let locals = mi_rules::inner_locals(mi, item, loop_counter);
            store::variables::put(self.conn, self.instance.key, inner, &locals).await?;
            if let Some(job_type) = self.activate_inner(body, inner).await?
                && !job_types.contains(&job_type)
            {
                job_types.push(job_type);
            }
        }
        Ok(job_types)
    }

    /// Activates an inner instance: its input mappings and job expressions are evaluated over
    /// the process, body and inner-instance variables (so they may read the input element),
    /// then its job is created. A failure is an incident on this inner instance only.
    pub(super) async fn activate_inner(
        &mut self,
        body: i64,
        inner: i64,
    ) -> Result<Option<String>, EngineError> {
        let Some(row) = store::instances::element(self.conn, inner).await? else {
            return Ok(None);
        };
        if row.state != "ACTIVE" {
            return Ok(None);
        }
        let node = self.node(&row.element_id)?;
        let visible = self.inner_visible(body, inner).await?;
        match engine::activate(self.def, node, &visible) {
            Activation::CreateJob(spec) => {
                store::variables::put(self.conn, self.instance.key, inner, &spec.locals).await?;
                store::jobs::insert(
                    self.conn,
                    NewJob {
                        job_type: &spec.job_type,
                        retries: spec.retries,
                        headers: &spec.headers,
                        process_instance_key: self.instance.key,
                        element_instance_key: inner,
                        element_id: &row.element_id,
                        bpmn_process_id: &self.instance.bpmn_process_id,
                        process_definition_key: self.instance.definition_key,
                        version: self.instance.version,
                        completion_key: None,
                    },
                )
                .await?;
                Ok(Some(spec.job_type))
            }
            Activation::Incident { kind, message } => {
                self.incident(inner, &row.element_id, None, kind, &message)
                    .await?;
                Ok(None)
            }
            other => Err(EngineError::FailedPrecondition(format!(
                "multi-instance element '{}' cannot activate as {other:?}",
                row.element_id
            ))),
        }
    }

    /// Completes an inner instance with its job's variables: output mappings and
    /// `outputElement` are evaluated over everything visible plus the job's variables, the
    /// result lands at the instance's position of `outputCollection`, and the body completes
    /// when no sibling is left. A failed mapping holds this inner instance with an incident
    /// that re-runs this completion when resolved.
    pub(super) async fn complete_inner(
        &mut self,
        inner: &ElementRow,
        variables: &Map<String, Json>,
    ) -> Result<(), EngineError> {
        let (Some(body), Some(loop_counter)) = (inner.flow_scope_key, inner.loop_counter) else {
            return Err(EngineError::FailedPrecondition(format!(
                "element instance '{}' is not an inner instance",
                inner.key
            )));
        };
        let node = self.node(&inner.element_id)?;
        let Some(mi) = &node.multi_instance else {
            return Err(EngineError::FailedPrecondition(format!(
                "element '{}' is not a multi-instance activity",
                inner.element_id
            )));
        };
        let mut visible = self.inner_visible(body, inner.key).await?;
        let result = match engine::completion(node, &visible, variables) {
            Ok(result) => result,
            Err(message) => {
                return self
                    .hold_completion(inner, variables, IncidentType::IoMappingError, &message)
                    .await;
            }
        };
        visible.extend(variables.clone());
        visible.extend(result);
        if let (Some(name), Some(outcome)) = (
            &mi.output_collection,
            mi_rules::output_element(mi, &visible),
        ) {
            let value = match outcome {
                Ok(value) => value,
                Err(e) => {
                    return self
                        .hold_completion(
                            inner,
                            variables,
                            IncidentType::ExtractValueError,
                            &e.to_string(),
                        )
                        .await;
                }
            };
            let current = store::variables::scope(self.conn, body).await?;
            let mut update = Map::new();
            update.insert(
                name.clone(),
                mi_rules::collect(current.get(name), loop_counter, value),
            );
            store::variables::put(self.conn, self.instance.key, body, &update).await?;
        }
        store::instances::leave_element(self.conn, inner.key, "COMPLETED").await?;
        if store::instances::active_inner(self.conn, body)
            .await?
            .is_empty()
        {
            self.complete_body(body, node, mi).await?;
        }
        Ok(())
    }

    /// Completes the body: `outputCollection` goes to the process scope and the activity's
    /// outgoing flows are taken.
    async fn complete_body(
        &mut self,
        body: i64,
        node: &Node,
        mi: &MultiInstance,
    ) -> Result<(), EngineError> {
        if let Some(name) = &mi.output_collection {
            let locals = store::variables::scope(self.conn, body).await?;
            let mut result = Map::new();
            result.insert(
                name.clone(),
                locals
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| Json::Array(Vec::new())),
            );
            self.set_root(&result).await?;
        }
        store::instances::leave_element(self.conn, body, "COMPLETED").await?;
        self.leave(node.id.as_str());
        Ok(())
    }

    /// Holds an inner instance's completion with an incident; resolving it re-runs the
    /// completion with the same job variables.
    async fn hold_completion(
        &mut self,
        inner: &ElementRow,
        variables: &Map<String, Json>,
        kind: IncidentType,
        message: &str,
    ) -> Result<(), EngineError> {
        store::instances::set_resume(
            self.conn,
            inner.key,
            "COMPLETE",
            Some(&Json::Object(variables.clone())),
        )
        .await?;
        self.incident(inner.key, &inner.element_id, None, kind, message)
            .await
            .map(|_| ())
    }

    /// Process variables overlaid with the body's locals, then the inner instance's.
    async fn inner_visible(
        &mut self,
        body: i64,
        inner: i64,
    ) -> Result<Map<String, Json>, EngineError> {
        let mut visible = self.root.clone();
        visible.extend(store::variables::scope(self.conn, body).await?);
        visible.extend(store::variables::scope(self.conn, inner).await?);
        Ok(visible)
    }

    /// A node of the model, with the run's lifetime (not borrowed from `self`).
    fn node(&self, element_id: &str) -> Result<&'a Node, EngineError> {
        let def: &'a workflow_model::bpmn::ProcessDefinition = self.def;
        def.node(element_id).ok_or_else(|| {
            EngineError::FailedPrecondition(format!("element '{element_id}' is not in the model"))
        })
    }
}
