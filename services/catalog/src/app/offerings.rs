//! Product offering commands; the queries live in `queries` (re-exported here) and the content
//! checks the commands share in `content`.

use common_kernel::context::RequestContext;
use common_kernel::db::violated_constraint;
use domain_kernel::access::Action;
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::error::{CatalogError, CatalogResult};
use super::events::{self, lifecycle_payload, offering_event};
use super::mapping::offering_view;
use super::views::{OfferingVersionView, OfferingView};
use super::{ChangeRecord, LifecycleInput, check_expected_version, record_change};
use crate::domain::ProductOfferingId;
use crate::domain::fulfilment::FulfilmentProfileInput;
use crate::domain::lifecycle::{OfferingCommand, OfferingStatus, offering_transition};
use crate::domain::offering::RelationshipInput;
use crate::domain::violation::{Violations, check_code};
use crate::infra::history::{Change, HistoryTable};
use crate::infra::offerings as repo;
use content::{patched_content, validated_content};
pub use queries::{get, get_version, list};
use queries::{load_content, version_in_tx};

mod content;
mod queries;

/// Input of `CreateProductOffering`.
#[derive(Debug, Clone)]
pub struct NewOffering {
    /// Code, unique per tenant.
    pub code: String,
    /// Name of version 1.
    pub name: String,
    /// Description of version 1.
    pub description: Option<String>,
    /// Specification of version 1.
    pub specification_id: Uuid,
    /// Relationship rules of version 1.
    pub relationships: Vec<RelationshipInput>,
    /// Fulfilment profile of version 1, if it has one.
    pub fulfilment_profile: Option<FulfilmentProfileInput>,
}

/// Changes to a draft's content; absent fields keep their value.
#[derive(Debug, Clone, Default)]
pub struct ContentPatch {
    /// New name.
    pub name: Option<String>,
    /// New description (`Some(None)` clears it).
    pub description: Option<Option<String>>,
    /// New specification.
    pub specification_id: Option<Uuid>,
    /// New relationship list (replaces the old one).
    pub relationships: Option<Vec<RelationshipInput>>,
    /// New fulfilment profile (replaces the old one; `Some(None)` removes it).
    pub fulfilment_profile: Option<Option<FulfilmentProfileInput>>,
}

fn not_found(id: Uuid) -> CatalogError {
    CatalogError::NotFound {
        resource: "product offering",
        id: id.to_string(),
    }
}

fn version_not_found(id: Uuid, version: i32) -> CatalogError {
    CatalogError::NotFound {
        resource: "product offering version",
        id: format!("{id} v{version}"),
    }
}

/// Records one offering change, explaining it by its command when no reason was given.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site per command; a struct would only rename the arguments"
)]
async fn record(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    change: Change<'_>,
    event_type: &'static str,
    code: &str,
    payload: Value,
    before: Option<Value>,
    after: Option<Value>,
) -> CatalogResult<()> {
    let event = offering_event(event_type, change.id, change.aggregate_version, payload);
    let business_reason = change
        .reason
        .map(str::to_owned)
        .or_else(|| Some(format!("{} {code} v{}", change.command, change.version)));
    let record = ChangeRecord {
        table: HistoryTable::Offering,
        change,
        event,
        business_reason,
        before,
        after,
    };
    record_change(conn, ctx, record).await
}

/// CreateProductOffering · aggregate: offering · source: none · input: code, name, description,
/// specification, relationships · checks: code unique per tenant, content rules, references
/// exist for the tenant · transition: → v1 DRAFT · writes: root + version + relationships,
/// history, `catalog.product-offering.created.v1`, audit · idempotent by key.
pub async fn create(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    input: NewOffering,
) -> CatalogResult<OfferingView> {
    ctx.authorize(Action::ManageCatalog)?;
    let tenant = ctx.tenant_id.as_str();
    let id = ProductOfferingId::generate().as_uuid();
    let mut violations = Violations::new();
    check_code(&mut violations, "/code", &input.code);
    let content = validated_content(
        conn,
        tenant,
        id,
        &input.name,
        input.description.as_deref(),
        input.specification_id,
        &input.relationships,
        input.fulfilment_profile.as_ref(),
        violations,
    )
    .await?;
    repo::insert_root(conn, tenant, id, &input.code, ctx.actor.actor_id.as_str())
        .await
        .map_err(|e| match violated_constraint(&e) {
            Some("product_offering_code_key") => CatalogError::CodeTaken {
                resource: "product offering",
                code: input.code.clone(),
            },
            _ => CatalogError::Database(e),
        })?;
    let fields = repo::VersionFields {
        name: &content.name,
        description: content.description.as_deref(),
        specification_id: input.specification_id,
        relationships: &content.relationships,
        fulfilment_profile: content.fulfilment_profile.as_ref(),
    };
    repo::insert_version(conn, tenant, id, 1, &fields, ctx.actor.actor_id.as_str()).await?;
    let after = load_content(conn, tenant, id, 1)
        .await?
        .and_then(|c| serde_json::to_value(c).ok());
    record(
        conn,
        ctx,
        Change {
            id,
            version: 1,
            command: "CREATE",
            from_status: None,
            to_status: OfferingStatus::Draft.as_str(),
            aggregate_version: 1,
            reason: None,
        },
        events::offering::CREATED,
        &input.code,
        json!({ "productOfferingId": id, "code": input.code, "version": 1, "content": after }),
        None,
        after.clone(),
    )
    .await?;
    repo::find(conn, tenant, id)
        .await?
        .map(offering_view)
        .ok_or_else(|| not_found(id))
}

