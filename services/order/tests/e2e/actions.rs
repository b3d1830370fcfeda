//! What the people and systems in the scenarios do, over HTTP with their own tokens: the catalog
//! admin publishes the demo offerings with their fulfilment profiles and a price book, a seller
//! quotes, submits, accepts and converts, the order desk captures direct orders; and what the
//! scenarios read back: orders, assets, the integration's call log, the simulator's effects.
//! Every wait polls with a deadline and says what it waited for.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::time::Instant;
use uuid::Uuid;

use super::stack::{Stack, token};

/// How long fulfilment of one order may take before a scenario fails.
pub const WAIT: Duration = Duration::from_secs(60);

/// The published demo offerings and their price book.
#[derive(Debug, Clone, Copy)]
pub struct Catalog {
    /// Business Internet (starts a subscription).
    pub internet: Uuid,
    /// Managed Router.
    pub router: Uuid,
    /// Static IP (add-on of Business Internet).
    pub static_ip: Uuid,
    /// The USD price book.
    pub price_book: Uuid,
}

/// Status and JSON body of an answer.
pub async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn task(
    task_type: &str,
    operation: &str,
    depends_on: &[&str],
    compensation: Option<&str>,
) -> Value {
    json!({"taskType": task_type, "operation": operation, "dependsOn": depends_on,
           "reversible": compensation.is_some(), "compensation": compensation,
           "pointOfNoReturn": operation == "BILLING_START"})
}

/// The demo profiles (crates/devstack/src/seed.rs has the same).
fn internet_profile() -> Value {
    let mut activate = task(
        "ACTIVATE_SERVICE",
        "PROVISIONING_ACTIVATE",
        &["RESERVE_INVENTORY"],
        Some("PROVISIONING_DEACTIVATE"),
    );
    activate["dependsOnParent"] = json!([]);
    let mut deactivate = task("DEACTIVATE_SERVICE", "PROVISIONING_DEACTIVATE", &[], None);
    deactivate["dependsOnChildren"] = json!(["DEACTIVATE_SERVICE"]);
    deactivate["pointOfNoReturn"] = json!(true);
    json!({"startsSubscription": true, "actions": {
        "ADD": [
            task("RESERVE_INVENTORY", "INVENTORY_RESERVE", &[], Some("INVENTORY_RELEASE")),
            activate,
            task("CONFIGURE_CPE", "PROVISIONING_ACTIVATE", &["RESERVE_INVENTORY"], Some("PROVISIONING_DEACTIVATE")),
            task("START_BILLING", "BILLING_START", &["ACTIVATE_SERVICE", "CONFIGURE_CPE"], Some("BILLING_REVERSE")),
        ],
        "MODIFY": [
            task("MODIFY_SERVICE", "PROVISIONING_MODIFY", &[], None),
            task("UPDATE_BILLING", "BILLING_START", &["MODIFY_SERVICE"], Some("BILLING_REVERSE")),
        ],
        "DELETE": [
            deactivate,
            task("STOP_BILLING", "BILLING_REVERSE", &["DEACTIVATE_SERVICE"], None),
            task("RELEASE_INVENTORY", "INVENTORY_RELEASE", &["DEACTIVATE_SERVICE"], None),
        ],
    }})
}

fn router_profile() -> Value {
    json!({"startsSubscription": false, "actions": {
        "ADD": [
            task("RESERVE_INVENTORY", "INVENTORY_RESERVE", &[], Some("INVENTORY_RELEASE")),
            task("ACTIVATE_SERVICE", "PROVISIONING_ACTIVATE", &["RESERVE_INVENTORY"], Some("PROVISIONING_DEACTIVATE")),
            task("START_BILLING", "BILLING_START", &["ACTIVATE_SERVICE"], Some("BILLING_REVERSE")),
        ],
        "MODIFY": [task("MODIFY_SERVICE", "PROVISIONING_MODIFY", &[], None)],
        "DELETE": [
            task("DEACTIVATE_SERVICE", "PROVISIONING_DEACTIVATE", &[], None),
            task("RELEASE_INVENTORY", "INVENTORY_RELEASE", &["DEACTIVATE_SERVICE"], None),
        ],
    }})
}

