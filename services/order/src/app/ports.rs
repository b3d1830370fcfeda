//! What the application needs from outside its database: the catalog's fulfilment profiles.
//! `infra::catalog` implements it over HTTP; tests may use a fixed table.

use std::sync::Arc;

use async_trait::async_trait;
use common_kernel::context::RequestContext;

use crate::app::error::AppError;
use crate::domain::{FulfilmentProfile, ProductOfferingId};

/// What decomposition reads of one offering version.
#[derive(Debug, Clone)]
pub struct OfferingFacts {
    /// The offering's name at that version (request descriptions, billing lines).
    pub name: String,
    /// Its fulfilment profile; `None` when the version declares none.
    pub profile: Option<FulfilmentProfile>,
}

/// The catalog's offering versions, as decomposition needs them.
#[async_trait]
pub trait ProfileSource: Send + Sync + std::fmt::Debug {
    /// The facts of `offering` at `version`; `Ok(None)` when the version does not exist.
    async fn offering(
        &self,
        ctx: &RequestContext,
        offering: ProductOfferingId,
        version: u32,
    ) -> Result<Option<Arc<OfferingFacts>>, AppError>;
}
