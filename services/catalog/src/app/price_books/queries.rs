//! Price book queries, and the reads commands use to answer with the state they left.

use common_kernel::cache::Cache;
use common_kernel::context::RequestContext;
use common_kernel::pagination::PageRequest;
use domain_kernel::access::Action;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{not_found, version_not_found};
use crate::app::error::CatalogResult;
use crate::app::mapping::{price_book_content, price_book_version_view, price_book_view};
use crate::app::views::{PriceBookVersionContent, PriceBookVersionView, PriceBookView};
use crate::domain::lifecycle::PriceBookStatus;
use crate::infra::{price_book_cache_key, price_books as repo};

/// How long frozen price book content stays cached.
const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The published content of a tenant's price book version, mapped from the stored record;
/// `None` when the version does not exist.
pub(super) async fn load_content(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    version: i32,
) -> CatalogResult<Option<PriceBookVersionContent>> {
    Ok(repo::content(conn, tenant, id, version)
        .await?
        .map(price_book_content))
}

/// One version as answered after a command: lifecycle and content read in the command's
/// transaction (never from the cache, which may not hold the new state yet).
pub(super) async fn version_in_tx(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    version: i32,
) -> CatalogResult<PriceBookVersionView> {
    let lifecycle = repo::lifecycle(conn, tenant, id, version)
        .await?
        .ok_or_else(|| version_not_found(id, version))?;
    let content = load_content(conn, tenant, id, version)
        .await?
        .ok_or_else(|| version_not_found(id, version))?;
    Ok(price_book_version_view(content, lifecycle))
}

/// A price book of the caller's tenant.
pub async fn get(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: Uuid,
) -> CatalogResult<PriceBookView> {
    ctx.authorize(Action::ViewCatalog)?;
    repo::find(conn, ctx.tenant_id.as_str(), id)
        .await?
        .map(price_book_view)
        .ok_or_else(|| not_found(id))
}

/// A page of the tenant's price books.
pub async fn list(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    code: Option<&str>,
    page: PageRequest,
) -> CatalogResult<(Vec<PriceBookView>, i64)> {
    ctx.authorize(Action::ViewCatalog)?;
    let (records, total) =
        repo::list(conn, ctx.tenant_id.as_str(), code, page.limit, page.offset).await?;
    Ok((records.into_iter().map(price_book_view).collect(), total))
}

/// One version; frozen content read through the cache.
pub async fn get_version(
    conn: &mut PgConnection,
    cache: &Cache,
    ctx: &RequestContext,
    id: Uuid,
    version: i32,
) -> CatalogResult<PriceBookVersionView> {
    ctx.authorize(Action::ViewCatalog)?;
    let tenant = ctx.tenant_id.as_str();
    let lifecycle = repo::lifecycle(conn, tenant, id, version)
        .await?
        .ok_or_else(|| version_not_found(id, version))?;
    let frozen = lifecycle.status != PriceBookStatus::Draft.as_str();
    let key = frozen.then(|| price_book_cache_key(id, version));
    let content = cache
        .read_through(
            key.as_deref(),
            CACHE_TTL,
            |c: &PriceBookVersionContent| c.tenant_id == tenant && c.price_book_id == id,
            || async {
                load_content(conn, tenant, id, version)
                    .await?
                    .ok_or_else(|| version_not_found(id, version))
            },
        )
        .await?;
    Ok(price_book_version_view(content, lifecycle))
}
