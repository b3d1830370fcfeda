//! What devstack reads from its environment, and the little URL handling it needs.
//!
//! Only standard library string handling is used here: the URLs come from a developer's own shell,
//! and pulling in a URL crate for host/port/database extraction is not worth the compile time.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::identity::IssuerTarget;
use crate::services::{SERVICES, ServiceSpec};
use crate::simulator::SimulatorTarget;
use crate::workflow::WorkflowTarget;

/// Used when `DATABASE_URL` is unset: the shared development database every service migrates into.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/cpq_oms_platform";

/// Used when `REDIS_URL` is unset: a local Redis, which only accelerates and may be absent.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Used when `KAFKA_BROKERS` is unset: the local Kafka-protocol broker `./dev` starts.
pub const DEFAULT_KAFKA_BROKERS: &str = "127.0.0.1:9092";

/// The database `psql` connects to when it needs to create the application database.
const MAINTENANCE_DATABASE: &str = "postgres";

/// The address every service is probed and started on: devstack is a single-machine tool.
pub const LOCAL_HOST: &str = "127.0.0.1";

/// Reads an environment variable, treating "unset" and "empty" alike so `FOO= ./dev up` means
/// "use the default" rather than "use nothing".
pub fn env_or(name: &str, default: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value.trim().to_owned(),
        _ => default.to_owned(),
    }
}

/// A TCP host and port, used for reachability checks before anything is started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Host name or IP address, IPv6 without brackets.
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// `DATABASE_URL` split into the parts devstack needs, so the maintenance URL for `psql` keeps the
/// caller's credentials and options and only swaps the database name.
#[derive(Debug, Clone)]
pub struct DatabaseUrl {
    scheme: String,
    authority: String,
    endpoint: Option<Endpoint>,
    database: String,
    query: Option<String>,
}

impl DatabaseUrl {
    /// Parses a `postgres://` or `postgresql://` URL; the database name is required because it is
    /// what devstack creates.
    pub fn parse(raw: &str) -> Result<Self> {
        let (scheme, rest) = raw
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "postgres" | "postgresql"))
            .context("DATABASE_URL must start with postgres:// or postgresql://")?;
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, remainder) = rest.split_at(authority_end);
        let (path, query) = match remainder.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (remainder, None),
        };
        let database = percent_decode(path.trim_start_matches('/'))
            .context("DATABASE_URL has a malformed database name")?;
        if database.is_empty() {
            bail!("DATABASE_URL names no database (expected …/cpq_oms_platform at the end)");
        }
        let endpoint =
            parse_authority(authority, 5432).context("DATABASE_URL has a malformed host")?;
        Ok(Self {
            scheme: scheme.to_owned(),
            authority: authority.to_owned(),
            endpoint,
            database,
            query,
        })
    }

    /// The TCP endpoint, or `None` when the URL points at a Unix socket (no host part).
    pub fn endpoint(&self) -> Option<&Endpoint> {
        self.endpoint.as_ref()
    }

    /// The database the services expect to exist.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The same server, user and options with another database.
    pub fn with_database(&self, database: &str) -> Self {
        Self {
            database: database.to_owned(),
            ..self.clone()
        }
    }

    /// This URL as a connection string (the database name percent-encoded where needed).
    pub fn to_url(&self) -> String {
        let query = self
            .query
            .as_ref()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        format!(
            "{}://{}/{}{query}",
            self.scheme,
            self.authority,
            percent_encode(&self.database)
        )
    }

    /// The same server, user and options, but the `postgres` maintenance database, where
    /// `CREATE DATABASE` can run.
    pub fn maintenance_url(&self) -> String {
        let query = self
            .query
            .as_ref()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        format!(
            "{}://{}/{MAINTENANCE_DATABASE}{query}",
            self.scheme, self.authority
        )
    }
}

/// Redacts the password of a `scheme://user:password@host/...` URL so it can be printed.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The TCP endpoint of a `redis://` or `rediss://` URL; `None` for Unix sockets and other schemes,
/// which devstack does not try to check.
pub fn redis_endpoint(raw: &str) -> Result<Option<Endpoint>> {
    let Some((scheme, rest)) = raw.split_once("://") else {
        bail!("REDIS_URL must look like redis://host:port");
    };
    if !matches!(scheme, "redis" | "rediss") {
        return Ok(None);
    }
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    parse_authority(&rest[..authority_end], 6379).context("REDIS_URL has a malformed host")
}

/// The first bootstrap server of a `KAFKA_BROKERS` list (`host:port[,host:port...]`), for a
/// reachability check; librdkafka itself gets the whole list. An optional `scheme://` prefix
/// (`PLAINTEXT://`, as some tools write it) is ignored.
pub fn kafka_endpoint(raw: &str) -> Result<Endpoint> {
    let first = raw.split(',').next().unwrap_or_default().trim();
    let first = first.split_once("://").map_or(first, |(_, rest)| rest);
    parse_authority(first, 9092)
        .context("KAFKA_BROKERS has a malformed host")?
        .context("KAFKA_BROKERS names no broker (expected host:port)")
}

