//! Kafka for tests: the shared broker, or a private `tansu` broker a test may kill, restart or
//! put behind a [`crate::TcpProxy`] to prove that publishing survives an outage.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where `./dev` starts the shared local broker.
const SHARED_PORT: u16 = 9092;

/// How `./dev` installs the broker; repeated in every message about a missing one.
pub const TANSU_INSTALL: &str = "cargo install tansu --locked --features dynostore";

/// How long a private broker may take to open its port.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Bootstrap servers of the Kafka tests share: `KAFKA_BROKERS`, else the broker `./dev` starts on
/// 127.0.0.1:9092. Tests that publish need a broker, so there is no silent skip.
pub fn kafka_brokers() -> String {
    if let Ok(brokers) = std::env::var("KAFKA_BROKERS")
        && !brokers.trim().is_empty()
    {
        return brokers.trim().to_owned();
    }
    if crate::port_open(SHARED_PORT) {
        return format!("127.0.0.1:{SHARED_PORT}");
    }
    panic!(
        "No Kafka for tests: nothing answers on 127.0.0.1:{SHARED_PORT} and KAFKA_BROKERS is unset. \
         Run the tests through `./dev test` (it installs and starts a local broker), start one with \
         `./dev up`, or install the broker yourself with `{TANSU_INSTALL}` and set KAFKA_BROKERS"
    )
}

/// A private Kafka-protocol broker (`tansu`, in-memory storage) on its own port, for tests that
/// must break Kafka without disturbing the shared broker other tests use.
///
/// The broker listens on [`KafkaProcess::listener_address`] and tells clients, in metadata, to
/// connect to its *advertised* address. By default the two are the same; a test that wants to cut
/// the network without killing the broker advertises the address of a [`crate::TcpProxy`] in
/// front of it (see [`KafkaProcess::start_advertising`]), because clients follow the advertised
/// address after their first bootstrap request.
///
/// The broker's output goes to a log file in the temporary directory, named after the listener
/// port and quoted in every failure message; it is removed when the process is dropped outside a
/// panic.
///
/// Storage is in memory: [`KafkaProcess::restart`] brings back an *empty* broker with no topics
/// and no messages, so a test that restarts must create its topics again and must not expect
/// anything published before the restart to be readable.
#[derive(Debug)]
pub struct KafkaProcess {
    child: Option<Child>,
    listener_port: u16,
    advertised: String,
    log: PathBuf,
}

impl KafkaProcess {
    /// Starts a broker on a free port that advertises itself, and waits until it accepts
    /// connections.
    pub fn start() -> Self {
        let port = crate::free_port();
        Self::start_advertising(port, &format!("127.0.0.1:{port}"))
    }

    /// Starts a broker listening on `127.0.0.1:listener_port` that advertises `advertised`
    /// (`host:port`) to clients, typically the address of a proxy forwarding to the listener.
    pub fn start_advertising(listener_port: u16, advertised: &str) -> Self {
        let log = std::env::temp_dir().join(format!("cpq-oms-tansu-{listener_port}.log"));
        let mut process = Self {
            child: None,
            listener_port,
            advertised: advertised.to_owned(),
            log,
        };
        process.spawn();
        process
    }

    /// The address the broker tells clients to use; what a client's `bootstrap.servers` should be.
    pub fn brokers(&self) -> String {
        self.advertised.clone()
    }

    /// The address the broker process itself listens on (a proxy's target).
    pub fn listener_address(&self) -> String {
        format!("127.0.0.1:{}", self.listener_port)
    }

    /// Kills the broker (SIGKILL: no clean shutdown, as in a crash) and waits until its port is
    /// closed. Everything it held is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while crate::port_open(self.listener_port) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the broker and starts a new one on the same ports. The new broker is empty (memory
    /// storage): topics must be created again.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    fn spawn(&mut self) {
        let log = File::create(&self.log)
            .unwrap_or_else(|e| panic!("cannot create the broker log {}: {e}", self.log.display()));
        let log_err = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot share the broker log: {e}"));
        let child = Command::new("tansu")
            .args([
                "broker",
                "--listener-url",
                &format!("tcp://127.0.0.1:{}", self.listener_port),
                "--advertised-listener-url",
                &format!("tcp://{}", self.advertised),
                "--storage-engine",
                "memory://tansu/",
            ])
            // The broker reads these from the environment too; a test broker must not use a
            // schema registry or telemetry endpoint meant for something else.
            .env_remove("SCHEMA_REGISTRY")
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start `tansu` (install it with `{TANSU_INSTALL}`): {e}")
            });
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        while !crate::port_open(self.listener_port) {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "tansu exited ({status}) before opening port {}; see {}",
                    self.listener_port,
                    self.log.display()
                );
            }
            assert!(
                Instant::now() < deadline,
                "tansu did not open port {} within {} s; see {}",
                self.listener_port,
                START_TIMEOUT.as_secs(),
                self.log.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for KafkaProcess {
    fn drop(&mut self) {
        self.stop();
        // The log only matters when the test failed; then it stays for reading.
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}
