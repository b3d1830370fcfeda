//! Authentication of every operation of the contract CPQ serves (ADR 0030): without a token,
//! or with a token that is expired, not yet valid, for another audience, from another issuer,
//! forged, unsigned (`alg: none`), HMAC-"signed" with the issuer's public key, unreadable, or
//! without the claims that make a caller, every operation answers 401 problem+json
//! `UNAUTHENTICATED` with the request's correlation id, and nothing is written; only the
//! operational endpoints answer without a token.

use futures::future::join_all;

use crate::harness::{TENANT, TestApp, issuer};
use crate::security_support::{
    Stage, answer, footprint, probe_of, quotes_in, request, served_operations,
};

/// The bad credentials every operation must refuse, minted for the harness's tenant and
/// seller, so a request that slipped through would act on the quotes the sweep names.
fn bad_tokens() -> Vec<(&'static str, Option<String>)> {
    let test_issuer = issuer();
    let mut claims = test_issuer.claims_for("sales1");
    claims.tenant_id = TENANT.to_owned();
    claims.preferred_username = "rep-1".to_owned();
    test_issuer.bad_tokens(&claims)
}

#[tokio::test]
async fn every_operation_refuses_every_bad_token_with_401_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let operations = served_operations(&app).await;
    let stages = [
        Stage::Configured,
        Stage::Priced,
        Stage::Approved,
        Stage::Accepted,
    ];
    let quotes = quotes_in(&app, &stages.map(|s| (s, 1))).await;
    let quote_for = |stage: Stage| {
        stages
            .iter()
            .position(|s| *s == stage)
            .map_or(uuid::Uuid::now_v7(), |i| quotes[i][0])
    };
    let tokens = bad_tokens();
    let before = footprint(&app).await;

    let mut calls = Vec::new();
    for (o, operation) in operations.iter().enumerate() {
        let probe = probe_of(&app, operation);
        for (t, (defect, token)) in tokens.iter().enumerate() {
            let correlation = format!("authn-{o}-{t}");
            let mut builder = request(
                &app,
                operation,
                &probe,
                quote_for(probe.stage),
                token.as_deref(),
            )
            .header("X-Correlation-Id", &correlation);
            if operation.method != "GET" {
                builder = builder.header("Idempotency-Key", &correlation);
            }
            calls.push(async move {
                let response = builder.send().await.unwrap();
                let challenge = response
                    .headers()
                    .get("www-authenticate")
                    .map(|v| v.to_str().unwrap().to_owned());
                let echoed = response
                    .headers()
                    .get("x-correlation-id")
                    .map(|v| v.to_str().unwrap().to_owned());
                let (status, content_type, body) = answer(response).await;
                let what = format!("{} {} with {defect}", operation.method, operation.path);
                (
                    what,
                    correlation,
                    token,
                    status,
                    content_type,
                    body,
                    challenge,
                    echoed,
                )
            });
        }
    }
    let answers = join_all(calls).await;
    assert_eq!(answers.len(), operations.len() * tokens.len());
    for (what, correlation, token, status, content_type, body, challenge, echoed) in answers {
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(content_type, "application/problem+json", "{what}");
        assert_eq!(body["code"], "UNAUTHENTICATED", "{what}: {body}");
        assert_eq!(body["status"], 401, "{what}: {body}");
        assert_eq!(
            body["correlationId"],
            correlation.as_str(),
            "{what}: {body}"
        );
        assert_eq!(echoed.as_deref(), Some(correlation.as_str()), "{what}");
        assert!(
            challenge.is_some_and(|c| c.starts_with("Bearer ")),
            "{what}: a 401 names the Bearer scheme"
        );
        if let Some(token) = token {
            let signature = token.rsplit('.').next().unwrap_or_default();
            let text = body.to_string();
            assert!(
                !text.contains(token.as_str())
                    && (signature.len() < 8 || !text.contains(signature)),
                "{what}: the refusal repeats the token: {text}"
            );
        }
    }
    assert!(
        footprint(&app).await == before,
        "a refused request wrote something"
    );
    // Only the operational endpoints stay open.
    for path in ["/health/live", "/health/ready", "/openapi.json", "/docs"] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path} needs no token");
    }
    app.stop().await;
}
