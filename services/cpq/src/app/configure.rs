//! Configuration against the live catalog, done before any lock: the distinct offerings'
//! lifecycles are read concurrently, items are pinned, the pinned versions' content is read
//! concurrently (cached content is immutable), and the configuration engine runs.

use std::collections::BTreeMap;

use common_kernel::context::RequestContext;
use cpq_configuration::{OfferingCatalog, ValidationReport};
use futures::future::try_join_all;

use super::error::{CpqError, CpqResult};
use super::ports::Ports;
use crate::domain::quote::catalog_pins::{distinct_offerings, pin};
use crate::domain::quote::items::configure;
use crate::domain::quote::{ItemDraft, QuoteItem};

/// Items configured against the catalog, with the engine's report.
#[derive(Debug, Clone)]
pub struct Configured {
    /// The items as the revision will hold them.
    pub items: Vec<QuoteItem>,
    /// The engine's report (decides CONFIGURED).
    pub report: ValidationReport,
}

/// Pins and configures `drafts` against the catalog. Refusals (unknown, unsellable, stale)
/// write nothing.
pub async fn configure_items(
    ports: &Ports,
    ctx: &RequestContext,
    drafts: &[ItemDraft],
) -> CpqResult<Configured> {
    let offerings = distinct_offerings(drafts);
    let lifecycles = try_join_all(offerings.into_iter().map(|id| async move {
        Ok::<_, CpqError>((id, ports.catalog.offering_lifecycle(ctx, id).await?))
    }))
    .await?;
    let lifecycles: BTreeMap<_, _> = lifecycles.into_iter().collect();
    let pins = pin(drafts, &lifecycles)?;
    let snapshots = try_join_all(pins.wanted.iter().map(|&(id, version)| async move {
        let status = cpq_configuration::OfferingStatus::Published;
        ports
            .catalog
            .offering_snapshot(ctx, id, version, status)
            .await?
            .ok_or_else(|| CpqError::Corrupt(format!("offering {id} v{version} vanished")))
    }))
    .await?;
    let catalog = OfferingCatalog::new(snapshots).map_err(|e| CpqError::Corrupt(e.to_string()))?;
    let (items, report) = configure(drafts, &pins.versions, &catalog);
    Ok(Configured { items, report })
}
