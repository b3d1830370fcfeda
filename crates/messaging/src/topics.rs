//! The declared topic list and the step that makes a broker match it.
//!
//! Topics are never auto-created: a typo in a producer must fail loudly instead of quietly
//! creating a topic nobody consumes, and the local broker cannot auto-create topics anyway.
//! `contracts/topics.json` is the only place a topic, its partition count and its key are
//! declared; every environment (`./dev`, CI, the compose topic-init step) creates exactly that
//! list through [`ensure_topics`].

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use serde::{Deserialize, Serialize};

use crate::kafka_log::TracingContext;

/// The declared list, compiled in so a binary cannot disagree with the contract it was built from.
const DECLARED: &str = include_str!("../../../contracts/topics.json");

/// How long the broker gets to answer the whole creation request. Generous enough for a cluster
/// electing a controller, short enough that `./dev` fails with a message instead of hanging.
const CREATE_TIMEOUT: Duration = Duration::from_secs(20);

/// Replication factor `-1` asks the broker for its `default.replication.factor`, so a production
/// cluster decides durability in its own configuration and a single local broker gets 1.
const BROKER_DEFAULT_REPLICATION: i32 = -1;

/// Kafka's limit on topic name length.
const MAX_TOPIC_NAME: usize = 249;

/// One topic of the event backbone, as declared in `contracts/topics.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicSpec {
    /// The topic name; the `.v<N>` suffix is the contract version, so an incompatible change is
    /// a new topic that consumers move to deliberately.
    pub topic: String,
    /// Partitions bound consumer parallelism and can only grow (which reshuffles keys), so the
    /// count is chosen up front.
    pub partitions: u16,
    /// What producers use as the message key. Ordering is only promised per key, so this is the
    /// thing whose events consumers see in order.
    pub key: String,
    /// The service that owns the topic's contract.
    pub owner: String,
    /// Topic configuration set when the topic is created (e.g. `retention.ms`), for topics whose
    /// contract needs more than the broker's defaults: the audit evidence topic keeps its
    /// messages until the audit service has stored them (ADR 0045). Never changed afterwards.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, String>,
}

/// Why the declared list could not be read or the broker could not be made to match it.
#[derive(Debug, thiserror::Error)]
pub enum TopicsError {
    /// `contracts/topics.json` is not the expected JSON shape.
    #[error("contracts/topics.json is malformed")]
    Malformed(#[source] serde_json::Error),
    /// The file parsed but breaks a rule every topic must follow.
    #[error("contracts/topics.json: {0}")]
    Invalid(String),
    /// The admin client could not be built or the request could not be sent.
    #[error("Kafka admin request to {brokers} failed")]
    Client {
        /// The bootstrap servers that were used.
        brokers: String,
        /// What librdkafka reported.
        #[source]
        source: KafkaError,
    },
    /// No answer within the deadline: usually the broker is not running or not reachable.
    #[error("no answer from Kafka at {brokers} within {} s while creating topics", .after.as_secs())]
    Timeout {
        /// The bootstrap servers that were used.
        brokers: String,
        /// The deadline that passed.
        after: Duration,
    },
    /// The broker answered but refused some topics.
    #[error("Kafka at {brokers} refused to create {}", describe(.failures))]
    Rejected {
        /// The bootstrap servers that were used.
        brokers: String,
        /// Each refused topic with the broker's error code.
        failures: Vec<(String, RDKafkaErrorCode)>,
    },
}

fn describe(failures: &[(String, RDKafkaErrorCode)]) -> String {
    let mut text = String::new();
    for (index, (topic, code)) in failures.iter().enumerate() {
        if index > 0 {
            text.push_str(", ");
        }
        text.push_str(&format!("{topic} ({code})"));
    }
    text
}

impl fmt::Display for TopicSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} partitions, key {}, owner {})",
            self.topic, self.partitions, self.key, self.owner
        )
    }
}

/// The declared topics, checked, so a bad edit to `contracts/topics.json` fails the first test
/// or start-up that reads it rather than surfacing as a broker error later.
pub fn declared() -> Result<Vec<TopicSpec>, TopicsError> {
    parse(DECLARED)
}

