//! The connection of the work that crosses tenants (ADR 0030): `<service>_jobs`, read from
//! `APP__DATABASE__JOBS_URL` or derived from `DATABASE_URL` as the app role's is.

use super::{DatabaseSettings, Secret, Settings, SettingsError, app_database_url};

/// Pool size of the jobs role, whatever `APP__DATABASE__MAX_CONNECTIONS` says: the relay holds
/// three connections while it publishes (a claim, its recorder and the commit listener) and its
/// housekeeping a fourth now and then; `/ops/messaging`, the idempotency purge and a service's
/// own job (CPQ's expiry) take one each, briefly. More would only take connections from a
/// PostgreSQL that two services share locally (`max_connections` 100).
pub const JOBS_MAX_CONNECTIONS: u32 = 6;

impl Settings {
    /// The database of `service`'s cross-tenant work (outbox relay, `/ops/messaging`, purge,
    /// consumers, the service's background jobs): the role `<service>_jobs`, which bypasses
    /// row-level security but owns nothing and may run only the statements its migrations grant.
    /// `APP__DATABASE__JOBS_URL` when set; otherwise `DATABASE_URL` with that user and no
    /// password, as [`Settings::app_database`] derives the app role's, which suits the local
    /// server's trust authentication. The owner's acquire timeout, [`JOBS_MAX_CONNECTIONS`].
    pub fn jobs_database(&self, service: &str) -> DatabaseSettings {
        let url = self.jobs_database_url.clone().unwrap_or_else(|| {
            Secret::new(app_database_url(
                self.database.url.expose(),
                &format!("{service}_jobs"),
            ))
        });
        DatabaseSettings {
            url,
            max_connections: JOBS_MAX_CONNECTIONS,
            ..self.database.clone()
        }
    }
}

/// An optional PostgreSQL URL setting (`name`), refused unless it is one.
pub(super) fn optional_url(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Option<String>, SettingsError> {
    match get(name) {
        Some(url) if !url.starts_with("postgres://") && !url.starts_with("postgresql://") => {
            Err(SettingsError {
                name: name.to_owned(),
                value: "<hidden>".into(),
                reason: "must start with postgres:// or postgresql://".into(),
            })
        }
        url => Ok(url),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .chain([("OIDC_ISSUER".to_owned(), "http://127.0.0.1:8079".to_owned())])
            .collect();
        Settings::from_lookup("cpq", 8082, |name| map.get(name).cloned())
    }

    #[test]
    fn cross_tenant_work_connects_as_the_service_jobs_role() {
        let settings = with(&[("APP__DATABASE__MAX_CONNECTIONS", "20")]).expect("defaults");
        let jobs = settings.jobs_database("cpq");
        assert_eq!(
            jobs.url.expose(),
            "postgres://cpq_jobs@127.0.0.1:5432/cpq_oms_platform"
        );
        assert_eq!(jobs.max_connections, JOBS_MAX_CONNECTIONS);
        assert_eq!(jobs.acquire_timeout, settings.database.acquire_timeout);
        let settings = with(&[(
            "DATABASE_URL",
            "postgresql://owner:secret@db:5433/platform?sslmode=require",
        )])
        .expect("valid");
        assert_eq!(
            settings.jobs_database("catalog").url.expose(),
            "postgresql://catalog_jobs@db:5433/platform?sslmode=require",
            "the owner's password never travels to another role"
        );
    }

    #[test]
    fn the_jobs_url_is_a_secret_postgres_url() {
        let settings =
            with(&[("APP__DATABASE__JOBS_URL", "postgres://jobs:pw@h/db")]).expect("valid");
        assert_eq!(
            settings.jobs_database("cpq").url.expose(),
            "postgres://jobs:pw@h/db"
        );
        assert!(!format!("{settings:?}").contains("pw@"));
        assert_eq!(
            with(&[("APP__DATABASE__JOBS_URL", "mysql://x")])
                .expect_err("not PostgreSQL")
                .name,
            "APP__DATABASE__JOBS_URL"
        );
        assert!(
            with(&[("APP__DATABASE__JOBS_URL", " ")])
                .expect("blank is unset")
                .jobs_database_url
                .is_none()
        );
    }
}
