//! Acceptance tests of issue 20 (security, ADR 0030) over the real catalog: every endpoint of the
//! served contract refuses bad tokens, the permission table decides every endpoint × role, another
//! tenant's resources do not exist, rate limits hold with and without Redis, a key rotation is
//! picked up while running, and tokens and secrets never reach the logs.
//!
//! The sweeps enumerate the operations of the served `/openapi.json`; [`plan`] says, per
//! operation, which action the permission table is asked for and how to call it validly, and
//! fails for an operation it does not know, so a new endpoint fails these tests until mapped.

mod authentication;
mod authorization;
mod cross_tenant;
mod logs;
mod rate_limits;

use domain_kernel::access::{Action, Role};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use test_support::Operation;
use uuid::Uuid;

use crate::harness::{BUSINESS_TABLES, TestApp, expect_status, id_of};

/// Every table a request may write, the stored idempotent responses included.
pub fn tables() -> impl Iterator<Item = &'static str> {
    BUSINESS_TABLES.into_iter().chain(["idempotency_record"])
}

/// Catalog content of one tenant in the states the commands need, one resource per command so
/// each command can succeed once for the role allowed to take it.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// A specification (read, and the one new offerings use).
    pub spec: Uuid,
    /// Published v1: read, priced, retired, and given a new version.
    pub published: Uuid,
    /// Published v1, to retire.
    pub to_retire: Uuid,
    /// Published v1, to derive v2 from.
    pub to_derive: Uuid,
    /// Draft v1, to edit.
    pub to_edit: Uuid,
    /// Draft v1, to submit for review.
    pub to_submit: Uuid,
    /// Ready for review, to publish.
    pub to_publish: Uuid,
    /// Ready for review, to return to draft.
    pub to_return: Uuid,
    /// Retired v1, to archive.
    pub to_archive: Uuid,
    /// A published price book: read, and given a new version.
    pub book: Uuid,
    /// A draft price book, to publish.
    pub book_draft: Uuid,
}

impl Fixture {
    /// Creates the content through the API as `app`'s tenant; `prefix` keeps codes apart.
    pub async fn create(app: &TestApp, prefix: &str) -> Self {
        let spec = app.create_spec(&format!("{prefix}-SPEC")).await;
        let offering = |name: &str| {
            let code = format!("{prefix}-{name}");
            async move { app.create_offering_with(&code, spec, json!([])).await }
        };
        let published = offering("PUBLISHED").await;
        let to_retire = offering("RETIRE").await;
        let to_derive = offering("DERIVE").await;
        let to_archive = offering("ARCHIVE").await;
        let to_publish = offering("PUBLISH").await;
        let to_return = offering("RETURN").await;
        for id in [published, to_retire, to_derive, to_archive] {
            app.command(id, "submit-for-review").await;
            app.command(id, "publish").await;
        }
        app.command(to_archive, "retire").await;
        for id in [to_publish, to_return] {
            app.command(id, "submit-for-review").await;
        }
        let book = create_book(app, &format!("{prefix}-BOOK"), published).await;
        expect_status(
            app.post_empty(&format!("/price-books/{book}/publish"))
                .await,
            StatusCode::OK,
        )
        .await;
        Self {
            spec,
            published,
            to_retire,
            to_derive,
            to_edit: offering("EDIT").await,
            to_submit: offering("SUBMIT").await,
            to_publish,
            to_return,
            to_archive,
            book,
            book_draft: create_book(app, &format!("{prefix}-DRAFT-BOOK"), published).await,
        }
    }
}

/// A valid body for a price book pricing `offering` v1.
pub fn book_body(code: &str, offering: Uuid) -> Value {
    json!({"code": code, "name": format!("Book {code}"), "currency": "EUR", "entries": [{
        "offeringId": offering, "offeringVersion": 1,
        "charges": [{"chargeType": "RECURRING", "period": "MONTH", "unitPrice": "10.00"}]}]})
}

