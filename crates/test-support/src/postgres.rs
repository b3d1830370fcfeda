//! Fresh PostgreSQL databases per test, cloned from a migrated template.

use std::path::Path;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};

const LOCAL_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// URL of a maintenance database on the server tests use (see the crate docs for the order).
pub fn admin_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("DATABASE_URL")
            && !url.trim().is_empty()
        {
            return with_database(&url, "postgres");
        }
        if crate::port_open(5432) {
            return LOCAL_ADMIN_URL.to_owned();
        }
        #[cfg(feature = "docker")]
        if let Some(port) = crate::docker::start(
            "postgres",
            "15",
            5432,
            "database system is ready to accept connections",
        ) {
            return format!("postgres://postgres@127.0.0.1:{port}/postgres");
        }
        panic!(
            "No PostgreSQL for tests: set DATABASE_URL, start PostgreSQL on 127.0.0.1:5432 \
             (`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`), \
             or build test-support with the `docker` feature on a machine with Docker"
        )
    })
    .clone()
}

/// Replaces the database name of a PostgreSQL URL.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let prefix = match base.rfind('/') {
        Some(slash)
            if base[..slash].contains("://") && slash > base.find("://").map_or(0, |i| i + 2) =>
        {
            &base[..slash]
        }
        _ => base,
    };
    match query {
        Some(query) => format!("{prefix}/{database}?{query}"),
        None => format!("{prefix}/{database}"),
    }
}

/// A database that exists for one test and is dropped afterwards.
#[derive(Debug)]
pub struct TestDatabase {
    /// Connection URL of the database.
    pub url: String,
    /// Its name.
    pub name: String,
}

impl TestDatabase {
    /// Clones a fresh database from the template `<prefix>_tpl_<hash of migrations_dir>`, creating
    /// the template first (once per migration set, across processes) with `prepare`, which gets
    /// the template's URL and must migrate it.
    pub async fn from_template<F, Fut>(prefix: &str, migrations_dir: &Path, prepare: F) -> Self
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = ()>,
    {
        Self::from_template_of(prefix, &[migrations_dir], prepare).await
    }

    /// [`from_template`](Self::from_template) for a schema built from several migrations folders
    /// (a service schema: the platform folder of `messaging`, then the service's own). The
    /// template's name hashes every folder, so a change to any of them builds a new template.
    pub async fn from_template_of<F, Fut>(
        prefix: &str,
        migrations_dirs: &[&Path],
        prepare: F,
    ) -> Self
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = ()>,
    {
        let admin = admin_url();
        let template = format!("{prefix}_tpl_{}", fingerprint(migrations_dirs));
        let mut conn = PgConnection::connect(&admin)
            .await
            .expect("connect to PostgreSQL admin database");
        // One process builds the template; the others wait on the lock and then find it.
        sqlx::query("SELECT pg_advisory_lock(hashtext($1))")
            .bind(&template)
            .execute(&mut conn)
            .await
            .expect("template lock");
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
                .bind(&template)
                .fetch_one(&mut conn)
                .await
                .expect("look up template");
        if !exists {
            let building = format!("{template}_building");
            execute(
                &mut conn,
                &format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"),
            )
            .await;
            execute(&mut conn, &format!("CREATE DATABASE \"{building}\"")).await;
            prepare(with_database(&admin, &building)).await;
            execute(
                &mut conn,
                &format!("ALTER DATABASE \"{building}\" WITH ALLOW_CONNECTIONS false"),
            )
            .await;
            // Sessions opened by `prepare` may still be closing.
            execute(&mut conn, &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{building}'")).await;
            execute(
                &mut conn,
                &format!("ALTER DATABASE \"{building}\" RENAME TO \"{template}\""),
            )
            .await;
        }
        drop_abandoned_databases(&mut conn, prefix).await;
        let name = format!("{prefix}_test_{}", uuid::Uuid::now_v7().simple());
        let created = sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""
        )))
        .execute(&mut conn)
        .await;
        sqlx::query("SELECT pg_advisory_unlock(hashtext($1))")
            .bind(&template)
            .execute(&mut conn)
            .await
            .expect("template unlock");
        created.expect("clone test database from template");
        conn.close().await.ok();
        Self {
            url: with_database(&admin, &name),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin = admin_url();
        let name = self.name.clone();
        // Drop runs inside the test's runtime; a separate thread with its own runtime avoids
        // blocking it, and joining makes the database disappear before the test returns.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin).await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .ok()
            })
        });
        let _ = dropped.join();
    }
}

