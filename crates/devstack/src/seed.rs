//! The demo catalog, loaded through the catalog's public HTTP API (never SQL), so it goes through
//! the same validation, idempotency and audit paths as any other client. Running it twice creates
//! nothing new: every item is looked up by code first, and every write carries a stable
//! `Idempotency-Key`.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use reqwest::{Method, RequestBuilder, Response, Url};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::say;

/// The channel audit records name for the loader. Who loads, and for which tenant, is the
/// `devstack` client's token's business (ADR 0030): its `tenant_id` is the demo tenant.
const CHANNEL: (&str, &str) = ("X-Channel", "DEVSTACK");

/// Per-request time limit; the catalog answers in milliseconds when healthy.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// A thin client for the catalog endpoints the loader uses.
#[derive(Debug)]
pub struct CatalogClient {
    http: reqwest::Client,
    base_url: String,
    /// The `devstack` client's access token, sent as `Authorization: Bearer` (ADR 0030).
    bearer: String,
}

/// One page of a list endpoint: `{"items": [...], "limit", "offset", "totalCount"}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    items: Vec<Value>,
    total_count: u64,
}

/// The fields of an RFC 9457 problem document worth showing to a developer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Problem {
    title: Option<String>,
    detail: Option<String>,
    code: Option<String>,
    correlation_id: Option<String>,
    errors: Vec<Value>,
}

impl CatalogClient {
    /// A client for the catalog at `base_url` (`http://127.0.0.1:8081`) that sends `token` as
    /// `Authorization: Bearer` on every call.
    pub fn new(http: reqwest::Client, base_url: String, token: String) -> Self {
        Self {
            http,
            base_url,
            bearer: token,
        }
    }

    /// A request with the bearer token and the loader's channel.
    fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.http
            .request(method, url)
            .bearer_auth(&self.bearer)
            .header(CHANNEL.0, CHANNEL.1)
            .timeout(REQUEST_TIMEOUT)
    }

    /// `GET /<collection>?code=<code>`: the item with exactly that code, if there is one.
    pub async fn find_by_code(&self, collection: &str, code: &str) -> Result<Option<Value>> {
        let mut url = Url::parse(&format!("{}/{collection}", self.base_url))
            .with_context(|| format!("bad catalog URL {}", self.base_url))?;
        url.query_pairs_mut().append_pair("code", code);
        let what = format!("GET /{collection}?code={code}");
        let response = self
            .request(Method::GET, url)
            .send()
            .await
            .with_context(|| format!("{what}: catalog unreachable"))?;
        let body = success_body(response, &what).await?;
        let page: Page = serde_json::from_value(body)
            .with_context(|| format!("{what}: unexpected list response"))?;
        if page.total_count == 0 {
            return Ok(None);
        }
        // Match the code exactly rather than trusting the filter, so a server that ignored the
        // query parameter cannot make the loader skip an item that does not exist.
        Ok(page
            .items
            .into_iter()
            .find(|item| item.get("code").and_then(Value::as_str) == Some(code)))
    }

    /// The ids of the demo tenant's items in `collection` (its first 500, ordered by code).
    pub async fn ids(&self, collection: &str) -> Result<Vec<String>> {
        let mut url = Url::parse(&format!("{}/{collection}", self.base_url))
            .with_context(|| format!("bad catalog URL {}", self.base_url))?;
        url.query_pairs_mut().append_pair("limit", "500");
        let what = format!("GET /{collection}");
        let response = self
            .request(Method::GET, url)
            .send()
            .await
            .with_context(|| format!("{what}: catalog unreachable"))?;
        let body = success_body(response, &what).await?;
        let page: Page = serde_json::from_value(body)
            .with_context(|| format!("{what}: unexpected list response"))?;
        page.items.iter().map(|item| id_of(item, &what)).collect()
    }

    /// `POST <path>` with an optional JSON body and a stable idempotency key.
    async fn post(&self, path: &str, body: Option<&Value>, idempotency_key: &str) -> Result<Value> {
        let url = Url::parse(&format!("{}{path}", self.base_url))
            .with_context(|| format!("bad catalog URL {}{path}", self.base_url))?;
        let mut request = self
            .request(Method::POST, url)
            .header("Idempotency-Key", idempotency_key);
        if let Some(body) = body {
            request = request.json(body);
        }
        let what = format!("POST {path}");
        let response = request
            .send()
            .await
            .with_context(|| format!("{what}: catalog unreachable"))?;
        success_body(response, &what).await
    }
}

