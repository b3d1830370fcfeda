//! Parsed process definitions by key. The BPMN text is in PostgreSQL; this cache only saves
//! re-parsing it, and refills itself after a restart.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sqlx::PgConnection;
use workflow_model::bpmn::{ProcessDefinition, parse_bpmn};

use crate::error::EngineError;
use crate::store;

/// Cache of models by definition key.
#[derive(Debug, Default)]
pub(crate) struct Definitions {
    by_key: RwLock<HashMap<i64, Arc<ProcessDefinition>>>,
}

impl Definitions {
    /// Remembers a freshly deployed model.
    pub(crate) fn put(&self, key: i64, model: Arc<ProcessDefinition>) {
        if let Ok(mut map) = self.by_key.write() {
            map.insert(key, model);
        }
    }

    /// The model of a definition, parsed from the stored BPMN on a miss.
    pub(crate) async fn get(
        &self,
        conn: &mut PgConnection,
        key: i64,
    ) -> Result<Arc<ProcessDefinition>, EngineError> {
        if let Some(model) = self.by_key.read().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(model);
        }
        let (process_id, xml) = store::definitions::xml(conn, key).await?.ok_or_else(|| {
            EngineError::NotFound(format!("no process definition with key '{key}'"))
        })?;
        let model = parse_bpmn(&xml)
            .map_err(|e| {
                EngineError::FailedPrecondition(format!(
                    "stored definition {key} no longer parses: {e}"
                ))
            })?
            .into_iter()
            .find(|p| p.bpmn_process_id() == process_id)
            .ok_or_else(|| {
                EngineError::NotFound(format!(
                    "process '{process_id}' missing from definition {key}"
                ))
            })?;
        let model = Arc::new(model);
        self.put(key, Arc::clone(&model));
        Ok(model)
    }
}