fn static_ip_profile() -> Value {
    let mut activate = task(
        "ACTIVATE_SERVICE",
        "PROVISIONING_ACTIVATE",
        &["RESERVE_INVENTORY"],
        Some("PROVISIONING_DEACTIVATE"),
    );
    activate["dependsOnParent"] = json!(["ACTIVATE_SERVICE"]);
    json!({"startsSubscription": false, "actions": {
        "ADD": [
            task("RESERVE_INVENTORY", "INVENTORY_RESERVE", &[], Some("INVENTORY_RELEASE")),
            activate,
            task("START_BILLING", "BILLING_START", &["ACTIVATE_SERVICE"], Some("BILLING_REVERSE")),
        ],
        "MODIFY": [task("MODIFY_SERVICE", "PROVISIONING_MODIFY", &[], None)],
        "DELETE": [
            task("DEACTIVATE_SERVICE", "PROVISIONING_DEACTIVATE", &[], None),
            task("STOP_BILLING", "BILLING_REVERSE", &["DEACTIVATE_SERVICE"], None),
        ],
    }})
}

impl Stack {
    /// A request to `url` as `user`, with an optional Idempotency-Key.
    pub async fn call(
        &self,
        user: &str,
        method: Method,
        url: String,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, url).bearer_auth(token(user));
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        read(request.send().await.expect("request")).await
    }

    /// A request that must succeed.
    pub async fn ok(&self, user: &str, method: Method, url: String, body: Option<&Value>) -> Value {
        let (status, answer) = self
            .call(user, method.clone(), url.clone(), body, None)
            .await;
        assert!(
            status.is_success(),
            "{method} {url} as {user}: {status} {answer}"
        );
        answer
    }

    async fn publish_offering(&self, code: &str, spec: Value, offering: Value) -> Uuid {
        let base = &self.catalog.base;
        let spec = self
            .ok(
                "catalog1",
                Method::POST,
                format!("{base}/product-specifications"),
                Some(&spec),
            )
            .await;
        let mut offering = offering;
        offering["code"] = json!(code);
        offering["productSpecificationId"] = spec["id"].clone();
        let created = self
            .ok(
                "catalog1",
                Method::POST,
                format!("{base}/product-offerings"),
                Some(&offering),
            )
            .await;
        let id: Uuid = created["id"]
            .as_str()
            .expect("offering id")
            .parse()
            .expect("uuid");
        for command in ["submit-for-review", "publish"] {
            self.ok(
                "catalog1",
                Method::POST,
                format!("{base}/product-offerings/{id}/{command}"),
                None,
            )
            .await;
        }
        id
    }

    /// The catalog admin publishes Business Internet, Managed Router and Static IP with their
    /// fulfilment profiles, and a USD price book for them.
    pub async fn seed_catalog(&self) -> Catalog {
        let internet = self
            .publish_offering(
                "INTERNET-BUSINESS",
                json!({
            "code": "INTERNET-ACCESS", "name": "Internet access", "characteristics": [
                {"name": "bandwidthMbps", "valueType": "INTEGER", "required": true,
                 "allowedValues": [100, 500, 1000], "defaultValue": 100}]}),
                json!({"name": "Business Internet", "fulfilmentProfile": internet_profile()}),
            )
            .await;
        let router = self
            .publish_offering(
                "MANAGED-ROUTER",
                json!({
            "code": "MANAGED-ROUTER-CPE", "name": "Managed router", "characteristics": [
                {"name": "model", "valueType": "STRING", "required": true,
                 "allowedValues": ["SRX-300", "SRX-550"]}]}),
                json!({"name": "Managed Router", "fulfilmentProfile": router_profile()}),
            )
            .await;
        let static_ip = self.publish_offering("STATIC-IP", json!({
            "code": "STATIC-IP-BLOCK", "name": "Static IP addresses", "characteristics": [
                {"name": "ipCount", "valueType": "INTEGER", "required": true,
                 "allowedValues": [1, 4, 8, 16], "defaultValue": 1}]}),
            json!({"name": "Static IP", "fulfilmentProfile": static_ip_profile(), "relationships": [
                {"type": "ADD_ON_OF", "targetOfferingId": internet, "minCardinality": 0, "maxCardinality": 1}]})).await;
        let base = &self.catalog.base;
        let book = self
            .ok(
                "catalog1",
                Method::POST,
                format!("{base}/price-books"),
                Some(&json!({
            "code": "PB-USD", "name": "List USD", "currency": "USD", "entries": [
                {"offeringId": internet, "offeringVersion": 1, "charges": [
                    {"chargeType": "RECURRING", "period": "MONTH", "unitPrice": "149.00"},
                    {"chargeType": "ONE_TIME", "unitPrice": "250.00"}]},
                {"offeringId": router, "offeringVersion": 1, "charges": [
                    {"chargeType": "RECURRING", "period": "MONTH", "unitPrice": "39.00"},
                    {"chargeType": "ONE_TIME", "unitPrice": "99.00"}]},
                {"offeringId": static_ip, "offeringVersion": 1, "charges": [
                    {"chargeType": "RECURRING", "period": "MONTH", "unitPrice": "15.00"}]}]})),
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
        Catalog {
            internet,
            router,
            static_ip,
            price_book,
        }
    }

    /// `sales1` quotes internet + router + static IP for `customer`, prices, submits, waits for
    /// the approval, accepts and converts; returns the quote id and the order id cpq answered.
    pub async fn quote_to_order(&self, catalog: Catalog, customer: &str) -> (Uuid, Uuid) {
        let base = &self.cpq.base;
        let quote = self
            .ok(
                "sales1",
                Method::POST,
                format!("{base}/quotes"),
                Some(&json!({
            "customerId": customer, "currency": "USD", "priceBookId": catalog.price_book,
            "validUntil": chrono::Utc::now() + chrono::Duration::days(30),
            "items": [
                {"id": "1", "offeringId": catalog.internet, "quantity": 1, "termMonths": 24,
                 "characteristics": {"bandwidthMbps": 500}},
                {"id": "2", "offeringId": catalog.router, "quantity": 1,
                 "characteristics": {"model": "SRX-300"}},
                {"id": "3", "offeringId": catalog.static_ip, "quantity": 1, "parentId": "1",
                 "characteristics": {"ipCount": 4}}]})),
            )
            .await;
        let quote: Uuid = quote["id"]
            .as_str()
            .expect("quote id")
            .parse()
            .expect("uuid");
        self.ok(
            "sales1",
            Method::POST,
            format!("{base}/quotes/{quote}/price"),
            None,
        )
        .await;
        self.ok(
            "sales1",
            Method::POST,
            format!("{base}/quotes/{quote}/submit"),
            None,
        )
        .await;
        self.wait_quote(quote, "APPROVED").await;
        self.ok(
            "sales1",
            Method::POST,
            format!("{base}/quotes/{quote}/accept"),
            Some(&json!({"channel": "CUSTOMER_PORTAL", "reference": "PO-1"})),
        )
        .await;
        let conversion = self
            .ok(
                "sales1",
                Method::POST,
                format!("{base}/quotes/{quote}/convert-to-order"),
                None,
            )
            .await;
        let order: Uuid = conversion["orderId"]
            .as_str()
            .expect("order id")
            .parse()
            .expect("uuid");
        (quote, order)
    }

    /// Waits until the quote has `status`.
    pub async fn wait_quote(&self, quote: Uuid, status: &str) -> Value {
        let until = Instant::now() + WAIT;
        loop {
            let view = self
                .ok(
                    "sales1",
                    Method::GET,
                    format!("{}/quotes/{quote}", self.cpq.base),
                    None,
                )
                .await;
            if view["status"] == status {
                return view;
            }
            assert!(
                Instant::now() < until,
                "quote {quote} never reached {status}: {view}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The order as `ops1` sees it; `None` while it does not exist.
    pub async fn order(&self, order: Uuid) -> Option<Value> {
        let (status, view) = self
            .call(
                "ops1",
                Method::GET,
                format!("{}/orders/{order}", self.order_base),
                None,
                None,
            )
            .await;
        match status {
            StatusCode::NOT_FOUND => None,
            status if status.is_success() => Some(view),
            other => panic!("GET /orders/{order}: {other} {view}"),
        }
    }

    /// Waits until the order is in one of `statuses`; returns it.
    pub async fn wait_order(&self, order: Uuid, statuses: &[&str]) -> Value {
        let until = Instant::now() + WAIT;
        loop {
            if let Some(view) = self.order(order).await
                && statuses.iter().any(|s| view["status"] == *s)
            {
                return view;
            }
            if Instant::now() >= until {
                panic!(
                    "order {order} never reached {statuses:?}: {:?}",
                    self.order(order).await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `user` captures a direct order; answers status and body.
    pub async fn direct_order(&self, user: &str, key: &str, body: &Value) -> (StatusCode, Value) {
        self.call(
            user,
            Method::POST,
            format!("{}/orders", self.order_base),
            Some(body),
            Some(key),
        )
        .await
    }

    /// The customer's product instances.
    pub async fn assets(&self, customer: &str) -> Vec<Value> {
        let view = self
            .ok(
                "ops1",
                Method::GET,
                format!("{}/assets?customerId={customer}", self.order_base),
                None,
            )
            .await;
        view["assets"].as_array().cloned().unwrap_or_default()
    }

    /// One product instance with its history.
    pub async fn asset(&self, id: &str) -> Value {
        self.ok(
            "ops1",
            Method::GET,
            format!("{}/assets/{id}", self.order_base),
            None,
        )
        .await
    }

    /// The customer's subscriptions.
    pub async fn subscriptions(&self, customer: &str) -> Vec<Value> {
        let view = self
            .ok(
                "ops1",
                Method::GET,
                format!("{}/subscriptions?customerId={customer}", self.order_base),
                None,
            )
            .await;
        view["subscriptions"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Each task's first attempt start and its successful attempt's end, from the integration
    /// service's call log: task id → (started, finished) in microseconds since the epoch.
    pub async fn call_windows(&self, order: Uuid) -> HashMap<Uuid, (i64, Option<i64>)> {
        let rows: Vec<(Uuid, i64, Option<i64>)> = sqlx::query_as(
            "SELECT task_id, \
                    min((extract(epoch FROM started_at) * 1000000)::bigint), \
                    max(CASE WHEN classification = 'SUCCEEDED' \
                        THEN (extract(epoch FROM started_at) * 1000000)::bigint + latency_us END) \
             FROM external_call WHERE order_id = $1 AND kind = 'ATTEMPT' GROUP BY task_id",
        )
        .bind(order)
        .fetch_all(&self.integration_db)
        .await
        .expect("call log");
        rows.into_iter().map(|(t, s, e)| (t, (s, e))).collect()
    }

    /// The simulator's applied-effect count of every external operation of the order, by task.
    pub async fn effects(&self, order: Uuid) -> HashMap<Uuid, u64> {
        let rows: Vec<(Uuid, String, String)> = sqlx::query_as(
            "SELECT task_id, lower(system), idempotency_key FROM external_operation WHERE order_id = $1",
        )
        .bind(order)
        .fetch_all(&self.integration_db)
        .await
        .expect("operations");
        let mut out = HashMap::new();
        for (task, system, key) in rows {
            let count = self
                .sim
                .effects(&system, &key)
                .await
                .iter()
                .map(|e| e.count)
                .sum();
            out.insert(task, count);
        }
        out
    }
}

/// The order's tasks by id.
pub fn tasks(order: &Value) -> Vec<Value> {
    order["tasks"].as_array().cloned().unwrap_or_default()
}

/// A task's id.
pub fn id(value: &Value, field: &str) -> Uuid {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {value}"))
        .parse()
        .expect("uuid")
}
