//! Access to the catalog service over HTTP, with a Redis read-through for frozen content.
//!
//! Offering and price-book *content* is immutable once a version leaves DRAFT, so it is cached
//! under a key that names tenant, id and version: in this process first ([`LocalContent`]),
//! then in Redis. *Lifecycle* (is the version still sellable?)
//! changes, so it is always read live from the offering root, one call per distinct offering.
//! Redis down ⇒ every read goes to the catalog: correct, only slower. Catalog down ⇒
//! [`CatalogError::Unavailable`] (503, retryable). The client implements the application's
//! [`CatalogReader`] port, so nothing outside `infra` sees the catalog's JSON.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common_kernel::auth::{ACTING_USER_HEADER, ServiceTokens};
use common_kernel::cache::Cache;
use common_kernel::context::RequestContext;
use cpq_configuration::{OfferingId, OfferingSnapshot, OfferingStatus};

use crate::app::ports::{CatalogError, CatalogReader};
use crate::domain::PriceBookId;
use crate::domain::quote::PriceBookPin;
use crate::domain::quote::catalog_pins::OfferingLifecycle;
use crate::domain::quote::editing::PriceBookFacts;
use cpq_pricing::PriceBook;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::catalog_json::{
    OfferingContent, OfferingRoot, OfferingVersionAnswer, PriceBookContent, PriceBookRoot,
    PriceBookVersionAnswer,
};
use super::local_content::LocalContent;

/// How long frozen catalog content stays cached (it never changes; the TTL bounds memory).
const CONTENT_TTL: Duration = Duration::from_secs(24 * 3600);
/// Upper bound of one catalog call.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// An answer with a status the client does not expect.
#[derive(Debug, thiserror::Error)]
#[error("catalog answered {0}")]
struct StatusError(StatusCode);

/// The catalog client: base URL, HTTP client, this service's token source and the two caches
/// of frozen content.
#[derive(Debug, Clone)]
pub struct CatalogClient {
    base: String,
    http: reqwest::Client,
    service_tokens: Option<Arc<ServiceTokens>>,
    cache: Cache,
    offerings: Arc<LocalContent<OfferingContent>>,
    price_books: Arc<LocalContent<PriceBookContent>>,
}

