//! The projection store's writes. Every write is idempotent and order-independent: one
//! timeline row per event id; a status moves only to a newer aggregate version; milestones keep
//! their first occurrence; progress only moves forward in time. So duplicates, replays and events
//! of different topics arriving in any order give the same rows. Every row belongs to a
//! generation (ADR 0046): the live projector writes the current one, a rebuild the next.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{Fact, FactKind, FalloutState, InstalledAsset, QuoteMilestone, ViewUpdate};

/// One event to project, with what the envelope says around the fact.
#[derive(Debug, Clone)]
pub struct Projected<'a> {
    /// Event id.
    pub event_id: Uuid,
    /// Tenant.
    pub tenant_id: &'a str,
    /// Topic it was read from.
    pub topic: &'a str,
    /// Event type with version.
    pub event_type: &'a str,
    /// Aggregate type.
    pub aggregate_type: &'a str,
    /// Aggregate id.
    pub aggregate_id: &'a str,
    /// Aggregate version.
    pub aggregate_version: i64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Request correlation.
    pub correlation_id: &'a str,
    /// Who caused it.
    pub actor_id: &'a str,
    /// What it means.
    pub fact: Fact,
    /// What it changes beyond the timeline.
    pub update: ViewUpdate,
}

/// The generation readers see and the live projector writes.
pub async fn current_generation(conn: &mut PgConnection) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar("SELECT generation FROM projection_state")
        .fetch_one(conn)
        .await
}

