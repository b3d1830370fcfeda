//! A standalone outbox relay for one service schema, for deployments that run relays apart from
//! the services (and for the fault tests that kill one mid-batch).
//!
//! Environment: `DATABASE_URL`, `RELAY_SCHEMA` (e.g. `catalog_schema`), `KAFKA_BROKERS`,
//! optional `RELAY_LEASE_SECS`, `RELAY_BATCH_SIZE`, `RELAY_POLL_MS`, `RELAY_WORKERS`.

use std::process::ExitCode;
use std::time::Duration;

use common_kernel::settings::Settings;
use messaging::relay::{self, RelayConfig};

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match Settings::from_env("outbox-relay", 0) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("outbox-relay: {error}");
            return ExitCode::FAILURE;
        }
    };
    let _telemetry = common_kernel::telemetry::init("outbox-relay", settings.log_format);
    let Ok(schema) = std::env::var("RELAY_SCHEMA") else {
        eprintln!(
            "outbox-relay: RELAY_SCHEMA is required (the service schema to relay, e.g. catalog_schema)"
        );
        return ExitCode::FAILURE;
    };
    let Some(brokers) = settings.kafka.brokers.clone() else {
        eprintln!("outbox-relay: KAFKA_BROKERS is disabled; nothing to relay to");
        return ExitCode::FAILURE;
    };
    let pool = match common_kernel::db::connect(&settings.database, &schema).await {
        Ok(pool) => pool,
        Err(error) => {
            eprintln!("outbox-relay: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut config = RelayConfig::new(&schema, brokers);
    let number = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    if let Some(secs) = number("RELAY_LEASE_SECS") {
        config.lease = Duration::from_secs(secs);
    }
    if let Some(size) = number("RELAY_BATCH_SIZE") {
        config.batch_size = i64::try_from(size).unwrap_or(500);
    }
    if let Some(workers) = number("RELAY_WORKERS") {
        config.workers = usize::try_from(workers).unwrap_or(1);
    }
    if let Some(ms) = number("RELAY_POLL_MS") {
        config.poll_interval = Duration::from_millis(ms);
    }
    let handle = match relay::spawn(pool, config) {
        Ok(handle) => handle,
        Err(error) => {
            eprintln!("outbox-relay: {error}");
            return ExitCode::FAILURE;
        }
    };
    common_kernel::http::server::shutdown_signal().await;
    handle.shutdown().await;
    ExitCode::SUCCESS
}
