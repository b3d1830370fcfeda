//! Steps tokens through a locked process instance inside the command's transaction until every
//! token waits (job, join, incident) or is consumed; completes the instance when none is left.

mod boundaries;
mod multi_instance;

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as Json};
use sqlx::PgConnection;
use workflow_model::bpmn::{ElementId, NodeKind, ProcessDefinition};

use crate::engine::{self, Activation, IncidentType, Wait, WaitKind};
use crate::error::EngineError;
use crate::store::{
    self, incidents::NewIncident, instances::InstanceRow, jobs::NewJob, user_tasks::NewUserTask,
};

/// Work left for this command.
enum Work {
    /// A token travels along a sequence flow.
    Take(ElementId),
    /// A token enters an element (`Some(key)` when re-activating an element held by an incident).
    Enter(ElementId, Option<i64>),
    /// An event waiting for `waiting_key` fired (buffered message found on subscribing).
    Trigger(i64, String, Map<String, Json>),
    /// An inner instance of a multi-instance body (re-)activates (`(body, inner)` keys).
    EnterInner(i64, i64),
}

/// One command's view of one locked instance.
pub(crate) struct Run<'a> {
    conn: &'a mut PgConnection,
    def: &'a ProcessDefinition,
    instance: &'a InstanceRow,
    /// The instance-scope variables, read once and kept current by every write of this run.
    root: Map<String, Json>,
    queue: VecDeque<Work>,
    /// The instant timers of this command are computed from.
    now: DateTime<Utc>,
    /// The earliest timer this command created (the scheduler is told on commit).
    earliest_timer: Option<DateTime<Utc>>,
}

impl<'a> Run<'a> {
    /// Loads the instance variables for stepping.
    pub(crate) async fn new(
        conn: &'a mut PgConnection,
        def: &'a ProcessDefinition,
        instance: &'a InstanceRow,
    ) -> Result<Self, EngineError> {
        let root = store::variables::scope(conn, instance.key).await?;
        Ok(Self {
            conn,
            def,
            instance,
            root,
            queue: VecDeque::new(),
            now: Utc::now(),
            earliest_timer: None,
        })
    }

    /// Starts the instance at its start event.
    pub(crate) fn start(&mut self) {
        self.queue
            .push_back(Work::Enter(self.def.start_event().clone(), None));
    }

    /// Re-enters an element held by an incident.
    pub(crate) fn reenter(
        &mut self,
        element_id: &str,
        element_instance_key: i64,
    ) -> Result<(), EngineError> {
        let id = self.node_id(element_id)?;
        self.queue
            .push_back(Work::Enter(id, Some(element_instance_key)));
        Ok(())
    }

    /// Re-activates an inner instance of a multi-instance body held by an incident.
    pub(crate) fn reenter_inner(&mut self, body_key: i64, inner_key: i64) {
        self.queue.push_back(Work::EnterInner(body_key, inner_key));
    }

    /// Completes a waiting element with the job's (or error's) variables: output mappings,
    /// propagation to the instance scope, then the outgoing flows. A mapping failure becomes an
    /// IO_MAPPING_ERROR incident that re-runs this completion when resolved.
    pub(crate) async fn complete_element(
        &mut self,
        element_instance_key: i64,
        element_id: &str,
        variables: &Map<String, Json>,
    ) -> Result<(), EngineError> {
        let node = self.def.node(element_id).ok_or_else(|| {
            EngineError::FailedPrecondition(format!("element '{element_id}' is not in the model"))
        })?;
        if node.multi_instance.is_some()
            && let Some(inner) = store::instances::element(self.conn, element_instance_key).await?
            && inner.flow_scope_key.is_some()
        {
            return self.complete_inner(&inner, variables).await;
        }
        let mut visible = self.root.clone();
        visible.extend(store::variables::scope(self.conn, element_instance_key).await?);
        match engine::completion(node, &visible, variables) {
            Ok(result) => {
                self.set_root(&result).await?;
                store::instances::leave_element(self.conn, element_instance_key, "COMPLETED")
                    .await?;
                self.leave(element_id);
                Ok(())
            }
            Err(message) => {
                store::instances::set_resume(
                    self.conn,
                    element_instance_key,
                    "COMPLETE",
                    Some(&Json::Object(variables.clone())),
                )
                .await?;
                self.incident(
                    element_instance_key,
                    element_id,
                    None,
                    IncidentType::IoMappingError,
                    &message,
                )
                .await
                .map(|_| ())
            }
        }
    }