/// SubmitForReview / ReturnToDraft / Publish / Retire / Archive · aggregate: offering · source:
/// per the lifecycle table · input: optional version (latest by default), reason, If-Match ·
/// checks: tenant owns the offering, aggregate version matches, transition allowed · publish
/// also retires the version it supersedes · writes: status + date, history, event, audit for
/// every version touched · illegal transitions are 409 `ILLEGAL_TRANSITION`.
pub async fn transition(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: Uuid,
    command: OfferingCommand,
    input: LifecycleInput,
) -> CatalogResult<OfferingVersionView> {
    ctx.authorize(Action::ManageCatalog)?;
    let tenant = ctx.tenant_id.as_str();
    let root = repo::lock_root(conn, tenant, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    check_expected_version(input.expected_version, root.aggregate_version)?;
    let version = input.version.unwrap_or(root.latest_version);
    let from = repo::version_status(conn, id, version)
        .await?
        .ok_or_else(|| version_not_found(id, version))?;
    let to = offering_transition(from, command)?;
    let event_type = match command {
        OfferingCommand::SubmitForReview => events::offering::SUBMITTED_FOR_REVIEW,
        OfferingCommand::ReturnToDraft => events::offering::RETURNED_TO_DRAFT,
        OfferingCommand::Publish => events::offering::PUBLISHED,
        OfferingCommand::Retire => events::offering::RETIRED,
        OfferingCommand::Archive => events::offering::ARCHIVED,
        OfferingCommand::Edit | OfferingCommand::DeriveNewVersion => {
            return Err(crate::domain::lifecycle::TransitionError { from, command }.into());
        }
    };
    let code = root.code.clone();
    let reason = input.reason.as_deref();

    let mut aggregate_version = root.aggregate_version;
    if command == OfferingCommand::Publish
        && let Some(previous) = repo::published_version(conn, id).await?
    {
        let retired = offering_transition(OfferingStatus::Published, OfferingCommand::Retire)?;
        repo::set_status(conn, id, previous, retired).await?;
        aggregate_version = repo::bump_root(conn, id).await?;
        let why = format!("superseded by version {version}");
        record(
            conn,
            ctx,
            Change {
                id,
                version: previous,
                command: "SUPERSEDE",
                from_status: Some(OfferingStatus::Published.as_str()),
                to_status: retired.as_str(),
                aggregate_version,
                reason: Some(&why),
            },
            events::offering::RETIRED,
            &code,
            lifecycle_payload(
                id,
                &code,
                previous,
                Some("PUBLISHED"),
                retired.as_str(),
                Some(&why),
            ),
            Some(json!({ "status": "PUBLISHED" })),
            Some(json!({ "status": retired.as_str() })),
        )
        .await?;
    }

    repo::set_status(conn, id, version, to)
        .await
        .map_err(|e| match violated_constraint(&e) {
            Some("offering_one_published_version" | "offering_one_working_version") => {
                CatalogError::OfferingTransition(crate::domain::lifecycle::TransitionError {
                    from,
                    command,
                })
            }
            _ => CatalogError::Database(e),
        })?;
    aggregate_version = repo::bump_root(conn, id)
        .await
        .map(|v| v.max(aggregate_version))?;
    let mut payload =
        lifecycle_payload(id, &code, version, Some(from.as_str()), to.as_str(), reason);
    if command == OfferingCommand::Publish
        && let (Some(content), Value::Object(map)) =
            (load_content(conn, tenant, id, version).await?, &mut payload)
    {
        map.insert(
            "content".into(),
            serde_json::to_value(content).unwrap_or_default(),
        );
    }
    record(
        conn,
        ctx,
        Change {
            id,
            version,
            command: command.as_str(),
            from_status: Some(from.as_str()),
            to_status: to.as_str(),
            aggregate_version,
            reason,
        },
        event_type,
        &code,
        payload,
        Some(json!({ "status": from.as_str() })),
        Some(json!({ "status": to.as_str() })),
    )
    .await?;
    version_in_tx(conn, tenant, id, version).await
}

/// CreateOfferingVersion · aggregate: offering · source: the latest version PUBLISHED or
/// RETIRED (a DRAFT/READY_FOR_REVIEW one already open ⇒ 409 `WORKING_VERSION_EXISTS`) ·
/// input: optional content changes, If-Match · transition: → v(n+1) DRAFT, source unchanged ·
/// writes: version + relationships, history, `…version-created.v1`, audit.
pub async fn derive_version(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: Uuid,
    patch: ContentPatch,
    expected_version: Option<i64>,
) -> CatalogResult<OfferingVersionView> {
    ctx.authorize(Action::ManageCatalog)?;
    let tenant = ctx.tenant_id.as_str();
    let root = repo::lock_root(conn, tenant, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    check_expected_version(expected_version, root.aggregate_version)?;
    let latest = root.latest_version;
    let status = repo::version_status(conn, id, latest)
        .await?
        .ok_or_else(|| version_not_found(id, latest))?;
    if matches!(
        status,
        OfferingStatus::Draft | OfferingStatus::ReadyForReview
    ) {
        return Err(CatalogError::WorkingVersionExists {
            open_version: latest,
            status: status.as_str(),
        });
    }
    offering_transition(status, OfferingCommand::DeriveNewVersion)?;
    let base = load_content(conn, tenant, id, latest)
        .await?
        .ok_or_else(|| version_not_found(id, latest))?;
    let (content, specification_id) = patched_content(conn, tenant, id, &base, patch).await?;
    let version = latest + 1;
    let fields = repo::VersionFields {
        name: &content.name,
        description: content.description.as_deref(),
        specification_id,
        relationships: &content.relationships,
        fulfilment_profile: content.fulfilment_profile.as_ref(),
    };
    repo::insert_version(
        conn,
        tenant,
        id,
        version,
        &fields,
        ctx.actor.actor_id.as_str(),
    )
    .await?;
    let aggregate_version = repo::bump_root(conn, id).await?;
    let after = load_content(conn, tenant, id, version)
        .await?
        .and_then(|c| serde_json::to_value(c).ok());
    record(
        conn,
        ctx,
        Change {
            id,
            version,
            command: OfferingCommand::DeriveNewVersion.as_str(),
            from_status: None,
            to_status: OfferingStatus::Draft.as_str(),
            aggregate_version,
            reason: None,
        },
        events::offering::VERSION_CREATED,
        &base.code,
        json!({ "productOfferingId": id, "code": base.code, "version": version, "derivedFrom": latest, "content": after }),
        serde_json::to_value(&base).ok(),
        after.clone(),
    )
    .await?;
    version_in_tx(conn, tenant, id, version).await
}

/// EditDraftVersion · aggregate: offering · source: DRAFT only (otherwise 409
/// `VERSION_IMMUTABLE`) · input: content changes, If-Match · writes: content, history,
/// `…draft-updated.v1`, audit with before/after.
pub async fn edit_draft(
    conn: &mut PgConnection,
    ctx: &RequestContext,
    id: Uuid,
    version: i32,
    patch: ContentPatch,
    expected_version: Option<i64>,
) -> CatalogResult<OfferingVersionView> {
    ctx.authorize(Action::ManageCatalog)?;
    let tenant = ctx.tenant_id.as_str();
    let root = repo::lock_root(conn, tenant, id)
        .await?
        .ok_or_else(|| not_found(id))?;
    check_expected_version(expected_version, root.aggregate_version)?;
    let status = repo::version_status(conn, id, version)
        .await?
        .ok_or_else(|| version_not_found(id, version))?;
    if offering_transition(status, OfferingCommand::Edit).is_err() {
        return Err(CatalogError::VersionImmutable {
            version,
            status: status.as_str(),
        });
    }
    let base = load_content(conn, tenant, id, version)
        .await?
        .ok_or_else(|| version_not_found(id, version))?;
    let (content, specification_id) = patched_content(conn, tenant, id, &base, patch).await?;
    let fields = repo::VersionFields {
        name: &content.name,
        description: content.description.as_deref(),
        specification_id,
        relationships: &content.relationships,
        fulfilment_profile: content.fulfilment_profile.as_ref(),
    };
    repo::update_draft(conn, tenant, id, version, &fields).await?;
    let aggregate_version = repo::bump_root(conn, id).await?;
    let after = load_content(conn, tenant, id, version)
        .await?
        .and_then(|c| serde_json::to_value(c).ok());
    record(
        conn,
        ctx,
        Change {
            id,
            version,
            command: OfferingCommand::Edit.as_str(),
            from_status: Some(status.as_str()),
            to_status: status.as_str(),
            aggregate_version,
            reason: None,
        },
        events::offering::DRAFT_UPDATED,
        &base.code,
        json!({ "productOfferingId": id, "code": base.code, "version": version, "content": after }),
        serde_json::to_value(&base).ok(),
        after.clone(),
    )
    .await?;
    version_in_tx(conn, tenant, id, version).await
}