fn parse(json: &str) -> Result<Vec<TopicSpec>, TopicsError> {
    let topics: Vec<TopicSpec> = serde_json::from_str(json).map_err(TopicsError::Malformed)?;
    let mut seen = HashSet::new();
    for spec in &topics {
        check_name(&spec.topic)?;
        if !seen.insert(spec.topic.as_str()) {
            return Err(TopicsError::Invalid(format!(
                "{} is declared twice",
                spec.topic
            )));
        }
        if spec.partitions == 0 {
            return Err(TopicsError::Invalid(format!(
                "{} must have at least one partition",
                spec.topic
            )));
        }
        if spec.key.trim().is_empty() || spec.owner.trim().is_empty() {
            return Err(TopicsError::Invalid(format!(
                "{} must name its key and its owner",
                spec.topic
            )));
        }
    }
    Ok(topics)
}

/// Kafka's own naming rules plus ours: a version suffix, so the contract version is visible
/// wherever the name is.
fn check_name(name: &str) -> Result<(), TopicsError> {
    let legal = !name.is_empty()
        && name.len() <= MAX_TOPIC_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !legal {
        return Err(TopicsError::Invalid(format!(
            "{name:?} is not a legal Kafka topic name (ASCII letters, digits, '.', '_', '-'; at most {MAX_TOPIC_NAME})"
        )));
    }
    let versioned = name
        .rsplit_once(".v")
        .is_some_and(|(_, n)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
    if !versioned {
        return Err(TopicsError::Invalid(format!(
            "{name} must end in its contract version (.v1, .v2, ...)"
        )));
    }
    Ok(())
}

/// Creates the topics the broker does not have yet and returns their names; topics that already
/// exist count as success and are left exactly as they are (partition counts are never changed
/// here, because growing a topic moves keys between partitions and must be a deliberate step).
///
/// Safe to run from several processes at once: a concurrent creation shows up as "already
/// exists". Nothing here is specific to the local broker; `brokers` may be any Kafka cluster.
#[tracing::instrument(skip_all, fields(brokers = %brokers, declared = topics.len()), err)]
pub async fn ensure_topics(
    brokers: &str,
    topics: &[TopicSpec],
) -> Result<Vec<String>, TopicsError> {
    ensure_topics_within(brokers, topics, CREATE_TIMEOUT).await
}

async fn ensure_topics_within(
    brokers: &str,
    topics: &[TopicSpec],
    deadline: Duration,
) -> Result<Vec<String>, TopicsError> {
    if topics.is_empty() {
        return Ok(Vec::new());
    }
    let timeout = || TopicsError::Timeout {
        brokers: brokers.to_owned(),
        after: deadline,
    };
    let client_error = |source| TopicsError::Client {
        brokers: brokers.to_owned(),
        source,
    };
    let admin: AdminClient<TracingContext> = crate::kafka_log::client_config(brokers)
        .set("client.id", "cpq-oms-topics")
        .create_with_context(TracingContext)
        .map_err(client_error)?;
    let options = AdminOptions::new()
        .request_timeout(Some(deadline))
        .operation_timeout(Some(deadline));
    let new_topics: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|spec| {
            spec.config.iter().fold(
                NewTopic::new(
                    &spec.topic,
                    i32::from(spec.partitions),
                    TopicReplication::Fixed(BROKER_DEFAULT_REPLICATION),
                ),
                |topic, (key, value)| topic.set(key, value),
            )
        })
        .collect();

    // librdkafka enforces the request timeout itself; the outer deadline only guards against a
    // request that never completes, with a margin so librdkafka's own answer wins when it can.
    let results = tokio::time::timeout(
        deadline + Duration::from_secs(5),
        admin.create_topics(&new_topics, &options),
    )
    .await
    .map_err(|_| timeout())?
    .map_err(|error| match error {
        KafkaError::AdminOp(code) if is_timeout(code) => timeout(),
        other => client_error(other),
    })?;

    let mut created = Vec::new();
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok(topic) => {
                tracing::info!(topic = %topic, "created topic");
                created.push(topic);
            }
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err(failure) => failures.push(failure),
        }
    }
    if created.is_empty() && !failures.is_empty() && failures.iter().all(|(_, c)| is_timeout(*c)) {
        return Err(timeout());
    }
    if failures.is_empty() {
        Ok(created)
    } else {
        Err(TopicsError::Rejected {
            brokers: brokers.to_owned(),
            failures,
        })
    }
}

