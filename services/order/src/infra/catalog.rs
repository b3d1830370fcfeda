//! The catalog's offering versions over HTTP, for decomposition. A version that left DRAFT is
//! immutable (ADR 0003), so its facts are kept in this process and in Redis under a key naming
//! tenant, id and version; Redis down ⇒ every read goes to the catalog. Catalog down ⇒
//! [`AppError::Catalog`] (retryable: the job fails and the engine retries it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common_kernel::auth::{ACTING_USER_HEADER, ServiceTokens};
use common_kernel::cache::Cache;
use common_kernel::context::RequestContext;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use crate::app::error::AppError;
use crate::app::ports::{OfferingFacts, ProfileSource};
use crate::domain::{FulfilmentProfile, ProductOfferingId};

/// How long frozen content stays cached (it never changes; the TTL bounds memory).
const CONTENT_TTL: Duration = Duration::from_secs(24 * 3600);

/// The part of the catalog's offering-version answer decomposition reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionAnswer {
    name: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    fulfilment_profile: Option<FulfilmentProfile>,
}

type LocalKey = (String, ProductOfferingId, u32);

/// The catalog client.
#[derive(Debug, Clone)]
pub struct CatalogProfiles {
    base: String,
    http: reqwest::Client,
    service_tokens: Option<Arc<ServiceTokens>>,
    cache: Cache,
    local: Arc<Mutex<HashMap<LocalKey, Arc<OfferingFacts>>>>,
}

impl CatalogProfiles {
    /// A client for the catalog at `base`, calling with this service's tokens when it has a
    /// client (ADR 0030).
    pub fn new(
        base: &str,
        cache: Cache,
        service_tokens: Option<Arc<ServiceTokens>>,
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .connect_timeout(Duration::from_secs(2))
                .build()?,
            service_tokens,
            cache,
            local: Arc::default(),
        })
    }

    async fn fetch(
        &self,
        ctx: &RequestContext,
        offering: ProductOfferingId,
        version: u32,
    ) -> Result<Option<VersionAnswer>, AppError> {
        let unavailable = |e: &dyn std::fmt::Display| AppError::Catalog(e.to_string());
        let mut request = self
            .http
            .get(format!(
                "{}/product-offerings/{offering}/versions/{version}",
                self.base
            ))
            .header("x-correlation-id", &ctx.correlation_id)
            .header("x-channel", &ctx.channel);
        match (&self.service_tokens, ctx.user_token.as_ref()) {
            (Some(tokens), user) => {
                let token = tokens.token().await.map_err(|e| unavailable(&e))?;
                request = request.bearer_auth(token.expose());
                if let Some(user) = user {
                    request = request.header(ACTING_USER_HEADER, user.expose());
                }
            }
            (None, Some(user)) => request = request.bearer_auth(user.expose()),
            (None, None) => {}
        }
        let response = request.send().await.map_err(|e| unavailable(&e))?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            status if status.is_success() => {
                Ok(Some(response.json().await.map_err(|e| unavailable(&e))?))
            }
            status => Err(AppError::Catalog(format!("catalog answered {status}"))),
        }
    }
}

#[async_trait]
impl ProfileSource for CatalogProfiles {
    async fn offering(
        &self,
        ctx: &RequestContext,
        offering: ProductOfferingId,
        version: u32,
    ) -> Result<Option<Arc<OfferingFacts>>, AppError> {
        let tenant = ctx.tenant_id.as_str().to_owned();
        let local_key = (tenant.clone(), offering, version);
        if let Some(facts) = self
            .local
            .lock()
            .ok()
            .and_then(|l| l.get(&local_key).cloned())
        {
            return Ok(Some(facts));
        }
        let key = format!("order:catalog:{tenant}:offering:{offering}:v{version}");
        let answer = match self.cache.get::<VersionAnswer>(&key).await {
            Some(answer) => Some(answer),
            None => {
                let answer = self.fetch(ctx, offering, version).await?;
                if let Some(answer) = &answer
                    && answer.status.as_deref().is_some_and(|s| s != "DRAFT")
                {
                    self.cache.put(&key, answer, CONTENT_TTL).await;
                }
                answer
            }
        };
        let Some(answer) = answer else {
            return Ok(None);
        };
        let frozen = answer.status.as_deref().is_some_and(|s| s != "DRAFT");
        let facts = Arc::new(OfferingFacts {
            name: answer.name,
            profile: answer.fulfilment_profile,
        });
        if frozen && let Ok(mut local) = self.local.lock() {
            local.insert(local_key, Arc::clone(&facts));
        }
        Ok(Some(facts))
    }
}
