//! The broker's answers, collected per chunk rather than per message.
//!
//! rdkafka's `FutureProducer` completes one channel per message, and a task awaiting a chunk's
//! deliveries in turn is woken for each of them: librdkafka's polling thread hands answers over
//! one by one, the woken task catches up with it, sleeps, and is woken again. Profiled, the
//! relay's runtime threads spent four fifths of their time being put to sleep and woken (ADR
//! 0020). Here the delivery callback writes each answer into its chunk's slot, and the chunk
//! wakes its one waiter once, when the last answer is in.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use rdkafka::ClientContext;
use rdkafka::config::{FromClientConfigAndContext, RDKafkaLogLevel};
use rdkafka::error::KafkaError;
use rdkafka::message::Message as _;
use rdkafka::producer::{DeliveryResult, ProducerContext, ThreadedProducer};
use tokio::sync::Notify;

/// What the broker said about one message: `Ok` with the partition and offset it stored the
/// message at, once it acknowledged it.
pub(super) type Answer = Result<(i32, i64), KafkaError>;

/// The relay's idempotent producer, answering into [`ChunkAcks`].
pub(super) type RelayProducer = ThreadedProducer<ChunkAckContext>;

/// Builds the relay's producer with the shared idempotent settings.
pub(super) fn relay_producer(brokers: &str) -> Result<RelayProducer, KafkaError> {
    RelayProducer::from_config_and_context(
        &crate::producer::idempotent_config(brokers),
        ChunkAckContext,
    )
}

/// The answers to one chunk's messages, by position in the chunk.
pub(super) struct ChunkAcks {
    answers: Vec<OnceLock<Answer>>,
    /// Positions neither answered nor released; the waiter is woken when it reaches zero.
    outstanding: AtomicUsize,
    all_in: Notify,
}

impl ChunkAcks {
    /// Slots for `len` positions, all outstanding.
    pub fn new(len: usize) -> Arc<Self> {
        Arc::new(Self {
            answers: (0..len).map(|_| OnceLock::new()).collect(),
            outstanding: AtomicUsize::new(len),
            all_in: Notify::new(),
        })
    }

    /// A message's companion for its trip through librdkafka, answering `index`.
    pub fn pending(self: &Arc<Self>, index: usize) -> Box<Pending> {
        Box::new(Pending {
            chunk: Arc::clone(self),
            index,
            answer: None,
        })
    }

    /// Stops waiting for `index`: its row was not handed to the producer.
    pub fn release(&self, index: usize) {
        self.settle(index, None);
    }

    /// Resolves once every position is answered or released.
    pub async fn all_answered(&self) {
        // `notify_one` leaves a permit when nobody waits yet, so a last answer that lands
        // between the check and the await is not missed.
        while self.outstanding.load(Ordering::Acquire) > 0 {
            self.all_in.notified().await;
        }
    }

    /// The answer for `index`, if the broker gave one.
    pub fn answer(&self, index: usize) -> Option<&Answer> {
        self.answers.get(index)?.get()
    }

    fn settle(&self, index: usize, answer: Option<Answer>) {
        if let (Some(slot), Some(answer)) = (self.answers.get(index), answer)
            && slot.set(answer).is_err()
        {
            return;
        }
        if self.outstanding.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.all_in.notify_one();
        }
    }
}

/// Travels with one message through librdkafka and settles its position when dropped: with the
/// delivery callback's answer, or, dropped unanswered (the producer went away), as cancelled, so
/// a waiter never hangs.
pub(super) struct Pending {
    chunk: Arc<ChunkAcks>,
    index: usize,
    answer: Option<Answer>,
}

impl Pending {
    /// Answers for a message the producer refused at once.
    pub fn refused(mut self, error: KafkaError) {
        self.answer = Some(Err(error));
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let answer = self.answer.take().unwrap_or(Err(KafkaError::Canceled));
        self.chunk.settle(self.index, Some(answer));
    }
}

/// Routes delivery reports into their chunks, and librdkafka's log into tracing.
pub(super) struct ChunkAckContext;

impl ClientContext for ChunkAckContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        crate::kafka_log::log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        crate::kafka_log::error(&error, reason);
    }
}

impl ProducerContext for ChunkAckContext {
    type DeliveryOpaque = Box<Pending>;

    fn delivery(&self, result: &DeliveryResult<'_>, mut pending: Box<Pending>) {
        pending.answer = Some(match result {
            Ok(message) => Ok((message.partition(), message.offset())),
            Err((error, _)) => Err(error.clone()),
        });
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn the_waiter_wakes_once_every_position_is_answered_released_or_dropped() {
        let acks = ChunkAcks::new(4);
        let answered = acks.pending(0);
        let dropped = acks.pending(1);
        let refused = acks.pending(2);
        acks.release(3);
        let waiter = tokio::spawn({
            let acks = Arc::clone(&acks);
            async move { acks.all_answered().await }
        });
        let mut answered = answered;
        answered.answer = Some(Ok((0, 7)));
        drop(answered);
        refused.refused(KafkaError::Canceled);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "one position is still outstanding");
        drop(dropped);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .expect("no panic");
        assert!(matches!(acks.answer(0), Some(Ok((0, 7)))));
        assert!(matches!(acks.answer(1), Some(Err(KafkaError::Canceled))));
        assert!(matches!(acks.answer(2), Some(Err(KafkaError::Canceled))));
        assert!(acks.answer(3).is_none());
    }
}
