//! Kafka for the local stack: the declared topics must exist before any service publishes, because
//! no environment lets producers auto-create topics.

use anyhow::{Context, Result};
use messaging::topics::{self, TopicSpec};

use crate::database;
use crate::say;
use crate::settings;

/// What happened to one declared topic.
#[derive(Debug, PartialEq, Eq)]
pub enum TopicState {
    /// This run created it.
    Created,
    /// The broker already had it; it was left as it was.
    Present,
}

/// How much [`ensure_topics`] prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// One line per declared topic (`devstack topics`).
    EveryTopic,
    /// One line per created topic and a count of the others (`devstack up`, where `./dev` has
    /// usually just listed them).
    Changes,
}

/// Creates the declared topics that are missing on `brokers` and prints what it did.
///
/// Fails when the broker is unreachable or refuses a topic; callers that can live without Kafka
/// decide whether that is fatal.
pub async fn ensure_topics(brokers: &str, report: Report) -> Result<Vec<(TopicSpec, TopicState)>> {
    let declared = topics::declared().context("the declared topic list is invalid")?;
    say(&format!(
        "==> Kafka at {brokers} (KAFKA_BROKERS): {} declared topics (contracts/topics.json)",
        declared.len()
    ));
    let endpoint = settings::kafka_endpoint(brokers)?;
    database::check_tcp(&endpoint).await.map_err(|why| {
        anyhow::anyhow!(
            "Kafka is not reachable at {endpoint} ({why}). Start it with ./dev up (which starts a \
             local broker), or set KAFKA_BROKERS to a running cluster"
        )
    })?;
    let created = topics::ensure_topics(brokers, &declared)
        .await
        .with_context(|| format!("could not create the declared topics on {brokers}"))?;
    let states: Vec<(TopicSpec, TopicState)> = declared
        .into_iter()
        .map(|spec| {
            let state = if created.contains(&spec.topic) {
                TopicState::Created
            } else {
                TopicState::Present
            };
            (spec, state)
        })
        .collect();
    let mut present = 0;
    for (spec, state) in &states {
        let label = match state {
            TopicState::Created => "created",
            TopicState::Present => {
                present += 1;
                if report == Report::Changes {
                    continue;
                }
                "present"
            }
        };
        say(&format!(
            "    {label:<8} {:<42} {} partitions, key {}",
            spec.topic, spec.partitions, spec.key
        ));
    }
    if report == Report::Changes && present > 0 {
        say(&format!("    {present} topics already present"));
    }
    Ok(states)
}
