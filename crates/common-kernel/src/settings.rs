//! Typed settings from defaults and environment variables, validated at start-up.
//!
//! Variables: `DATABASE_URL`, `REDIS_URL` (empty or `disabled` turns the cache off),
//! `APP__SERVER__HOST`, `APP__SERVER__PORT`, `APP__DATABASE__APP_URL`, `APP__DATABASE__JOBS_URL`,
//! `APP__DATABASE__MAX_CONNECTIONS`,
//! `APP__DATABASE__ACQUIRE_TIMEOUT_MS`, `APP__REDIS__TIMEOUT_MS`, `APP__HTTP__MAX_BODY_BYTES`,
//! `APP__HTTP__REQUEST_TIMEOUT_MS`, `APP__HTTP__CORS_ALLOWED_ORIGINS` (comma-separated exact
//! origins; none by default), `KAFKA_BROKERS` (`disabled` keeps events in the outbox), `APP__IDEMPOTENCY__TTL_HOURS`, `APP__LOG__FORMAT`
//! (`json` | `pretty`), `RUST_LOG`, `OTEL_EXPORTER_OTLP_ENDPOINT`, and the rate limits
//! `APP__RATE_LIMIT__READ_PER_MINUTE`, `APP__RATE_LIMIT__READ_BURST`,
//! `APP__RATE_LIMIT__COMMAND_PER_MINUTE`, `APP__RATE_LIMIT__COMMAND_BURST`,
//! `APP__RATE_LIMIT__REDIS_TIMEOUT_MS` and `APP__RATE_LIMIT__LOCAL_MAX_KEYS`.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

mod cors;
mod database;
mod rate_limit;

pub use cors::{CORS_ALLOWED_ORIGINS, CorsSettings};
pub use database::JOBS_MAX_CONNECTIONS;
pub use rate_limit::{ClassLimit, RateLimitSettings};

/// Default database when `DATABASE_URL` is unset: the development baseline of one database with
/// one schema per service.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/cpq_oms_platform";
/// Default Redis when `REDIS_URL` is unset.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Default Kafka bootstrap servers when `KAFKA_BROKERS` is unset.
pub const DEFAULT_KAFKA_BROKERS: &str = "127.0.0.1:9092";

/// A value that must never appear in logs (connection strings carry passwords).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A setting that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}={value:?}: {reason}")]
pub struct SettingsError {
    /// Environment variable name.
    pub name: String,
    /// The offending value.
    pub value: String,
    /// What was expected.
    pub reason: String,
}

/// Where the HTTP server listens.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Interface to bind.
    pub host: String,
    /// Port to bind; 0 picks a free one (tests).
    pub port: u16,
}

/// The service's PostgreSQL.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// Connection string (database name included).
    pub url: Secret,
    /// Pool size.
    pub max_connections: u32,
    /// How long a request waits for a pooled connection before a retryable 503.
    pub acquire_timeout: Duration,
}

/// The request-handling URL when `APP__DATABASE__APP_URL` is unset: `owner` (`DATABASE_URL`) with
/// its user replaced by `role` and no password, which suits the local server's trust
/// authentication; production sets the variable (ADR 0030). A URL without a host (a Unix socket
/// named by `?host=`) gets the user as `?user=`, since a URL cannot carry a user without a host.
pub fn app_database_url(owner: &str, role: &str) -> String {
    let (scheme, rest) = owner.split_once("://").unwrap_or(("postgres", owner));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("user=") && !p.starts_with("password="))
        .collect();
    let user_param = format!("user={role}");
    let authority = if host.is_empty() {
        params.push(&user_param);
        String::new()
    } else {
        format!("{role}@{host}")
    };
    let query = if params.is_empty() {
        String::new()
    } else {
        format!("?{}", params.join("&"))
    };
    format!("{scheme}://{authority}{path}{query}")
}

/// The optional Redis accelerator.
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// Connection string; `None` disables caching.
    pub url: Option<Secret>,
    /// Longest any cache operation may take before it is treated as a miss.
    pub timeout: Duration,
}