/// Extracts the first host and its port from `user:pass@host:port[,host2...]`.
fn parse_authority(authority: &str, default_port: u16) -> Result<Option<Endpoint>> {
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let first = host_port.split(',').next().unwrap_or_default();
    let (host, port) = if let Some(bracketed) = first.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']').context("unclosed '[' in host")?;
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => bail!("unexpected {after:?} after IPv6 address"),
        }
    } else {
        match first.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (first, None),
        }
    };
    if host.is_empty() {
        return Ok(None);
    }
    let port = match port {
        Some(port) if !port.is_empty() => port
            .parse::<u16>()
            .with_context(|| format!("invalid port {port:?}"))?,
        _ => default_port,
    };
    Ok(Some(Endpoint {
        host: percent_decode(host)?,
        port,
    }))
}

/// Escapes every byte outside the URL-safe set, so any database name survives a round trip.
fn percent_encode(input: &str) -> String {
    input
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// Decodes `%XX` escapes, as URLs carry database names with unusual characters.
fn percent_decode(input: &str) -> Result<String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let hex = bytes
                .get(index + 1..index + 3)
                .and_then(|pair| std::str::from_utf8(pair).ok())
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .with_context(|| format!("bad percent escape in {input:?}"))?;
            out.push(hex);
            index += 3;
        } else {
            out.push(byte);
            index += 1;
        }
    }
    String::from_utf8(out).with_context(|| format!("{input:?} does not decode to UTF-8"))
}

/// A service from the table together with the port it uses on this run.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    /// The static description from [`SERVICES`].
    pub spec: &'static ServiceSpec,
    /// The port after applying the service's environment override.
    pub port: u16,
}

impl Service {
    /// `http://127.0.0.1:<port>`, the root all of the service's URLs hang off.
    pub fn base_url(&self) -> String {
        format!("http://{LOCAL_HOST}:{}", self.port)
    }
}

/// Everything `devstack up` needs, resolved once so every step sees the same values.
#[derive(Debug)]
pub struct Settings {
    /// `DATABASE_URL` as given (or defaulted); passed to the services verbatim.
    pub database_url: String,
    /// The parsed form of [`Settings::database_url`].
    pub database: DatabaseUrl,
    /// `REDIS_URL` as given (or defaulted); passed to the services verbatim.
    pub redis_url: String,
    /// `KAFKA_BROKERS` as given (or defaulted); passed to the services verbatim.
    pub kafka_brokers: String,
    /// The workspace root; services run with it as their working directory.
    pub workspace_root: PathBuf,
    /// Where cargo puts binaries: `CARGO_TARGET_DIR` or `<workspace>/target`.
    pub target_dir: PathBuf,
    /// The services in start order, with their ports.
    pub services: Vec<Service>,
    /// The workflow gateway: the embedded engine devstack runs, or `ZEEBE_ADDRESS`.
    pub workflow: WorkflowTarget,
    /// The OIDC issuer: devstack's own on `OIDC_PORT`, or `OIDC_ISSUER`.
    pub issuer: IssuerTarget,
    /// The downstream simulator the integration service calls (`DOWNSTREAM_SIM_*`).
    pub simulator: SimulatorTarget,
}

