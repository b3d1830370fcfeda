//! Operator views: what an instance waits for and why it is stuck, read in one snapshot so an
//! operator never sees an element without the job or incident that explains it.

use chrono::{DateTime, Utc};
use serde_json::Value as Json;
use workflow_model::bpmn::{NodeKind, ProcessDefinition};

use super::Engine;
use crate::error::EngineError;
use crate::store::{
    self, incidents::IncidentRow, instances::InstanceSummaryRow, jobs::JobRow,
    messages::OpenSubscription, timers::TimerRow,
};

pub use crate::store::incidents::IncidentFilter;

/// A token waiting in an element, with everything that holds or releases it.
#[derive(Debug, Clone)]
pub struct ActiveElement {
    /// Element instance key.
    pub element_instance_key: i64,
    /// BPMN element id.
    pub element_id: String,
    /// BPMN element type (`serviceTask`, `userTask`, ...), from the deployed model; the body
    /// of a multi-instance activity is `multiInstanceBody`, as Operate names it.
    pub element_type: &'static str,
    /// The 1-based loop counter of an inner instance of a multi-instance body (its
    /// `loopCounter` variable); `None` for every other element.
    pub loop_counter: Option<i32>,
    /// Waiting since.
    pub since: DateTime<Utc>,
    /// Its job (service tasks).
    pub job: Option<JobRow>,
    /// Its open user task.
    pub user_task_key: Option<i64>,
    /// Timers of the element and its boundary events.
    pub timers: Vec<TimerRow>,
    /// Message subscriptions of the element and its boundary events.
    pub subscriptions: Vec<OpenSubscription>,
    /// Active incidents holding it.
    pub incident_keys: Vec<i64>,
}

/// One instance in full.
#[derive(Debug, Clone)]
pub struct InstanceDetail {
    /// Identity and state.
    pub summary: InstanceSummaryRow,
    /// Where its tokens wait.
    pub elements: Vec<ActiveElement>,
    /// Its variables, instance scope first: `(scope_key, name, value)`.
    pub variables: Vec<(i64, String, Json)>,
    /// Its active incidents.
    pub incidents: Vec<IncidentRow>,
}

/// The BPMN type name of an element instance, as Operate shows it.
fn element_type(
    model: Option<&ProcessDefinition>,
    element_id: &str,
    loop_counter: Option<i32>,
) -> &'static str {
    let Some(node) = model.and_then(|m| m.node(element_id)) else {
        return "unknown";
    };
    if node.multi_instance.is_some() && loop_counter.is_none() {
        return "multiInstanceBody";
    }
    match &node.kind {
        NodeKind::StartEvent => "startEvent",
        NodeKind::EndEvent | NodeKind::ErrorEndEvent { .. } => "endEvent",
        NodeKind::ServiceTask(_) => "serviceTask",
        NodeKind::UserTask(_) => "userTask",
        NodeKind::ExclusiveGateway { .. } => "exclusiveGateway",
        NodeKind::ParallelGateway => "parallelGateway",
        NodeKind::TimerCatchEvent(_) | NodeKind::MessageCatchEvent(_) => "intermediateCatchEvent",
        NodeKind::BoundaryEvent(_) => "boundaryEvent",
    }
}

impl Engine {
    /// A page of instances (newest first) and the number of matches.
    pub async fn list_instances(
        &self,
        state: Option<&str>,
        bpmn_process_id: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<InstanceSummaryRow>, i64), EngineError> {
        let mut tx = super::snapshot(&self.pool).await?;
        let page = store::instances::list(&mut tx, state, bpmn_process_id, limit, offset).await?;
        tx.commit().await?;
        Ok(page)
    }

    /// One instance with its waiting elements, variables and incidents.
    #[tracing::instrument(skip_all, fields(process_instance_key = key), err)]
    pub async fn instance_detail(&self, key: i64) -> Result<InstanceDetail, EngineError> {
        // One repeatable-read snapshot: the parts below agree with each other.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
        let summary = store::instances::summary(&mut tx, key)
            .await?
            .ok_or_else(|| {
                EngineError::NotFound(format!(
                    "Expected to find process instance with key '{key}', but none found"
                ))
            })?;
        let model = match self
            .definitions
            .get(&mut tx, summary.process_definition_key)
            .await
        {
            Ok(model) => Some(model),
            Err(EngineError::Database(e)) => return Err(EngineError::Database(e)),
            Err(other) => {
                tracing::warn!(error = %other, "model unavailable for the operator view");
                None
            }
        };
        let incidents = store::incidents::for_instance(&mut tx, key).await?;
        let mut jobs = store::jobs::for_instance(&mut tx, key).await?;
        let mut timers = store::timers::for_instance(&mut tx, key).await?;
        let mut subscriptions = store::messages::subscriptions_for_instance(&mut tx, key).await?;
        let mut elements = Vec::new();
        for (element_instance_key, element_id, since, loop_counter) in
            store::instances::active_elements(&mut tx, key).await?
        {
            let owned = |k: i64| k == element_instance_key;
            elements.push(ActiveElement {
                element_instance_key,
                element_type: element_type(model.as_deref(), &element_id, loop_counter),
                loop_counter,
                element_id,
                since,
                job: jobs
                    .iter()
                    .position(|j| owned(j.element_instance_key))
                    .map(|i| jobs.swap_remove(i)),
                user_task_key: store::user_tasks::of_element(&mut tx, element_instance_key).await?,
                timers: drain(&mut timers, |t| owned(t.element_instance_key)),
                subscriptions: drain(&mut subscriptions, |s| owned(s.element_instance_key)),
                incident_keys: incidents
                    .iter()
                    .filter(|i| owned(i.element_instance_key))
                    .map(|i| i.incident_key)
                    .collect(),
            });
        }
        let variables = store::variables::for_instance(&mut tx, key).await?;
        tx.commit().await?;
        Ok(InstanceDetail {
            summary,
            elements,
            variables,
            incidents,
        })
    }

    /// A page of incidents (oldest first) and the number of matches.
    pub async fn list_incidents(
        &self,
        filter: &IncidentFilter,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<IncidentRow>, i64), EngineError> {
        let mut tx = super::snapshot(&self.pool).await?;
        let page = store::incidents::list(&mut tx, filter, limit, offset).await?;
        tx.commit().await?;
        Ok(page)
    }
}

/// Moves the items matching `owned` out of `items`, keeping their order.
fn drain<T>(items: &mut Vec<T>, owned: impl Fn(&T) -> bool) -> Vec<T> {
    let (mine, rest): (Vec<T>, Vec<T>) = std::mem::take(items).into_iter().partition(owned);
    *items = rest;
    mine
}