/// The JSON body of a 2xx response (`null` if empty); anything else becomes an error carrying the
/// problem document's `code` and `detail`.
pub(crate) async fn success_body(response: Response, what: &str) -> Result<Value> {
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .with_context(|| format!("{what}: reading the response"))?;
    if status.is_success() {
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        return serde_json::from_slice(&bytes)
            .with_context(|| format!("{what}: HTTP {status} with a body that is not JSON"));
    }
    let Ok(problem) = serde_json::from_slice::<Problem>(&bytes) else {
        let text = String::from_utf8_lossy(&bytes);
        bail!(
            "{what} failed with HTTP {status}: {}",
            text.chars().take(300).collect::<String>()
        );
    };
    let mut message = format!(
        "{what} failed with HTTP {status} {}: {}",
        problem.code.as_deref().unwrap_or("(no code)"),
        problem
            .detail
            .or(problem.title)
            .as_deref()
            .unwrap_or("(no detail)")
    );
    if let Some(correlation_id) = problem.correlation_id {
        message.push_str(&format!(" [correlationId {correlation_id}]"));
    }
    for error in problem.errors {
        message.push_str(&format!("\n    {error}"));
    }
    Err(anyhow!(message))
}

/// The `Idempotency-Key` for one action on one demo item; the same on every run.
fn idempotency_key(kind: &str, code: &str, action: &str) -> String {
    format!("demo-seed:{kind}:{code}:{action}")
}

/// The string id of a created or listed resource (`id`, or `priceBookId` for price books).
pub(crate) fn id_of(record: &Value, what: &str) -> Result<String> {
    ["id", "priceBookId"]
        .iter()
        .find_map(|field| record.get(*field).and_then(Value::as_str))
        .map(str::to_owned)
        .with_context(|| format!("{what}: response has no id: {record}"))
}

/// A status field, if present.
fn status_of(record: &Value) -> Option<&str> {
    record.get("status").and_then(Value::as_str)
}

/// A product specification to create.
#[derive(Debug)]
struct DemoSpecification {
    code: &'static str,
    body: Value,
}

/// A relationship from one demo offering to another, by code.
#[derive(Debug)]
struct DemoRelationship {
    kind: &'static str,
    target: &'static str,
    min: u32,
    max: u32,
}

/// A product offering to create, submit for review and publish.
#[derive(Debug)]
struct DemoOffering {
    code: &'static str,
    name: &'static str,
    description: &'static str,
    specification: &'static str,
    relationships: Vec<DemoRelationship>,
}