/// HTTP limits and the cross-origin policy.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Longest a request may run.
    pub request_timeout: Duration,
    /// Browser origins allowed to call the API from another origin (none by default).
    pub cors: CorsSettings,
}

/// The Kafka cluster events are relayed to.
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// Bootstrap servers; `None` (`KAFKA_BROKERS=disabled`) keeps events in the outbox.
    pub brokers: Option<String>,
}

/// Log output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (default; what log pipelines ingest).
    Json,
    /// Human-readable lines for local debugging.
    Pretty,
}

/// All settings of one service process.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Service name, used in logs, metrics and health.
    pub service: &'static str,
    /// Listener.
    pub server: ServerSettings,
    /// The schema owner's database (`DATABASE_URL`): migrations, and the one statement only an
    /// owner may run (the relay's vacuum of its queue). Cross-tenant work has its own role, see
    /// [`Settings::jobs_database`].
    pub database: DatabaseSettings,
    /// `APP__DATABASE__APP_URL`, request handling's connection string when given; see
    /// [`Settings::app_database`].
    pub app_database_url: Option<Secret>,
    /// `APP__DATABASE__JOBS_URL`, the cross-tenant work's connection string when given; see
    /// [`Settings::jobs_database`].
    pub jobs_database_url: Option<Secret>,
    /// Cache.
    pub redis: RedisSettings,
    /// HTTP limits.
    pub http: HttpSettings,
    /// Event backbone.
    pub kafka: KafkaSettings,
    /// How long an idempotency record is kept (business-risk based; 24 h by default).
    pub idempotency_ttl: Duration,
    /// Rate limits per tenant, client and route class.
    pub rate_limit: RateLimitSettings,
    /// The OIDC issuer whose tokens the service accepts, and its own client (ADR 0030).
    /// Every process that serves HTTP requires it (`service-host` and the workflow engine
    /// refuse to start without); the outbox relay serves none.
    pub auth: Option<crate::auth::AuthSettings>,
    /// Log format.
    pub log_format: LogFormat,
}

impl Settings {
    /// Request handling's database for `service`: the role `<service>_app`, subject to
    /// row-level security (ADR 0030), with the owner's pool limits. `APP__DATABASE__APP_URL`
    /// when set; otherwise `DATABASE_URL` with that user and no password. The host passes the
    /// service it runs (whose migrations create the role), not the name its settings carry.
    pub fn app_database(&self, service: &str) -> DatabaseSettings {
        let url = self.app_database_url.clone().unwrap_or_else(|| {
            Secret::new(app_database_url(
                self.database.url.expose(),
                &format!("{service}_app"),
            ))
        });
        DatabaseSettings {
            url,
            ..self.database.clone()
        }
    }

