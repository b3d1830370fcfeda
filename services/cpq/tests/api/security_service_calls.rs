//! Service to service (ADR 0030), at the catalog CPQ calls: a service token with a user's
//! token in `X-Acting-User` acts as that user — the user's tenant, the user's roles, never the
//! service's — and only after both tokens verify; a service token alone acts as the service in
//! its own tenant; a caller that is not a service cannot act for anyone. (That CPQ's calls
//! carry its own client and the user's tenant is shown by the catalog's rate-limit keys in
//! `security_rate_limits`.)

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TENANT, TestApp, expect_problem, expect_status, issuer, seed_tenant};

/// A catalog request with `token` and, when given, `acting` in `X-Acting-User`.
async fn catalog(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    acting: Option<&str>,
) -> Response {
    let mut request = app
        .client
        .request(method.clone(), format!("{}{path}", app.catalog.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(acting) = acting {
        request = request.header("X-Acting-User", acting);
    }
    if method == Method::POST {
        request = request.json(&json!({"code": format!("X-{}", Uuid::now_v7().simple()),
            "name": "Smuggled", "characteristics": [
                {"name": "bandwidthMbps", "valueType": "INTEGER", "required": true,
                 "allowedValues": [100], "defaultValue": 100}]}));
    }
    request.send().await.unwrap()
}

/// The ids a catalog list answers.
async fn listed(response: Response) -> Vec<Value> {
    let body = expect_status(response, StatusCode::OK).await;
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].clone())
        .collect()
}

#[tokio::test]
async fn the_catalog_acts_for_the_user_a_service_names_and_only_for_a_service() {
    let app = TestApp::spawn().await;
    let globex = seed_tenant("globex", &app.client, &app.catalog.base).await;
    let ours = format!("/product-offerings/{}", app.fixture.offering);
    let theirs = format!("/product-offerings/{}", globex.offering);
    let service = issuer().token_for_client("cpq-service");
    let seller = issuer().token_as(TENANT, "rep-1", &["sales-agent"], Some("10"));
    let globex_seller = issuer().token_as("globex", "rep-g", &["sales-agent"], Some("10"));
    let admin = issuer().token_as(TENANT, "admin-1", &["catalog-admin"], None);
    let roleless = issuer().token_as(TENANT, "nobody", &[], None);
    let (s, get) = (Some(service.as_str()), Method::GET);

    // For the harness tenant's seller: that tenant's catalog.
    let read = catalog(&app, get.clone(), &ours, s, Some(&seller)).await;
    expect_status(read, StatusCode::OK).await;
    // For another tenant's seller: that tenant's catalog only, whatever the service's tenant.
    let read = catalog(&app, get.clone(), &ours, s, Some(&globex_seller)).await;
    expect_status(read, StatusCode::NOT_FOUND).await;
    let read = catalog(&app, get.clone(), &theirs, s, Some(&globex_seller)).await;
    expect_status(read, StatusCode::OK).await;
    let list = catalog(
        &app,
        get.clone(),
        "/product-offerings",
        s,
        Some(&globex_seller),
    )
    .await;
    assert_eq!(listed(list).await, [json!(globex.offering)]);
    // Alone, the service acts as itself, in its own tenant (`demo`), which has no offerings.
    let read = catalog(&app, get.clone(), &ours, s, None).await;
    expect_status(read, StatusCode::NOT_FOUND).await;
    let list = catalog(&app, get.clone(), "/product-offerings", s, None).await;
    assert_eq!(listed(list).await, Vec::<Value>::new());

    // The user's roles, not the service's: a user with no role may not even read, and a seller
    // may not manage the catalog however mighty the service.
    let refused = catalog(&app, get.clone(), &ours, s, Some(&roleless)).await;
    let body = expect_problem(refused, StatusCode::FORBIDDEN, "FORBIDDEN_ACTION").await;
    assert!(
        body["detail"].as_str().unwrap().contains("ViewCatalog"),
        "{body}"
    );
    let spec_path = "/product-specifications";
    let specs_before =
        listed(catalog(&app, get.clone(), spec_path, Some(&admin), None).await).await;
    let smuggled = catalog(&app, Method::POST, spec_path, s, Some(&seller)).await;
    let body = expect_problem(smuggled, StatusCode::FORBIDDEN, "FORBIDDEN_ACTION").await;
    assert!(
        body["detail"].as_str().unwrap().contains("ManageCatalog"),
        "{body}"
    );

    // Both tokens must verify.
    let i = issuer();
    for acting in [
        i.expired_token("sales1"),
        i.forged_signature_token("sales1"),
        i.alg_none_token("sales1"),
        "not-a-jwt".to_owned(),
    ] {
        let refused = catalog(&app, get.clone(), &ours, s, Some(&acting)).await;
        expect_problem(refused, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    }
    let forged_service = i.forged_signature_token("sales1");
    let refused = catalog(
        &app,
        get.clone(),
        &ours,
        Some(&forged_service),
        Some(&seller),
    )
    .await;
    expect_problem(refused, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
    // A user token in X-Acting-User alone authenticates nobody.
    let refused = catalog(&app, get.clone(), &ours, None, Some(&admin)).await;
    expect_problem(refused, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;

    // A caller that is not a service cannot act for anyone: a seller naming an admin of its own
    // tenant, or a seller of another tenant, is refused, reads and writes alike.
    for acting in [&admin, &globex_seller] {
        let refused = catalog(&app, get.clone(), &theirs, Some(&seller), Some(acting)).await;
        expect_problem(refused, StatusCode::FORBIDDEN, "FORBIDDEN_ACTION").await;
        let smuggled = catalog(&app, Method::POST, spec_path, Some(&seller), Some(acting)).await;
        expect_problem(smuggled, StatusCode::FORBIDDEN, "FORBIDDEN_ACTION").await;
    }
    let specs_after = listed(catalog(&app, get.clone(), spec_path, Some(&admin), None).await).await;
    assert_eq!(specs_after, specs_before, "nothing was created");

    // CPQ itself refuses X-Acting-User from a caller that is not a service.
    let through_cpq = app
        .request(Method::GET, "/quotes")
        .header("X-Acting-User", &globex_seller)
        .send()
        .await
        .unwrap();
    expect_problem(through_cpq, StatusCode::FORBIDDEN, "FORBIDDEN_ACTION").await;
    app.stop().await;
}
