//! What the contract gate hands schemathesis: the demo data's ids as dictionaries, and a token
//! that may do everything, so 401 and 403 do not hide the behaviour under test (ADR 0029, 0030).

use std::time::Duration;

use anyhow::Result;
use dev_issuer::{Issuer, REALM_ROLES, now_seconds};

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
}

/// How often a generated value is replaced by a known one: half the time, so generation still
/// explores the other half.
const KNOWN_VALUE_PROBABILITY: f64 = 0.5;

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
        })
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
        let data = TestData {
            specifications: vec!["s".into()],
            offerings: vec!["o".into()],
            price_books: vec![],
            valid_until: "2030-01-01T00:00:00Z".into(),
        };
        let text = data.config("a.b.c");
        let headers = text
            .lines()
            .position(|line| line == r#"headers = { Authorization = "Bearer a.b.c" }"#);
        let first_table = text.lines().position(|line| line.starts_with('['));
        assert!(headers.is_some() && headers < first_table, "{text}");
        assert!(text.contains("[dictionaries.offerings]"));
        assert!(!text.contains("[dictionaries.price_books]"));
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
