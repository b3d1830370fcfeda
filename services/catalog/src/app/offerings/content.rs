//! Offering content checks shared by the commands that write content (create, derive, edit).

use sqlx::PgConnection;
use uuid::Uuid;

use super::ContentPatch;
use crate::app::error::CatalogResult;
use crate::app::reject_if_any;
use crate::app::views::OfferingVersionContent;
use crate::domain::ProductOfferingId;
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
    mut violations: Violations,
) -> CatalogResult<OfferingContent> {
    let content = validate_content(
        &mut violations,
        ProductOfferingId::from_uuid(owner),
        name,
        description,
        relationships,
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
    let (name, description, specification_id, relationships) = merged(base, patch);
    let content = validated_content(
        conn,
        tenant,
        id,
        &name,
        description.as_deref(),
        specification_id,
        &relationships,
        Violations::new(),
    )
    .await?;
    Ok((content, specification_id))
}

/// Merges a patch over existing content.
fn merged(
    base: &OfferingVersionContent,
    patch: ContentPatch,
) -> (String, Option<String>, Uuid, Vec<RelationshipInput>) {
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
    (
        patch.name.unwrap_or_else(|| base.name.clone()),
        patch
            .description
            .unwrap_or_else(|| base.description.clone()),
        patch
            .specification_id
            .unwrap_or(base.product_specification_id),
        relationships,
    )
}
