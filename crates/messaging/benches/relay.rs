//! Relay throughput against a raw producer, and end-to-end lag at a steady rate, in one run on
//! the same broker and database. Prints figures; run with `cargo bench -p messaging --bench relay`
//! (needs PostgreSQL and the broker `./dev test` starts, or `KAFKA_BROKERS`).
//!
//! 1. raw: the idempotent producer sends N messages exactly like the relay's (key, the same
//!    headers, the envelope) and awaits every acknowledgement, counted by its delivery callback
//!    as the relay counts a chunk's — the ceiling. The same messages without headers are also
//!    timed and reported, for comparison with earlier figures.
//!    rdkafka's `FutureProducer` (a future per message, as its documentation produces) is timed
//!    too and the relay reported against it as well.
//! 2. relay: N outbox rows committed at once are drained by one warm relay (claim, publish,
//!    mark) — events/s, reported as a ratio of the raw figure. Both producers are warmed up first;
//!    raw and relay alternate for several rounds and the median ratio is reported (`RELAY_WORKERS`,
//!    `RELAY_BATCH_SIZE`, `RELAY_BUCKETS_PER_CYCLE`, `RELAY_CHUNKS_IN_FLIGHT` tune the relay).
//! 3. lag: a writer commits events at a steady rate for a fixed time while the relay runs and a
//!    consumer reads them; lag = consumer receive time − event `occurredAt`; p50/p99.
//!
//! On Linux it also prints the CPU time per event of each timed phase — this process,
//! PostgreSQL, and the rest of the machine (the broker) — with this process split into librdkafka's
//! threads, the delivery-callback thread and the rest, and this process's context switches
//! per event, so a ratio comes with its cause.

#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common_kernel::context::{ActorType, RequestContext};
use common_kernel::ids::{ActorId, TenantId};
use common_kernel::outbox::{self, NewEvent};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::FromClientConfigAndContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Header, Message as _, OwnedHeaders};
use rdkafka::producer::{
    BaseRecord, DeliveryResult, FutureProducer, FutureRecord, ProducerContext, ThreadedProducer,
};
use rdkafka::util::Timeout;
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::sync::Notify;

const RATE_PER_SECOND: usize = 1_000;
const LAG_SECONDS: u64 = 10;
/// Partitions of every bench topic.
const TOPIC_PARTITIONS: i32 = 3;

fn context() -> RequestContext {
    RequestContext {
        correlation_id: "bench".into(),
        business_transaction_id: "bench".into(),
        ..RequestContext::system(
            TenantId::parse("bench").unwrap(),
            ActorId::parse("bench").unwrap(),
            ActorType::BatchProcess,
            "BENCH",
            common_kernel::access::Authority::default(),
        )
    }
}

async fn topic(brokers: &str, name: &str) -> &'static str {
    let topic = format!("bench.{name}.{}.v1", uuid::Uuid::now_v7().simple());
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    for result in admin
        .create_topics(
            &[NewTopic::new(
                &topic,
                TOPIC_PARTITIONS,
                TopicReplication::Fixed(1),
            )],
            &AdminOptions::new(),
        )
        .await
        .unwrap()
    {
        result.unwrap();
    }
    Box::leak(topic.into_boxed_str())
}

fn event(topic: &'static str, n: usize) -> NewEvent {
    let key = format!("order-{}", n % 100);
    NewEvent {
        event_type: "bench.order.changed.v1",
        event_version: 1,
        topic,
        aggregate_type: "Order",
        aggregate_id: key.clone(),
        aggregate_version: i64::try_from(n + 1).unwrap(),
        partition_key: key,
        payload: json!({"n": n, "status": "IN_PROGRESS", "items": [{"sku": "INTERNET-1G", "quantity": 1}]}),
    }
}

