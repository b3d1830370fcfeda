//! A standalone outbox relay for one service schema, for deployments that run relays apart from
//! the services (and for the fault tests that kill one mid-batch).
//!
//! Environment: `DATABASE_URL`, `RELAY_SCHEMA` (e.g. `catalog_schema`), `KAFKA_BROKERS`,
//! optional `APP__DATABASE__JOBS_URL`, `RELAY_LEASE_SECS`, `RELAY_BATCH_SIZE`, `RELAY_POLL_MS`,
//! `RELAY_WORKERS`.
//!
//! The relay connects as the schema's jobs role (ADR 0030): `APP__DATABASE__JOBS_URL`, or
//! `DATABASE_URL` with the user `<service>_jobs` (`catalog_schema` → `catalog_jobs`). The owner
//! (`DATABASE_URL`) gets one connection, for the queue's vacuum alone. It starts only on a jobs
//! role that `common_kernel::db::check_jobs_role` accepts; the service's migrations create it.

use std::process::ExitCode;
use std::time::Duration;

use common_kernel::db;
use common_kernel::settings::{DatabaseSettings, Settings};
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
    let service = schema.strip_suffix("_schema").unwrap_or(&schema);
    let owner = DatabaseSettings {
        max_connections: 1,
        ..settings.database.clone()
    };
    let pools = async {
        let jobs = db::connect(&settings.jobs_database(service), &schema).await?;
        db::check_jobs_role(&jobs, &schema).await?;
        Ok::<_, db::DbError>((jobs, db::connect(&owner, &schema).await?))
    };
    let (pool, vacuum) = match pools.await {
        Ok(pools) => pools,
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
    let handle = match relay::spawn_with_vacuum_pool(pool, vacuum, config) {
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
