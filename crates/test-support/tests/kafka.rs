//! The Kafka test infrastructure against real processes: the proxy with a plain TCP echo server,
//! and a private broker through rdkafka, directly and behind the proxy.

#![expect(clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use test_support::{KafkaProcess, TcpProxy, free_port};

/// A server that echoes every byte back, one thread per connection.
fn echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind echo server");
    let address = listener.local_addr().expect("echo address").to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buffer = [0_u8; 1024];
                while let Ok(read) = stream.read(&mut buffer) {
                    if read == 0 || stream.write_all(&buffer[..read]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    address
}

fn connect(address: &str) -> TcpStream {
    let stream = TcpStream::connect(address).expect("connect to the proxy");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    stream
}

/// Sends `text` and returns what came back; `None` when the connection was closed instead.
fn round_trip(stream: &mut TcpStream, text: &str) -> Option<String> {
    stream.write_all(text.as_bytes()).ok()?;
    let mut buffer = vec![0_u8; text.len()];
    stream.read_exact(&mut buffer).ok()?;
    String::from_utf8(buffer).ok()
}

#[test]
fn proxy_forwards_cuts_and_restores_connections() {
    let proxy = TcpProxy::start(&echo_server());

    let mut before = connect(&proxy.address());
    assert_eq!(round_trip(&mut before, "hello").as_deref(), Some("hello"));
    assert_eq!(proxy.open_connections(), 1);

    proxy.block();
    assert_eq!(proxy.open_connections(), 0);
    assert_eq!(
        round_trip(&mut before, "lost"),
        None,
        "existing connection survived the cut"
    );
    let mut during = connect(&proxy.address());
    assert_eq!(
        round_trip(&mut during, "lost"),
        None,
        "a new connection got through the cut"
    );

    proxy.unblock();
    let mut after = connect(&proxy.address());
    assert_eq!(round_trip(&mut after, "again").as_deref(), Some("again"));
}

fn admin(brokers: &str) -> AdminClient<DefaultClientContext> {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin client")
}

async fn create_topic(brokers: &str, topic: &str) {
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    let results = admin(brokers)
        .create_topics(
            &[NewTopic::new(topic, 1, TopicReplication::Fixed(-1))],
            &options,
        )
        .await
        .expect("create topics request");
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => panic!("creating {name} failed: {code}"),
        }
    }
}

/// The producer configuration the outbox relay uses: idempotent, acknowledged by all replicas.
fn producer(brokers: &str, message_timeout: Duration) -> FutureProducer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set(
            "message.timeout.ms",
            message_timeout.as_millis().to_string(),
        )
        .set("reconnect.backoff.max.ms", "500")
        .create()
        .expect("producer")
}

async fn produce(
    producer: &FutureProducer,
    topic: &str,
    key: &str,
    payload: &str,
) -> Result<(), String> {
    producer
        .send(
            FutureRecord::to(topic).key(key).payload(payload),
            Timeout::Never,
        )
        .await
        .map(|_| ())
        .map_err(|(error, _)| error.to_string())
}

/// Reads the first message of `topic` from the beginning, with a fresh group.
async fn consume_first(brokers: &str, topic: &str) -> (String, String) {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("test-{}", free_port()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let message = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
        .await
        .expect("no message within 30 s")
        .expect("consume");
    let text =
        |bytes: Option<&[u8]>| String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned();
    let read = (text(message.key()), text(message.payload()));
    drop(message);
    consumer.unsubscribe();
    read
}

#[tokio::test]
async fn private_broker_produces_and_consumes() {
    let kafka = KafkaProcess::start();
    let brokers = kafka.brokers();
    create_topic(&brokers, "test.private.events.v1").await;

    let producer = producer(&brokers, Duration::from_secs(10));
    produce(&producer, "test.private.events.v1", "key-1", "payload-1")
        .await
        .expect("produce");

    assert_eq!(
        consume_first(&brokers, "test.private.events.v1").await,
        ("key-1".to_owned(), "payload-1".to_owned())
    );
}

#[tokio::test]
async fn broker_behind_a_cut_proxy_is_unreachable_until_unblocked() {
    let listener_port = free_port();
    let proxy = TcpProxy::start(&format!("127.0.0.1:{listener_port}"));
    let kafka = KafkaProcess::start_advertising(listener_port, &proxy.address());
    let brokers = kafka.brokers();
    assert_eq!(brokers, proxy.address());
    create_topic(&brokers, "test.cut.events.v1").await;

    // A cut shorter than the message timeout: the send waits and completes after the cut.
    let patient = producer(&brokers, Duration::from_secs(15));
    produce(&patient, "test.cut.events.v1", "k", "before")
        .await
        .expect("produce before the cut");
    proxy.block();
    let pending = tokio::spawn({
        let patient = patient.clone();
        async move { produce(&patient, "test.cut.events.v1", "k", "short cut").await }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !pending.is_finished(),
        "a message was delivered through a cut proxy"
    );
    proxy.unblock();
    pending
        .await
        .expect("send task")
        .expect("a short cut delays delivery but does not fail it");

    // A cut longer than the message timeout fails the send. The local broker cannot bump an
    // idempotent producer's epoch afterwards, so that producer stays fenced (ADR 0009); a new
    // producer delivers.
    let hasty = producer(&brokers, Duration::from_secs(2));
    proxy.block();
    let during = produce(&hasty, "test.cut.events.v1", "k", "long cut").await;
    assert!(
        during.is_err(),
        "a message was delivered through a cut proxy"
    );
    proxy.unblock();
    let fresh = producer(&brokers, Duration::from_secs(10));
    produce(&fresh, "test.cut.events.v1", "k", "after")
        .await
        .expect("produce after the cut");
}

#[tokio::test]
async fn restart_brings_back_an_empty_broker_on_the_same_port() {
    let mut kafka = KafkaProcess::start();
    let brokers = kafka.brokers();
    create_topic(&brokers, "test.restart.events.v1").await;

    kafka.restart();
    assert_eq!(kafka.brokers(), brokers);
    let metadata = admin(&brokers)
        .inner()
        .fetch_metadata(None, Duration::from_secs(10))
        .expect("metadata after restart");
    let topics: Vec<&str> = metadata.topics().iter().map(|t| t.name()).collect();
    assert!(
        !topics.contains(&"test.restart.events.v1"),
        "memory storage kept a topic across a restart: {topics:?}"
    );
}
