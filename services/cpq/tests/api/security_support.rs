//! What the security sweeps share: the operations of the contract CPQ serves, the one mapping
//! from each operation to the [`Action`] it needs (with the quote state and body that make a
//! request to it valid), quotes in those states, and a footprint of the database that proves a
//! refused request wrote nothing.

use futures::future::join_all;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};
use test_support::Operation;
use uuid::Uuid;

use domain_kernel::access::Action;

use crate::harness::TestApp;

/// The state a quote must be in for an operation's valid request to succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The operation names no quote (create, list).
    NoQuote,
    /// CONFIGURED with item `1` (two units of the fixture offering at 500 Mbps).
    Configured,
    /// PRICED: item `1` costs 100.00 once and 200.00 a month.
    Priced,
    /// APPROVED (the approval service's policy required no approval).
    Approved,
    /// ACCEPTED.
    Accepted,
}

/// How to call one operation validly, and what it needs.
#[derive(Debug, Clone)]
pub struct Probe {
    /// The permission the operation needs.
    pub action: Action,
    /// The state of the quote it names.
    pub stage: Stage,
    /// A valid body, when it takes one.
    pub body: Option<Value>,
    /// The status a permitted caller gets.
    pub success: u16,
}

/// Every `operationId` [`probe`] maps, so a mapping left behind by a removed operation fails too.
pub const MAPPED: [&str; 12] = [
    "list",
    "get",
    "price_trace",
    "create",
    "replace_items",
    "price",
    "cancel",
    "revise",
    "override_price",
    "submit",
    "accept",
    "convert",
];

/// The operation → action mapping of the sweeps, by `operationId`. An operation the served
/// contract gains fails every sweep until it is mapped here.
pub fn probe(app: &TestApp, operation_id: &str) -> Option<Probe> {
    let p = |action, stage, body: Option<Value>| Probe {
        action,
        stage,
        body,
        success: 200,
    };
    let reason = || Some(json!({"reason": "security sweep"}));
    Some(match operation_id {
        "list" => p(Action::ViewQuote, Stage::NoQuote, None),
        "get" | "price_trace" => p(Action::ViewQuote, Stage::Priced, None),
        "create" => Probe {
            success: 201,
            ..p(
                Action::EditQuote,
                Stage::NoQuote,
                Some(app.create_body(3600, json!([app.item("1", 2)]))),
            )
        },
        "replace_items" => p(
            Action::EditQuote,
            Stage::Configured,
            Some(json!({"items": [app.item("1", 3)]})),
        ),
        "price" => p(Action::EditQuote, Stage::Configured, None),
        "cancel" => p(Action::EditQuote, Stage::Configured, reason()),
        "revise" => p(Action::EditQuote, Stage::Approved, reason()),
        "override_price" => p(
            Action::OverridePrice,
            Stage::Priced,
            Some(
                json!({"charge": "ONE_TIME", "originalPrice": "100.00", "newPrice": "90.00",
                        "reason": "security sweep"}),
            ),
        ),
        "submit" => p(Action::SubmitQuote, Stage::Priced, None),
        "accept" => p(
            Action::AcceptQuote,
            Stage::Approved,
            Some(json!({"reference": "PO-SWEEP"})),
        ),
        "convert" => p(Action::ConvertQuote, Stage::Accepted, None),
        _ => return None,
    })
}

/// The mapped probe of `operation`, or a failure that says the mapping is missing.
pub fn probe_of(app: &TestApp, operation: &Operation) -> Probe {
    probe(app, &operation.operation_id).unwrap_or_else(|| {
        panic!(
            "{} {} (operationId {:?}) has no Action in security_support::probe: map it",
            operation.method, operation.template, operation.operation_id
        )
    })
}

