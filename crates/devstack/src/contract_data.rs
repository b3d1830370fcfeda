//! What the contract gate hands schemathesis: the demo data's ids (the catalog's, the demo
//! order's external operations, a direct order and its customer) as dictionaries, and a token
//! that may do everything, so 401 and 403 do not hide the behaviour under test (ADR 0029, 0030).

use std::time::Duration;

use anyhow::{Context, Result};
use dev_issuer::{Issuer, REALM_ROLES, now_seconds};
use serde_json::{Value, json};

use crate::demo_calls::OperationState;
use crate::identity::SEED_CLIENT;
use crate::seed::{self, CatalogClient};

/// The customer of the gate's direct order; the order service's lists are read for it.
pub const CONTRACT_CUSTOMER: &str = "CUST-CONTRACT";
/// The demo offering the direct order adds.
const DIRECT_ORDER_OFFERING: &str = "INTERNET-BUSINESS";

/// How long the gate's token lives: longer than any gate run, which takes minutes per service.
const GATE_TOKEN_LIFETIME: Duration = Duration::from_secs(4 * 60 * 60);

/// The gate's token: the `devstack` service account of the demo tenant with every realm role,
/// named `contract-check` in audit records.
pub fn gate_token(issuer: &Issuer) -> Result<String> {
    let mut claims = issuer
        .claims_for_client(SEED_CLIENT)
        .map_err(anyhow::Error::msg)?;
    claims.preferred_username = "contract-check".to_owned();
    claims.realm_access.roles = REALM_ROLES.iter().map(|role| (*role).to_owned()).collect();
    let lifetime = i64::try_from(GATE_TOKEN_LIFETIME.as_secs()).unwrap_or(i64::MAX);
    issuer
        .sign(&claims.valid_from(now_seconds(), lifetime))
        .map_err(anyhow::Error::msg)
}

/// The gate's direct order: what schemathesis is given of it.
#[derive(Debug, Clone)]
pub struct DirectOrder {
    /// The order's id.
    pub id: String,
    /// Its customer.
    pub customer: String,
    /// The offering version its item names.
    pub offering_version: u64,
}

/// The `POST /orders` body of the gate's direct order: one ADD of `offering` at `version`.
fn direct_order_body(offering: &str, version: u64) -> Value {
    json!({
        "customerId": CONTRACT_CUSTOMER,
        "currency": "USD",
        "items": [{
            "lineRef": "1",
            "action": "ADD",
            "offeringId": offering,
            "offeringVersion": version,
            "characteristics": {"bandwidthMbps": 500, "sla": "STANDARD"},
            "recurringCharge": "149.00",
            "oneTimeCharge": "250.00"
        }],
        "captureEvidence": {"channelReference": "devstack contract-check"}
    })
}

/// Captures one direct order at the order service at `order_url` (an ADD of the demo internet
/// offering, with an Idempotency-Key, as `token`), so its order, plan and customer lists hold a
/// real row. Without the engine in the gate it stays ACKNOWLEDGED.
pub async fn direct_order(
    http: &reqwest::Client,
    order_url: &str,
    token: &str,
    catalog: &CatalogClient,
) -> Result<DirectOrder> {
    let offering = catalog
        .find_by_code("product-offerings", DIRECT_ORDER_OFFERING)
        .await?
        .with_context(|| format!("the demo offering {DIRECT_ORDER_OFFERING} was not loaded"))?;
    let offering_id = seed::id_of(&offering, DIRECT_ORDER_OFFERING)?;
    let version = ["publishedVersion", "latestVersion"]
        .iter()
        .find_map(|field| offering.get(*field).and_then(Value::as_u64))
        .unwrap_or(1);
    let url = format!("{order_url}/orders");
    let response = http
        .post(&url)
        .bearer_auth(token)
        .header("Idempotency-Key", "contract-check:direct-order")
        .timeout(Duration::from_secs(15))
        .json(&direct_order_body(&offering_id, version))
        .send()
        .await
        .with_context(|| format!("POST {url}: order unreachable"))?;
    let created = seed::success_body(response, &format!("POST {url}")).await?;
    Ok(DirectOrder {
        id: seed::id_of(&created, "the direct order")?,
        customer: CONTRACT_CUSTOMER.to_owned(),
        offering_version: version,
    })
}

/// Values that exist in the services under test, in the demo tenant the gate's token names: the
/// demo catalog's ids, plus a currency and a validity date the demo price book accepts.
#[derive(Debug)]
pub struct TestData {
    specifications: Vec<String>,
    offerings: Vec<String>,
    price_books: Vec<String>,
    valid_until: String,
    /// The demo order's external operations' keys (`add_external_operations`).
    idempotency_keys: Vec<String>,
    /// The demo order's id, and the direct order's (`add_order`).
    order_ids: Vec<String>,
    /// The direct order's customer.
    customers: Vec<String>,
    /// The published versions of the demo offerings (what an order item must name).
    offering_versions: Vec<u64>,
}