    /// Reads the settings of `service` from the process environment.
    pub fn from_env(service: &'static str, default_port: u16) -> Result<Self, SettingsError> {
        Self::from_lookup(service, default_port, |name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(
        service: &'static str,
        default_port: u16,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SettingsError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let database_url = get("DATABASE_URL")
            .or_else(|| get("APP__DATABASE__URL"))
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !database_url.starts_with("postgres://") && !database_url.starts_with("postgresql://") {
            return Err(SettingsError {
                name: "DATABASE_URL".into(),
                value: "<hidden>".into(),
                reason: "must start with postgres:// or postgresql://".into(),
            });
        }
        let app_url = get("APP__DATABASE__APP_URL");
        if let Some(url) = &app_url
            && !url.starts_with("postgres://")
            && !url.starts_with("postgresql://")
        {
            return Err(SettingsError {
                name: "APP__DATABASE__APP_URL".into(),
                value: "<hidden>".into(),
                reason: "must start with postgres:// or postgresql://".into(),
            });
        }
        let jobs_url = database::optional_url(&get, "APP__DATABASE__JOBS_URL")?;
        let database = DatabaseSettings {
            url: Secret::new(database_url),
            max_connections: parse(&get, "APP__DATABASE__MAX_CONNECTIONS", 10)?,
            acquire_timeout: Duration::from_millis(parse(
                &get,
                "APP__DATABASE__ACQUIRE_TIMEOUT_MS",
                3_000,
            )?),
        };
        let redis_url = match lookup("REDIS_URL").or_else(|| lookup("APP__REDIS__URL")) {
            None => Some(DEFAULT_REDIS_URL.to_owned()),
            Some(v) if v.trim().is_empty() || v.trim() == "disabled" => None,
            Some(v) => Some(v),
        };
        let kafka_brokers = match lookup("KAFKA_BROKERS") {
            None => Some(DEFAULT_KAFKA_BROKERS.to_owned()),
            Some(v) if v.trim().is_empty() || v.trim() == "disabled" => None,
            Some(v) => Some(v.trim().to_owned()),
        };
        let log_format = match get("APP__LOG__FORMAT").as_deref() {
            None | Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => {
                return Err(SettingsError {
                    name: "APP__LOG__FORMAT".into(),
                    value: other.into(),
                    reason: "expected json or pretty".into(),
                });
            }
        };
        let auth = crate::auth::AuthSettings::optional(&lookup)?;
        Ok(Self {
            auth,
            service,
            server: ServerSettings {
                host: get("APP__SERVER__HOST").unwrap_or_else(|| "127.0.0.1".to_owned()),
                port: parse(&get, "APP__SERVER__PORT", default_port)?,
            },
            app_database_url: app_url.map(Secret::new),
            jobs_database_url: jobs_url.map(Secret::new),
            database,
            redis: RedisSettings {
                url: redis_url.map(Secret::new),
                timeout: Duration::from_millis(parse(&get, "APP__REDIS__TIMEOUT_MS", 150)?),
            },
            http: HttpSettings {
                max_body_bytes: parse(&get, "APP__HTTP__MAX_BODY_BYTES", 1024 * 1024)?,
                request_timeout: Duration::from_millis(parse(
                    &get,
                    "APP__HTTP__REQUEST_TIMEOUT_MS",
                    30_000,
                )?),
                cors: cors::from_env(&get)?,
            },
            kafka: KafkaSettings {
                brokers: kafka_brokers,
            },
            idempotency_ttl: Duration::from_secs(
                3600 * parse::<u64>(&get, "APP__IDEMPOTENCY__TTL_HOURS", 24)?,
            ),
            rate_limit: rate_limit::from_env(&get)?,
            log_format,
        })
    }
}

fn parse<T: FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
) -> Result<T, SettingsError> {
    match get(name) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|_| SettingsError {
            name: name.to_owned(),
            value: raw,
            reason: format!("expected a {}", std::any::type_name::<T>()),
        }),
    }
}

/// A positive whole number from `name`, `default` when unset or blank; anything else is a
/// [`SettingsError`] naming the variable (a typo stops the service at start-up).
pub fn positive_number(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
) -> Result<u64, SettingsError> {
    match lookup(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(SettingsError {
                name: name.into(),
                value: raw,
                reason: "expected a positive whole number".into(),
            }),
        },
    }
}