async fn create_book(app: &TestApp, code: &str, offering: Uuid) -> Uuid {
    let body = expect_status(
        app.post("/price-books", &book_body(code, offering)).await,
        StatusCode::CREATED,
    )
    .await;
    id_of(&body, "priceBookId")
}

/// One operation, called validly: the action the table is asked for, and the request.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The contract's operation.
    pub operation: Operation,
    /// The action the permission table decides.
    pub action: Action,
    /// Method to send.
    pub method: Method,
    /// Path with real ids.
    pub path: String,
    /// JSON body, for commands.
    pub body: Option<Value>,
}

impl Planned {
    /// Whether it lists a collection.
    pub fn is_list(&self) -> bool {
        self.method == Method::GET && !self.operation.template.contains('{')
    }

    /// The request with `token` (none: anonymous) and a correlation id.
    pub fn request(&self, app: &TestApp, token: Option<&str>, correlation: &str) -> RequestBuilder {
        let mut request = app
            .anonymous(self.method.clone(), &self.path)
            .header("X-Correlation-Id", correlation);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = &self.body {
            request = request.json(body);
        }
        request
    }
}

/// How to call `operation` validly against `fixture`; `tag` makes the codes a create uses
/// unique. `None` for an operation this mapping does not know yet.
pub fn plan(operation: &Operation, fixture: &Fixture, tag: &str) -> Option<Planned> {
    use Action::{ManageCatalog as Manage, ViewCatalog as View};
    let f = fixture;
    let code = format!("SEC-{}", tag.to_uppercase());
    let (action, path, body) = match operation.operation_id.as_str() {
        "list_specifications" => (View, "/product-specifications".into(), None),
        "get_specification" => (View, format!("/product-specifications/{}", f.spec), None),
        "create_specification" => (
            Manage,
            "/product-specifications".into(),
            Some(json!({"code": code, "name": "Secured", "characteristics": []})),
        ),
        "list_offerings" => (View, "/product-offerings".into(), None),
        "get_offering" => (View, format!("/product-offerings/{}", f.published), None),
        "get_offering_version" => (
            View,
            format!("/product-offerings/{}/versions/1", f.published),
            None,
        ),
        "create_offering" => (
            Manage,
            "/product-offerings".into(),
            Some(
                json!({"code": code, "name": "Secured", "productSpecificationId": f.spec,
                "relationships": [{"type": "REQUIRES", "targetOfferingId": f.published}]}),
            ),
        ),
        "edit_offering_version" => (
            Manage,
            format!("/product-offerings/{}/versions/1", f.to_edit),
            Some(json!({"name": format!("Edited {tag}")})),
        ),
        "create_offering_version" => (
            Manage,
            format!("/product-offerings/{}/versions", f.to_derive),
            Some(json!({})),
        ),
        "submit_offering_for_review" => lifecycle(f.to_submit, "submit-for-review"),
        "return_offering_to_draft" => lifecycle(f.to_return, "return-to-draft"),
        "publish_offering" => lifecycle(f.to_publish, "publish"),
        "retire_offering" => lifecycle(f.to_retire, "retire"),
        "archive_offering" => lifecycle(f.to_archive, "archive"),
        "list_price_books" => (View, "/price-books".into(), None),
        "get_price_book" => (View, format!("/price-books/{}", f.book), None),
        "get_price_book_version" => (View, format!("/price-books/{}/versions/1", f.book), None),
        "create_price_book" => (
            Manage,
            "/price-books".into(),
            Some(book_body(&code, f.published)),
        ),
        "publish_price_book" => (
            Manage,
            format!("/price-books/{}/publish", f.book_draft),
            Some(json!({"reason": "security sweep"})),
        ),
        "create_price_book_version" => (
            Manage,
            format!("/price-books/{}/versions", f.book),
            Some(json!({})),
        ),
        _ => return None,
    };
    Some(Planned {
        operation: operation.clone(),
        action,
        method: Method::from_bytes(operation.method.as_bytes()).expect("an HTTP method"),
        path,
        body,
    })
}