/// How often a generated value is replaced by a known one: half the time, so generation still
/// explores the other half.
const KNOWN_VALUE_PROBABILITY: f64 = 0.5;

/// Keys of the shape the integration service derives (`<system>-<operation>-<40 hex>`), one per
/// system, that no operation has: generated strings are almost never well formed (422); these
/// reach the lookup and its 404 `EXTERNAL_OPERATION_NOT_FOUND`, beside the demo order's keys.
fn unknown_idempotency_keys() -> Vec<String> {
    [
        "inventory-reserve",
        "provisioning-activate",
        "billing-start",
        "crm-update-order-status",
        "contract-register",
        "notification-send",
    ]
    .iter()
    .map(|prefix| format!("{prefix}-{}", "0c".repeat(20)))
    .collect()
}

impl TestData {
    /// Reads the demo catalog's ids through `catalog`.
    pub async fn of_demo_catalog(catalog: &CatalogClient) -> Result<Self> {
        let valid_until = (chrono::Utc::now() + chrono::Duration::days(30))
            .format("%Y-%m-%dT00:00:00Z")
            .to_string();
        Ok(Self {
            specifications: catalog.ids("product-specifications").await?,
            offerings: catalog.ids("product-offerings").await?,
            price_books: catalog.ids("price-books").await?,
            valid_until,
            idempotency_keys: Vec::new(),
            order_ids: Vec::new(),
            customers: Vec::new(),
            offering_versions: Vec::new(),
        })
    }

    /// Adds an order of the order service under test: its id exists there, and its customer has
    /// an order (and, once fulfilled, an installed base).
    pub fn add_order(&mut self, order: &DirectOrder) {
        self.order_ids.push(order.id.clone());
        self.customers.push(order.customer.clone());
        if !self.offering_versions.contains(&order.offering_version) {
            self.offering_versions.push(order.offering_version);
        }
    }

    /// Adds the demo order's external operations: their keys and the order's id exist in the
    /// integration service under test.
    pub fn add_external_operations(&mut self, order_id: &str, operations: &[OperationState]) {
        self.order_ids.push(order_id.to_owned());
        self.idempotency_keys
            .extend(operations.iter().map(|op| op.idempotency_key.clone()));
    }

    /// How many catalog ids were found.
    pub fn catalog_ids(&self) -> usize {
        self.specifications.len() + self.offerings.len() + self.price_books.len()
    }