/// A price book to create and publish: one per demo currency.
#[derive(Debug)]
struct DemoPriceBook {
    code: &'static str,
    name: &'static str,
    currency: &'static str,
    /// Offering code and its charges.
    entries: Vec<(&'static str, Value)>,
}

/// The specifications: the shape of each sellable thing and its configurable characteristics.
fn demo_specifications() -> Vec<DemoSpecification> {
    vec![
        DemoSpecification {
            code: "INTERNET-ACCESS",
            body: json!({
                "code": "INTERNET-ACCESS",
                "name": "Internet access",
                "description": "Dedicated fibre internet access line for a business site.",
                "characteristics": [
                    {
                        "name": "bandwidthMbps",
                        "valueType": "INTEGER",
                        "required": true,
                        "allowedValues": [100, 500, 1000],
                        "defaultValue": 100,
                        "unit": "Mbps",
                        "description": "Committed symmetric bandwidth."
                    },
                    {
                        "name": "sla",
                        "valueType": "STRING",
                        "required": true,
                        "allowedValues": ["STANDARD", "PREMIUM"],
                        "defaultValue": "STANDARD",
                        "description": "Service level: repair time and availability target."
                    },
                    {
                        "name": "contractTermMonths",
                        "valueType": "INTEGER",
                        "required": false,
                        "range": {"min": "12", "max": "60"},
                        "defaultValue": 24,
                        "unit": "months",
                        "description": "Minimum contract term."
                    }
                ]
            }),
        },
        DemoSpecification {
            code: "STATIC-IP-BLOCK",
            body: json!({
                "code": "STATIC-IP-BLOCK",
                "name": "Static IP addresses",
                "description": "A block of fixed public IPv4 addresses routed to the access line.",
                "characteristics": [
                    {
                        "name": "ipCount",
                        "valueType": "INTEGER",
                        "required": true,
                        "allowedValues": [1, 4, 8, 16],
                        "defaultValue": 1,
                        "description": "Number of addresses in the block."
                    }
                ]
            }),
        },
        DemoSpecification {
            code: "MANAGED-ROUTER-CPE",
            body: json!({
                "code": "MANAGED-ROUTER-CPE",
                "name": "Managed router",
                "description": "Customer-premises router, optionally operated by us.",
                "characteristics": [
                    {
                        "name": "model",
                        "valueType": "STRING",
                        "required": true,
                        "allowedValues": ["SRX-300", "SRX-550"],
                        "description": "Router hardware model."
                    },
                    {
                        "name": "managed",
                        "valueType": "BOOLEAN",
                        "required": false,
                        "defaultValue": true,
                        "description": "Whether we monitor and configure the router."
                    }
                ]
            }),
        },
    ]
}

/// The offerings, relationship targets before the offerings that point at them.
fn demo_offerings() -> Vec<DemoOffering> {
    vec![
        DemoOffering {
            code: "INTERNET-BUSINESS",
            name: "Business Internet",
            description: "Fibre internet for business sites, 100 Mbps to 1 Gbps.",
            specification: "INTERNET-ACCESS",
            relationships: vec![],
        },
        DemoOffering {
            code: "MANAGED-ROUTER",
            name: "Managed Router",
            description: "A router installed, monitored and maintained by us.",
            specification: "MANAGED-ROUTER-CPE",
            relationships: vec![],
        },
        DemoOffering {
            code: "STATIC-IP",
            name: "Static IP",
            description: "Fixed public IPv4 addresses as an add-on to Business Internet.",
            specification: "STATIC-IP-BLOCK",
            relationships: vec![
                DemoRelationship {
                    kind: "REQUIRES",
                    target: "INTERNET-BUSINESS",
                    min: 1,
                    max: 1,
                },
                DemoRelationship {
                    kind: "ADD_ON_OF",
                    target: "INTERNET-BUSINESS",
                    min: 0,
                    max: 1,
                },
            ],
        },
    ]
}

/// The list prices, one book per demo currency. Static IP uses slab tiers and the router range
/// tiers, so both tier modes have demo data.
fn demo_price_books() -> Vec<DemoPriceBook> {
    vec![DemoPriceBook {
        code: "DEMO-LIST-USD",
        name: "Demo list prices (USD)",
        currency: "USD",
        entries: vec![
            (
                "INTERNET-BUSINESS",
                json!([
                    {"chargeType": "RECURRING", "period": "MONTH", "unitPrice": "149.00"},
                    {"chargeType": "ONE_TIME", "unitPrice": "250.00"}
                ]),
            ),
            (
                "STATIC-IP",
                json!([
                    {
                        "chargeType": "RECURRING",
                        "period": "MONTH",
                        "tierMode": "SLAB",
                        "tiers": [
                            {"fromQuantity": 1, "toQuantity": 4, "unitPrice": "15.00"},
                            {"fromQuantity": 5, "toQuantity": null, "unitPrice": "12.00"}
                        ]
                    }
                ]),
            ),
            (
                "MANAGED-ROUTER",
                json!([
                    {
                        "chargeType": "RECURRING",
                        "period": "MONTH",
                        "tierMode": "RANGE",
                        "tiers": [
                            {"fromQuantity": 1, "toQuantity": 2, "unitPrice": "39.00"},
                            {"fromQuantity": 3, "toQuantity": null, "unitPrice": "34.00"}
                        ]
                    },
                    {"chargeType": "ONE_TIME", "unitPrice": "99.00"}
                ]),
            ),
        ],
    }]
}

/// Created-versus-present counts for one kind of item.
#[derive(Debug, Default, Clone, Copy)]
struct Count {
    created: usize,
    present: usize,
}

/// What a load did, for the one-line summary.
#[derive(Debug, Default)]
pub struct Summary {
    specifications: Count,
    offerings: Count,
    price_books: Count,
    published: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: usize, noun: &str| format!("{n} {noun}{}", if n == 1 { "" } else { "s" });
        write!(
            f,
            "created {}, {}, {}; already present {}, {}, {}; {} published",
            plural(self.specifications.created, "specification"),
            plural(self.offerings.created, "offering"),
            plural(self.price_books.created, "price book"),
            plural(self.specifications.present, "specification"),
            plural(self.offerings.present, "offering"),
            plural(self.price_books.present, "price book"),
            plural(self.published, "item"),
        )
    }
}

