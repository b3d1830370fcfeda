//! What the contract gate hands schemathesis: the demo data's ids (the catalog's, and the demo
//! order's external operations) as dictionaries, and a token that may do everything, so 401 and
//! 403 do not hide the behaviour under test (ADR 0029, 0030).

use std::time::Duration;

use anyhow::Result;
use dev_issuer::{Issuer, REALM_ROLES, now_seconds};

use crate::demo_calls::OperationState;
use crate::identity::SEED_CLIENT;
use crate::seed::CatalogClient;

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
    /// The demo order's id.
    order_ids: Vec<String>,
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
        })
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
        let list = |values: &[String]| {
            let quoted: Vec<String> = values
                .iter()
                .map(|value| serde_json::Value::String(value.clone()).to_string())
                .collect();
            format!("[{}]", quoted.join(", "))
        };
        let mut catalog_ids = self.specifications.clone();
        catalog_ids.extend(self.offerings.iter().cloned());
        catalog_ids.extend(self.price_books.iter().cloned());
        let dictionaries = [
            ("catalog_ids", catalog_ids),
            ("idempotency_keys", {
                let mut keys = self.idempotency_keys.clone();
                keys.extend(unknown_idempotency_keys());
                keys
            }),
            ("order_ids", self.order_ids.clone()),
            (
                "systems",
                ["INVENTORY", "PROVISIONING", "BILLING"]
                    .map(String::from)
                    .to_vec(),
            ),
            (
                "outcomes",
                ["SUCCEEDED", "FAILED_TECHNICAL"].map(String::from).to_vec(),
            ),
            (
                "operation_statuses",
                ["SUCCEEDED", "OUTCOME_UNKNOWN"].map(String::from).to_vec(),
            ),
            ("specifications", self.specifications.clone()),
            ("offerings", self.offerings.clone()),
            ("price_books", self.price_books.clone()),
            ("currencies", vec!["USD".to_owned()]),
            ("validity", vec![self.valid_until.clone()]),
        ];
        let bindings = [
            ("path.id", "catalog_ids"),
            ("body.productSpecificationId", "specifications"),
            ("body.relationships[*].targetOfferingId", "offerings"),
            ("body.entries[*].offeringId", "offerings"),
            ("body.items[*].offeringId", "offerings"),
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
            serde_json::Value::String(format!("Bearer {token}"))
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
        assert!(
            unknown_idempotency_keys()
                .iter()
                .all(|key| key.rsplit_once('-').is_some_and(|(_, hex)| hex.len() == 40))
        );
        Ok(())
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
