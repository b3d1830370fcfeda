//! Every endpoint refuses every kind of bad token with 401 and writes nothing; a signing key the
//! issuer rotates in is accepted by the running service.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common_kernel::auth::keys::MIN_REFRESH;
use domain_kernel::access::Role;
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::json;
use test_support::{Claims, SigningAlgorithm, TestIssuer};

use super::{Fixture, digest, planned, read, role_names};
use crate::harness::{TestApp, expect_status};

/// A catalog admin of `tenant` with every role: claims that would be allowed everything, so a
/// token carrying them is refused only for the defect it has.
fn mighty_claims(issuer: &TestIssuer, tenant: &str) -> Claims {
    let mut claims = issuer.claims_for("catalog1");
    tenant.clone_into(&mut claims.tenant_id);
    claims.realm_access.roles = role_names(&Role::ALL)
        .into_iter()
        .map(str::to_owned)
        .collect();
    claims
}

#[tokio::test]
async fn every_endpoint_refuses_every_bad_token_with_401_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let fixture = Fixture::create(&app, "AUTHN").await;
    let calls = planned(&app, &fixture, "AUTHN").await;
    let claims = mighty_claims(&app.issuer, &app.tenant);
    let tokens = app.issuer.bad_tokens(&claims);

    // The same claims, properly signed, are accepted: each refusal is the defect's.
    let good = app.issuer.token_with(&claims);
    let list = calls.iter().find(|c| c.is_list()).unwrap();
    let control = read(
        list.request(&app, Some(&good), "control")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(control.status, StatusCode::OK, "{}", control.body);

    let before = digest(&app).await;
    let app_ref = &app;
    let tokens_ref = &tokens;
    let requests = calls.iter().flat_map(|call| {
        tokens_ref
            .iter()
            .enumerate()
            .map(move |(n, (what, token))| {
                let correlation = format!("authn-{n}-{}", call.operation.operation_id);
                let request = call.request(app_ref, token.as_deref(), &correlation);
                async move {
                    let answer = read(request.send().await.unwrap()).await;
                    (call, *what, token, correlation, answer)
                }
            })
    });
    let answers: Vec<_> = futures::stream::iter(requests)
        .buffer_unordered(16)
        .collect()
        .await;
    assert_eq!(answers.len(), calls.len() * tokens.len());
    for (call, what, token, correlation, answer) in answers {
        let at = format!("{} {} with {what}", call.method, call.path);
        answer.assert_problem(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            &correlation,
            &at,
        );
        let challenge = answer.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Bearer realm="), "{at}: {challenge}");
        if let Some(token) = token {
            assert!(!answer.body.to_string().contains(token.as_str()), "{at}");
        }
    }
    assert_eq!(digest(&app).await, before, "a refused request wrote");
    app.stop().await;
}

#[tokio::test]
async fn a_rotated_signing_key_is_accepted_without_a_restart() {
    let issuer = TestIssuer::start();
    let app = TestApp::spawn_with(
        Some(test_support::redis_url()),
        HashMap::from([
            ("OIDC_ISSUER", issuer.issuer_url()),
            ("OIDC_AUDIENCE", issuer.audience().to_owned()),
        ]),
    )
    .await;
    let token = || issuer.token_as(&app.tenant, "rotator", &["catalog-admin"], None);
    let list = |token: &str| {
        app.anonymous(Method::GET, "/product-offerings")
            .bearer_auth(token.to_owned())
            .send()
    };

    // The first token makes the service read the issuer's keys.
    let old_kid = issuer.issuer().current_kid(SigningAlgorithm::Rs256);
    let before = token();
    expect_status(list(&before).await.unwrap(), StatusCode::OK).await;
    let keys_read = Instant::now();
    // Tokens of the shared test issuer are another issuer's here.
    let stranger = app.token(&app.tenant, "rotator", &["catalog-admin"]);
    assert_eq!(
        list(&stranger).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    issuer.rotate_keys();
    let new_kid = issuer.issuer().current_kid(SigningAlgorithm::Rs256);
    assert_ne!(new_kid, old_kid);
    let after = token();
    // An unknown kid makes the service read the keys again, at most once per MIN_REFRESH.
    tokio::time::sleep_until((keys_read + MIN_REFRESH + Duration::from_millis(200)).into()).await;
    let created = app
        .anonymous(Method::POST, "/product-specifications")
        .bearer_auth(&after)
        .json(&json!({"code": "ROTATED", "name": "Rotated", "characteristics": []}))
        .send()
        .await
        .unwrap();
    let created = expect_status(created, StatusCode::CREATED).await;
    assert_eq!(created["code"], "ROTATED", "{created}");
    expect_status(list(&after).await.unwrap(), StatusCode::OK).await;

    // The issuer still publishes the old key: tokens signed before keep working.
    expect_status(list(&before).await.unwrap(), StatusCode::OK).await;
    // The ES256 key was rotated too; a token signed with the new one verifies as well.
    let mut claims = issuer.claims_for("catalog1");
    claims.tenant_id.clone_from(&app.tenant);
    let es256 = issuer
        .issuer()
        .sign_with(SigningAlgorithm::Es256, &claims)
        .unwrap();
    expect_status(list(&es256).await.unwrap(), StatusCode::OK).await;
    app.stop().await;
}