/// An offering as the price book entries need it.
#[derive(Debug, Clone)]
struct OfferingRef {
    id: String,
    version: u64,
}

/// Loads the whole demo catalog; safe to run any number of times.
pub async fn load_demo_catalog(client: &CatalogClient) -> Result<Summary> {
    let mut summary = Summary::default();

    let mut specification_ids = HashMap::new();
    for specification in demo_specifications() {
        let code = specification.code;
        let id = match client.find_by_code("product-specifications", code).await? {
            Some(existing) => {
                summary.specifications.present += 1;
                say(&format!("    specification {code}: already present"));
                id_of(&existing, code)?
            }
            None => {
                let created = client
                    .post(
                        "/product-specifications",
                        Some(&specification.body),
                        &idempotency_key("specification", code, "create"),
                    )
                    .await?;
                summary.specifications.created += 1;
                say(&format!("    specification {code}: created"));
                id_of(&created, code)?
            }
        };
        specification_ids.insert(code, id);
    }

    let mut offerings: HashMap<&str, OfferingRef> = HashMap::new();
    for offering in demo_offerings() {
        let code = offering.code;
        let (record, created) = match client.find_by_code("product-offerings", code).await? {
            Some(existing) => {
                summary.offerings.present += 1;
                (existing, false)
            }
            None => {
                let body = offering_body(&offering, &specification_ids, &offerings)?;
                let record = client
                    .post(
                        "/product-offerings",
                        Some(&body),
                        &idempotency_key("offering", code, "create"),
                    )
                    .await?;
                summary.offerings.created += 1;
                (record, true)
            }
        };
        let id = id_of(&record, code)?;
        // A new offering starts in DRAFT, whatever the response chose to include.
        let status = status_of(&record).unwrap_or(if created { "DRAFT" } else { "UNKNOWN" });
        let published = publish_offering(client, code, &id, status).await?;
        if published {
            summary.published += 1;
        }
        say(&format!(
            "    offering {code}: {}{}",
            if created {
                "created"
            } else {
                "already present"
            },
            if published {
                ", published".to_owned()
            } else {
                format!(" ({status})")
            }
        ));
        // Price the published version; a fresh create response predates publishing, and there
        // the only version is the latest one.
        let version = ["publishedVersion", "latestVersion"]
            .iter()
            .find_map(|field| record.get(*field).and_then(Value::as_u64))
            .unwrap_or(1);
        offerings.insert(code, OfferingRef { id, version });
    }

    for book in demo_price_books() {
        let code = book.code;
        let (record, created) = match client.find_by_code("price-books", code).await? {
            Some(existing) => {
                summary.price_books.present += 1;
                (existing, false)
            }
            None => {
                let body = price_book_body(&book, &offerings)?;
                let record = client
                    .post(
                        "/price-books",
                        Some(&body),
                        &idempotency_key("price-book", code, "create"),
                    )
                    .await?;
                summary.price_books.created += 1;
                (record, true)
            }
        };
        let id = id_of(&record, code)?;
        let status = status_of(&record).unwrap_or(if created { "DRAFT" } else { "UNKNOWN" });
        let published = status == "DRAFT";
        if published {
            client
                .post(
                    &format!("/price-books/{id}/publish"),
                    None,
                    &idempotency_key("price-book", code, "publish"),
                )
                .await?;
            summary.published += 1;
        }
        say(&format!(
            "    price book {code} ({}): {}{}",
            book.currency,
            if created {
                "created"
            } else {
                "already present"
            },
            if published {
                ", published".to_owned()
            } else {
                format!(" ({status})")
            }
        ));
    }
    Ok(summary)
}

