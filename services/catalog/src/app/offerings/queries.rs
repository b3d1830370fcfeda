//! Offering queries, and the reads commands use to answer with the state they left.

use common_kernel::cache::Cache;
use common_kernel::context::RequestContext;
use common_kernel::pagination::PageRequest;
use domain_kernel::access::Action;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{not_found, version_not_found};
use crate::app::error::CatalogResult;
use crate::app::mapping::{offering_content, offering_lifecycle, offering_view};
use crate::app::views::{OfferingVersionContent, OfferingVersionView, OfferingView};
use crate::domain::lifecycle::OfferingStatus;
use crate::infra::{offering_cache_key, offerings as repo};

/// How long frozen offering content stays cached (it never changes; the TTL only bounds memory).
const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The published content of a tenant's offering version, mapped from the stored record;
/// `None` when the version does not exist.
pub(super) async fn load_content(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    version: i32,
) -> CatalogResult<Option<OfferingVersionContent>> {
    Ok(repo::content(conn, tenant, id, version)
        .await?
        .map(offering_content))
}

/// One version as answered after a command: lifecycle and content read in the command's
/// transaction (never from the cache, which may not hold the new state yet).
pub(super) async fn version_in_tx(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    version: i32,
) -> CatalogResult<OfferingVersionView> {
    let (lifecycle, aggregate_version) = repo::lifecycle(conn, tenant, id, version)
        .await?
        .map(offering_lifecycle)
        .ok_or_else(|| version_not_found(id, version))?;
    let content = load_content(conn, tenant, id, version)
        .await?
        .ok_or_else(|| version_not_found(id, version))?;
    Ok(OfferingVersionView {
        content,
        lifecycle,
        aggregate_version,
    })
}

/// An offering of the caller's tenant.
pub async fn get(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: Uuid,
) -> CatalogResult<OfferingView> {
    ctx.authorize(Action::ViewCatalog)?;
    repo::find(conn, ctx.tenant_id.as_str(), id)
        .await?
        .map(offering_view)
        .ok_or_else(|| not_found(id))
}

/// A page of the tenant's offerings.
pub async fn list(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    status: Option<OfferingStatus>,
    code: Option<&str>,
    page: PageRequest,
) -> CatalogResult<(Vec<OfferingView>, i64)> {
    ctx.authorize(Action::ViewCatalog)?;
    let (records, total) = repo::list(
        conn,
        ctx.tenant_id.as_str(),
        status,
        code,
        page.limit,
        page.offset,
    )
    .await?;
    Ok((records.into_iter().map(offering_view).collect(), total))
}

/// One version. Its lifecycle is always read from the database; its content, once frozen, comes
/// from the cache when present (the key is versioned and the content immutable, so a hit can
/// never be stale) and is loaded and cached otherwise.
pub async fn get_version(
    conn: &mut PgConnection,
    cache: &Cache,
    ctx: &RequestContext,
    id: Uuid,
    version: i32,
) -> CatalogResult<OfferingVersionView> {
    ctx.authorize(Action::ViewCatalog)?;
    let tenant = ctx.tenant_id.as_str();
    let (lifecycle, aggregate_version) = repo::lifecycle(conn, tenant, id, version)
        .await?
        .map(offering_lifecycle)
        .ok_or_else(|| version_not_found(id, version))?;
    let frozen =
        OfferingStatus::parse(&lifecycle.status).is_some_and(OfferingStatus::is_content_frozen);
    let key = frozen.then(|| offering_cache_key(id, version));
    let content = cache
        .read_through(
            key.as_deref(),
            CACHE_TTL,
            |c: &OfferingVersionContent| c.tenant_id == tenant && c.offering_id == id,
            || async {
                load_content(conn, tenant, id, version)
                    .await?
                    .ok_or_else(|| version_not_found(id, version))
            },
        )
        .await?;
    Ok(OfferingVersionView {
        content,
        lifecycle,
        aggregate_version,
    })
}