impl CatalogClient {
    /// A client for the catalog at `base` (no trailing slash needed), calling with this
    /// service's tokens when it has a client.
    pub fn new(
        base: &str,
        cache: Cache,
        service_tokens: Option<Arc<ServiceTokens>>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(2))
            .build()?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
            service_tokens,
            cache,
            offerings: Arc::default(),
            price_books: Arc::default(),
        })
    }

    /// Adds the credentials of a call made for `ctx` (ADR 0030): this service's own token, and
    /// the user's token to act for them; without a service client, the user's token alone.
    async fn authenticated(
        &self,
        request: reqwest::RequestBuilder,
        ctx: &RequestContext,
    ) -> Result<reqwest::RequestBuilder, CatalogError> {
        let user = ctx.user_token.as_ref();
        Ok(match (&self.service_tokens, user) {
            (Some(tokens), user) => {
                let token = tokens
                    .token()
                    .await
                    .map_err(|e| CatalogError::Unavailable(Box::new(e)))?;
                let request = request.bearer_auth(token.expose());
                match user {
                    Some(user) => request.header(ACTING_USER_HEADER, user.expose()),
                    None => request,
                }
            }
            (None, Some(user)) => request.bearer_auth(user.expose()),
            (None, None) => request,
        })
    }

    /// GETs `path` as the caller; `Ok(None)` on 404.
    #[tracing::instrument(skip_all, fields(path = %path), err(level = "warn"))]
    async fn get<T: DeserializeOwned>(
        &self,
        ctx: &RequestContext,
        path: &str,
    ) -> Result<Option<T>, CatalogError> {
        let request = self
            .http
            .get(format!("{}{path}", self.base))
            .header("x-correlation-id", &ctx.correlation_id)
            .header("x-channel", &ctx.channel);
        let response = self
            .authenticated(request, ctx)
            .await?
            .send()
            .await
            .map_err(|e| CatalogError::Unavailable(Box::new(e)))?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if status.is_server_error() {
            return Err(CatalogError::Unavailable(Box::new(StatusError(status))));
        }
        if !status.is_success() {
            return Err(CatalogError::Unexpected(format!(
                "status {status} for {path}"
            )));
        }
        response
            .json::<T>()
            .await
            .map(Some)
            .map_err(|e| CatalogError::Unexpected(format!("{path}: {e}")))
    }

    /// The content of an offering version; read through the cache unless the version is still
    /// a DRAFT (whose content may change).
    async fn offering_content(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        version: i32,
        status: OfferingStatus,
    ) -> Result<Option<Arc<OfferingContent>>, CatalogError> {
        let tenant = ctx.tenant_id.as_str();
        let frozen = status != OfferingStatus::Draft;
        if frozen && let Some(content) = self.offerings.get(tenant, id, version) {
            return Ok(Some(content));
        }
        let key = frozen.then(|| format!("cpq:catalog:{tenant}:offering:{id}:v{version}"));
        let path = format!("/product-offerings/{id}/versions/{version}");
        let content = self
            .cache
            .read_through(
                key.as_deref(),
                CONTENT_TTL,
                |c: &Option<OfferingContent>| {
                    c.as_ref().is_some_and(|c| {
                        c.tenant_id == tenant && c.offering_id == id && c.version == version
                    })
                },
                || async {
                    let answer: Option<OfferingVersionAnswer> = self.get(ctx, &path).await?;
                    Ok(answer.map(|a| a.content))
                },
            )
            .await?
            .map(Arc::new);
        if frozen && let Some(content) = &content {
            self.offerings.put(tenant, id, version, Arc::clone(content));
        }
        Ok(content)
    }

    /// The content of a price-book version: from this process or Redis when there, else from
    /// the catalog, kept unless the version is still a DRAFT.
    async fn price_book_content(
        &self,
        ctx: &RequestContext,
        id: Uuid,
        version: i32,
    ) -> Result<Option<Arc<PriceBookContent>>, CatalogError> {
        let tenant = ctx.tenant_id.as_str();
        if let Some(content) = self.price_books.get(tenant, id, version) {
            return Ok(Some(content));
        }
        let key = format!("cpq:catalog:{tenant}:price-book:{id}:v{version}");
        if let Some(content) = self
            .cache
            .get::<PriceBookContent>(&key)
            .await
            .filter(|c| c.tenant_id == tenant && c.price_book_id == id && c.version == version)
        {
            let content = Arc::new(content);
            self.price_books
                .put(tenant, id, version, Arc::clone(&content));
            return Ok(Some(content));
        }
        let answer: Option<PriceBookVersionAnswer> = self
            .get(ctx, &format!("/price-books/{id}/versions/{version}"))
            .await?;
        let Some(answer) = answer else {
            return Ok(None);
        };
        let content = Arc::new(answer.content);
        if answer.status != "DRAFT" {
            self.cache.put(&key, content.as_ref(), CONTENT_TTL).await;
            self.price_books
                .put(tenant, id, version, Arc::clone(&content));
        }
        Ok(Some(content))
    }
}

#[async_trait]
impl CatalogReader for CatalogClient {
    async fn offering_lifecycle(
        &self,
        ctx: &RequestContext,
        id: OfferingId,
    ) -> Result<Option<OfferingLifecycle>, CatalogError> {
        let root: Option<OfferingRoot> = self.get(ctx, &format!("/product-offerings/{id}")).await?;
        Ok(root.map(Into::into))
    }

    async fn offering_snapshot(
        &self,
        ctx: &RequestContext,
        id: OfferingId,
        version: i32,
        status: OfferingStatus,
    ) -> Result<Option<OfferingSnapshot>, CatalogError> {
        self.offering_content(ctx, id.as_uuid(), version, status)
            .await?
            .map(|content| content.to_snapshot(status))
            .transpose()
    }

    async fn price_book_facts(
        &self,
        ctx: &RequestContext,
        id: PriceBookId,
    ) -> Result<Option<PriceBookFacts>, CatalogError> {
        let root: Option<PriceBookRoot> = self.get(ctx, &format!("/price-books/{id}")).await?;
        Ok(root.map(Into::into))
    }

    async fn price_book(
        &self,
        ctx: &RequestContext,
        pin: PriceBookPin,
    ) -> Result<Option<PriceBook>, CatalogError> {
        self.price_book_content(ctx, pin.id.as_uuid(), pin.version)
            .await?
            .map(|content| content.to_price_book())
            .transpose()
    }
}
