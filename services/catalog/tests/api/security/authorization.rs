//! The permission table (`domain_kernel::access::roles_for`) decides every endpoint for every
//! role: a refused role gets 403 `FORBIDDEN_ACTION` naming the action and changes nothing, an
//! allowed one gets its answer; an idempotency key carries no permission from one caller to
//! another.

use domain_kernel::access::{Action, Role, roles_for};
use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{Answer, Fixture, Planned, digest, plan, planned, read, role_names};
use crate::harness::{TestApp, expect_problem, expect_status};

/// Who calls: a name, and the roles its token carries.
fn callers() -> Vec<(String, Vec<Role>)> {
    let mut callers: Vec<(String, Vec<Role>)> = Role::ALL
        .into_iter()
        .map(|role| (role.as_str().to_owned(), vec![role]))
        .collect();
    callers.push(("no-role".to_owned(), Vec::new()));
    callers
}

fn allowed(action: Action, roles: &[Role]) -> bool {
    roles.iter().any(|role| roles_for(action).contains(role))
}

/// Asserts a 403 naming the action of `call`, with the correlation id sent.
fn assert_forbidden(call: &Planned, who: &str, answer: &Answer, correlation: &str) {
    let at = format!("{} {} as {who}", call.method, call.path);
    answer.assert_problem(StatusCode::FORBIDDEN, "FORBIDDEN_ACTION", correlation, &at);
    let detail = answer.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(&call.action.name()),
        "the refusal names {}: {at}: {detail}",
        call.action.name()
    );
}

#[tokio::test]
async fn every_endpoint_answers_every_role_as_the_permission_table_says() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::create(&app, "ACL").await;
    let calls = planned(&app, &fixture, "ACL").await;
    let callers = callers();
    for call in &calls {
        let (refused, permitted): (Vec<_>, Vec<_>) = callers
            .iter()
            .partition(|(_, roles)| !allowed(call.action, roles));
        assert!(
            !refused.is_empty(),
            "a caller without roles is refused {}",
            call.action.name()
        );

        // Refused callers, all at once, each with its own Idempotency-Key: 403, nothing written.
        let before = digest(&app).await;
        let answers = join_all(refused.iter().map(|(who, roles)| {
            let token = app.token(&app.tenant, who, &role_names(roles));
            let correlation = format!("acl-{who}-{}", call.operation.operation_id);
            let mut request = call.request(&app, Some(&token), &correlation);
            if call.method != Method::GET {
                request = request.header("Idempotency-Key", format!("refused-{correlation}"));
            }
            async move { (who, correlation, read(request.send().await.unwrap()).await) }
        }))
        .await;
        for (who, correlation, answer) in &answers {
            assert_forbidden(call, who, answer, correlation);
        }
        assert_eq!(
            digest(&app).await,
            before,
            "{} {} refused, yet something was written",
            call.method,
            call.path
        );

        // Permitted callers, one after the other (commands change the fixture): never 403. The
        // request is valid and its resource in the state it needs, so the first succeeds; a later
        // one may find the state changed (409).
        for (n, (who, roles)) in permitted.iter().enumerate() {
            let own = plan(&call.operation, &fixture, who).unwrap();
            let token = app.token(&app.tenant, who, &role_names(roles));
            let answer = read(
                own.request(&app, Some(&token), "acl-permitted")
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            let status = answer.status;
            let at = format!(
                "{} {} as {who}: {status} {}",
                own.method, own.path, answer.body
            );
            if n == 0 {
                assert!(status.is_success(), "{at}");
            } else {
                assert!(
                    status.is_success() || status == StatusCode::CONFLICT,
                    "{at}"
                );
            }
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_carries_no_permission_from_one_caller_to_another() {
    let app = TestApp::spawn().await;
    let admin = app.token(&app.tenant, "admin", &["catalog-admin"]);
    let seller = app.token(&app.tenant, "seller", &["sales-agent"]);
    let create = |token: &str, key: &str, code: &str| {
        app.anonymous(Method::POST, "/product-specifications")
            .bearer_auth(token.to_owned())
            .header("Idempotency-Key", key.to_owned())
            .json(&json!({"code": code, "name": code, "characteristics": []}))
            .send()
    };

    // A refusal is not stored under the key: the admin's same request then runs.
    let before = digest(&app).await;
    let refused = create(&seller, "key-1", "FIRST").await.unwrap();
    expect_problem(refused, StatusCode::FORBIDDEN, "FORBIDDEN_ACTION").await;
    assert_eq!(digest(&app).await, before, "the refusal was stored");
    let created = create(&admin, "key-1", "FIRST").await.unwrap();
    expect_status(created, StatusCode::CREATED).await;

    // A stored success is not replayed to a caller who may not take the action: the key is the
    // admin's, so the seller's request under it is another request.
    let created = create(&admin, "key-2", "SECOND").await.unwrap();
    expect_status(created, StatusCode::CREATED).await;
    let before = digest(&app).await;
    let replayed = create(&seller, "key-2", "SECOND").await.unwrap();
    assert_eq!(replayed.headers().get("idempotent-replayed"), None);
    expect_problem(
        replayed,
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
    )
    .await;
    assert_eq!(digest(&app).await, before);
    // The admin's retry still replays the stored answer.
    let retried = create(&admin, "key-2", "SECOND").await.unwrap();
    assert_eq!(
        retried
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    expect_status(retried, StatusCode::CREATED).await;
    app.stop().await;
}
