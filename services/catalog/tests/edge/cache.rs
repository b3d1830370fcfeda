//! Redis as a pure accelerator: frozen content is cached under versioned keys, drafts never
//! are, nothing changes when Redis stops or was never there, and a cache entry can never hand
//! one tenant's data to another.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use test_support::RedisProcess;
use uuid::Uuid;

use crate::harness::{TestApp, expect_problem, expect_status};
use crate::price_books::{create_price_book, publish_price_book};

fn offering_key(id: Uuid, version: i32) -> String {
    format!("catalog:offering:{id}:v{version}")
}

fn price_book_key(id: Uuid, version: i32) -> String {
    format!("pricing:price-book:{id}:v{version}")
}

/// Runs `redis-cli` against a private server and returns its raw output.
fn redis_cli(redis: &RedisProcess, args: &[&str]) -> String {
    let url = redis.url();
    let port = url.rsplit(':').next().expect("port in redis url");
    let output = Command::new("redis-cli")
        .args(["-p", port, "--raw"])
        .args(args)
        .output()
        .expect("run redis-cli");
    assert!(output.status.success(), "redis-cli {args:?}: {output:?}");
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim_end_matches('\n')
        .to_owned()
}

fn exists(redis: &RedisProcess, key: &str) -> bool {
    redis_cli(redis, &["EXISTS", key]) == "1"
}

/// The JSON stored under `key`.
fn cached(redis: &RedisProcess, key: &str) -> Value {
    let text = redis_cli(redis, &["GET", key]);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{key} holds no JSON ({e}): {text}"))
}

fn set(redis: &RedisProcess, key: &str, value: &str) {
    assert_eq!(redis_cli(redis, &["SET", key, value]), "OK");
}

/// A GET as another tenant.
fn get_as(app: &TestApp, tenant: &str, path: &str) -> RequestBuilder {
    app.anonymous(Method::GET, path).bearer_auth(app.token(
        tenant,
        "someone",
        crate::harness::ROLES,
    ))
}

async fn read(app: &TestApp, path: &str) -> Value {
    expect_status(app.get(path).await, StatusCode::OK).await
}

async fn ready(app: &TestApp) -> Value {
    expect_status(app.get("/health/ready").await, StatusCode::OK).await
}

#[tokio::test]
async fn frozen_versions_are_cached_and_drafts_never_are() {
    let redis = RedisProcess::start();
    let app = TestApp::spawn_with(Some(redis.url()), HashMap::new()).await;
    let published = app.published_offering("PUBLISHED").await;
    let draft = app.create_offering("DRAFT").await;
    assert!(
        !exists(&redis, &offering_key(published, 1)),
        "not cached before a read"
    );

    let first = app.version(published, 1).await;
    assert!(exists(&redis, &offering_key(published, 1)));
    let second = app.version(published, 1).await;
    assert_eq!(
        first, second,
        "a cache hit answers exactly like the database"
    );
    let entry = cached(&redis, &offering_key(published, 1));
    assert_eq!(entry["offeringId"], published.to_string());
    assert_eq!(entry["tenantId"], app.tenant);
    assert_eq!(entry["name"], first["name"]);
    assert!(
        entry.get("status").is_none(),
        "the lifecycle is never cached: {entry}"
    );
    let ttl: i64 = redis_cli(&redis, &["TTL", &offering_key(published, 1)])
        .parse()
        .unwrap();
    assert!((1..=24 * 3600).contains(&ttl), "bounded TTL, got {ttl}");

    app.version(draft, 1).await;
    app.version(draft, 1).await;
    assert!(
        !exists(&redis, &offering_key(draft, 1)),
        "drafts are never cached"
    );

    // The lifecycle is read from the database even when the content is a cache hit.
    app.command(published, "retire").await;
    let retired = app.version(published, 1).await;
    assert_eq!(retired["status"], "RETIRED");
    assert!(retired["retiredAt"].is_string());
    assert_eq!(retired["name"], first["name"]);

    // Price books: a DRAFT version is not cached, a published one is.
    let offering = app.published_offering("PRICED").await;
    let book = create_price_book(&app, "LIST", offering).await;
    read(&app, &format!("/price-books/{book}/versions/1")).await;
    assert!(!exists(&redis, &price_book_key(book, 1)));
    publish_price_book(&app, book).await;
    let first = read(&app, &format!("/price-books/{book}/versions/1")).await;
    assert!(exists(&redis, &price_book_key(book, 1)));
    assert_eq!(
        read(&app, &format!("/price-books/{book}/versions/1")).await,
        first
    );
    assert_eq!(
        cached(&redis, &price_book_key(book, 1))["charges"],
        first["charges"]
    );
}