/// The Zeebe gateway a service's workers use (`ZEEBE_ADDRESS`): `default` when unset, `None`
/// when `disabled` (the service runs without workers, as the contract gate runs it).
pub fn zeebe_address(
    lookup: &impl Fn(&str) -> Option<String>,
    default: &str,
) -> Result<Option<String>, SettingsError> {
    match lookup("ZEEBE_ADDRESS").filter(|v| !v.trim().is_empty()) {
        Some(v) if v.trim() == "disabled" => Ok(None),
        Some(v) if v.starts_with("http://") || v.starts_with("https://") => Ok(Some(v)),
        Some(v) => Err(SettingsError {
            name: "ZEEBE_ADDRESS".into(),
            value: v,
            reason: "expected http://host:port of a Zeebe gateway, or `disabled`".into(),
        }),
        None => Ok(Some(default.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let mut map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        map.entry("OIDC_ISSUER".to_owned())
            .or_insert_with(|| "http://127.0.0.1:8079".to_owned());
        Settings::from_lookup("catalog", 8081, |name| map.get(name).cloned())
    }

    #[test]
    fn the_issuer_is_read_when_set() {
        assert!(
            with(&[("OIDC_ISSUER", "")])
                .expect("no issuer")
                .auth
                .is_none()
        );
        assert_eq!(
            with(&[("OIDC_ISSUER", "ftp://x")])
                .expect_err("bad issuer")
                .name,
            "OIDC_ISSUER"
        );
        let settings = with(&[]).expect("defaults");
        let auth = settings.auth.expect("an issuer");
        assert_eq!(auth.issuer, "http://127.0.0.1:8079");
        assert_eq!(auth.audience, "cpq-oms");
    }

    #[test]
    fn defaults_point_at_the_local_machine() {
        let settings = with(&[]).expect("defaults");
        assert_eq!(settings.server.port, 8081);
        assert_eq!(settings.database.url.expose(), DEFAULT_DATABASE_URL);
        assert!(settings.redis.url.is_some());
        assert_eq!(settings.log_format, LogFormat::Json);
        assert!(!settings.http.cors.is_enabled(), "no cross-origin access");
    }

    #[test]
    fn environment_overrides_and_validation() {
        let settings =
            with(&[("APP__SERVER__PORT", "9999"), ("REDIS_URL", "disabled")]).expect("valid");
        assert_eq!(settings.server.port, 9999);
        assert!(settings.redis.url.is_none());
        let err = with(&[("APP__SERVER__PORT", "eighty")]).expect_err("bad port");
        assert_eq!(err.name, "APP__SERVER__PORT");
        assert!(with(&[("DATABASE_URL", "mysql://x")]).is_err());
        let settings = with(&[(CORS_ALLOWED_ORIGINS, "https://portal.example.com")])
            .expect("an allowed origin");
        assert_eq!(
            settings.http.cors.allowed_origins(),
            ["https://portal.example.com"]
        );
        assert_eq!(
            with(&[(CORS_ALLOWED_ORIGINS, "*")])
                .expect_err("wildcard")
                .name,
            CORS_ALLOWED_ORIGINS
        );
    }

    #[test]
    fn request_handling_connects_as_the_service_app_role() {
        let settings = with(&[]).expect("defaults");
        assert_eq!(
            settings.app_database("catalog").url.expose(),
            "postgres://catalog_app@127.0.0.1:5432/cpq_oms_platform"
        );
        assert_eq!(settings.app_database("catalog").max_connections, 10);
        let settings = with(&[(
            "DATABASE_URL",
            "postgresql://owner:secret@db:5433/platform?sslmode=require&password=x",
        )])
        .expect("valid");
        assert_eq!(
            settings.app_database("cpq").url.expose(),
            "postgresql://cpq_app@db:5433/platform?sslmode=require"
        );
        assert_eq!(
            app_database_url(
                "postgres:///platform?host=/run/postgresql&user=postgres",
                "cpq_app"
            ),
            "postgres:///platform?host=/run/postgresql&user=cpq_app"
        );
        assert_eq!(
            app_database_url("postgres://h", "cpq_app"),
            "postgres://cpq_app@h"
        );
        let settings =
            with(&[("APP__DATABASE__APP_URL", "postgres://app:pw@h/db")]).expect("valid");
        assert_eq!(
            settings.app_database("cpq").url.expose(),
            "postgres://app:pw@h/db"
        );
        assert!(
            !format!("{settings:?}").contains("pw@"),
            "the app URL is a secret too"
        );
        assert!(with(&[("APP__DATABASE__APP_URL", "mysql://x")]).is_err());
    }

    #[test]
    fn secrets_never_print() {
        let settings = with(&[("DATABASE_URL", "postgres://u:hunter2@h/db")]).expect("valid");
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}
