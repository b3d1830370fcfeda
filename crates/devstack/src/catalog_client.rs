//! A thin client for the catalog's public HTTP API, as the demo loader and the other devstack
//! commands use it: the devstack client's token, the DEVSTACK channel, a time limit, and
//! problem documents turned into errors that name their code and correlation id.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use reqwest::{Method, RequestBuilder, Response, Url};
use serde::Deserialize;
use serde_json::Value;

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

    /// `GET <path>`: the JSON body of a successful answer.
    pub(crate) async fn get(&self, path: &str) -> Result<Value> {
        let url = Url::parse(&format!("{}{path}", self.base_url))
            .with_context(|| format!("bad catalog URL {}{path}", self.base_url))?;
        let what = format!("GET {path}");
        let response = self
            .request(Method::GET, url)
            .send()
            .await
            .with_context(|| format!("{what}: catalog unreachable"))?;
        success_body(response, &what).await
    }

    /// `POST <path>` with an optional JSON body and a stable idempotency key.
    pub(crate) async fn post(
        &self,
        path: &str,
        body: Option<&Value>,
        idempotency_key: &str,
    ) -> Result<Value> {
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

/// The string id of a created or listed resource (`id`, or `priceBookId` for price books).
pub(crate) fn id_of(record: &Value, what: &str) -> Result<String> {
    ["id", "priceBookId"]
        .iter()
        .find_map(|field| record.get(*field).and_then(Value::as_str))
        .map(str::to_owned)
        .with_context(|| format!("{what}: response has no id: {record}"))
}
