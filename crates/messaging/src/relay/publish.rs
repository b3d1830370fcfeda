//! Handing rows to the idempotent producer and collecting the broker's answers.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::Utc;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::BaseRecord;

use super::acks::{Answer, ChunkAcks, RelayProducer};
use super::claim::Claimed;

/// What happened to one row.
#[derive(Debug)]
pub(super) enum Outcome {
    /// The broker acknowledged it.
    Published,
    /// Not sent: an earlier row of its key failed in this claim, so it waits behind that row.
    Held,
    /// A transient failure; retried with back-off.
    Failed(String),
    /// Refused for what it is; dead-lettered.
    Poison(String),
}

/// Keys (topic, partition key) whose later rows must not be sent in this claim; looked up with
/// the row's borrowed topic and key.
#[derive(Debug, Clone, Default)]
pub(super) struct BlockedKeys(HashMap<String, HashSet<Vec<u8>>>);

impl BlockedKeys {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, topic: &str, key: &[u8]) -> bool {
        self.0.get(topic).is_some_and(|keys| keys.contains(key))
    }

    pub fn insert(&mut self, topic: &str, key: &[u8]) {
        self.0
            .entry(topic.to_owned())
            .or_default()
            .insert(key.to_vec());
    }

    /// Adds every key of `other`.
    pub fn extend_from(&mut self, other: &BlockedKeys) {
        for (topic, keys) in &other.0 {
            for key in keys {
                self.insert(topic, key);
            }
        }
    }
}

/// A chunk of rows handed to the producer, whose acknowledgements are still to come.
pub(super) struct SentChunk {
    pub rows: Vec<Claimed>,
    /// The broker's answers, by position, for the rows handed over.
    acks: Arc<ChunkAcks>,
    /// By position: the outcome of a row not handed over, decided at once.
    decided: Vec<Option<Outcome>>,
}

/// Whether the broker refused this message for what it is (not for the broker's state).
fn is_poison(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::MessageSizeTooLarge
                | RDKafkaErrorCode::InvalidMessageSize
                | RDKafkaErrorCode::InvalidMessage
                | RDKafkaErrorCode::InvalidRecord
                | RDKafkaErrorCode::InvalidTopic
                | RDKafkaErrorCode::MessageBatchTooLarge
                | RDKafkaErrorCode::BadMessage
        )
    )
}

/// Whether the producer must be replaced: its identity is gone (its epoch could not be bumped
/// after timeouts), or its sends time out — after a broker restart an old producer only ever
/// times out while a new one works at once. Replacing a producer while the broker is down costs
/// nothing.
fn breaks_producer(error: &KafkaError) -> bool {
    matches!(
        error.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::ProducerFenced
                | RDKafkaErrorCode::MessageTimedOut
                | RDKafkaErrorCode::InvalidProducerEpoch
                | RDKafkaErrorCode::UnknownProducerId
                | RDKafkaErrorCode::OutOfOrderSequenceNumber
                | RDKafkaErrorCode::Fatal
        )
    )
}

/// Enqueues the rows in commit order (the idempotent producer keeps that order per partition,
/// also across chunks), except rows of `blocked` keys, which are held back.
pub(super) fn send(
    producer: &RelayProducer,
    rows: Vec<Claimed>,
    blocked: &BlockedKeys,
) -> SentChunk {
    let acks = ChunkAcks::new(rows.len());
    let decided = rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            let (topic, key) = row.key();
            let outcome = if !blocked.is_empty() && blocked.contains(topic, key) {
                Outcome::Held
            } else {
                match row.message() {
                    Err(reason) => Outcome::Poison(reason),
                    Ok((headers, body)) => {
                        let record = BaseRecord::with_opaque_to(topic, acks.pending(index))
                            .key(key)
                            .payload(body)
                            .headers(headers.to_kafka());
                        if let Err((error, record)) = producer.send(record) {
                            record.delivery_opaque.refused(error);
                        }
                        return None;
                    }
                }
            };
            acks.release(index);
            Some(outcome)
        })
        .collect();
    SentChunk {
        rows,
        acks,
        decided,
    }
}

/// What an answer from the broker means for the row.
fn outcome_of(answer: Option<&Answer>) -> Outcome {
    match answer {
        Some(Ok(_)) => Outcome::Published,
        Some(Err(error)) if is_poison(error) => Outcome::Poison(error.to_string()),
        Some(Err(KafkaError::Canceled)) | None => {
            Outcome::Failed("producer dropped the delivery".to_owned())
        }
        Some(Err(error)) => Outcome::Failed(error.to_string()),
    }
}

impl SentChunk {
    /// Awaits every acknowledgement; also says whether the producer must be replaced.
    pub async fn outcomes(self) -> (Vec<Claimed>, Vec<Outcome>, bool) {
        self.acks.all_answered().await;
        // One clock reading per chunk: the chunk's last answer has just arrived, and the
        // latency histogram is read in milliseconds.
        let answered_at = Utc::now();
        // Looked up once per chunk: the registry lookup costs more than the recording.
        let publish_latency = metrics::histogram!("outbox_publish_latency_seconds");
        let mut producer_broken = false;
        let outcomes = self
            .decided
            .into_iter()
            .zip(&self.rows)
            .enumerate()
            .map(|(index, (decided, row))| {
                if let Some(outcome) = decided {
                    return outcome;
                }
                let answer = self.acks.answer(index);
                if let Some(Err(error)) = answer {
                    producer_broken |= breaks_producer(error);
                }
                let outcome = outcome_of(answer);
                if let Some(Ok((partition, offset))) = answer {
                    tracing::trace!(
                        event_id = row.event_id().map(tracing::field::display),
                        topic = row.topic(),
                        partition,
                        offset,
                        "acknowledged"
                    );
                    let latency = (answered_at - row.occurred_at).to_std().unwrap_or_default();
                    publish_latency.record(latency.as_secs_f64());
                }
                outcome
            })
            .collect();
        (self.rows, outcomes, producer_broken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_envelope_that_does_not_match_its_row_is_poison() {
        let reason = Claimed::for_test(1, "k", false).message().unwrap_err();
        assert!(reason.contains("eventId"), "{reason}");
        let row = Claimed::for_test(1, "k", true);
        let (headers, _) = row.message().unwrap();
        let headers = headers.to_kafka();
        let names: Vec<&str> = rdkafka::message::Headers::iter(&headers)
            .map(|h| h.key)
            .collect();
        assert_eq!(
            names,
            ["eventId", "eventType", "eventVersion", "correlationId"]
        );
    }

    #[test]
    fn blocked_keys_are_found_by_topic_and_key() {
        let mut blocked = BlockedKeys::default();
        blocked.insert("t", b"a");
        let mut more = BlockedKeys::default();
        more.insert("u", b"a");
        blocked.extend_from(&more);
        assert!(blocked.contains("t", b"a") && blocked.contains("u", b"a"));
        assert!(!blocked.contains("t", b"b") && !blocked.contains("v", b"a"));
    }
}