/// Drops test databases a killed test run left behind: names carry a UUID v7, whose timestamp
/// tells their age; anything older than an hour is abandoned. Runs once per process.
async fn drop_abandoned_databases(conn: &mut PgConnection, prefix: &str) {
    static DONE: OnceLock<()> = OnceLock::new();
    if DONE.set(()).is_err() {
        return;
    }
    let pattern = format!("{prefix}_test_%");
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1")
            .bind(&pattern)
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    let cutoff = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    for name in names {
        let created = name
            .rsplit('_')
            .next()
            .and_then(|id| uuid::Uuid::parse_str(id).ok())
            .and_then(|id| id.get_timestamp())
            .map(|ts| {
                let (secs, nanos) = ts.to_unix();
                std::time::UNIX_EPOCH + std::time::Duration::new(secs, nanos)
            });
        if created.is_some_and(|at| at < cutoff) {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut *conn)
            .await;
        }
    }
}

async fn execute(conn: &mut PgConnection, sql: &str) {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A short hash of every file in the migrations folders, in the order given, so a changed, added
/// or removed migration in any of them gets a new template. A single folder hashes as it always
/// did; each further folder is preceded by a separator, so a file moving between folders counts
/// as a change.
fn fingerprint(dirs: &[&Path]) -> String {
    let mut hasher = Sha256::new();
    for (index, dir) in dirs.iter().enumerate() {
        if index > 0 {
            hasher.update(b"\0next migrations folder\0");
        }
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort();
        for file in files {
            hasher.update(
                file.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
            hasher.update(std::fs::read(&file).unwrap_or_default());
        }
    }
    hex::encode(hasher.finalize())[..12].to_owned()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{fingerprint, with_database};

    #[test]
    fn the_fingerprint_covers_every_folder() {
        let root = std::env::temp_dir().join(format!("fingerprint-{}", uuid::Uuid::now_v7()));
        let (platform, service) = (root.join("platform"), root.join("service"));
        std::fs::create_dir_all(&platform).unwrap();
        std::fs::create_dir_all(&service).unwrap();
        let write =
            |dir: &Path, name: &str, sql: &str| std::fs::write(dir.join(name), sql).unwrap();
        write(&platform, "1_platform.sql", "CREATE TABLE a ();");
        write(&service, "1_service.sql", "CREATE TABLE b ();");
        let both = |p: &Path, s: &Path| fingerprint(&[p, s]);

        let original = both(&platform, &service);
        assert_eq!(original, both(&platform, &service), "stable");
        assert_ne!(
            original,
            fingerprint(&[&service]),
            "the platform folder counts"
        );

        write(&platform, "1_platform.sql", "CREATE TABLE a (x int);");
        let platform_edited = both(&platform, &service);
        assert_ne!(
            original, platform_edited,
            "an edited platform migration counts"
        );

        write(&service, "2_service.sql", "CREATE TABLE c ();");
        assert_ne!(
            platform_edited,
            both(&platform, &service),
            "an added service migration counts"
        );

        std::fs::rename(
            service.join("2_service.sql"),
            platform.join("2_service.sql"),
        )
        .unwrap();
        let moved = both(&platform, &service);
        std::fs::rename(
            platform.join("2_service.sql"),
            service.join("2_service.sql"),
        )
        .unwrap();
        assert_ne!(
            moved,
            both(&platform, &service),
            "a file moving between folders counts"
        );

        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn database_names_are_replaced_in_urls() {
        assert_eq!(
            with_database("postgres://u@h:5432/app", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h:5432/app?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h:5432", "x"),
            "postgres://u@h:5432/x"
        );
    }
}