/// Writes one event's rows into `generation`, inside the caller's transaction.
pub async fn project(
    conn: &mut PgConnection,
    generation: i32,
    event: &Projected<'_>,
) -> Result<(), sqlx::Error> {
    let fact = &event.fact;
    let inserted = sqlx::query(
        "INSERT INTO projected_event (generation, event_id, tenant_id, topic, event_type, kind, aggregate_type, \
         aggregate_id, aggregate_version, occurred_at, correlation_id, actor_id, order_id, quote_id, \
         customer_id, to_status, summary, external_reference) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) \
         ON CONFLICT (generation, event_id) DO NOTHING",
    )
    .bind(generation)
    .bind(event.event_id)
    .bind(event.tenant_id)
    .bind(event.topic)
    .bind(event.event_type)
    .bind(fact.kind.as_str())
    .bind(event.aggregate_type)
    .bind(event.aggregate_id)
    .bind(event.aggregate_version)
    .bind(event.occurred_at)
    .bind(event.correlation_id)
    .bind(event.actor_id)
    .bind(&fact.order_id)
    .bind(&fact.quote_id)
    .bind(&fact.customer_id)
    .bind(&fact.to_status)
    .bind(&fact.summary)
    .bind(&fact.external_reference)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(());
    }
    match &event.update {
        ViewUpdate::None => {}
        ViewUpdate::Quote { milestone } => quote(conn, generation, event, *milestone).await?,
        ViewUpdate::Approval {
            request_id,
            requested,
            decided_by,
        } => approval(conn, generation, event, request_id, *requested, decided_by).await?,
        ViewUpdate::Fallout(state) => fallout(conn, generation, event, state).await?,
        ViewUpdate::Assets(assets) => installed(conn, generation, event, assets).await?,
    }
    let Some(order_id) = fact.order_id.as_deref() else {
        return Ok(());
    };
    if fact.kind == FactKind::OrderState
        && let Some(status) = fact.to_status.as_deref()
    {
        let created = event.event_type.starts_with("oms.order.created.");
        let at = |wanted: &str| (status == wanted).then_some(event.occurred_at);
        sqlx::query(
            "INSERT INTO order_view AS v (generation, tenant_id, order_id, customer_id, quote_id, status, \
             status_version, status_since, first_seen_at, created_at, completed_at, cancelled_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11) \
             ON CONFLICT (generation, tenant_id, order_id) DO UPDATE SET \
               status = CASE WHEN EXCLUDED.status_version > v.status_version THEN EXCLUDED.status ELSE v.status END, \
               status_since = CASE WHEN EXCLUDED.status_version > v.status_version THEN EXCLUDED.status_since ELSE v.status_since END, \
               status_version = GREATEST(v.status_version, EXCLUDED.status_version), \
               first_seen_at = LEAST(v.first_seen_at, EXCLUDED.first_seen_at), \
               created_at = coalesce(v.created_at, EXCLUDED.created_at), \
               completed_at = coalesce(v.completed_at, EXCLUDED.completed_at), \
               cancelled_at = coalesce(v.cancelled_at, EXCLUDED.cancelled_at), \
               customer_id = coalesce(v.customer_id, EXCLUDED.customer_id), \
               quote_id = coalesce(v.quote_id, EXCLUDED.quote_id)",
        )
        .bind(generation)
        .bind(event.tenant_id)
        .bind(order_id)
        .bind(&fact.customer_id)
        .bind(&fact.quote_id)
        .bind(status)
        .bind(event.aggregate_version)
        .bind(event.occurred_at)
        .bind(created.then_some(event.occurred_at))
        .bind(at("COMPLETED"))
        .bind(at("CANCELLED"))
        .execute(&mut *conn)
        .await?;
    }
    if matches!(
        fact.kind,
        FactKind::OrderState | FactKind::Task | FactKind::ExternalCall
    ) {
        sqlx::query(
            "INSERT INTO order_progress AS p (generation, tenant_id, order_id, last_progress_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (generation, tenant_id, order_id) DO UPDATE SET \
               last_progress_at = GREATEST(p.last_progress_at, EXCLUDED.last_progress_at)",
        )
        .bind(generation)
        .bind(event.tenant_id)
        .bind(order_id)
        .bind(event.occurred_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn quote(
    conn: &mut PgConnection,
    generation: i32,
    event: &Projected<'_>,
    milestone: Option<QuoteMilestone>,
) -> Result<(), sqlx::Error> {
    let fact = &event.fact;
    let (Some(quote_id), Some(status)) = (fact.quote_id.as_deref(), fact.to_status.as_deref())
    else {
        return Ok(());
    };
    let at = |wanted| (milestone == Some(wanted)).then_some(event.occurred_at);
    sqlx::query(
        "INSERT INTO quote_view AS v (generation, tenant_id, quote_id, customer_id, status, status_version, \
         created_at, accepted_at, converted_at, first_seen_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (generation, tenant_id, quote_id) DO UPDATE SET \
           status = CASE WHEN EXCLUDED.status_version > v.status_version THEN EXCLUDED.status ELSE v.status END, \
           status_version = GREATEST(v.status_version, EXCLUDED.status_version), \
           customer_id = coalesce(v.customer_id, EXCLUDED.customer_id), \
           created_at = LEAST(v.created_at, EXCLUDED.created_at), \
           accepted_at = LEAST(v.accepted_at, EXCLUDED.accepted_at), \
           converted_at = LEAST(v.converted_at, EXCLUDED.converted_at), \
           first_seen_at = LEAST(v.first_seen_at, EXCLUDED.first_seen_at)",
    )
    .bind(generation)
    .bind(event.tenant_id)
    .bind(quote_id)
    .bind(&fact.customer_id)
    .bind(status)
    .bind(event.aggregate_version)
    .bind(at(QuoteMilestone::Created))
    .bind(at(QuoteMilestone::Accepted))
    .bind(at(QuoteMilestone::Converted))
    .bind(event.occurred_at)
    .execute(conn)
    .await?;
    Ok(())
}

async fn approval(
    conn: &mut PgConnection,
    generation: i32,
    event: &Projected<'_>,
    request_id: &str,
    requested: bool,
    decided_by: &Option<String>,
) -> Result<(), sqlx::Error> {
    let Some(status) = event.fact.to_status.as_deref() else {
        return Ok(());
    };
    let decided_at = decided_by.as_ref().map(|_| event.occurred_at);
    sqlx::query(
        "INSERT INTO approval_view AS v (generation, tenant_id, request_id, quote_id, status, status_version, \
         requested_at, decided_at, decided_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (generation, tenant_id, request_id) DO UPDATE SET \
           status = CASE WHEN EXCLUDED.status_version > v.status_version THEN EXCLUDED.status ELSE v.status END, \
           status_version = GREATEST(v.status_version, EXCLUDED.status_version), \
           quote_id = coalesce(v.quote_id, EXCLUDED.quote_id), \
           requested_at = LEAST(v.requested_at, EXCLUDED.requested_at), \
           decided_at = CASE WHEN EXCLUDED.decided_at IS NOT NULL \
               AND (v.decided_at IS NULL OR EXCLUDED.status_version > v.status_version) \
               THEN EXCLUDED.decided_at ELSE v.decided_at END, \
           decided_by = CASE WHEN EXCLUDED.decided_at IS NOT NULL \
               AND (v.decided_at IS NULL OR EXCLUDED.status_version > v.status_version) \
               THEN EXCLUDED.decided_by ELSE v.decided_by END",
    )
    .bind(generation)
    .bind(event.tenant_id)
    .bind(request_id)
    .bind(&event.fact.quote_id)
    .bind(status)
    .bind(event.aggregate_version)
    .bind(requested.then_some(event.occurred_at))
    .bind(decided_at)
    .bind(decided_by)
    .execute(conn)
    .await?;
    Ok(())
}

async fn fallout(
    conn: &mut PgConnection,
    generation: i32,
    event: &Projected<'_>,
    state: &FalloutState,
) -> Result<(), sqlx::Error> {
    let Some(order_id) = event.fact.order_id.as_deref() else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO fallout_view AS v (generation, tenant_id, fallout_id, order_id, task_id, category, \
         severity, owner_team, status, failure_code, message, retryable, opened_at, resolved_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (generation, tenant_id, fallout_id) DO UPDATE SET \
           severity = EXCLUDED.severity, owner_team = EXCLUDED.owner_team, status = EXCLUDED.status, \
           failure_code = EXCLUDED.failure_code, message = EXCLUDED.message, \
           retryable = EXCLUDED.retryable, resolved_at = EXCLUDED.resolved_at, version = EXCLUDED.version \
         WHERE EXCLUDED.version > v.version",
    )
    .bind(generation)
    .bind(event.tenant_id)
    .bind(&state.fallout_id)
    .bind(order_id)
    .bind(&state.task_id)
    .bind(&state.category)
    .bind(&state.severity)
    .bind(&state.owner_team)
    .bind(&state.status)
    .bind(&state.failure_code)
    .bind(&state.message)
    .bind(state.retryable)
    .bind(state.opened_at)
    .bind(state.resolved_at)
    .bind(event.aggregate_version)
    .execute(conn)
    .await?;
    Ok(())
}

async fn installed(
    conn: &mut PgConnection,
    generation: i32,
    event: &Projected<'_>,
    assets: &[InstalledAsset],
) -> Result<(), sqlx::Error> {
    let (Some(order_id), Some(customer_id)) = (
        event.fact.order_id.as_deref(),
        event.fact.customer_id.as_deref(),
    ) else {
        return Ok(());
    };
    for asset in assets {
        sqlx::query(
            "INSERT INTO asset_view AS v (generation, tenant_id, product_instance_id, customer_id, order_id, \
             offering_id, status, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (generation, tenant_id, product_instance_id) DO UPDATE SET \
               customer_id = EXCLUDED.customer_id, order_id = EXCLUDED.order_id, \
               offering_id = EXCLUDED.offering_id, status = EXCLUDED.status, version = EXCLUDED.version \
             WHERE EXCLUDED.version > v.version",
        )
        .bind(generation)
        .bind(event.tenant_id)
        .bind(&asset.product_instance_id)
        .bind(customer_id)
        .bind(order_id)
        .bind(&asset.offering_id)
        .bind(&asset.status)
        .bind(event.aggregate_version)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