/// A version read while READY_FOR_REVIEW, returned to draft, edited and resubmitted must show
/// the edited content, not what was cached during the first review.
#[tokio::test]
async fn a_version_returned_to_draft_is_never_served_stale() {
    let redis = RedisProcess::start();
    let app = TestApp::spawn_with(Some(redis.url()), HashMap::new()).await;
    let offering = app.create_offering("REWORKED").await;
    app.command(offering, "submit-for-review").await;
    let reviewed = app.version(offering, 1).await;
    assert_eq!(reviewed["name"], "Offering REWORKED");

    app.command(offering, "return-to-draft").await;
    let response = app
        .patch(
            &format!("/product-offerings/{offering}/versions/1"),
            &json!({"name": "Reworked after review"}),
        )
        .await;
    expect_status(response, StatusCode::OK).await;
    app.command(offering, "submit-for-review").await;
    let published = app.command(offering, "publish").await;
    assert_eq!(published["name"], "Reworked after review");

    let read_back = app.version(offering, 1).await;
    assert_eq!(
        read_back["name"],
        "Reworked after review",
        "GET serves content cached before the rework (Redis holds {})",
        cached(&redis, &offering_key(offering, 1))["name"]
    );
}

#[tokio::test]
async fn reads_and_commands_survive_redis_stopping() {
    let mut redis = RedisProcess::start();
    let app = TestApp::spawn_with(Some(redis.url()), HashMap::new()).await;
    let offering = app.published_offering("INTERNET").await;
    let book = create_price_book(&app, "LIST", offering).await;
    publish_price_book(&app, book).await;

    let paths = [
        format!("/product-offerings/{offering}"),
        format!("/product-offerings/{offering}/versions/1"),
        "/product-offerings".to_owned(),
        "/product-offerings?status=PUBLISHED".to_owned(),
        format!("/price-books/{book}"),
        format!("/price-books/{book}/versions/1"),
        "/product-specifications".to_owned(),
    ];
    let mut before = Vec::new();
    for path in &paths {
        before.push(read(&app, path).await);
    }
    assert!(exists(&redis, &offering_key(offering, 1)));
    assert!(exists(&redis, &price_book_key(book, 1)));
    assert_eq!(ready(&app).await["checks"]["cache"], "UP");

    redis.stop();

    for _ in 0..2 {
        for (path, expected) in paths.iter().zip(&before) {
            let started = Instant::now();
            assert_eq!(&read(&app, path).await, expected, "{path} without Redis");
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{path} took {:?} without Redis",
                started.elapsed()
            );
        }
    }
    let health = ready(&app).await;
    assert_eq!(health["status"], "UP");
    assert_eq!(health["checks"]["database"], "UP");
    assert_eq!(health["checks"]["cache"], "DOWN");

    let second = app.published_offering("SECOND").await;
    let v1 = app.version(second, 1).await;
    assert_eq!(v1["status"], "PUBLISHED");
    assert_eq!(app.version(second, 1).await, v1);
    let second_book = create_price_book(&app, "SECOND-LIST", second).await;
    assert_eq!(
        publish_price_book(&app, second_book).await["status"],
        "PUBLISHED"
    );
    let list = read(&app, "/product-offerings").await;
    assert_eq!(list["totalCount"], 2);
    assert_eq!(ready(&app).await["checks"]["cache"], "DOWN");
}

