//! The demo quote: the demo catalog's ids found by code (as the seed finds them), the quote
//! request over them, and the priced totals as the timeline shows them.

use anyhow::{Context, Result};
use serde_json::{Value, json};

use super::DEMO_CUSTOMER;
use crate::seed::{CatalogClient, id_of};

/// The demo price book (USD list prices).
pub(super) const PRICE_BOOK: &str = "DEMO-LIST-USD";
/// The three offerings the quote names, by code.
pub(super) const INTERNET: &str = "INTERNET-BUSINESS";
pub(super) const ROUTER: &str = "MANAGED-ROUTER";
pub(super) const STATIC_IP: &str = "STATIC-IP";

/// An offering of the demo catalog, found by code.
#[derive(Debug, Clone)]
struct Offering {
    code: &'static str,
    id: String,
}

/// The demo catalog's ids the quote names.
#[derive(Debug)]
pub(super) struct DemoCatalog {
    price_book: String,
    offerings: Vec<Offering>,
}

impl DemoCatalog {
    /// The id of the offering with `code`.
    pub(super) fn id(&self, code: &str) -> Result<&str> {
        self.offerings
            .iter()
            .find(|o| o.code == code)
            .map(|o| o.id.as_str())
            .with_context(|| format!("no demo offering {code}"))
    }

    /// The offering's code for an id (the asset list names offerings by id).
    pub(super) fn code_of(&self, id: &str) -> String {
        self.offerings
            .iter()
            .find(|o| o.id == id)
            .map_or_else(|| id.to_owned(), |o| o.code.to_owned())
    }
}

/// Finds the demo catalog's ids by code, as the seed does; a missing one means the demo data was
/// not loaded (`./dev seed`).
pub(super) async fn demo_catalog(catalog: &CatalogClient) -> Result<DemoCatalog> {
    let missing = |what: &str, code: &str| {
        format!("the demo {what} {code} is not in the catalog; load the demo data with ./dev seed")
    };
    let book = catalog
        .find_by_code("price-books", PRICE_BOOK)
        .await?
        .with_context(|| missing("price book", PRICE_BOOK))?;
    let mut offerings = Vec::new();
    for code in [INTERNET, ROUTER, STATIC_IP] {
        let record = catalog
            .find_by_code("product-offerings", code)
            .await?
            .with_context(|| missing("offering", code))?;
        offerings.push(Offering {
            code,
            id: id_of(&record, code)?,
        });
    }
    Ok(DemoCatalog {
        price_book: id_of(&book, PRICE_BOOK)?,
        offerings,
    })
}

/// The quote: Business Internet 500 Mbps, a managed router, and four static addresses as an
/// add-on of the internet line, for two years, at list price.
pub(super) fn quote_request(catalog: &DemoCatalog) -> Result<Value> {
    let valid_until = (chrono::Utc::now() + chrono::Duration::days(30))
        .format("%Y-%m-%dT00:00:00Z")
        .to_string();
    Ok(json!({
        "customerId": DEMO_CUSTOMER,
        "currency": "USD",
        "priceBookId": catalog.price_book,
        "validUntil": valid_until,
        "items": [
            {"id": "1", "offeringId": catalog.id(INTERNET)?, "quantity": 1, "termMonths": 24,
             "characteristics": {"bandwidthMbps": 500, "sla": "STANDARD"}},
            {"id": "2", "offeringId": catalog.id(ROUTER)?, "quantity": 1, "termMonths": 24,
             "characteristics": {"model": "SRX-300", "managed": true}},
            {"id": "3", "offeringId": catalog.id(STATIC_IP)?, "quantity": 1, "termMonths": 24,
             "parentId": "1", "characteristics": {"ipCount": 4}}
        ]
    }))
}

/// `one-time 349.00 USD, MONTH 248.00 USD` from a priced quote's totals (the status alone
/// when it carries none).
pub(super) fn price_summary(quote: &Value) -> String {
    let money = |m: &Value| {
        format!(
            "{} {}",
            m["amount"].as_str().unwrap_or("?"),
            m["currency"].as_str().unwrap_or("")
        )
    };
    let totals = &quote["price"]["totals"];
    if totals.is_null() {
        return quote["status"].as_str().unwrap_or("priced").to_owned();
    }
    let mut parts = vec![format!("one-time {}", money(&totals["oneTime"]))];
    parts.extend(
        totals["recurring"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                format!(
                    "{} {}",
                    r["period"].as_str().unwrap_or("?"),
                    money(&r["amount"])
                )
            }),
    );
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> DemoCatalog {
        DemoCatalog {
            price_book: "pb".into(),
            offerings: [INTERNET, ROUTER, STATIC_IP]
                .into_iter()
                .map(|code| Offering {
                    code,
                    id: format!("id-{code}"),
                })
                .collect(),
        }
    }

    #[test]
    fn the_quote_names_the_three_offerings_with_the_static_ip_on_the_internet_line() -> Result<()> {
        let body = quote_request(&catalog())?;
        assert_eq!(body["customerId"], DEMO_CUSTOMER);
        assert_eq!(body["priceBookId"], "pb");
        let items = body["items"].as_array().context("items")?;
        assert_eq!(items.len(), 3);
        assert_eq!(items[0]["offeringId"], "id-INTERNET-BUSINESS");
        assert_eq!(items[1]["offeringId"], "id-MANAGED-ROUTER");
        assert_eq!(items[2]["offeringId"], "id-STATIC-IP");
        assert_eq!(items[2]["parentId"], items[0]["id"]);
        assert!(items[1].get("parentId").is_none());
        // Every characteristic the demo specifications require without a default is given.
        assert_eq!(items[1]["characteristics"]["model"], "SRX-300");
        assert_eq!(catalog().code_of("id-STATIC-IP"), STATIC_IP);
        assert_eq!(catalog().code_of("other"), "other");
        Ok(())
    }

    #[test]
    fn the_price_line_shows_the_totals() {
        let quote = json!({"status": "PRICED", "price": {"totals": {
            "oneTime": {"amount": "349.00", "currency": "USD"},
            "recurring": [{"period": "MONTH", "amount": {"amount": "248.00", "currency": "USD"}}]
        }}});
        assert_eq!(
            price_summary(&quote),
            "one-time 349.00 USD, MONTH 248.00 USD"
        );
        assert_eq!(price_summary(&json!({"status": "PRICED"})), "PRICED");
    }
}
