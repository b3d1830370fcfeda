//! Handing rows to the idempotent producer and collecting the broker's answers.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Utc;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
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

/// Keys (topic, partition key) whose later rows must not be sent in this claim.
pub(super) type BlockedKeys = HashSet<(String, String)>;

/// A chunk of rows handed to the producer, whose acknowledgements are still to come.
pub(super) struct SentChunk {
    pub rows: Vec<Claimed>,
    /// The broker's answers, by position, for the rows handed over.
    acks: Arc<ChunkAcks>,
    /// By position: the outcome of a row not handed over, decided at once.
    decided: Vec<Option<Outcome>>,
}

/// The Kafka headers of a row; `Err` when its envelope is unreadable for consumers (poison).
fn headers(row: &Claimed) -> Result<OwnedHeaders, String> {
    if !row.envelope_matches {
        return Err(format!(
            "envelope does not carry the row's eventId, eventType and eventVersion ({}, {}, {})",
            row.event_id, row.event_type, row.event_version
        ));
    }
    let mut event_id = uuid::Uuid::encode_buffer();
    let event_version = row.event_version.to_string();
    let mut headers = OwnedHeaders::new_with_capacity(6)
        .insert(Header {
            key: "eventId",
            value: Some(row.event_id.hyphenated().encode_lower(&mut event_id) as &str),
        })
        .insert(Header {
            key: "eventType",
            value: Some(&row.event_type),
        })
        .insert(Header {
            key: "eventVersion",
            value: Some(&event_version),
        });
    for (key, value) in [
        ("correlationId", &row.correlation_id),
        ("causationId", &row.causation_id),
        ("traceparent", &row.traceparent),
    ] {
        if let Some(value) = value.as_deref() {
            headers = headers.insert(Header {
                key,
                value: Some(value),
            });
        }
    }
    Ok(headers)
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
            let outcome = if !blocked.is_empty()
                && blocked.contains(&(row.topic.clone(), row.partition_key.clone()))
            {
                Outcome::Held
            } else {
                match (headers(row), row.envelope.as_bytes()) {
                    (Err(reason), _) => Outcome::Poison(reason),
                    (Ok(_), None) => Outcome::Poison("envelope unreadable in the row".to_owned()),
                    (Ok(headers), Some(body)) => {
                        let record = BaseRecord::with_opaque_to(&row.topic, acks.pending(index))
                            .key(row.partition_key.as_bytes())
                            .payload(body)
                            .headers(headers);
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
                    tracing::trace!(event_id = %row.event_id, topic = %row.topic, partition, offset, "acknowledged");
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

    fn row(envelope_matches: bool) -> Claimed {
        Claimed {
            outbox_seq: 1,
            row_id: super::super::row_id::RowId::at(0, 1),
            event_id: uuid::Uuid::nil(),
            topic: "t".into(),
            partition_key: "k".into(),
            event_type: "t.v1".into(),
            event_version: 1,
            envelope: "{}".into(),
            envelope_matches,
            correlation_id: Some("c".into()),
            causation_id: None,
            traceparent: None,
            attempts: 1,
            occurred_at: Utc::now(),
        }
    }

    #[test]
    fn an_envelope_that_does_not_match_its_row_is_poison() {
        let reason = headers(&row(false)).unwrap_err();
        assert!(reason.contains("eventId"), "{reason}");
        let headers = headers(&row(true)).unwrap();
        let names: Vec<&str> = rdkafka::message::Headers::iter(&headers)
            .map(|h| h.key)
            .collect();
        assert_eq!(
            names,
            ["eventId", "eventType", "eventVersion", "correlationId"]
        );
    }
}