impl Settings {
    /// Reads the environment; fails with the variable's name when a value cannot be used.
    pub fn from_env() -> Result<Self> {
        let database_url = env_or("DATABASE_URL", DEFAULT_DATABASE_URL);
        let database = DatabaseUrl::parse(&database_url)?;
        let redis_url = env_or("REDIS_URL", DEFAULT_REDIS_URL);
        let kafka_brokers = env_or("KAFKA_BROKERS", DEFAULT_KAFKA_BROKERS);
        kafka_endpoint(&kafka_brokers)?;
        let workspace_root = workspace_root();
        let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => workspace_root.join("target"),
        };
        let services = SERVICES
            .iter()
            .map(|spec| {
                Ok(Service {
                    spec,
                    port: spec.port()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let workflow = WorkflowTarget::from_lookup(|name| std::env::var(name).ok())?;
        let service_ports: Vec<(&str, u16)> = services
            .iter()
            .map(|service| (service.spec.name, service.port))
            .collect();
        workflow.check_ports_against(&service_ports)?;
        let issuer = IssuerTarget::from_env()?;
        let simulator = SimulatorTarget::from_env()?;
        let mut other_ports = service_ports;
        if let WorkflowTarget::Embedded {
            grpc_port,
            rest_port,
        } = workflow
        {
            other_ports.extend([
                ("the workflow engine's gateway", grpc_port),
                ("the workflow engine's REST API", rest_port),
            ]);
        }
        if let IssuerTarget::Embedded { port } = issuer {
            other_ports.push(("the OIDC issuer", port));
        }
        simulator.check_ports_against(&other_ports)?;
        Ok(Self {
            database_url,
            database,
            redis_url,
            kafka_brokers,
            workspace_root,
            target_dir,
            services,
            workflow,
            issuer,
            simulator,
        })
    }

    /// The development build of a service binary.
    pub fn binary_path(&self, binary: &str) -> PathBuf {
        self.target_dir.join("debug").join(binary)
    }

    /// Looks a service up by name, for steps (like seeding) that talk to one particular service.
    pub fn service(&self, name: &str) -> Result<Service> {
        self.services
            .iter()
            .find(|service| service.spec.name == name)
            .copied()
            .with_context(|| format!("no service named {name:?} in devstack's service table"))
    }
}

/// The cpq-oms workspace root: the nearest ancestor of the current directory that contains this
/// crate, or else the directory devstack was compiled in.
pub fn workspace_root() -> PathBuf {
    let is_root = |dir: &Path| dir.join("crates/devstack/Cargo.toml").is_file();
    if let Ok(cwd) = std::env::current_dir()
        && let Some(found) = cwd.ancestors().find(|dir| is_root(dir))
    {
        return found.to_path_buf();
    }
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(2)
        .unwrap_or(manifest_dir)
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_database_url_points_at_local_server() -> Result<()> {
        let url = DatabaseUrl::parse(DEFAULT_DATABASE_URL)?;
        assert_eq!(
            url.endpoint(),
            Some(&Endpoint {
                host: "127.0.0.1".into(),
                port: 5432
            })
        );
        assert_eq!(url.database(), "cpq_oms_platform");
        assert_eq!(
            url.maintenance_url(),
            "postgres://postgres@127.0.0.1:5432/postgres"
        );
        Ok(())
    }

    #[test]
    fn maintenance_url_keeps_credentials_and_options() -> Result<()> {
        let url = DatabaseUrl::parse("postgresql://app:s%40cret@db.local/my%20db?sslmode=disable")?;
        assert_eq!(url.database(), "my db");
        assert_eq!(
            url.endpoint(),
            Some(&Endpoint {
                host: "db.local".into(),
                port: 5432
            })
        );
        assert_eq!(
            url.maintenance_url(),
            "postgresql://app:s%40cret@db.local/postgres?sslmode=disable"
        );
        Ok(())
    }

    #[test]
    fn another_database_on_the_same_server() -> Result<()> {
        let url =
            DatabaseUrl::parse("postgresql://app:s%40cret@db.local:6543/main?sslmode=disable")?;
        let other = url.with_database("gate 1");
        assert_eq!(other.database(), "gate 1");
        assert_eq!(
            other.to_url(),
            "postgresql://app:s%40cret@db.local:6543/gate%201?sslmode=disable"
        );
        assert_eq!(DatabaseUrl::parse(&other.to_url())?.database(), "gate 1");
        Ok(())
    }

    #[test]
    fn socket_urls_have_no_tcp_endpoint() -> Result<()> {
        let url = DatabaseUrl::parse("postgres:///cpq?host=/var/run/postgresql")?;
        assert_eq!(url.endpoint(), None);
        assert_eq!(
            url.maintenance_url(),
            "postgres:///postgres?host=/var/run/postgresql"
        );
        Ok(())
    }

    #[test]
    fn ipv6_hosts_and_bad_urls() -> Result<()> {
        let url = DatabaseUrl::parse("postgres://u@[::1]:6543/x")?;
        assert_eq!(
            url.endpoint().map(ToString::to_string),
            Some("[::1]:6543".into())
        );
        assert!(DatabaseUrl::parse("mysql://localhost/x").is_err());
        assert!(DatabaseUrl::parse("postgres://localhost").is_err());
        assert!(DatabaseUrl::parse("postgres://localhost:port/x").is_err());
        Ok(())
    }

    #[test]
    fn redis_endpoints() -> Result<()> {
        assert_eq!(
            redis_endpoint(DEFAULT_REDIS_URL)?,
            Some(Endpoint {
                host: "127.0.0.1".into(),
                port: 6379
            })
        );
        assert_eq!(
            redis_endpoint("redis://:pw@cache:7000/2")?.map(|e| e.to_string()),
            Some("cache:7000".into())
        );
        assert_eq!(redis_endpoint("unix:///tmp/redis.sock")?, None);
        Ok(())
    }

    #[test]
    fn kafka_endpoints() -> Result<()> {
        assert_eq!(
            kafka_endpoint(DEFAULT_KAFKA_BROKERS)?,
            Endpoint {
                host: "127.0.0.1".into(),
                port: 9092
            }
        );
        assert_eq!(
            kafka_endpoint("kafka-1:19092, kafka-2:19092")?.to_string(),
            "kafka-1:19092"
        );
        assert_eq!(
            kafka_endpoint("PLAINTEXT://kafka")?.to_string(),
            "kafka:9092"
        );
        assert!(kafka_endpoint("").is_err());
        assert!(kafka_endpoint("kafka:port").is_err());
        Ok(())
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://app:secret@db:5432/x?sslmode=require"),
            "postgres://app:***@db:5432/x?sslmode=require"
        );
        assert_eq!(redact(DEFAULT_DATABASE_URL), DEFAULT_DATABASE_URL);
    }
}