    /// A `schemathesis.toml` binding these values to the parameters and body fields that take
    /// them ("dictionaries"): requests then also name resources that exist in the token's
    /// tenant, so creations succeed and the stateful phase follows their links. Every request carries
    /// `Authorization: Bearer <token>` (a top-level `headers` key, before any table).
    pub fn config(&self, token: &str) -> String {
        // TOML arrays of JSON scalars (a TOML basic string is a JSON string; numbers are alike).
        let list = |values: &[Value]| {
            let items: Vec<String> = values.iter().map(Value::to_string).collect();
            format!("[{}]", items.join(", "))
        };
        let texts = |values: &[String]| -> Vec<Value> {
            values.iter().cloned().map(Value::String).collect()
        };
        let fixed = |values: &[&str]| -> Vec<Value> {
            values
                .iter()
                .map(|v| Value::String((*v).to_owned()))
                .collect()
        };
        // Path ids of every service: the catalog's items, and the orders.
        let mut ids = self.specifications.clone();
        ids.extend(self.offerings.iter().cloned());
        ids.extend(self.price_books.iter().cloned());
        ids.extend(self.order_ids.iter().cloned());
        let mut keys = self.idempotency_keys.clone();
        keys.extend(unknown_idempotency_keys());
        let dictionaries = [
            ("ids", texts(&ids)),
            ("idempotency_keys", texts(&keys)),
            ("order_ids", texts(&self.order_ids)),
            ("customers", texts(&self.customers)),
            (
                "offering_versions",
                self.offering_versions.iter().map(|v| json!(v)).collect(),
            ),
            ("systems", fixed(&["INVENTORY", "PROVISIONING", "BILLING"])),
            ("outcomes", fixed(&["SUCCEEDED", "FAILED_TECHNICAL"])),
            (
                "operation_statuses",
                fixed(&["SUCCEEDED", "OUTCOME_UNKNOWN"]),
            ),
            ("specifications", texts(&self.specifications)),
            ("offerings", texts(&self.offerings)),
            ("price_books", texts(&self.price_books)),
            ("currencies", fixed(&["USD"])),
            ("validity", texts(std::slice::from_ref(&self.valid_until))),
        ];
        let bindings = [
            ("path.id", "ids"),
            ("body.productSpecificationId", "specifications"),
            ("body.relationships[*].targetOfferingId", "offerings"),
            ("body.entries[*].offeringId", "offerings"),
            ("body.items[*].offeringId", "offerings"),
            ("body.items[*].offeringVersion", "offering_versions"),
            ("body.customerId", "customers"),
            ("query.customerId", "customers"),
            ("body.priceBookId", "price_books"),
            ("body.currency", "currencies"),
            ("body.validUntil", "validity"),
            ("path.idempotencyKey", "idempotency_keys"),
            ("query.idempotencyKey", "idempotency_keys"),
            ("query.orderId", "order_ids"),
            ("query.system", "systems"),
            ("query.outcome", "outcomes"),
        ];
        let mut text = String::from(
            "# Written by `devstack contract-check` from the demo data it loaded (ADR 0029).\n",
        );
        text.push_str(&format!(
            "headers = {{ Authorization = {} }}\n",
            Value::String(format!("Bearer {token}"))
        ));
        for (name, values) in dictionaries {
            if values.is_empty() {
                continue;
            }
            text.push_str(&format!(
                "\n[dictionaries.{name}]\nvalues = {}\n",
                list(&values)
            ));
        }
        text.push_str("\n[parameters]\n");
        for (parameter, dictionary) in bindings {
            if !text.contains(&format!("[dictionaries.{dictionary}]")) {
                continue;
            }
            text.push_str(&format!(
                "\"{parameter}\" = {{ dictionary = \"{dictionary}\", probability = \
                 {KNOWN_VALUE_PROBABILITY} }}\n"
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_authorizes_every_request_before_any_table() -> Result<()> {
        let mut data = TestData {
            specifications: vec!["s".into()],
            offerings: vec!["o".into()],
            price_books: vec![],
            valid_until: "2030-01-01T00:00:00Z".into(),
            idempotency_keys: vec![],
            order_ids: vec![],
            customers: vec![],
            offering_versions: vec![],
        };
        data.add_external_operations(
            "0190f0f0-0000-7000-8000-000000000001",
            &[OperationState {
                operation: "INVENTORY_RESERVE".into(),
                status: "SUCCEEDED".into(),
                attempts: 1,
                idempotency_key: "inventory-reserve-abc".into(),
            }],
        );
        data.add_order(&DirectOrder {
            id: "0190f0f0-0000-7000-8000-0000000000aa".into(),
            customer: CONTRACT_CUSTOMER.into(),
            offering_version: 1,
        });
        let text = data.config("a.b.c");
        let headers = text
            .lines()
            .position(|line| line == r#"headers = { Authorization = "Bearer a.b.c" }"#);
        let first_table = text.lines().position(|line| line.starts_with('['));
        assert!(headers.is_some() && headers < first_table, "{text}");
        assert!(text.contains("[dictionaries.offerings]"));
        assert!(!text.contains("[dictionaries.price_books]"));
        assert!(text.contains(
            r#""path.idempotencyKey" = { dictionary = "idempotency_keys", probability = 0.5 }"#
        ));
        assert!(text.contains(r#""query.orderId" = { dictionary = "order_ids""#));
        assert!(text.contains("\"inventory-reserve-abc\", \"inventory-reserve-0c0c"));
        // The direct order is a path id beside the catalog's, its customer a known one, and the
        // offering version a number.
        assert!(text.contains("[dictionaries.ids]\nvalues = [\"s\", \"o\", \"0190f0f0-0000-7000-8000-000000000001\", \"0190f0f0-0000-7000-8000-0000000000aa\"]"), "{text}");
        assert!(
            text.contains("[dictionaries.offering_versions]\nvalues = [1]\n"),
            "{text}"
        );
        assert!(text.contains(r#""query.customerId" = { dictionary = "customers""#));
        assert!(text.contains("\"CUST-CONTRACT\""));
        assert!(
            unknown_idempotency_keys()
                .iter()
                .all(|key| key.rsplit_once('-').is_some_and(|(_, hex)| hex.len() == 40))
        );
        Ok(())
    }

    #[test]
    fn the_direct_order_adds_one_demo_offering_with_evidence() {
        let body = direct_order_body("off", 3);
        assert_eq!(body["customerId"], CONTRACT_CUSTOMER);
        assert_eq!(body["items"][0]["action"], "ADD");
        assert_eq!(body["items"][0]["offeringId"], "off");
        assert_eq!(body["items"][0]["offeringVersion"], 3);
        assert!(
            body["captureEvidence"]
                .as_object()
                .is_some_and(|e| !e.is_empty())
        );
    }

    #[test]
    fn the_gate_token_has_every_role_for_hours() -> Result<()> {
        let directory = dev_issuer::Directory::demo().map_err(anyhow::Error::msg)?;
        let issuer = Issuer::new("http://127.0.0.1:1", directory).map_err(anyhow::Error::msg)?;
        let token = gate_token(&issuer)?;
        let claims = jsonwebtoken::dangerous::insecure_decode_claims::<dev_issuer::Claims>(&token)?;
        assert_eq!(claims.realm_access.roles.len(), REALM_ROLES.len());
        assert_eq!(
            (claims.tenant_id.as_str(), claims.azp.as_str()),
            ("demo", "devstack")
        );
        assert!(claims.exp - claims.iat >= 3600);
        Ok(())
    }
}
