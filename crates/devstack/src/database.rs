//! Reachability checks and creation of the development database.
//!
//! The database is created with the `psql` client rather than a Rust driver: devstack then needs no
//! PostgreSQL library of its own, and schemas and migrations stay with the services that own them.

use std::process::Output;
use std::time::Duration;

use anyhow::{Result, bail};
use tokio::net::TcpStream;
use tokio::process::Command;

use crate::settings::{DatabaseUrl, Endpoint};

/// How long a TCP connect may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Opens (and drops) a TCP connection, returning why it failed if it did.
pub async fn check_tcp(endpoint: &Endpoint) -> Result<(), String> {
    let connect = TcpStream::connect((endpoint.host.as_str(), endpoint.port));
    match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok(_stream)) => Ok(()),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_elapsed) => Err(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())),
    }
}

/// Whether [`ensure_database`] had to create the database.
#[derive(Debug, PartialEq, Eq)]
pub enum DatabaseState {
    /// It was already there.
    Existed,
    /// devstack created it just now.
    Created,
}

/// Creates the database named in `DATABASE_URL` unless it exists, connecting to the `postgres`
/// maintenance database on the same server with the same credentials.
pub async fn ensure_database(url: &DatabaseUrl) -> Result<DatabaseState> {
    let maintenance = url.maintenance_url();
    let name = url.database();
    let exists = run_psql(
        &maintenance,
        &format!(
            "SELECT 1 FROM pg_database WHERE datname = {}",
            quote_literal(name)
        ),
    )
    .await?;
    if String::from_utf8_lossy(&exists.stdout).trim() == "1" {
        return Ok(DatabaseState::Existed);
    }
    let created = run_psql(
        &maintenance,
        &format!("CREATE DATABASE {}", quote_identifier(name)),
    )
    .await;
    match created {
        Ok(_) => Ok(DatabaseState::Created),
        // Another devstack (or a person) may have won the race between our check and our create.
        Err(error) if format!("{error:#}").contains("already exists") => Ok(DatabaseState::Existed),
        Err(error) => Err(error),
    }
}

/// Creates a database that must not exist yet (a throwaway one, named by the caller).
pub async fn create_database(url: &DatabaseUrl) -> Result<()> {
    run_psql(
        &url.maintenance_url(),
        &format!("CREATE DATABASE {}", quote_identifier(url.database())),
    )
    .await
    .map(drop)
}

/// Drops a database, ending the sessions still connected to it (PostgreSQL 13 or later).
pub async fn drop_database(url: &DatabaseUrl) -> Result<()> {
    run_psql(
        &url.maintenance_url(),
        &format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_identifier(url.database())
        ),
    )
    .await
    .map(drop)
}

/// Runs one SQL statement through `psql` without prompting, reading `~/.psqlrc` or printing
/// decoration, and turns a failure into an error carrying psql's own message.
async fn run_psql(conninfo: &str, sql: &str) -> Result<Output> {
    let output = Command::new("psql")
        .arg(conninfo)
        .args(["--no-psqlrc", "--no-password", "--quiet", "--tuples-only"])
        .args(["--no-align", "--set", "ON_ERROR_STOP=1", "--command", sql])
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!(
                    "the psql client is not installed or not on PATH (apt-get install postgresql-client)"
                )
            } else {
                anyhow::Error::new(error).context("could not run psql")
            }
        })?;
    if !output.status.success() {
        bail!(
            "psql failed ({}) running `{sql}`: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(output)
}

/// Quotes a PostgreSQL identifier so any database name is safe inside `CREATE DATABASE`.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Quotes a PostgreSQL string literal (standard-conforming strings, the default since 9.1).
fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_neutralises_quotes() {
        assert_eq!(quote_identifier("cpq_oms_platform"), "\"cpq_oms_platform\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("o'neil"), "'o''neil'");
    }

    #[tokio::test]
    async fn closed_port_is_reported() {
        // Bind and drop a listener to find a port that is, for a moment, certainly closed.
        let port = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
            Ok(addr) => addr.port(),
            Err(_) => return,
        };
        let endpoint = Endpoint {
            host: "127.0.0.1".into(),
            port,
        };
        assert!(check_tcp(&endpoint).await.is_err());
    }
}