async fn write(pool: &PgPool, topic: &'static str, from: usize, count: usize) {
    let ctx = context();
    let mut tx = pool.begin().await.unwrap();
    for n in from..from + count {
        outbox::append(&mut tx, &ctx, event(topic, n))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn pending(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM outbox_pending")
        .fetch_one(pool)
        .await
        .unwrap()
}

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// One message as the relay sends it: key, the six headers' values, envelope bytes.
struct Message {
    key: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Message {
    fn of(envelope: &outbox::EventEnvelope) -> Self {
        let mut headers = vec![
            ("eventId", envelope.event_id.to_string()),
            ("eventType", envelope.event_type.clone()),
            ("eventVersion", envelope.event_version.to_string()),
            ("correlationId", envelope.correlation_id.clone()),
            ("causationId", envelope.causation_id.clone()),
        ];
        if let Some(traceparent) = &envelope.traceparent {
            headers.push(("traceparent", traceparent.clone()));
        }
        Self {
            key: envelope.partition_key.clone(),
            headers,
            body: serde_json::to_vec(envelope).unwrap(),
        }
    }

    /// The headers as the relay builds them: one `OwnedHeaders` per message.
    fn kafka_headers(&self) -> OwnedHeaders {
        self.headers.iter().fold(
            OwnedHeaders::new_with_capacity(self.headers.len()),
            |headers, (key, value)| {
                headers.insert(Header {
                    key,
                    value: Some(value.as_str()),
                })
            },
        )
    }
}

/// rdkafka's `FutureProducer` with the relay's settings: a future per message, the way rdkafka's
/// documentation and examples produce. Reported beside the ceiling, so the relay's ratio is given
/// against both kinds of raw producer in the same run.
async fn future_producer_rate(
    producer: &FutureProducer,
    topic: &'static str,
    messages: &[Message],
) -> f64 {
    let started = Instant::now();
    let mut deliveries = Vec::with_capacity(messages.len());
    for message in messages {
        let record = FutureRecord::to(topic)
            .key(message.key.as_bytes())
            .payload(&message.body)
            .headers(message.kafka_headers());
        deliveries.push(producer.send(record, Timeout::Never));
    }
    for delivery in futures::future::join_all(deliveries).await {
        assert!(delivery.is_ok(), "the broker refused a message");
    }
    messages.len() as f64 / started.elapsed().as_secs_f64()
}

/// Counts the broker's answers for the raw producer, which waits for all of them at once: the
/// cheapest way rdkafka offers to learn that N messages were acknowledged (no future or channel
/// per message, one wake at the end), and the way the relay collects a chunk's answers too.
#[derive(Default)]
struct Answers {
    answered: AtomicUsize,
    failed: AtomicUsize,
    expected: AtomicUsize,
    all_in: Notify,
}

/// Delivery reports into [`Answers`].
struct CountingContext(Arc<Answers>);

impl ClientContext for CountingContext {}

impl ProducerContext for CountingContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, (): ()) {
        if result.is_err() {
            self.0.failed.fetch_add(1, Ordering::Relaxed);
        }
        let answered = self.0.answered.fetch_add(1, Ordering::AcqRel) + 1;
        if answered == self.0.expected.load(Ordering::Acquire) {
            self.0.all_in.notify_one();
        }
    }
}

/// The raw producer: the relay's idempotent settings, answers counted.
struct RawProducer {
    producer: ThreadedProducer<CountingContext>,
    answers: Arc<Answers>,
}

impl RawProducer {
    fn new(brokers: &str) -> Self {
        let answers = Arc::new(Answers::default());
        let producer = ThreadedProducer::from_config_and_context(
            &messaging::producer::idempotent_config(brokers),
            CountingContext(answers.clone()),
        )
        .unwrap();
        Self { producer, answers }
    }

    /// Sends every message, building its headers as the relay does (or none), and awaits every
    /// acknowledgement; events per second.
    async fn rate(&self, topic: &'static str, messages: &[Message], with_headers: bool) -> f64 {
        let started = Instant::now();
        self.answers.answered.store(0, Ordering::Release);
        self.answers
            .expected
            .store(messages.len(), Ordering::Release);
        for message in messages {
            loop {
                let record = BaseRecord::to(topic)
                    .key(message.key.as_bytes())
                    .payload(&message.body);
                let record = if with_headers {
                    record.headers(message.kafka_headers())
                } else {
                    record
                };
                match self.producer.send(record) {
                    Ok(()) => break,
                    Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
                }
            }
        }
        while self.answers.answered.load(Ordering::Acquire) < messages.len() {
            self.answers.all_in.notified().await;
        }
        assert_eq!(
            self.answers.failed.load(Ordering::Acquire),
            0,
            "the broker refused messages"
        );
        messages.len() as f64 / started.elapsed().as_secs_f64()
    }
}

/// CPU time used so far, in seconds, as Linux's `/proc` reports it: this process (producer and
/// relay), PostgreSQL's server processes, and the whole machine's busy time. It shows where a
/// phase's CPU went, per event, so a ratio can be explained and not only stated.
#[derive(Clone, Copy, Debug, Default)]
struct CpuTime {
    own: f64,
    database: f64,
    machine: f64,
    /// Times this process's threads were switched out (slept or were preempted): a thread that
    /// keeps being put to sleep and woken spends its CPU in the scheduler.
    switches: f64,
    /// Of `own`: librdkafka's threads, and the thread running delivery callbacks.
    librdkafka: f64,
    delivery: f64,
}

impl CpuTime {
    /// `None` where `/proc` is not Linux's.
    fn now() -> Option<Self> {
        // USER_HZ, the unit of /proc's CPU times, is 100 on Linux's user-space ABI.
        const TICKS_PER_SECOND: f64 = 100.0;
        let own = process_ticks(Path::new("/proc/self/stat"))?;
        let mut database = 0;
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let path = entry.path();
            let is_process = entry
                .file_name()
                .to_str()
                .is_some_and(|name| name.bytes().all(|b| b.is_ascii_digit()));
            if is_process
                && std::fs::read_to_string(path.join("comm")).is_ok_and(|c| c.trim() == "postgres")
            {
                database += process_ticks(&path.join("stat")).unwrap_or(0);
            }
        }
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let cpu: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .take(8)
            .filter_map(|v| v.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
        let busy = cpu.iter().sum::<u64>() - cpu.get(3)? - cpu.get(4)?;
        let threads = own_threads();
        Some(Self {
            own: own as f64 / TICKS_PER_SECOND,
            switches: threads.switches as f64,
            librdkafka: threads.librdkafka_ticks as f64 / TICKS_PER_SECOND,
            delivery: threads.delivery_ticks as f64 / TICKS_PER_SECOND,
            database: database as f64 / TICKS_PER_SECOND,
            machine: busy as f64 / TICKS_PER_SECOND,
        })
    }

    fn since(self, earlier: Self) -> Self {
        Self {
            own: self.own - earlier.own,
            switches: self.switches - earlier.switches,
            librdkafka: self.librdkafka - earlier.librdkafka,
            delivery: self.delivery - earlier.delivery,
            database: self.database - earlier.database,
            machine: self.machine - earlier.machine,
        }
    }

    fn add(&mut self, other: Self) {
        self.own += other.own;
        self.switches += other.switches;
        self.librdkafka += other.librdkafka;
        self.delivery += other.delivery;
        self.database += other.database;
        self.machine += other.machine;
    }

    /// Microseconds of CPU per event: this process, PostgreSQL, everything else (the broker).
    fn per_event(self, events: usize) -> String {
        let micros = |seconds: f64| seconds * 1e6 / events as f64;
        format!(
            "{:.1} µs in this process (librdkafka's threads {:.1}, delivery callbacks {:.1}, the rest {:.1}; {:.2} context switches) + {:.1} µs PostgreSQL + {:.1} µs elsewhere (broker) = {:.1} µs",
            micros(self.own),
            micros(self.librdkafka),
            micros(self.delivery),
            micros(self.own - self.librdkafka - self.delivery),
            self.switches / events as f64,
            micros(self.database),
            micros(self.machine - self.own - self.database),
            micros(self.machine)
        )
    }
}

/// What this process's threads did so far, from each thread's `status` and `stat` files:
/// context switches, and the CPU ticks of librdkafka's own threads (named `rdk:…`: they build
/// produce requests and read the broker's answers) and of rdkafka's polling thread (it runs the
/// delivery callbacks).
#[derive(Default)]
struct ThreadTotals {
    switches: u64,
    librdkafka_ticks: u64,
    delivery_ticks: u64,
}

fn own_threads() -> ThreadTotals {
    let mut totals = ThreadTotals::default();
    let Ok(threads) = std::fs::read_dir("/proc/self/task") else {
        return totals;
    };
    for thread in threads.flatten() {
        let path = thread.path();
        if let Ok(status) = std::fs::read_to_string(path.join("status")) {
            totals.switches += status
                .lines()
                .filter(|line| line.contains("ctxt_switches:"))
                .filter_map(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>();
        }
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let ticks = process_ticks(&path.join("stat")).unwrap_or(0);
        if name.starts_with("rdk:") {
            totals.librdkafka_ticks += ticks;
        } else if name.starts_with("producer poll") {
            totals.delivery_ticks += ticks;
        }
    }
    totals
}

/// User plus system ticks of one process, from its `stat` file.
fn process_ticks(path: &Path) -> Option<u64> {
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces; the fields after it are space-separated, utime and stime
    // being the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Runs a phase and adds the CPU it used to `total`.
async fn measured<T>(total: &mut CpuTime, phase: impl std::future::Future<Output = T>) -> T {
    let before = CpuTime::now();
    let outcome = phase.await;
    if let (Some(before), Some(after)) = (before, CpuTime::now()) {
        total.add(after.since(before));
    }
    outcome
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let _telemetry =
        common_kernel::telemetry::init("relay-bench", common_kernel::settings::LogFormat::Pretty);
    // The relay records its metrics as it would in a service, where a recorder is installed.
    common_kernel::http::metrics::recorder();
    let brokers = test_support::kafka_brokers();
    let platform = Path::new(messaging::schema::MIGRATIONS_DIR);
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/catalog");
    let dirs = [platform, &migrations];
    let database =
        test_support::TestDatabase::from_template_of("catalog", &dirs, |url| async move {
            let settings = settings(&url);
            let pool = common_kernel::db::connect(&settings.database, catalog::SCHEMA)
                .await
                .unwrap();
            messaging::schema::migrate(&pool, catalog::SCHEMA, &catalog::MIGRATOR)
                .await
                .unwrap();
            pool.close().await;
        })
        .await;
    let pool = common_kernel::db::connect(&settings(&database.url).database, catalog::SCHEMA)
        .await
        .unwrap();

    // 1. Raw producer ceiling, with the same envelope bytes the relay sends.
    let raw_topic = topic(&brokers, "raw").await;
    let ctx = context();
    // Rounds and their size (`RELAY_BENCH_ROUNDS`, `RELAY_BENCH_EVENTS`): longer rounds make each
    // ratio less sensitive to a scheduling hiccup on a small machine.
    let rounds: usize = env_number("RELAY_BENCH_ROUNDS").unwrap_or(5);
    let events: usize = env_number("RELAY_BENCH_EVENTS").unwrap_or(20_000);
    let messages: Vec<Message> = (0..events)
        .map(|n| Message::of(&outbox::envelope(&ctx, event(raw_topic, n), Utc::now())))
        .collect();
    let raw_producer = RawProducer::new(&brokers);
    // Warm up: producer id, connection and topic metadata are one-time costs for both sides.
    raw_producer.rate(raw_topic, &messages[..1], false).await;
    let future_producer: FutureProducer = messaging::producer::idempotent_config(&brokers)
        .create()
        .unwrap();
    future_producer_rate(&future_producer, raw_topic, &messages[..1]).await;

    // 2. Relay draining committed rows: a warm relay, then `events` rows committed at once.
    let relay_topic = topic(&brokers, "relay").await;
    let mut config = messaging::relay::RelayConfig::new(catalog::SCHEMA, &brokers);
    if let Some(workers) = env_number("RELAY_WORKERS") {
        config.workers = workers;
    }
    if let Some(buckets) = env_number("RELAY_BUCKETS_PER_CYCLE") {
        config.buckets_per_cycle = buckets;
    }
    if let Some(size) = env_number("RELAY_BATCH_SIZE") {
        config.batch_size = size;
    }
    if let Some(chunks) = env_number("RELAY_CHUNKS_IN_FLIGHT") {
        config.chunks_in_flight = chunks;
    }
    let relay = messaging::relay::spawn(pool.clone(), config.clone()).unwrap();
    write(&pool, relay_topic, 0, 1).await;
    while pending(&pool).await > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // Raw and relay alternate, so both see the same machine; the ratio is taken per round and
    // its median reported.
    let mut ratios = Vec::with_capacity(rounds);
    let mut bare_ratios = Vec::with_capacity(rounds);
    let mut future_ratios = Vec::with_capacity(rounds);
    let (mut raw_cpu, mut bare_cpu, mut future_cpu, mut relay_cpu) = Default::default();
    for round in 1..=rounds {
        let raw = measured(&mut raw_cpu, raw_producer.rate(raw_topic, &messages, true)).await;
        let bare = measured(
            &mut bare_cpu,
            raw_producer.rate(raw_topic, &messages, false),
        )
        .await;
        let future = measured(
            &mut future_cpu,
            future_producer_rate(&future_producer, raw_topic, &messages),
        )
        .await;
        let before = relay.published();
        write(&pool, relay_topic, round * events, events).await;
        let relayed = measured(&mut relay_cpu, async {
            let started = Instant::now();
            // Watching the relay's own counter costs the database nothing; counting the queue
            // every few milliseconds would take CPU from the relay it measures. The counter
            // moves only after the deletions committed; the queue is checked once afterwards,
            // untimed.
            while relay.published() < before + events as u64 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            events as f64 / started.elapsed().as_secs_f64()
        })
        .await;
        assert_eq!(pending(&pool).await, 0, "the relay left rows in the queue");
        ratios.push(relayed / raw);
        bare_ratios.push(relayed / bare);
        future_ratios.push(relayed / future);
        println!(
            "round {round}: raw idempotent producer {raw:.0} events/s ({bare:.0} without headers, {future:.0} with a future per message), outbox relay {relayed:.0} events/s = {:.2}x raw ({:.2}x the header-less producer, {:.2}x the future-per-message producer)",
            relayed / raw,
            relayed / bare,
            relayed / future
        );
    }
    ratios.sort_by(f64::total_cmp);
    bare_ratios.sort_by(f64::total_cmp);
    future_ratios.sort_by(f64::total_cmp);
    println!(
        "relay/raw over {rounds} rounds of {events} events ({} relay loops, batch {}, {} buckets per claim, {} chunks in flight): median {:.2}x, range {:.2}x..{:.2}x; against the same producer sending no headers: median {:.2}x; against rdkafka's FutureProducer (a future per message): median {:.2}x",
        config.workers,
        config.batch_size,
        config.buckets_per_cycle,
        config.chunks_in_flight,
        ratios[rounds / 2],
        ratios[0],
        ratios[rounds - 1],
        bare_ratios[rounds / 2],
        future_ratios[rounds / 2]
    );
    if CpuTime::now().is_some() {
        println!(
            "CPU per event, all rounds: raw producer {}; relay {}; producer without headers {}; future-per-message producer {}",
            raw_cpu.per_event(rounds * events),
            relay_cpu.per_event(rounds * events),
            bare_cpu.per_event(rounds * events),
            future_cpu.per_event(rounds * events)
        );
    }

    // 3. End-to-end lag at a steady rate.
    let lag_topic = topic(&brokers, "lag").await;
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", format!("bench-{}", uuid::Uuid::now_v7()))
        // The broker holds a fetch until fetch.wait.max.ms even when data is there; keep the
        // reader from adding its own wait to the relay's lag.
        .set("fetch.wait.max.ms", "10")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    // Every partition from offset 0, not the broker's "earliest": tansu answers that with the
    // batch written first in time, which is not the first batch when producers race (ADR 0009).
    let mut assignment = TopicPartitionList::new();
    for partition in 0..TOPIC_PARTITIONS {
        assignment
            .add_partition_offset(lag_topic, partition, Offset::Offset(0))
            .unwrap();
    }
    consumer.assign(&assignment).unwrap();
    let total = RATE_PER_SECOND * usize::try_from(LAG_SECONDS).unwrap();
    let writer_pool = pool.clone();
    let writer = tokio::spawn(async move {
        let per_tick = RATE_PER_SECOND / 100;
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        for step in 0..total / per_tick {
            tick.tick().await;
            write(&writer_pool, lag_topic, step * per_tick, per_tick).await;
        }
    });
    let mut lags = Vec::with_capacity(total);
    let mut seen: HashMap<String, ()> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(LAG_SECONDS + 60);
    while seen.len() < total && Instant::now() < deadline {
        let Ok(Ok(message)) = tokio::time::timeout(Duration::from_secs(1), consumer.recv()).await
        else {
            continue;
        };
        let received = Utc::now();
        let Some(body) = message
            .payload()
            .and_then(|p| serde_json::from_slice::<Value>(p).ok())
        else {
            continue;
        };
        let id = body["eventId"].as_str().unwrap_or_default().to_owned();
        if seen.insert(id, ()).is_none()
            && let Some(occurred) = body["occurredAt"]
                .as_str()
                .and_then(|t| t.parse::<DateTime<Utc>>().ok())
        {
            lags.push((received - occurred).to_std().unwrap_or_default());
        }
    }
    writer.await.unwrap();
    relay.shutdown().await;
    lags.sort();
    println!(
        "end-to-end lag at {RATE_PER_SECOND} events/s for {LAG_SECONDS} s: {} events, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lags.len(),
        percentile(&lags, 0.50).as_secs_f64() * 1000.0,
        percentile(&lags, 0.99).as_secs_f64() * 1000.0,
        lags.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
    );
    pool.close().await;
}

fn settings(url: &str) -> common_kernel::settings::Settings {
    let vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", url.to_owned()),
        ("REDIS_URL", "disabled".to_owned()),
        ("APP__DATABASE__MAX_CONNECTIONS", "8".to_owned()),
        // The bench serves no HTTP: the issuer is required by the settings, never called.
        ("OIDC_ISSUER", "http://127.0.0.1:9".to_owned()),
    ]);
    common_kernel::settings::Settings::from_lookup("relay-bench", 0, |k| vars.get(k).cloned())
        .unwrap()
}
