//! Tokens and secrets never reach the logs: the real catalog binary, logging JSON at debug (trace
//! for the platform's crates), gets valid, invalid and garbage bearer tokens, service calls on a
//! user's behalf and a client secret; nothing of them appears in what it writes.

use domain_kernel::access::Role;
use reqwest::Method;
use serde_json::json;
use test_support::{PublicKeyEncoding, ServiceProcess, assert_not_logged};
use uuid::Uuid;

use super::role_names;
use crate::harness::{TENANT, fresh_database, issuer};

/// The test database's URL with a password, and the password: the one in the URL, or a made-up
/// one the server ignores (a server that asked for none accepts any).
fn with_password(url: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (userinfo, tail) = rest
        .split_once('@')
        .expect("a user in the test database URL");
    match userinfo.split_once(':') {
        Some((_, password)) => (url.to_owned(), password.to_owned()),
        None => {
            let password = format!("db-secret-{}", Uuid::now_v7().simple());
            (format!("{scheme}://{userinfo}:{password}@{tail}"), password)
        }
    }
}

/// What of a token must not be logged: the token, and its payload and signature on their own.
fn parts_of(what: &str, token: &str) -> Vec<(String, String)> {
    let mut parts = vec![(what.to_owned(), token.to_owned())];
    let segments: Vec<&str> = token.split('.').collect();
    if segments.len() == 3 {
        for (name, segment) in [("payload", segments[1]), ("signature", segments[2])] {
            if segment.len() >= 16 {
                parts.push((format!("{what} ({name})"), segment.to_owned()));
            }
        }
    }
    parts
}

#[tokio::test]
async fn tokens_and_secrets_never_reach_the_logs() {
    let database = fresh_database().await;
    let issuer = issuer();
    let (database_url, database_password) = with_password(&database.url);
    let [(_, client_id), (_, client_secret)] = issuer.client_env("catalog-service");
    let port = test_support::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut env: Vec<(&str, String)> = vec![
        ("DATABASE_URL", database_url),
        ("REDIS_URL", test_support::redis_url()),
        ("KAFKA_BROKERS", "disabled".to_owned()),
        ("APP__SERVER__PORT", port.to_string()),
        ("APP__LOG__FORMAT", "json".to_owned()),
        (
            "RUST_LOG",
            "debug,catalog=trace,common_kernel=trace,service_host=trace,messaging=trace,\
             domain_kernel=trace"
                .to_owned(),
        ),
        ("OIDC_ISSUER", issuer.issuer_url()),
        ("OIDC_AUDIENCE", issuer.audience().to_owned()),
        ("OIDC_CLIENT_ID", client_id),
        ("OIDC_CLIENT_SECRET", client_secret.clone()),
    ];
    env.extend(test_support::generous_rate_limits());
    let service = ServiceProcess::start(
        env!("CARGO_BIN_EXE_catalog"),
        &env,
        &format!("{base}/health/live"),
    );

    let mut claims = issuer.claims_for("catalog1");
    TENANT.clone_into(&mut claims.tenant_id);
    claims.realm_access.roles = role_names(&Role::ALL)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let dev = issuer.issuer();
    let user = issuer.token_with(&claims);
    let service_token = issuer.token_for_client("cpq-service");
    let tokens: Vec<(&str, String)> = vec![
        ("valid token", user.clone()),
        ("service token", service_token.clone()),
        ("expired token", dev.expired_token(&claims).unwrap()),
        (
            "wrong-audience token",
            dev.wrong_audience_token(&claims).unwrap(),
        ),
        ("forged token", dev.forged_signature_token(&claims).unwrap()),
        ("alg-none token", dev.alg_none_token(&claims).unwrap()),
        (
            "HS256 token",
            dev.hs256_with_public_key_token(&claims, PublicKeyEncoding::Pem)
                .unwrap(),
        ),
        (
            "garbage token",
            format!("garbage-{}", Uuid::now_v7().simple()),
        ),
        (
            "three garbage parts",
            format!(
                "{}.{}.{}",
                Uuid::now_v7().simple(),
                Uuid::now_v7().simple(),
                Uuid::now_v7().simple()
            ),
        ),
    ];

    let http = reqwest::Client::new();
    let mut correlations = Vec::new();
    let mut send = |method: Method, path: &str, headers: Vec<(&str, String)>, body: bool| {
        let correlation = format!("logs-{}", Uuid::now_v7().simple());
        correlations.push(correlation.clone());
        let mut request = http
            .request(method, format!("{base}{path}"))
            .header("X-Correlation-Id", correlation);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if body {
            let code = format!("LOG-{}", Uuid::now_v7().simple());
            request = request
                .header("Idempotency-Key", Uuid::now_v7().to_string())
                .json(&json!({"code": code, "name": "Logged", "characteristics": []}));
        }
        request.send()
    };
    for (_, token) in &tokens {
        let bearer = format!("Bearer {token}");
        for (method, path, body) in [
            (Method::GET, "/product-offerings", false),
            (Method::POST, "/product-specifications", true),
            (Method::GET, "/product-offerings/not-a-uuid", false),
        ] {
            let response = send(method, path, vec![("Authorization", bearer.clone())], body)
                .await
                .unwrap();
            assert!(!response.status().is_server_error(), "{response:?}");
        }
        // On a user's behalf: the user's token in X-Acting-User, from a service and from a user.
        for caller in [&service_token, &user] {
            let headers = vec![
                ("Authorization", format!("Bearer {caller}")),
                ("X-Acting-User", token.clone()),
            ];
            let response = send(Method::POST, "/product-specifications", headers, true)
                .await
                .unwrap();
            assert!(!response.status().is_server_error(), "{response:?}");
        }
    }
    // Credentials of other schemes.
    let basic = format!("Basic {}", "Y2F0YWxvZy1zZXJ2aWNlOnNlY3JldA");
    for value in [basic.clone(), format!("Bearer {user} {user}")] {
        let response = send(
            Method::GET,
            "/product-offerings",
            vec![("Authorization", value)],
            false,
        )
        .await
        .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);
    }

    let logs = service.stop();
    let json_lines = logs
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
        .count();
    assert!(json_lines > 20, "JSON logs were captured:\n{logs}");
    assert!(
        correlations.iter().any(|c| logs.contains(c.as_str())),
        "the requests were logged (their correlation ids)"
    );
    let mut secrets: Vec<(String, String)> = tokens
        .iter()
        .flat_map(|(what, token)| parts_of(what, token))
        .collect();
    secrets.push(("the client secret".to_owned(), client_secret));
    secrets.push(("the database password".to_owned(), database_password));
    secrets.push(("basic credentials".to_owned(), basic));
    assert_not_logged(&logs, &secrets);
    drop(database);
}
