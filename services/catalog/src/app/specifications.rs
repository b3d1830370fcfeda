//! Product specification commands and queries.

use common_kernel::audit::{self, AuditResource, Evidence};
use common_kernel::context::RequestContext;
use common_kernel::db::violated_constraint;
use common_kernel::outbox::{self, NewEvent};
use common_kernel::pagination::PageRequest;
use domain_kernel::access::Action;
use sqlx::PgConnection;

use super::error::{CatalogError, CatalogResult};
use super::events::{SPECIFICATION_CREATED, SPECIFICATION_TOPIC};
use super::mapping::specification_view;
use super::views::SpecificationView;
use crate::domain::ProductSpecificationId;
use crate::domain::characteristic::{CharacteristicInput, validate_characteristics};
use crate::domain::violation::{Violations, check_code, check_text};
use crate::infra::specifications as repo;

/// Input of `CreateProductSpecification`.
#[derive(Debug, Clone)]
pub struct NewSpecification {
    /// Code, unique per tenant.
    pub code: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Characteristic definitions.
    pub characteristics: Vec<CharacteristicInput>,
}

/// CreateProductSpecification · aggregate: specification · source: none · checks: code format
/// and uniqueness per tenant, every characteristic rule · writes: specification + definitions,
/// `catalog.product-specification.created.v1`, audit evidence · idempotent by key · a taken code
/// is 409 `CODE_ALREADY_EXISTS`.
pub async fn create(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    input: NewSpecification,
) -> CatalogResult<SpecificationView> {
    ctx.authorize(Action::ManageCatalog)?;
    let mut violations = Violations::new();
    check_code(&mut violations, "/code", &input.code);
    check_text(&mut violations, "/name", &input.name, 200, false);
    if let Some(description) = &input.description {
        check_text(&mut violations, "/description", description, 4000, true);
    }
    let definitions =
        validate_characteristics(&mut violations, "/characteristics", &input.characteristics);
    super::reject_if_any(violations.into_vec())?;

    let id = ProductSpecificationId::generate().as_uuid();
    let tenant = ctx.tenant_id.as_str();
    repo::insert(
        conn,
        repo::NewSpecificationRow {
            tenant,
            id,
            code: &input.code,
            name: input.name.trim(),
            description: input.description.as_deref().map(str::trim),
            characteristics: &definitions,
            actor: ctx.actor.actor_id.as_str(),
        },
    )
    .await
    .map_err(|e| match violated_constraint(&e) {
        Some("product_specification_code_key") => CatalogError::CodeTaken {
            resource: "product specification",
            code: input.code.clone(),
        },
        _ => CatalogError::Database(e),
    })?;
    let view = repo::find(conn, tenant, id)
        .await?
        .map(specification_view)
        .ok_or_else(|| CatalogError::NotFound {
            resource: "product specification",
            id: id.to_string(),
        })?;
    let after = serde_json::to_value(&view).ok();
    outbox::append(
        conn,
        ctx,
        NewEvent {
            event_type: SPECIFICATION_CREATED,
            event_version: 1,
            topic: SPECIFICATION_TOPIC,
            aggregate_type: "ProductSpecification",
            aggregate_id: id.to_string(),
            aggregate_version: 1,
            partition_key: id.to_string(),
            payload: after.clone().unwrap_or_default(),
        },
    )
    .await?;
    audit::record(
        conn,
        ctx,
        Evidence {
            event_type: "catalog.product-specification.created",
            resource: AuditResource {
                resource_type: "ProductSpecification",
                resource_id: id.to_string(),
                resource_version: 1,
            },
            business_reason: None,
            before: None,
            after,
            policy: None,
        },
    )
    .await?;
    Ok(view)
}

/// A specification of the caller's tenant.
pub async fn get(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: uuid::Uuid,
) -> CatalogResult<SpecificationView> {
    ctx.authorize(Action::ViewCatalog)?;
    repo::find(conn, ctx.tenant_id.as_str(), id)
        .await?
        .map(specification_view)
        .ok_or_else(|| CatalogError::NotFound {
            resource: "product specification",
            id: id.to_string(),
        })
}

/// A page of the tenant's specifications.
pub async fn list(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    code: Option<&str>,
    page: PageRequest,
) -> CatalogResult<(Vec<SpecificationView>, i64)> {
    ctx.authorize(Action::ViewCatalog)?;
    let (records, total) =
        repo::list(conn, ctx.tenant_id.as_str(), code, page.limit, page.offset).await?;
    Ok((records.into_iter().map(specification_view).collect(), total))
}
