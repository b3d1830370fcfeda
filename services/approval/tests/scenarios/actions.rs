//! What the people in the scenarios do, over HTTP with their own tokens: the catalog admin
//! seeds an offering, the operator names the approvers, sellers quote and submit, approvers work
//! their inbox in the portal or in the engine's task list (the Camunda 8 REST API Tasklist
//! uses). Every wait polls with a deadline and says what it waited for.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::time::Instant;
use uuid::Uuid;

use super::stack::{Stack, token};

/// How long anything asynchronous may take before a scenario fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// The seeded catalog: a published offering and a USD price book pricing it at 100.00 a
/// month and 50.00 once.
#[derive(Debug, Clone, Copy)]
pub struct Fixture {
    /// The offering.
    pub offering: Uuid,
    /// The price book.
    pub price_book: Uuid,
}

/// Status and JSON body of an answer.
pub async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

impl Stack {
    /// A request to `base` + `path` as `user`.
    pub async fn call(
        &self,
        user: &str,
        method: Method,
        url: String,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, url).bearer_auth(token(user));
        if let Some(body) = body {
            request = request.json(body);
        }
        read(request.send().await.expect("request")).await
    }

    async fn ok(&self, user: &str, method: Method, url: String, body: Option<&Value>) -> Value {
        let (status, answer) = self.call(user, method.clone(), url.clone(), body).await;
        assert!(
            status.is_success(),
            "{method} {url} as {user}: {status} {answer}"
        );
        answer
    }

    /// The catalog admin publishes an offering and a price book for it.
    pub async fn seed_catalog(&self) -> Fixture {
        let base = &self.catalog.base;
        let spec = self
            .ok(
                "catalog1",
                Method::POST,
                format!("{base}/product-specifications"),
                Some(&json!({
                "code": "ACCESS-SPEC", "name": "Access", "characteristics": [
                    {"name": "bandwidthMbps", "valueType": "INTEGER", "required": true,
                     "allowedValues": [100, 500, 1000], "defaultValue": 100}]})),
            )
            .await;
        let offering = self
            .ok(
                "catalog1",
                Method::POST,
                format!("{base}/product-offerings"),
                Some(&json!({
                "code": "ACCESS", "name": "Access", "productSpecificationId": spec["id"]})),
            )
            .await;
        let offering: Uuid = offering["id"]
            .as_str()
            .expect("offering id")
            .parse()
            .expect("uuid");
        for command in ["submit-for-review", "publish"] {
            self.ok(
                "catalog1",
                Method::POST,
                format!("{base}/product-offerings/{offering}/{command}"),
                None,
            )
            .await;
        }
        let book = self
            .ok(
                "catalog1",
                Method::POST,
                format!("{base}/price-books"),
                Some(&json!({
                "code": "PB-USD", "name": "List USD", "currency": "USD", "entries": [{
                    "offeringId": offering, "offeringVersion": 1, "charges": [
                        {"chargeType": "RECURRING", "period": "MONTH", "unitPrice": "100.00"},
                        {"chargeType": "ONE_TIME", "unitPrice": "50.00"}]}]})),
            )
            .await;
        let price_book: Uuid = book["priceBookId"]
            .as_str()
            .expect("book id")
            .parse()
            .expect("uuid");
        self.ok(
            "catalog1",
            Method::POST,
            format!("{base}/price-books/{price_book}/publish"),
            None,
        )
        .await;
        Fixture {
            offering,
            price_book,
        }
    }

    /// The operator names the demo approvers in the approval service's directory (the
    /// Tasklist door reads their authority from it).
    pub async fn seed_directory(&self) {
        for (user, role) in [
            ("manager1", "approver-manager"),
            ("manager2", "approver-manager"),
            ("director1", "approver-director"),
            ("finance1", "approver-finance"),
        ] {
            self.ok(
                "ops1",
                Method::PUT,
                format!("{}/approvers/{user}", self.approval.base),
                Some(&json!({"roles": [role], "groups": [role], "reason": "demo approvers"})),
            )
            .await;
        }
    }

    /// `seller` creates a quote of one line at `discount` percent and prices it.
    pub async fn priced_quote(&self, seller: &str, fixture: Fixture, discount: &str) -> Uuid {
        let base = &self.cpq.base;
        let quote = self
            .ok(
                seller,
                Method::POST,
                format!("{base}/quotes"),
                Some(&json!({
                "customerId": "CUST-1", "currency": "USD", "priceBookId": fixture.price_book,
                "validUntil": chrono::Utc::now() + chrono::Duration::days(30),
                "items": [{"offeringId": fixture.offering, "quantity": 1, "termMonths": 12,
                           "discountPercent": discount,
                           "characteristics": {"bandwidthMbps": 500}}]})),
            )
            .await;
        let id: Uuid = quote["id"]
            .as_str()
            .expect("quote id")
            .parse()
            .expect("uuid");
        self.ok(
            seller,
            Method::POST,
            format!("{base}/quotes/{id}/price"),
            None,
        )
        .await;
        id
    }

    /// `seller` submits the quote.
    pub async fn submit(&self, seller: &str, quote: Uuid) -> Value {
        self.ok(
            seller,
            Method::POST,
            format!("{}/quotes/{quote}/submit", self.cpq.base),
            None,
        )
        .await
    }

    /// The quote as `user` sees it.
    pub async fn quote(&self, user: &str, quote: Uuid) -> Value {
        self.ok(
            user,
            Method::GET,
            format!("{}/quotes/{quote}", self.cpq.base),
            None,
        )
        .await
    }

    /// Waits until the quote has `status`; returns it.
    pub async fn quote_reaches(&self, quote: Uuid, status: &str) -> Value {
        let until = Instant::now() + WAIT;
        loop {
            let seen = self.quote("sales1", quote).await;
            if seen["status"] == status {
                return seen;
            }
            if Instant::now() >= until {
                let dead: Vec<String> = sqlx::query_scalar(
                    "SELECT consumer_group || ': ' || reason FROM consumer_dead_letter",
                )
                .fetch_all(&self.approval_db)
                .await
                .expect("approval dead letters");
                let cpq_dead: Vec<String> = sqlx::query_scalar(
                    "SELECT consumer_group || ': ' || reason FROM consumer_dead_letter",
                )
                .fetch_all(&self.cpq_db)
                .await
                .expect("cpq dead letters");
                panic!(
                    "quote {quote} never became {status}; dead letters: approval {dead:?}, cpq {cpq_dead:?}; the quote: {seen:#}"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The approval requests of a quote, newest first.
    pub async fn requests_of(&self, quote: Uuid) -> Vec<Value> {
        let page = self
            .ok(
                "sales1",
                Method::GET,
                format!("{}/approval-requests?quoteId={quote}", self.approval.base),
                None,
            )
            .await;
        page["items"].as_array().cloned().unwrap_or_default()
    }

    /// One approval request with its evidence.
    pub async fn request(&self, id: &str) -> Value {
        self.ok(
            "sales1",
            Method::GET,
            format!("{}/approval-requests/{id}", self.approval.base),
            None,
        )
        .await
    }

    /// `user`'s portal inbox for the quote (the approval service's `/approval-tasks`).
    pub async fn inbox(&self, user: &str, quote: Uuid) -> Vec<Value> {
        let page = self
            .ok(
                user,
                Method::GET,
                format!("{}/approval-tasks?quoteId={quote}", self.approval.base),
                None,
            )
            .await;
        page["items"].as_array().cloned().unwrap_or_default()
    }

    /// Waits until `user`'s inbox shows exactly one task for the quote, at `level`.
    pub async fn inbox_task(&self, user: &str, quote: Uuid, level: &str) -> Value {
        let until = Instant::now() + WAIT;
        loop {
            let mut items = self.inbox(user, quote).await;
            if items.len() == 1 && items[0]["level"] == level {
                return items.remove(0);
            }
            assert!(
                Instant::now() < until,
                "{user} never saw one {level} task for {quote}: {items:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Open engine user tasks matching `filter`, as `user` searches them in the task list.
    pub async fn engine_tasks(&self, user: &str, filter: Value) -> Vec<Value> {
        let page = self
            .ok(
                user,
                Method::POST,
                format!("{}/v2/user-tasks/search", self.engine_rest),
                Some(&json!({"filter": filter})),
            )
            .await;
        page["items"].as_array().cloned().unwrap_or_default()
    }

    /// `user` claims the task for `assignee` in the task list.
    pub async fn claim(&self, user: &str, task: &str, assignee: &str) -> (StatusCode, Value) {
        self.call(
            user,
            Method::POST,
            format!("{}/v2/user-tasks/{task}/assignment", self.engine_rest),
            Some(&json!({"assignee": assignee})),
        )
        .await
    }

    /// `user` completes the task with `variables`, as Tasklist does.
    pub async fn complete(&self, user: &str, task: &str, variables: Value) -> (StatusCode, Value) {
        self.call(
            user,
            Method::POST,
            format!("{}/v2/user-tasks/{task}/completion", self.engine_rest),
            Some(&json!({"variables": variables})),
        )
        .await
    }

    /// `user` claims the task and completes it with `variables`: a decision in the task list.
    pub async fn tasklist_decides(
        &self,
        user: &str,
        task: &str,
        variables: Value,
    ) -> (StatusCode, Value) {
        let (status, body) = self.claim(user, task, user).await;
        assert!(status.is_success(), "{user} claims {task}: {status} {body}");
        self.complete(user, task, variables).await
    }

    /// `user` decides through the portal's REST door.
    pub async fn decide(&self, user: &str, request: &str, body: Value) -> (StatusCode, Value) {
        self.call(
            user,
            Method::POST,
            format!(
                "{}/approval-requests/{request}/decisions",
                self.approval.base
            ),
            Some(&body),
        )
        .await
    }

    /// Rows of an approval table matching a SQL condition.
    pub async fn approval_rows(&self, table: &str, condition: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM {table} WHERE {condition}"
        )))
        .fetch_one(&self.approval_db)
        .await
        .expect("count")
    }
}

/// The task key of an inbox item or engine task, as a string.
pub fn task_key(task: &Value) -> String {
    match &task["userTaskKey"] {
        Value::String(key) => key.clone(),
        other => other.to_string(),
    }
}