    /// Opens what the events of `element_instance_key` wait for; a buffered message that
    /// matches a new subscription correlates at once.
    async fn open_waits(
        &mut self,
        element_instance_key: i64,
        waits: Vec<Wait>,
    ) -> Result<(), EngineError> {
        for wait in waits {
            match wait.kind {
                WaitKind::Timer(due) => {
                    store::timers::insert(
                        self.conn,
                        self.instance.key,
                        element_instance_key,
                        wait.event_id.as_str(),
                        due,
                    )
                    .await?;
                    self.earliest_timer = Some(self.earliest_timer.map_or(due, |t| t.min(due)));
                }
                WaitKind::Message {
                    name,
                    correlation_key,
                } => {
                    store::messages::lock_correlation(self.conn, &name, &correlation_key).await?;
                    let sub = store::messages::SubscriptionRow {
                        key: 0,
                        process_instance_key: self.instance.key,
                        bpmn_process_id: self.instance.bpmn_process_id.clone(),
                        element_instance_key,
                        element_id: wait.event_id.to_string(),
                    };
                    store::messages::subscribe(self.conn, &sub, &name, &correlation_key).await?;
                    let buffered = store::messages::first_buffered(
                        self.conn,
                        &name,
                        &correlation_key,
                        &self.instance.bpmn_process_id,
                    )
                    .await?;
                    if let Some(message) = buffered
                        && store::messages::correlate(
                            self.conn,
                            message.key,
                            &self.instance.bpmn_process_id,
                            self.instance.key,
                        )
                        .await?
                    {
                        self.queue.push_back(Work::Trigger(
                            element_instance_key,
                            sub.element_id,
                            message.variables,
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Raises an incident on an element instance.
    pub(crate) async fn incident(
        &mut self,
        element_instance_key: i64,
        element_id: &str,
        job_key: Option<i64>,
        kind: IncidentType,
        message: &str,
    ) -> Result<i64, EngineError> {
        Ok(store::incidents::insert(
            self.conn,
            NewIncident {
                process_instance_key: self.instance.key,
                element_instance_key,
                element_id,
                job_key,
                error_type: kind.as_str(),
                error_message: message,
            },
        )
        .await?)
    }

    /// Steps every queued token, then completes the instance if no token is left. Returns the
    /// job types that got new jobs (for NOTIFY) and whether the instance completed.
    pub(crate) async fn drain(mut self) -> Result<bool, EngineError> {
        let mut new_job_types: Vec<String> = Vec::new();
        while let Some(work) = self.queue.pop_front() {
            match work {
                Work::Take(flow_id) => self.take(&flow_id).await?,
                Work::Trigger(key, event_id, variables) => {
                    self.trigger(key, &event_id, &variables).await?;
                }
                Work::Enter(element_id, existing) => {
                    for job_type in self.enter(&element_id, existing).await? {
                        if !new_job_types.contains(&job_type) {
                            new_job_types.push(job_type);
                        }
                    }
                }
                Work::EnterInner(body_key, inner_key) => {
                    if let Some(job_type) = self.activate_inner(body_key, inner_key).await?
                        && !new_job_types.contains(&job_type)
                    {
                        new_job_types.push(job_type);
                    }
                }
            }
        }
        for job_type in &new_job_types {
            store::notify(self.conn, store::JOB_CHANNEL, job_type).await?;
        }
        if let Some(due) = self.earliest_timer {
            store::notify(
                self.conn,
                store::TIMER_CHANNEL,
                &due.timestamp_millis().to_string(),
            )
            .await?;
        }
        if store::instances::has_tokens(self.conn, self.instance.key).await? {
            return Ok(false);
        }
        store::instances::end(self.conn, self.instance.key, "COMPLETED").await?;
        store::notify(
            self.conn,
            store::INSTANCE_CHANNEL,
            &self.instance.key.to_string(),
        )
        .await?;
        Ok(true)
    }

    fn leave(&mut self, element_id: &str) {
        for flow in self.def.outgoing(element_id) {
            self.queue.push_back(Work::Take(flow.clone()));
        }
    }

    fn node_id(&self, element_id: &str) -> Result<ElementId, EngineError> {
        self.def
            .node(element_id)
            .map(|n| n.id.clone())
            .ok_or_else(|| {
                EngineError::FailedPrecondition(format!(
                    "element '{element_id}' is not in the model"
                ))
            })
    }

    async fn set_root(&mut self, values: &Map<String, Json>) -> Result<(), EngineError> {
        store::variables::put(self.conn, self.instance.key, self.instance.key, values).await?;
        self.root.extend(values.clone());
        Ok(())
    }

    async fn take(&mut self, flow_id: &ElementId) -> Result<(), EngineError> {
        let flow = self.def.flow(flow_id.as_str()).ok_or_else(|| {
            EngineError::FailedPrecondition(format!("flow '{flow_id}' is not in the model"))
        })?;
        let target = flow.target.clone();
        let incoming = self.def.incoming(target.as_str());
        let is_join = matches!(
            self.def.node(target.as_str()).map(|n| &n.kind),
            Some(NodeKind::ParallelGateway)
        ) && incoming.len() > 1;
        if is_join {
            let arrived = store::instances::arrive_at_join(
                self.conn,
                self.instance.key,
                target.as_str(),
                flow_id.as_str(),
            )
            .await?;
            if incoming
                .iter()
                .all(|f| arrived.iter().any(|a| a == f.as_str()))
            {
                store::instances::consume_join(self.conn, self.instance.key, target.as_str())
                    .await?;
                self.queue.push_back(Work::Enter(target, None));
            }
        } else {
            self.queue.push_back(Work::Enter(target, None));
        }
        Ok(())
    }

    /// Enters an element; returns the job types of the jobs created.
    async fn enter(
        &mut self,
        element_id: &ElementId,
        existing: Option<i64>,
    ) -> Result<Vec<String>, EngineError> {
        let def = self.def;
        let node = def.node(element_id.as_str()).ok_or_else(|| {
            EngineError::FailedPrecondition(format!("element '{element_id}' is not in the model"))
        })?;
        if let Some(mi) = &node.multi_instance {
            return self.enter_body(node, mi, existing).await;
        }
        match engine::activate(def, node, &self.root) {
            Activation::Leave(flows) => {
                if let Some(key) = existing {
                    store::instances::leave_element(self.conn, key, "COMPLETED").await?;
                }
                self.queue.extend(flows.into_iter().map(Work::Take));
                Ok(Vec::new())
            }
            Activation::Consume => {
                if let Some(key) = existing {
                    store::instances::leave_element(self.conn, key, "COMPLETED").await?;
                }
                Ok(Vec::new())
            }
            Activation::CreateJob(spec) => {
                let mut context = self.root.clone();
                context.extend(spec.locals.clone());
                let waits = match engine::boundary_waits(def, node, &context, self.now) {
                    Ok(waits) => waits,
                    Err((kind, message)) => {
                        self.hold(element_id, existing, kind, &message).await?;
                        return Ok(Vec::new());
                    }
                };
                let key = match existing {
                    Some(key) => key,
                    None => {
                        store::instances::insert_element(
                            self.conn,
                            self.instance.key,
                            element_id.as_str(),
                        )
                        .await?
                    }
                };
                store::variables::put(self.conn, self.instance.key, key, &spec.locals).await?;
                store::jobs::insert(
                    self.conn,
                    NewJob {
                        job_type: &spec.job_type,
                        retries: spec.retries,
                        headers: &spec.headers,
                        process_instance_key: self.instance.key,
                        element_instance_key: key,
                        element_id: element_id.as_str(),
                        bpmn_process_id: &self.instance.bpmn_process_id,
                        process_definition_key: self.instance.definition_key,
                        version: self.instance.version,
                        completion_key: None,
                    },
                )
                .await?;
                self.open_waits(key, waits).await?;
                Ok(vec![spec.job_type])
            }
            Activation::UserTask(spec) => {
                let mut context = self.root.clone();
                context.extend(spec.locals.clone());
                let waits = match engine::boundary_waits(def, node, &context, self.now) {
                    Ok(waits) => waits,
                    Err((kind, message)) => {
                        self.hold(element_id, existing, kind, &message).await?;
                        return Ok(Vec::new());
                    }
                };
                let key = self.element_key(element_id, existing).await?;
                store::variables::put(self.conn, self.instance.key, key, &spec.locals).await?;
                store::user_tasks::insert(
                    self.conn,
                    NewUserTask {
                        element_instance_key: key,
                        process_instance_key: self.instance.key,
                        process_definition_key: self.instance.definition_key,
                        process_definition_version: self.instance.version,
                        bpmn_process_id: &self.instance.bpmn_process_id,
                        element_id: element_id.as_str(),
                        name: node.name.as_deref(),
                    },
                    &spec,
                )
                .await?;
                self.open_waits(key, waits).await?;
                Ok(Vec::new())
            }
            Activation::Catch => {
                let wait = engine::catch_wait(node, &self.root, self.now);
                match wait {
                    Some(Ok(kind)) => {
                        let key = self.element_key(element_id, existing).await?;
                        let wait = Wait {
                            event_id: element_id.clone(),
                            kind,
                        };
                        self.open_waits(key, vec![wait]).await?;
                    }
                    Some(Err((kind, message))) => {
                        self.hold(element_id, existing, kind, &message).await?;
                    }
                    None => {}
                }
                Ok(Vec::new())
            }
            Activation::Incident { kind, message } => {
                self.hold(element_id, existing, kind, &message).await?;
                Ok(Vec::new())
            }
        }
    }

    /// The element instance a token waits in: the existing one, or a new ACTIVE row.
    async fn element_key(
        &mut self,
        element_id: &ElementId,
        existing: Option<i64>,
    ) -> Result<i64, EngineError> {
        Ok(match existing {
            Some(key) => key,
            None => {
                store::instances::insert_element(self.conn, self.instance.key, element_id.as_str())
                    .await?
            }
        })
    }

    /// Holds the token in the element with an incident.
    async fn hold(
        &mut self,
        element_id: &ElementId,
        existing: Option<i64>,
        kind: IncidentType,
        message: &str,
    ) -> Result<(), EngineError> {
        let key = self.element_key(element_id, existing).await?;
        self.incident(key, element_id.as_str(), None, kind, message)
            .await
            .map(|_| ())
    }
}
