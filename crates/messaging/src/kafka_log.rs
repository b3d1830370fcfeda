//! librdkafka's log lines and client errors, as tracing events.
//!
//! rust-rdkafka hands librdkafka's messages to the `log` crate, which nothing in the platform
//! records (the tracing subscriber runs without a `log` bridge), and it derives librdkafka's own
//! log level from `log`'s, which then means errors only. So a producer that retried, lost its
//! broker or reset its idempotence state said nothing in any service's log. Every Kafka client the
//! platform creates starts from [`client_config`] and a context that logs through [`log`] and
//! [`error`] instead.

use rdkafka::ClientConfig;
use rdkafka::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;

/// librdkafka logs warnings and worse: retries, reconnects and idempotence resets, not the
/// chatter of normal operation.
pub const LOG_LEVEL: RDKafkaLogLevel = RDKafkaLogLevel::Warning;

/// A client configuration for `brokers` whose librdkafka logs at [`LOG_LEVEL`].
pub fn client_config(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set_log_level(LOG_LEVEL);
    config
}

/// Records one librdkafka log line, under the target `librdkafka` with its facility.
pub fn log(level: RDKafkaLogLevel, facility: &str, message: &str) {
    match level {
        RDKafkaLogLevel::Emerg
        | RDKafkaLogLevel::Alert
        | RDKafkaLogLevel::Critical
        | RDKafkaLogLevel::Error => {
            tracing::error!(target: "librdkafka", facility, "{message}");
        }
        RDKafkaLogLevel::Warning => tracing::warn!(target: "librdkafka", facility, "{message}"),
        RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
            tracing::info!(target: "librdkafka", facility, "{message}");
        }
        RDKafkaLogLevel::Debug => tracing::debug!(target: "librdkafka", facility, "{message}"),
    }
}

/// Records a client-wide error. librdkafka recovers from most of them by itself (a broker
/// going away, say), so only a fatal one is logged as an error.
pub fn error(error: &KafkaError, reason: &str) {
    if matches!(
        error.rdkafka_error_code(),
        Some(rdkafka::types::RDKafkaErrorCode::Fatal)
    ) {
        tracing::error!(target: "librdkafka", %error, reason, "fatal Kafka client error");
    } else {
        tracing::warn!(target: "librdkafka", %error, reason, "Kafka client error; librdkafka retries");
    }
}

/// The context of clients that need no callbacks of their own (consumers, the admin client).
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingContext;

impl ClientContext for TracingContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        log(level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        self::error(&error, reason);
    }
}

impl ConsumerContext for TracingContext {}

#[cfg(test)]
mod tests {
    use std::sync::{Mutex, OnceLock};
    use std::time::{Duration, Instant};

    use rdkafka::consumer::{BaseConsumer, Consumer};
    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, SubscriberExt};

    use super::*;

    /// Events recorded under the `librdkafka` target: level and rendered fields.
    static RECORDED: Mutex<Vec<(tracing::Level, String)>> = Mutex::new(Vec::new());

    struct Recorder;

    struct Fields(String);

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.push_str(&format!("{}={value:?} ", field.name()));
        }
    }

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Recorder {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            if event.metadata().target() == "librdkafka" {
                let mut fields = Fields(String::new());
                event.record(&mut fields);
                if let Ok(mut recorded) = RECORDED.lock() {
                    recorded.push((*event.metadata().level(), fields.0));
                }
            }
        }
    }

    /// librdkafka calls back from its own threads, so the recorder is the process's default.
    fn record_globally() {
        static INSTALLED: OnceLock<()> = OnceLock::new();
        INSTALLED.get_or_init(|| {
            let _ = tracing::subscriber::set_global_default(
                tracing_subscriber::registry().with(Recorder),
            );
        });
    }

    #[test]
    fn a_client_that_cannot_reach_its_broker_says_so_through_tracing() {
        record_globally();
        let consumer: BaseConsumer<TracingContext> = client_config("127.0.0.1:1")
            .set("group.id", "kafka-log-test")
            .set("reconnect.backoff.ms", "10")
            .create_with_context(TracingContext)
            .unwrap();
        consumer.subscribe(&["kafka-log-test"]).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let refused = || {
            RECORDED.lock().is_ok_and(|recorded| {
                recorded.iter().any(|(level, fields)| {
                    *level <= tracing::Level::WARN && fields.contains("127.0.0.1:1")
                })
            })
        };
        while !refused() && Instant::now() < deadline {
            let _ = consumer.poll(Duration::from_millis(50));
        }
        let recorded = RECORDED.lock().map(|r| r.clone()).unwrap_or_default();
        assert!(
            refused(),
            "the refused connection was logged at warning or worse; recorded: {recorded:?}"
        );
    }
}
