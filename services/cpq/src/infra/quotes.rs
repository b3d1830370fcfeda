//! The PostgreSQL quote repository: reads rebuild the aggregate, and `save` writes exactly the
//! parts a command's event says it changed, then the history row.

use async_trait::async_trait;
use common_kernel::context::RequestContext;
use cpq_pricing::PricingState;
use domain_kernel::TenantId;
use sqlx::PgConnection;

use super::quote_reads::{self as reads, Locking};
use super::quote_rows::{StoredQuote, quote_status, to_quote};
use super::{history, quote_writes as writes};
use crate::app::ports::{
    ListFilter, QuoteHead, QuoteListing, QuoteRepository, StoreError, UnmovedNote,
};
use crate::domain::quote::{EventDetail, PriceBookPin, Quote, QuoteEvent, QuoteSummary};
use crate::domain::{PriceBookId, QuoteId};

/// Quotes in `cpq_schema`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PgQuoteRepository;

impl PgQuoteRepository {
    async fn read(
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: QuoteId,
        locking: Locking,
    ) -> Result<Option<Quote>, StoreError> {
        let Some(root) = reads::root(conn, tenant.as_str(), id.as_uuid(), locking).await? else {
            return Ok(None);
        };
        let stored = reads::revision(conn, root).await?;
        to_quote(stored).map(Some)
    }

    /// Writes the revision rows `event` changed.
    async fn write_parts(
        conn: &mut PgConnection,
        quote: &Quote,
        event: &QuoteEvent,
    ) -> Result<(), StoreError> {
        let id = quote.id().as_uuid();
        let revision = quote.revision();
        let corrupt = |what: &str| StoreError::Corrupt(what.to_owned());
        match &event.detail {
            EventDetail::Created(_) => {
                writes::insert_root(conn, quote).await?;
                writes::insert_items(conn, id, revision, quote.items()).await?;
            }
            EventDetail::ItemsReplaced(_) => {
                writes::replace_items(conn, id, revision, quote.items()).await?;
            }
            EventDetail::Priced(_) => {
                let snapshot = quote
                    .pricing()
                    .snapshot()
                    .ok_or_else(|| corrupt("priced without a snapshot"))?;
                writes::upsert_snapshot(conn, quote, snapshot).await?;
            }
            EventDetail::PriceOverridden(overridden) => {
                let row = quote
                    .overrides()
                    .iter()
                    .find(|o| {
                        o.item_id == overridden.item_id && o.charge.as_str() == overridden.charge
                    })
                    .ok_or_else(|| corrupt("overridden without the override"))?;
                writes::upsert_override(conn, quote, row).await?;
                let snapshot = quote
                    .pricing()
                    .snapshot()
                    .ok_or_else(|| corrupt("priced without a snapshot"))?;
                writes::upsert_snapshot(conn, quote, snapshot).await?;
            }
            EventDetail::Approved(approved) => {
                let hash = approved
                    .approved_price_hash
                    .as_deref()
                    .ok_or_else(|| corrupt("approved without an approved hash"))?;
                if !writes::freeze_snapshot(conn, id, revision, hash).await? {
                    return Err(corrupt("the price snapshot changed under the approval"));
                }
            }
            EventDetail::Revised(revised) => {
                writes::copy_items(conn, id, revised.previous_revision, revision).await?;
            }
            EventDetail::Accepted(_) => {
                writes::freeze_items(conn, id, revision).await?;
            }
            EventDetail::Converted(_) => {
                let conversion = quote
                    .commitment()
                    .conversion()
                    .ok_or_else(|| corrupt("converted without the conversion"))?;
                if !writes::insert_conversion(conn, quote, conversion).await? {
                    return Err(corrupt("a second conversion of one quote"));
                }
            }
            EventDetail::Submitted(_)
            | EventDetail::ApprovalPending(_)
            | EventDetail::Rejected(_)
            | EventDetail::Cancelled(_)
            | EventDetail::Expired(_) => {}
        }
        Ok(())
    }
}