/// The codes librdkafka and brokers use for "no answer in time".
fn is_timeout(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::RequestTimedOut
            | RDKafkaErrorCode::OperationTimedOut
            | RDKafkaErrorCode::BrokerTransportFailure
            | RDKafkaErrorCode::AllBrokersDown
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_list_parses_and_follows_the_rules() -> Result<(), TopicsError> {
        let topics = declared()?;
        assert!(
            topics.len() >= 13,
            "architecture §6 topics plus the catalog and integration ones"
        );
        let mut names = HashSet::new();
        for spec in &topics {
            assert!(spec.topic.ends_with(".v1"), "{spec}");
            assert!(spec.partitions >= 1, "{spec}");
            assert!(names.insert(spec.topic.clone()), "duplicate {spec}");
        }
        for expected in [
            "catalog.product-offering.events.v1",
            "catalog.price-book.events.v1",
            "catalog.product-specification.events.v1",
            "audit.evidence.events.v1",
            "cpq.quote.events.v1",
            "cpq.approval.events.v1",
            "oms.order.events.v1",
            "oms.fulfillment-task.events.v1",
            "integration.inventory.events.v1",
            "integration.provisioning.events.v1",
            "integration.billing.events.v1",
            "integration.engagement.events.v1",
            "ops.projection-events.v1",
        ] {
            assert!(names.contains(expected), "{expected} is not declared");
        }
        Ok(())
    }

    #[test]
    fn keys_follow_the_architecture() -> Result<(), TopicsError> {
        let key_of = |topic: &str| {
            declared().map(|topics| {
                topics
                    .into_iter()
                    .find(|spec| spec.topic == topic)
                    .map(|spec| spec.key)
            })
        };
        assert_eq!(
            key_of("catalog.product-offering.events.v1")?.as_deref(),
            Some("productOfferingId")
        );
        assert_eq!(
            key_of("audit.evidence.events.v1")?.as_deref(),
            Some("businessTransactionId")
        );
        assert_eq!(key_of("cpq.quote.events.v1")?.as_deref(), Some("quoteId"));
        assert_eq!(key_of("oms.order.events.v1")?.as_deref(), Some("orderId"));
        for topic in [
            "oms.fulfillment-task.events.v1",
            "integration.inventory.events.v1",
            "integration.provisioning.events.v1",
            "integration.billing.events.v1",
            "integration.engagement.events.v1",
        ] {
            assert_eq!(key_of(topic)?.as_deref(), Some("orderId"), "{topic}");
        }
        Ok(())
    }

    /// The compose file creates topics with Kafka's own tool, so it repeats the list; this keeps
    /// the two from drifting apart.
    #[test]
    fn compose_topic_init_matches_the_declared_list() -> Result<(), TopicsError> {
        let compose = include_str!("../../../deploy/docker-compose.yml");
        let created: Vec<&str> = compose
            .lines()
            .map(str::trim)
            .filter(|line| line.starts_with("create "))
            .collect();
        let declared = declared()?;
        let expected: Vec<String> = declared
            .iter()
            .map(|spec| {
                let configs: String = spec
                    .config
                    .iter()
                    .map(|(key, value)| format!(" --config {key}={value}"))
                    .collect();
                format!("create {} {}{configs}", spec.topic, spec.partitions)
            })
            .collect();
        assert_eq!(
            created, expected,
            "deploy/docker-compose.yml (kafka-topics) must create exactly contracts/topics.json, in order"
        );
        Ok(())
    }

    fn spec(topic: &str, partitions: u16) -> TopicSpec {
        TopicSpec {
            topic: topic.to_owned(),
            partitions,
            key: "id".to_owned(),
            owner: "test".to_owned(),
            config: BTreeMap::new(),
        }
    }

    /// Audit evidence stays on the broker until the audit service has stored it (ADR 0045):
    /// its topic never expires messages by age or size.
    #[test]
    fn audit_evidence_is_kept_until_consumed() -> Result<(), TopicsError> {
        let audit = declared()?
            .into_iter()
            .find(|spec| spec.topic == "audit.evidence.events.v1")
            .ok_or_else(|| TopicsError::Invalid("the audit topic is not declared".into()))?;
        assert_eq!(
            audit.config.get("retention.ms").map(String::as_str),
            Some("-1")
        );
        assert_eq!(
            audit.config.get("retention.bytes").map(String::as_str),
            Some("-1")
        );
        Ok(())
    }

    #[tokio::test]
    async fn topic_configuration_is_accepted_by_a_real_broker() -> Result<(), TopicsError> {
        let kafka = test_support::KafkaProcess::start();
        let mut kept = spec("test.kept.events.v1", 3);
        kept.config.insert("retention.ms".into(), "-1".into());
        kept.config.insert("retention.bytes".into(), "-1".into());
        assert_eq!(
            ensure_topics(&kafka.brokers(), &[kept]).await?,
            ["test.kept.events.v1"]
        );
        Ok(())
    }

    #[tokio::test]
    async fn creates_missing_topics_once_on_a_real_broker() -> Result<(), TopicsError> {
        let kafka = test_support::KafkaProcess::start();
        let wanted = [spec("test.a.events.v1", 3), spec("test.b.events.v1", 1)];

        let first = ensure_topics(&kafka.brokers(), &wanted).await?;
        assert_eq!(first, ["test.a.events.v1", "test.b.events.v1"]);
        let again = ensure_topics(&kafka.brokers(), &wanted).await?;
        assert!(again.is_empty(), "created twice: {again:?}");
        let grown = [spec("test.a.events.v1", 3), spec("test.c.events.v1", 2)];
        assert_eq!(
            ensure_topics(&kafka.brokers(), &grown).await?,
            ["test.c.events.v1"]
        );
        Ok(())
    }

    #[tokio::test]
    async fn an_unreachable_broker_times_out() {
        let nobody = format!("127.0.0.1:{}", test_support::free_port());
        let started = std::time::Instant::now();
        let result = ensure_topics_within(
            &nobody,
            &[spec("test.a.events.v1", 1)],
            Duration::from_secs(2),
        )
        .await;
        assert!(
            matches!(result, Err(TopicsError::Timeout { .. })),
            "{result:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn bad_lists_are_refused() {
        let one = |topic: &str, partitions: u16| {
            format!(
                r#"[{{"topic": "{topic}", "partitions": {partitions}, "key": "k", "owner": "o"}}]"#
            )
        };
        assert!(parse(&one("a.events.v1", 3)).is_ok());
        assert!(parse(&one("a.events.v12", 1)).is_ok());
        assert!(matches!(
            parse(&one("a.events", 3)),
            Err(TopicsError::Invalid(_))
        ));
        assert!(matches!(
            parse(&one("a.events.v", 3)),
            Err(TopicsError::Invalid(_))
        ));
        assert!(matches!(
            parse(&one("a events.v1", 3)),
            Err(TopicsError::Invalid(_))
        ));
        assert!(matches!(
            parse(&one("a.events.v1", 0)),
            Err(TopicsError::Invalid(_))
        ));
        let twice = r#"[
            {"topic": "a.v1", "partitions": 1, "key": "k", "owner": "o"},
            {"topic": "a.v1", "partitions": 2, "key": "k", "owner": "o"}
        ]"#;
        assert!(matches!(parse(twice), Err(TopicsError::Invalid(_))));
        let extra = r#"[{"topic": "a.v1", "partitions": 1, "key": "k", "owner": "o", "x": 1}]"#;
        assert!(matches!(parse(extra), Err(TopicsError::Malformed(_))));
        let negative = r#"[{"topic": "a.v1", "partitions": -1, "key": "k", "owner": "o"}]"#;
        assert!(matches!(parse(negative), Err(TopicsError::Malformed(_))));
    }
}
