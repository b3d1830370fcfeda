//! Offering content checks shared by the commands that write content (create, derive, edit).

use sqlx::PgConnection;
use uuid::Uuid;

use super::ContentPatch;
use crate::app::error::CatalogResult;
use crate::app::reject_if_any;
use crate::app::views::{FulfilmentProfileView, OfferingVersionContent};
use crate::domain::ProductOfferingId;
use crate::domain::fulfilment::{FulfilmentProfileInput, TaskTemplateInput};
use crate::domain::offering::{OfferingContent, RelationshipInput, validate_content};
use crate::domain::violation::Violations;
use crate::infra::{offerings as repo, specifications};

/// Validates content and checks that the specification and relationship targets exist for the
/// tenant, reporting every problem at once.
#[expect(
    clippy::too_many_arguments,
    reason = "the content fields travel separately because create and patch assemble them differently"
)]
pub(super) async fn validated_content(
    conn: &mut PgConnection,
    tenant: &str,
    owner: Uuid,
    name: &str,
    description: Option<&str>,
    specification_id: Uuid,
    relationships: &[RelationshipInput],
    fulfilment_profile: Option<&FulfilmentProfileInput>,
    mut violations: Violations,
) -> CatalogResult<OfferingContent> {
    let content = validate_content(
        &mut violations,
        ProductOfferingId::from_uuid(owner),
        name,
        description,
        relationships,
        fulfilment_profile,
    );
    if !specifications::exists(conn, tenant, specification_id).await? {
        violations.push(
            "/productSpecificationId",
            "UNKNOWN_REFERENCE",
            "no such product specification for this tenant",
        );
    }
    let targets: Vec<Uuid> = relationships.iter().map(|r| r.target.as_uuid()).collect();
    let existing = repo::existing_ids(conn, tenant, &targets).await?;
    for (i, target) in targets.iter().enumerate() {
        if !existing.contains(target) && *target != owner {
            violations.push(
                format!("/relationships/{i}/targetOfferingId"),
                "UNKNOWN_REFERENCE",
                "no such product offering for this tenant",
            );
        }
    }
    reject_if_any(violations.into_vec())?;
    Ok(content)
}

/// Applies a patch to existing content and validates the result; returns it with the
/// specification it uses.
pub(super) async fn patched_content(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    base: &OfferingVersionContent,
    patch: ContentPatch,
) -> CatalogResult<(OfferingContent, Uuid)> {
    let merged = merged(base, patch);
    let specification_id = merged.specification_id;
    let content = validated_content(
        conn,
        tenant,
        id,
        &merged.name,
        merged.description.as_deref(),
        specification_id,
        &merged.relationships,
        merged.fulfilment_profile.as_ref(),
        Violations::new(),
    )
    .await?;
    Ok((content, specification_id))
}

/// Content input assembled from existing content and a patch.
struct MergedContent {
    name: String,
    description: Option<String>,
    specification_id: Uuid,
    relationships: Vec<RelationshipInput>,
    fulfilment_profile: Option<FulfilmentProfileInput>,
}

/// The published profile as input again, so a derived version re-validates what it copies.
fn profile_input(view: &FulfilmentProfileView) -> FulfilmentProfileInput {
    FulfilmentProfileInput {
        starts_subscription: view.starts_subscription,
        actions: view
            .actions
            .iter()
            .map(|(action, tasks)| {
                let tasks = tasks
                    .iter()
                    .map(|t| TaskTemplateInput {
                        task_type: t.task_type.clone(),
                        operation: t.operation.clone(),
                        depends_on: t.depends_on.clone(),
                        depends_on_parent: t.depends_on_parent.clone(),
                        depends_on_children: t.depends_on_children.clone(),
                        reversible: t.reversible,
                        compensation: t.compensation.clone(),
                        point_of_no_return: t.point_of_no_return,
                    })
                    .collect();
                (action.clone(), tasks)
            })
            .collect(),
    }
}

/// Merges a patch over existing content.
fn merged(base: &OfferingVersionContent, patch: ContentPatch) -> MergedContent {
    let relationships = patch.relationships.unwrap_or_else(|| {
        base.relationships
            .iter()
            .map(|r| RelationshipInput {
                relationship_type: r.relationship_type.clone(),
                target: ProductOfferingId::from_uuid(r.target_offering_id),
                min_cardinality: u32::try_from(r.min_cardinality).unwrap_or(0),
                max_cardinality: r.max_cardinality.and_then(|m| u32::try_from(m).ok()),
            })
            .collect()
    });
    MergedContent {
        name: patch.name.unwrap_or_else(|| base.name.clone()),
        description: patch
            .description
            .unwrap_or_else(|| base.description.clone()),
        specification_id: patch
            .specification_id
            .unwrap_or(base.product_specification_id),
        relationships,
        fulfilment_profile: patch
            .fulfilment_profile
            .unwrap_or_else(|| base.fulfilment_profile.as_ref().map(profile_input)),
    }
}
