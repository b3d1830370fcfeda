//! PublishMessage: buffer the message for its TTL and correlate it to open subscriptions, at
//! most once per BPMN process id (Zeebe's message cardinality).

use std::collections::HashSet;

use super::Engine;
use super::commands::{lock_active, parse_variables};
use super::run::Run;
use crate::error::EngineError;
use crate::store;

/// A message to publish.
#[derive(Debug, Clone)]
pub struct PublishMessage {
    /// Name matched against subscriptions.
    pub name: String,
    /// Correlation key matched against subscriptions.
    pub correlation_key: String,
    /// How long the message stays buffered (ms); 0 = correlate now or drop.
    pub time_to_live_ms: i64,
    /// Optional id: a duplicate while the first is buffered is ALREADY_EXISTS.
    pub message_id: String,
    /// Variables as a JSON object text.
    pub variables: String,
}

impl Engine {
    /// Publishes a message; returns its key.
    #[tracing::instrument(skip_all, fields(name = %message.name), err)]
    pub async fn publish_message(&self, message: &PublishMessage) -> Result<i64, EngineError> {
        let variables = parse_variables(&message.variables)?;
        if message.name.trim().is_empty() {
            return Err(EngineError::InvalidArgument(
                "Expected message name to be present, but it was blank".into(),
            ));
        }
        let message_id = (!message.message_id.is_empty()).then_some(message.message_id.as_str());
        // 1. Store it and read the open subscriptions under the (name, key) lock: a subscription
        //    opening concurrently either is read here or finds the committed message.
        let mut tx = self.pool.begin().await?;
        store::messages::lock_correlation(&mut tx, &message.name, &message.correlation_key).await?;
        if let Some(id) = message_id
            && store::messages::id_is_buffered(&mut tx, &message.name, &message.correlation_key, id)
                .await?
        {
            return Err(EngineError::AlreadyExists(format!(
                "Expected to publish a new message with id '{id}', but a message with that id was already published"
            )));
        }
        let key = store::messages::insert(
            &mut tx,
            &message.name,
            &message.correlation_key,
            message_id,
            message.time_to_live_ms,
            &variables,
        )
        .await?;
        let subscriptions =
            store::messages::matching(&mut tx, &message.name, &message.correlation_key).await?;
        tx.commit().await?;
        // 2. Correlate, one instance transaction per subscription, once per process id.
        let mut done: HashSet<String> = HashSet::new();
        for sub in subscriptions {
            if done.contains(&sub.bpmn_process_id) {
                continue;
            }
            let mut tx = self.pool.begin().await?;
            let Ok(instance) = lock_active(&mut tx, sub.process_instance_key).await else {
                continue;
            };
            if !store::messages::is_open(&mut tx, sub.key).await? {
                continue;
            }
            if !store::messages::correlate(&mut tx, key, &sub.bpmn_process_id, instance.key).await?
            {
                done.insert(sub.bpmn_process_id.clone());
                continue;
            }
            let model = self
                .definitions
                .get(&mut tx, instance.definition_key)
                .await?;
            let mut run = Run::new(&mut tx, &model, &instance).await?;
            run.trigger(sub.element_instance_key, &sub.element_id, &variables)
                .await?;
            run.drain().await?;
            tx.commit().await?;
            done.insert(sub.bpmn_process_id);
        }
        if message.time_to_live_ms <= 0 {
            let mut conn = self.pool.acquire().await?;
            store::messages::delete(&mut conn, key).await?;
        }
        Ok(key)
    }
}
