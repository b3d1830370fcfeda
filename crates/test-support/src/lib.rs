//! Infrastructure for integration tests, real and never mocked.
//!
//! Servers are found in this order: the URL in `DATABASE_URL` / `REDIS_URL`; a server running
//! on this machine's standard port; a container started with `testcontainers` when the crate is
//! built with the `docker` feature and a Docker engine answers; otherwise a panic that says what
//! is missing. Each test gets a fresh database cloned from a migrated template, so tests run in
//! parallel without seeing each other's rows, and the database is dropped when the test ends.
//!
//! Kafka comes from `KAFKA_BROKERS` or the broker `./dev` runs on 127.0.0.1:9092. Fault tests start
//! a private broker ([`KafkaProcess`]) and cut the network to it with a [`TcpProxy`].

#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "test infrastructure fails loudly by design"
)]

mod contract;
#[cfg(feature = "docker")]
mod docker;
mod functions;
mod issuer;
mod kafka;
mod operations;
mod postgres;
mod process;
mod proxy;
mod rate_limits;
mod redis;
mod tenancy;
/// A minimal WebDriver client driving headless Chromium, for end-to-end browser tests.
pub mod webdriver;

pub use contract::{assert_committed_contract, assert_refusals_declared, contract_path};
pub use dev_issuer::{Claims, PublicKeyEncoding, RealmAccess, SigningAlgorithm};
pub use functions::{assert_functions_pin_search_path, functions_without_pinned_search_path};
pub use issuer::TestIssuer;
pub use kafka::{KafkaProcess, TANSU_INSTALL, kafka_brokers};
pub use operations::{Operation, operations};
pub use postgres::{TestDatabase, admin_url};
pub use process::{ServiceProcess, assert_not_logged};
pub use proxy::TcpProxy;
pub use rate_limits::generous_rate_limits;
pub use redis::{RedisProcess, redis_url};
pub use tenancy::{
    PLATFORM_JOBS_GRANTS, TENANT_POLICY, TableIsolation, assert_schema_isolated, role_grants,
    table_isolation,
};

/// Whether something accepts TCP connections on `127.0.0.1:port`.
pub fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        std::time::Duration::from_millis(300),
    )
    .is_ok()
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}