/// The operations of the contract the running service serves at `/openapi.json`.
pub async fn served_operations(app: &TestApp) -> Vec<Operation> {
    let document: Value = app
        .client
        .get(format!("{}/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let operations = test_support::operations(&document);
    assert!(
        operations.len() >= 12,
        "the served contract lists {} operations",
        operations.len()
    );
    operations
}

/// The operation's path naming `quote` and its item `1`.
pub fn path_for(operation: &Operation, quote: Uuid) -> String {
    let mut path = operation.template.clone();
    while let Some(start) = path.find('{') {
        let end = start + path[start..].find('}').unwrap();
        let value = match &path[start + 1..end] {
            "id" => quote.to_string(),
            "item_id" => "1".to_owned(),
            other => panic!(
                "{}: no value for path parameter {other}",
                operation.template
            ),
        };
        path.replace_range(start..=end, &value);
    }
    path
}

/// A request to `operation` on `quote` with its valid body, as the holder of `token`.
pub fn request(
    app: &TestApp,
    operation: &Operation,
    probe: &Probe,
    quote: Uuid,
    token: Option<&str>,
) -> RequestBuilder {
    let method = Method::from_bytes(operation.method.as_bytes()).unwrap();
    let mut request = app.client.request(
        method,
        format!("{}{}", app.base, path_for(operation, quote)),
    );
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = &probe.body {
        request = request.json(body);
    }
    request
}

/// A quote of the default seller in `stage` (`Uuid::nil()` for [`Stage::NoQuote`]).
pub async fn quote_in(app: &TestApp, stage: Stage) -> Uuid {
    match stage {
        Stage::NoQuote => Uuid::nil(),
        Stage::Configured => app.configured_quote().await,
        Stage::Priced => {
            let quote = app.configured_quote().await;
            app.command(quote, "price").await;
            quote
        }
        Stage::Approved => app.approved_quote().await,
        Stage::Accepted => app.accepted_quote().await,
    }
}

/// `count` quotes in `stage` for each entry, made concurrently.
pub async fn quotes_in(app: &TestApp, stages: &[(Stage, usize)]) -> Vec<Vec<Uuid>> {
    join_all(stages.iter().map(|&(stage, count)| async move {
        join_all((0..count).map(|_| quote_in(app, stage))).await
    }))
    .await
}

/// Every row a request may write, as JSON, by table: equal before and after means nothing
/// was written (or updated) in any tenant.
pub async fn footprint(app: &TestApp) -> Vec<(String, Vec<Value>)> {
    rows(app, None).await
}

/// [`footprint`] of one tenant's rows (the tables with a tenant).
pub async fn tenant_footprint(app: &TestApp, tenant: &str) -> Vec<(String, Vec<Value>)> {
    rows(app, Some(tenant)).await
}

async fn rows(app: &TestApp, tenant: Option<&str>) -> Vec<(String, Vec<Value>)> {
    let mut out = Vec::new();
    for (table, order) in [
        ("quote", "quote_id"),
        ("quote_item", "quote_id, revision, item_id"),
        ("quote_price_snapshot", "quote_id, revision"),
        (
            "quote_price_override",
            "quote_id, revision, item_id, charge",
        ),
        ("quote_history", "quote_id, aggregate_version"),
        ("quote_conversion", "quote_id"),
        ("outbox_event", "outbox_seq"),
        ("outbox_pending", "outbox_seq"),
        ("idempotency_record", "tenant_id, idempotency_key"),
    ] {
        let filter = match tenant {
            None => String::new(),
            // The relay's queue has no tenant; its rows follow outbox_event's.
            Some(_) if table == "outbox_pending" => continue,
            Some(tenant) => format!("WHERE tenant_id = '{tenant}'"),
        };
        let rows: Vec<Value> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT to_jsonb(t) FROM {table} t {filter} ORDER BY {order}"
        )))
        .fetch_all(&app.db)
        .await
        .unwrap();
        out.push((table.to_owned(), rows));
    }
    out
}

/// The status, content type and body of a response.
pub async fn answer(response: Response) -> (u16, String, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.unwrap();
    (
        status,
        content_type,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}
