//! Every command writes history, an outbox event and audit evidence in its transaction; a
//! refused command writes none of them.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::harness::{ROLES, TestApp, expect_problem};

async fn outbox(app: &TestApp) -> Vec<(String, String, String, Value)> {
    sqlx::query_as(
        "SELECT topic, event_type, partition_key, envelope FROM outbox_event ORDER BY outbox_seq",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn publish_writes_history_event_and_audit_with_the_request_context() {
    let app = TestApp::spawn().await;
    let offering = app.create_offering("EVENTS").await;
    app.command(offering, "submit-for-review").await;
    let before = outbox(&app).await.len();

    let response = app
        .request(
            Method::POST,
            &format!("/product-offerings/{offering}/publish"),
        )
        .header("X-Correlation-Id", "corr-publish-1")
        .header("X-Channel", "SALES_PORTAL")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .json(&serde_json::json!({"reason": "launch"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response
            .headers()
            .get("x-correlation-id")
            .and_then(|v| v.to_str().ok()),
        Some("corr-publish-1")
    );
    assert_eq!(response.status(), StatusCode::OK);

    let rows = outbox(&app).await;
    let new: Vec<_> = rows[before..].to_vec();
    assert_eq!(new.len(), 2, "one business event and one audit evidence");
    let (topic, event_type, key, envelope) = &new[0];
    assert_eq!(topic, "catalog.product-offering.events.v1");
    assert_eq!(event_type, "catalog.product-offering.published.v1");
    assert_eq!(key, &offering.to_string(), "keyed by offering id");
    for field in [
        "eventId",
        "eventType",
        "eventVersion",
        "occurredAt",
        "tenantId",
        "aggregateType",
        "aggregateId",
        "aggregateVersion",
        "correlationId",
        "causationId",
        "businessTransactionId",
        "actorId",
        "payload",
    ] {
        assert!(
            !envelope[field].is_null(),
            "envelope has {field}: {envelope}"
        );
    }
    assert_eq!(envelope["correlationId"], "corr-publish-1");
    assert_eq!(envelope["tenantId"], "acme");
    assert_eq!(envelope["actorId"], "tester");
    assert_eq!(envelope["aggregateVersion"], 3);
    assert_eq!(
        envelope["traceparent"],
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    );
    assert_eq!(envelope["payload"]["toStatus"], "PUBLISHED");
    assert_eq!(
        envelope["payload"]["content"]["code"], "EVENTS",
        "published event carries the content"
    );

    let (audit_topic, audit_type, audit_key, audit) = &new[1];
    assert_eq!(audit_topic, "audit.evidence.events.v1");
    assert_eq!(audit_type, "audit.evidence-submitted.v1");
    assert_eq!(
        audit_key, "corr-publish-1",
        "audit is keyed by business transaction"
    );
    let evidence = &audit["payload"];
    assert_eq!(evidence["actor"]["actorId"], "tester");
    assert_eq!(evidence["actor"]["actorType"], "HUMAN_AGENT");
    assert_eq!(evidence["channel"], "SALES_PORTAL");
    assert_eq!(evidence["resource"]["resourceType"], "ProductOffering");
    assert_eq!(evidence["businessReason"], "launch");
    assert_eq!(evidence["before"]["status"], "READY_FOR_REVIEW");
    assert_eq!(evidence["after"]["status"], "PUBLISHED");
    assert_eq!(
        evidence["causationId"], envelope["causationId"],
        "evidence and event name the same command"
    );

    let history: (String, Option<String>, String, String, String) = sqlx::query_as(
        "SELECT command, from_status, to_status, actor_id, correlation_id FROM product_offering_history ORDER BY history_id DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        history,
        (
            "PUBLISH".into(),
            Some("READY_FOR_REVIEW".into()),
            "PUBLISHED".into(),
            "tester".into(),
            "corr-publish-1".into()
        )
    );
    app.stop().await;
}

/// The envelope of the newest audit evidence in the outbox, and the newest offering history
/// row's actor and `via`.
async fn latest_evidence_and_history(app: &TestApp) -> (Value, (String, Option<String>)) {
    let evidence: Value = sqlx::query_scalar(
        "SELECT envelope FROM outbox_event WHERE event_type = 'audit.evidence-submitted.v1' \
         ORDER BY outbox_seq DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let history = sqlx::query_as(
        "SELECT actor_id, via FROM product_offering_history ORDER BY history_id DESC LIMIT 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    (evidence, history)
}

#[tokio::test]
async fn a_command_a_service_makes_for_a_user_records_the_user_and_the_service() {
    let app = TestApp::spawn().await;

    // The user calls directly: the evidence names them and their client, and no `via`.
    let offering = app.create_offering("ACTING").await;
    let (direct, history) = latest_evidence_and_history(&app).await;
    event_contracts::validate(&direct).expect("the evidence keeps its contract");
    let direct = &direct["payload"];
    assert_eq!(direct["actor"]["actorId"], "tester");
    assert_eq!(direct["client"], "cpq-portal", "the user's token's azp");
    assert!(
        direct.get("via").is_none(),
        "no service in between: {direct}"
    );
    assert_eq!(history, ("tester".to_owned(), None));

    // cpq-service calls with its own token, acting for catalog1 (who holds catalog-admin; the
    // service's own `service` role could not manage the catalog).
    let user = app.token(&app.tenant, "catalog1", ROLES);
    let response = app
        .anonymous(
            Method::POST,
            &format!("/product-offerings/{offering}/submit-for-review"),
        )
        .bearer_auth(app.issuer.token_for_client("cpq-service"))
        .header("X-Acting-User", format!("Bearer {user}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (envelope, history) = latest_evidence_and_history(&app).await;
    event_contracts::validate(&envelope).expect("the evidence keeps its contract");
    assert_eq!(envelope["actorId"], "catalog1");
    let acting = &envelope["payload"];
    assert_eq!(acting["resource"]["resourceId"], offering.to_string());
    assert_eq!(acting["actor"]["actorId"], "catalog1", "the user decided");
    assert_eq!(acting["client"], "cpq-portal", "the user's own client");
    assert_eq!(acting["via"], "cpq-service", "the service carried it");
    assert_eq!(
        history,
        ("catalog1".to_owned(), Some("cpq-service".to_owned()))
    );

    app.stop().await;
}

#[tokio::test]
async fn a_refused_command_writes_no_history_event_or_evidence() {
    let app = TestApp::spawn().await;
    let offering = app.create_offering("NOTHING").await;
    let before = app.footprint().await;
    let response = app
        .post_empty(&format!("/product-offerings/{offering}/archive"))
        .await;
    expect_problem(response, StatusCode::CONFLICT, "ILLEGAL_TRANSITION").await;
    assert_eq!(app.footprint().await, before);
    app.stop().await;
}

#[tokio::test]
async fn superseding_publication_retires_the_previous_version_with_its_own_event() {
    let app = TestApp::spawn().await;
    let offering = app.published_offering("SUPERSEDE").await;
    app.post_empty(&format!("/product-offerings/{offering}/versions"))
        .await;
    app.command(offering, "submit-for-review").await;
    app.command(offering, "publish").await;
    let types: Vec<(String, Value)> = sqlx::query_as(
        "SELECT event_type, envelope->'payload' FROM outbox_event WHERE topic = 'catalog.product-offering.events.v1' ORDER BY outbox_seq",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let names: Vec<&str> = types.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        names,
        [
            "catalog.product-offering.created.v1",
            "catalog.product-offering.submitted-for-review.v1",
            "catalog.product-offering.published.v1",
            "catalog.product-offering.version-created.v1",
            "catalog.product-offering.submitted-for-review.v1",
            "catalog.product-offering.retired.v1",
            "catalog.product-offering.published.v1",
        ]
    );
    assert_eq!(types[5].1["version"], 1);
    assert_eq!(types[5].1["reason"], "superseded by version 2");
    let versions: Vec<i64> = sqlx::query_scalar(
        "SELECT (envelope->>'aggregateVersion')::bigint FROM outbox_event WHERE topic = 'catalog.product-offering.events.v1' ORDER BY outbox_seq",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(
        versions.windows(2).all(|w| w[0] < w[1]),
        "aggregate versions strictly increase: {versions:?}"
    );
    app.stop().await;
}