#[async_trait]
impl QuoteRepository for PgQuoteRepository {
    async fn head(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: QuoteId,
    ) -> Result<Option<QuoteHead>, StoreError> {
        let row: Option<(String, i64, uuid::Uuid, i32)> = sqlx::query_as(
            "SELECT status, aggregate_version, price_book_id, price_book_version FROM quote \
             WHERE tenant_id = $1 AND quote_id = $2",
        )
        .bind(tenant.as_str())
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await?;
        row.map(|(status, version, book, book_version)| {
            Ok(QuoteHead {
                status: quote_status(&status)?,
                version,
                price_book: PriceBookPin {
                    id: PriceBookId::from_uuid(book),
                    version: book_version,
                },
            })
        })
        .transpose()
    }

    async fn load(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: QuoteId,
    ) -> Result<Option<Quote>, StoreError> {
        Self::read(conn, tenant, id, Locking::None).await
    }

    async fn lock(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: QuoteId,
    ) -> Result<Option<Quote>, StoreError> {
        Self::read(conn, tenant, id, Locking::ForUpdate).await
    }

    async fn lock_summary(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        id: QuoteId,
    ) -> Result<Option<QuoteSummary>, StoreError> {
        type Row = (String, i32, String, Option<String>, Option<String>, i64);
        let row: Option<Row> = sqlx::query_as(
            "SELECT status, revision, pricing_state, price_hash, approved_price_hash, aggregate_version \
             FROM quote WHERE tenant_id = $1 AND quote_id = $2 FOR UPDATE",
        )
        .bind(tenant.as_str())
        .bind(id.as_uuid())
        .fetch_optional(conn)
        .await?;
        row.map(
            |(status, revision, pricing, price_hash, approved, version)| {
                Ok(QuoteSummary {
                    status: quote_status(&status)?,
                    revision,
                    pricing_state: PricingState::parse(&pricing)
                        .ok_or_else(|| StoreError::Corrupt(format!("pricing state {pricing}")))?
                        .as_str(),
                    price_hash,
                    approved_price_hash: approved,
                    aggregate_version: version,
                })
            },
        )
        .transpose()
    }

    async fn lock_expired(
        &self,
        conn: &mut PgConnection,
        limit: i64,
    ) -> Result<Vec<Quote>, StoreError> {
        let roots = reads::expired_roots(conn, limit).await?;
        let mut quotes = Vec::with_capacity(roots.len());
        for root in roots {
            let stored: StoredQuote = reads::revision(conn, root).await?;
            quotes.push(to_quote(stored)?);
        }
        Ok(quotes)
    }

    async fn save(
        &self,
        conn: &mut PgConnection,
        ctx: &RequestContext,
        quote: &mut Quote,
        event: &QuoteEvent,
    ) -> Result<(), StoreError> {
        Self::write_parts(conn, quote, event).await?;
        if !matches!(event.detail, EventDetail::Created(_)) {
            let updated_at = writes::update_root(conn, quote).await?;
            quote.stamp_updated(updated_at);
        }
        history::append(conn, ctx, event).await?;
        Ok(())
    }

    async fn record_unmoved(
        &self,
        conn: &mut PgConnection,
        ctx: &RequestContext,
        note: &UnmovedNote<'_>,
    ) -> Result<(), StoreError> {
        history::append_unmoved(conn, ctx, note).await?;
        Ok(())
    }

    async fn list(
        &self,
        conn: &mut PgConnection,
        tenant: &TenantId,
        filter: ListFilter<'_>,
    ) -> Result<(Vec<QuoteListing>, i64), StoreError> {
        let (rows, total) = reads::list(
            conn,
            tenant.as_str(),
            filter.status.map(|s| s.as_str()),
            filter.customer_id,
            filter.limit,
            filter.offset,
        )
        .await?;
        let listings = rows
            .into_iter()
            .map(|r| {
                Ok(QuoteListing {
                    id: QuoteId::from_uuid(r.quote_id),
                    status: quote_status(&r.status)?,
                    customer_id: r.customer_id,
                    currency: r.currency,
                    revision: r.revision,
                    valid_until: r.valid_until,
                    price_hash: r.price_hash,
                    version: r.aggregate_version,
                    created_at: r.created_at,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok((listings, total))
    }
}