/// Moves an offering from wherever it is in DRAFT → READY_FOR_REVIEW → PUBLISHED to PUBLISHED,
/// so a load interrupted between steps finishes the job on the next run. Returns whether it
/// published anything.
async fn publish_offering(
    client: &CatalogClient,
    code: &str,
    id: &str,
    status: &str,
) -> Result<bool> {
    if status == "DRAFT" {
        client
            .post(
                &format!("/product-offerings/{id}/submit-for-review"),
                None,
                &idempotency_key("offering", code, "submit-for-review"),
            )
            .await?;
    }
    if matches!(status, "DRAFT" | "READY_FOR_REVIEW") {
        client
            .post(
                &format!("/product-offerings/{id}/publish"),
                None,
                &idempotency_key("offering", code, "publish"),
            )
            .await?;
        return Ok(true);
    }
    Ok(false)
}

/// The `POST /product-offerings` body, resolving specification and target codes to ids.
fn offering_body(
    offering: &DemoOffering,
    specification_ids: &HashMap<&str, String>,
    offerings: &HashMap<&str, OfferingRef>,
) -> Result<Value> {
    let specification_id = specification_ids
        .get(offering.specification)
        .with_context(|| {
            format!(
                "demo offering {} names unknown specification {}",
                offering.code, offering.specification
            )
        })?;
    let relationships = offering
        .relationships
        .iter()
        .map(|relationship| {
            let target = offerings.get(relationship.target).with_context(|| {
                format!(
                    "demo offering {} must come after its {} target {}",
                    offering.code, relationship.kind, relationship.target
                )
            })?;
            Ok(json!({
                "type": relationship.kind,
                "targetOfferingId": target.id,
                "minCardinality": relationship.min,
                "maxCardinality": relationship.max,
            }))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({
        "code": offering.code,
        "name": offering.name,
        "description": offering.description,
        "productSpecificationId": specification_id,
        "relationships": relationships,
    }))
}

/// The `POST /price-books` body, resolving offering codes to ids and versions.
fn price_book_body(book: &DemoPriceBook, offerings: &HashMap<&str, OfferingRef>) -> Result<Value> {
    let entries = book
        .entries
        .iter()
        .map(|(code, charges)| {
            let offering = offerings.get(code).with_context(|| {
                format!("price book {} prices unknown offering {code}", book.code)
            })?;
            Ok(json!({
                "offeringId": offering.id,
                "offeringVersion": offering.version,
                "charges": charges,
            }))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({
        "code": book.code,
        "name": book.name,
        "currency": book.currency,
        "entries": entries,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_data_refers_only_to_earlier_items() -> Result<()> {
        let specifications: HashMap<&str, String> = demo_specifications()
            .iter()
            .map(|s| (s.code, format!("spec-{}", s.code)))
            .collect();
        let mut offerings = HashMap::new();
        for offering in demo_offerings() {
            let body = offering_body(&offering, &specifications, &offerings)?;
            assert_eq!(body["code"], offering.code);
            offerings.insert(
                offering.code,
                OfferingRef {
                    id: format!("offering-{}", offering.code),
                    version: 1,
                },
            );
        }
        for book in demo_price_books() {
            let body = price_book_body(&book, &offerings)?;
            assert_eq!(body["entries"].as_array().map(Vec::len), Some(3));
        }
        Ok(())
    }

    #[test]
    fn static_ip_requires_and_extends_internet() -> Result<()> {
        let specifications: HashMap<&str, String> = demo_specifications()
            .iter()
            .map(|s| (s.code, "spec".to_owned()))
            .collect();
        let offerings = HashMap::from([(
            "INTERNET-BUSINESS",
            OfferingRef {
                id: "internet-id".into(),
                version: 1,
            },
        )]);
        let static_ip = demo_offerings()
            .into_iter()
            .find(|o| o.code == "STATIC-IP")
            .context("STATIC-IP missing")?;
        let body = offering_body(&static_ip, &specifications, &offerings)?;
        assert_eq!(
            body["relationships"],
            json!([
                {"type": "REQUIRES", "targetOfferingId": "internet-id", "minCardinality": 1, "maxCardinality": 1},
                {"type": "ADD_ON_OF", "targetOfferingId": "internet-id", "minCardinality": 0, "maxCardinality": 1}
            ])
        );
        Ok(())
    }

    #[test]
    fn keys_are_stable_and_ids_are_found() -> Result<()> {
        assert_eq!(
            idempotency_key("offering", "INTERNET-BUSINESS", "create"),
            "demo-seed:offering:INTERNET-BUSINESS:create"
        );
        assert_eq!(id_of(&json!({"priceBookId": "b"}), "x")?, "b");
        assert!(id_of(&json!({}), "x").is_err());
        Ok(())
    }
}