#[tokio::test]
async fn an_unreachable_redis_changes_nothing() {
    let port = test_support::free_port();
    let app = TestApp::spawn_with(Some(format!("redis://127.0.0.1:{port}")), HashMap::new()).await;
    let started = Instant::now();
    let offering = app.published_offering("INTERNET").await;
    let first = app.version(offering, 1).await;
    assert_eq!(first["status"], "PUBLISHED");
    assert_eq!(app.version(offering, 1).await, first);
    let book = create_price_book(&app, "LIST", offering).await;
    let published = publish_price_book(&app, book).await;
    assert_eq!(
        read(&app, &format!("/price-books/{book}/versions/1")).await,
        read(&app, &format!("/price-books/{book}/versions/1")).await
    );
    assert_eq!(published["status"], "PUBLISHED");
    let list = read(&app, "/product-offerings?status=PUBLISHED").await;
    assert_eq!(list["totalCount"], 1);
    let health = ready(&app).await;
    assert_eq!(health["status"], "UP");
    assert_eq!(health["checks"]["cache"], "DOWN");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn cache_entries_never_cross_tenants() {
    let redis = RedisProcess::start();
    let mut app = TestApp::spawn_with(Some(redis.url()), HashMap::new()).await;
    let acme = app.tenant.clone();
    let acme_offering = app.published_offering("ACME-NET").await;
    let acme_book = create_price_book(&app, "ACME-LIST", acme_offering).await;
    publish_price_book(&app, acme_book).await;
    let acme_version = app.version(acme_offering, 1).await;
    let acme_book_version = read(&app, &format!("/price-books/{acme_book}/versions/1")).await;

    app.tenant = "globex".into();
    let globex_offering = app.published_offering("GLOBEX-NET").await;
    let globex_book = create_price_book(&app, "GLOBEX-LIST", globex_offering).await;
    publish_price_book(&app, globex_book).await;
    let globex_version = app.version(globex_offering, 1).await;
    let globex_book_version = read(&app, &format!("/price-books/{globex_book}/versions/1")).await;
    app.tenant = acme.clone();

    // Acme's entries are in Redis, yet globex cannot read acme's resources through them.
    assert!(exists(&redis, &offering_key(acme_offering, 1)));
    assert!(exists(&redis, &price_book_key(acme_book, 1)));
    for (path, code) in [
        (
            format!("/product-offerings/{acme_offering}/versions/1"),
            "OFFERING_VERSION_NOT_FOUND",
        ),
        (
            format!("/product-offerings/{acme_offering}"),
            "OFFERING_NOT_FOUND",
        ),
        (
            format!("/price-books/{acme_book}/versions/1"),
            "PRICE_BOOK_VERSION_NOT_FOUND",
        ),
        (format!("/price-books/{acme_book}"), "PRICE_BOOK_NOT_FOUND"),
    ] {
        let response = get_as(&app, "globex", &path).send().await.unwrap();
        expect_problem(response, StatusCode::NOT_FOUND, code).await;
    }

    // Poison globex's keys with acme's content: globex still sees only its own data, and the
    // entry is repaired with it.
    let acme_offering_entry = redis_cli(&redis, &["GET", &offering_key(acme_offering, 1)]);
    let acme_book_entry = redis_cli(&redis, &["GET", &price_book_key(acme_book, 1)]);
    set(
        &redis,
        &offering_key(globex_offering, 1),
        &acme_offering_entry,
    );
    set(&redis, &price_book_key(globex_book, 1), &acme_book_entry);
    let path = format!("/product-offerings/{globex_offering}/versions/1");
    let seen = expect_status(
        get_as(&app, "globex", &path).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen, globex_version);
    assert_eq!(seen["tenantId"], "globex");
    assert_ne!(seen["name"], acme_version["name"]);
    assert_eq!(
        cached(&redis, &offering_key(globex_offering, 1))["tenantId"],
        "globex"
    );
    let path = format!("/price-books/{globex_book}/versions/1");
    let seen = expect_status(
        get_as(&app, "globex", &path).send().await.unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(seen, globex_book_version);
    assert_eq!(
        cached(&redis, &price_book_key(globex_book, 1))["tenantId"],
        "globex"
    );

    // The other way round: acme's keys holding globex's content.
    set(
        &redis,
        &offering_key(acme_offering, 1),
        &redis_cli(&redis, &["GET", &offering_key(globex_offering, 1)]),
    );
    set(
        &redis,
        &price_book_key(acme_book, 1),
        &redis_cli(&redis, &["GET", &price_book_key(globex_book, 1)]),
    );
    assert_eq!(app.version(acme_offering, 1).await, acme_version);
    assert_eq!(
        read(&app, &format!("/price-books/{acme_book}/versions/1")).await,
        acme_book_version
    );

    // An entry claiming the right tenant but another offering id is refused as well, and
    // garbage is a miss.
    let mut misfiled = cached(&redis, &offering_key(acme_offering, 1));
    misfiled["offeringId"] = json!(Uuid::now_v7());
    misfiled["name"] = json!("Misfiled");
    set(
        &redis,
        &offering_key(acme_offering, 1),
        &misfiled.to_string(),
    );
    assert_eq!(app.version(acme_offering, 1).await, acme_version);
    set(&redis, &offering_key(acme_offering, 1), "{not json");
    set(&redis, &price_book_key(acme_book, 1), "[]");
    assert_eq!(app.version(acme_offering, 1).await, acme_version);
    assert_eq!(
        read(&app, &format!("/price-books/{acme_book}/versions/1")).await,
        acme_book_version
    );
}
