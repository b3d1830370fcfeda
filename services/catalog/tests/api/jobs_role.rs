//! The catalog's jobs role (ADR 0030): `catalog_jobs`, on which the relay, `/ops/messaging` and
//! the purge run, holds the platform's grants and nothing on the catalog's own tables (the
//! catalog has no job of its own), and the service refuses to start when the jobs URL names a
//! role that could do more or that cannot cross tenants.

use std::collections::HashMap;

use common_kernel::settings::{Settings, app_database_url};

use crate::harness::{fresh_database, issuer};

/// The catalog's settings on `database_url` with `extra` on top.
fn settings(database_url: &str, extra: &[(&'static str, String)]) -> Settings {
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", database_url.to_owned()),
        ("REDIS_URL", "disabled".to_owned()),
        ("APP__SERVER__PORT", "0".to_owned()),
        ("KAFKA_BROKERS", "disabled".to_owned()),
        ("OIDC_ISSUER", issuer().issuer_url()),
        ("OIDC_AUDIENCE", issuer().audience().to_owned()),
    ]);
    vars.extend(extra.iter().cloned());
    Settings::from_lookup(catalog::SERVICE, 0, |name| vars.get(name).cloned())
        .expect("test settings")
}

#[tokio::test]
async fn the_jobs_role_holds_the_platform_grants_and_nothing_on_catalog_tables() {
    let database = fresh_database().await;
    let owner = common_kernel::db::connect(&settings(&database.url, &[]).database, catalog::SCHEMA)
        .await
        .expect("owner pool");
    // Exactly the platform's grants: nothing on a catalog table.
    let mut expected = test_support::PLATFORM_JOBS_GRANTS.to_vec();
    expected.sort_unstable();
    assert_eq!(
        test_support::role_grants(&owner, catalog::SCHEMA, "catalog_jobs").await,
        expected
    );
}

#[tokio::test]
async fn the_service_refuses_to_start_when_the_jobs_url_names_an_unsafe_role() {
    let database = fresh_database().await;
    for (what, url, complaint) in [
        (
            "the owner (a superuser)",
            database.url.clone(),
            "a superuser",
        ),
        (
            "the app role",
            app_database_url(&database.url, "catalog_app"),
            "cannot bypass row-level security",
        ),
    ] {
        let refused = catalog::Application::build(settings(
            &database.url,
            &[("APP__DATABASE__JOBS_URL", url)],
        ))
        .await
        .map(|_| ())
        .expect_err(what)
        .to_string();
        assert!(
            refused.starts_with("unsafe database role") && refused.contains(complaint),
            "{what}: {refused}"
        );
    }
    // The default, `catalog_jobs`, starts.
    catalog::Application::build(settings(&database.url, &[]))
        .await
        .expect("catalog_jobs is accepted");
}