fn lifecycle(offering: Uuid, command: &str) -> (Action, String, Option<Value>) {
    (
        Action::ManageCatalog,
        format!("/product-offerings/{offering}/{command}"),
        Some(json!({"reason": "security sweep"})),
    )
}

/// The operations of the served contract.
pub async fn served_operations(app: &TestApp) -> Vec<Operation> {
    let response = app
        .anonymous(Method::GET, "/openapi.json")
        .send()
        .await
        .unwrap();
    let document = expect_status(response, StatusCode::OK).await;
    let operations = test_support::operations(&document);
    assert!(operations.len() >= 20, "{operations:?}");
    operations
}

/// Every operation of the served contract, planned; fails naming the operations [`plan`] does
/// not know, so a new endpoint fails the sweeps until it is mapped.
pub async fn planned(app: &TestApp, fixture: &Fixture, tag: &str) -> Vec<Planned> {
    let operations = served_operations(app).await;
    let unmapped: Vec<String> = operations
        .iter()
        .filter(|op| plan(op, fixture, tag).is_none())
        .map(|op| format!("{} {} ({})", op.method, op.template, op.operation_id))
        .collect();
    assert!(
        unmapped.is_empty(),
        "operations without an action and a valid request in security::plan: {unmapped:?}"
    );
    let planned: Vec<Planned> = operations
        .iter()
        .filter_map(|op| plan(op, fixture, tag))
        .collect();
    for call in &planned {
        let template = call.operation.template.split('/').count();
        assert_eq!(
            call.path.split('/').count(),
            template,
            "{} is planned on a path of another shape: {}",
            call.operation.template,
            call.path
        );
    }
    planned
}

/// The names of `roles`, as tokens carry them.
pub fn role_names(roles: &[Role]) -> Vec<&'static str> {
    roles.iter().map(|r| r.as_str()).collect()
}

/// A token for `tenant` holding every role of the platform.
pub fn all_roles_token(app: &TestApp, tenant: &str, actor: &str) -> String {
    app.token(tenant, actor, &role_names(&Role::ALL))
}

/// A digest of every row of every table (across tenants, read as the owner): equal digests mean
/// nothing was inserted, changed or deleted.
pub async fn digest(app: &TestApp) -> Vec<(&'static str, i64, String)> {
    let mut out = Vec::new();
    for table in tables() {
        let (count, md5): (i64, Option<String>) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t"
        )))
        .fetch_one(&app.db)
        .await
        .unwrap_or_else(|e| panic!("digest of {table}: {e}"));
        out.push((table, count, md5.unwrap_or_default()));
    }
    out
}

/// The rows of one tenant in every table, for "unchanged" checks across a probe.
pub async fn tenant_digest(app: &TestApp, tenant: &str) -> Vec<(&'static str, i64, String)> {
    let mut out = Vec::new();
    for table in tables() {
        let (count, md5): (i64, Option<String>) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t \
             WHERE tenant_id = $1"
        )))
        .bind(tenant)
        .fetch_one(&app.db)
        .await
        .unwrap_or_else(|e| panic!("digest of {table}: {e}"));
        out.push((table, count, md5.unwrap_or_default()));
    }
    out
}

/// A response, read.
#[derive(Debug)]
pub struct Answer {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as JSON (a JSON string when it is not JSON).
    pub body: Value,
}

impl Answer {
    /// A header's value, when present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json answer with `status` and `code` whose correlation id, in the body
    /// and the header, is `correlation`.
    pub fn assert_problem(&self, status: StatusCode, code: &str, correlation: &str, at: &str) {
        let body = &self.body;
        assert_eq!(self.status, status, "{at}: {body}");
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{at}: {body}"
        );
        assert_eq!(body["code"], code, "{at}: {body}");
        assert_eq!(body["status"], status.as_u16(), "{at}: {body}");
        assert_eq!(body["correlationId"], correlation, "{at}: {body}");
        assert_eq!(self.header("x-correlation-id"), Some(correlation), "{at}");
    }
}

/// Reads a response.
pub async fn read(response: Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        headers,
        body,
    }
}
