//! Leaving a waiting element through its boundary events: an error caught from its job, or a
//! timer or message that fired; interrupting ones terminate the element (for a multi-instance
//! activity, its body and every inner instance) first.

use serde_json::{Map, Value as Json};

use super::Run;
use crate::engine;
use crate::error::EngineError;
use crate::store;

impl Run<'_> {
    /// Leaves a task through a catching error boundary event: the task (for a multi-instance
    /// activity, its body with every inner instance) is terminated and the boundary event's
    /// outgoing flows are taken. Its output mappings read the error variables and, as on
    /// Camunda 8, `errorCode` and `errorMessage`; without output mappings only the error
    /// variables propagate.
    pub(crate) async fn catch_error(
        &mut self,
        element_instance_key: i64,
        boundary_id: &str,
        error: (&str, &str),
        variables: &Map<String, Json>,
    ) -> Result<(), EngineError> {
        let body = store::instances::element(self.conn, element_instance_key)
            .await?
            .and_then(|e| e.flow_scope_key);
        match body {
            Some(body_key) => self.terminate(body_key).await?,
            None => {
                store::instances::leave_element(self.conn, element_instance_key, "TERMINATED")
                    .await?;
            }
        }
        let (code, message) = error;
        let mut context = Map::new();
        context.insert("errorCode".to_owned(), Json::from(code));
        context.insert("errorMessage".to_owned(), Json::from(message));
        self.leave_through_boundary(boundary_id, &context, variables)
            .await
    }

    /// An event waiting on behalf of `waiting_key` fired with `variables` (message variables,
    /// none for timers). A catch event completes; an interrupting boundary terminates its task
    /// and leaves through the boundary; a non-interrupting one spawns a token and keeps it.
    pub(crate) async fn trigger(
        &mut self,
        waiting_key: i64,
        event_id: &str,
        variables: &Map<String, Json>,
    ) -> Result<(), EngineError> {
        let active = store::instances::element(self.conn, waiting_key)
            .await?
            .is_some_and(|e| e.state == "ACTIVE");
        if !active {
            return Ok(());
        }
        if !engine::is_boundary(self.def, event_id) {
            return self
                .complete_element(waiting_key, event_id, variables)
                .await;
        }
        if engine::interrupts(self.def, event_id) {
            self.terminate(waiting_key).await?;
        }
        self.leave_through_boundary(event_id, &Map::new(), variables)
            .await
    }

    /// Takes a boundary event's outgoing flows, with its output mappings applied to `variables`
    /// (the variables as given when the event has none that apply); `readable` is visible to
    /// the mappings only (the error's code and message).
    pub(super) async fn leave_through_boundary(
        &mut self,
        boundary_id: &str,
        readable: &Map<String, Json>,
        variables: &Map<String, Json>,
    ) -> Result<(), EngineError> {
        let node = self.def.node(boundary_id).ok_or_else(|| {
            EngineError::FailedPrecondition(format!("element '{boundary_id}' is not in the model"))
        })?;
        let mut visible = self.root.clone();
        visible.extend(readable.clone());
        let result =
            engine::completion(node, &visible, variables).unwrap_or_else(|_| variables.clone());
        self.set_root(&result).await?;
        self.leave(boundary_id);
        Ok(())
    }

    /// Terminates a waiting element: its job, incidents, timers and subscriptions go; a
    /// multi-instance body takes its inner instances (and their jobs) with it.
    pub(super) async fn terminate(&mut self, key: i64) -> Result<(), EngineError> {
        for inner in store::instances::active_inner(self.conn, key).await? {
            store::jobs::delete_for_element(self.conn, inner).await?;
            store::incidents::resolve_for_element(self.conn, inner).await?;
            store::instances::leave_element(self.conn, inner, "TERMINATED").await?;
        }
        store::jobs::delete_for_element(self.conn, key).await?;
        store::incidents::resolve_for_element(self.conn, key).await?;
        store::instances::leave_element(self.conn, key, "TERMINATED").await?;
        Ok(())
    }
}
