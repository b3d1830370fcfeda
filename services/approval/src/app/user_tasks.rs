//! The engine's user tasks seen from the approval service: the portal approver's inbox (open
//! tasks of the `quote-approval` process joined to the caller's tenant's requests), and the
//! completion of the task a decision taken through the REST door has already settled.
//!
//! Both call the engine over the network, so neither holds a connection meanwhile: reads run on
//! short read-only transactions before and after the engine answers (ADR 0027).

use std::collections::{BTreeMap, BTreeSet};

use common_kernel::context::RequestContext;
use common_kernel::db::begin_read_for_tenant;
use domain_kernel::ActorId;
use domain_kernel::access::Action;
use serde_json::{Map, Value, json};
use sqlx::PgPool;

use super::error::AppResult;
use super::ports::{EngineTask, OpenTask, Ports, TaskFilter, UserTaskEngine};
use crate::domain::{ApprovalLevel, ApprovalRequestId, ApprovalStatus, GroupId, QuoteId, Verdict};

/// Most engine tasks one inbox search reads (per search it runs).
pub const INBOX_SEARCH_LIMIT: usize = 500;

/// What the inbox shows; with neither group nor assignee, the caller's own work: the tasks of
/// the groups the directory puts them in, and those assigned to them.
#[derive(Debug, Clone, Default)]
pub struct InboxQuery {
    /// Only tasks this group may claim.
    pub candidate_group: Option<GroupId>,
    /// Only tasks this person holds.
    pub assignee: Option<ActorId>,
    /// Only tasks of this quote's requests.
    pub quote: Option<QuoteId>,
}

/// One inbox item: the engine's task and the request level it decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    /// The engine's task.
    pub task: EngineTask,
    /// The request and its open level.
    pub open: OpenTask,
}

/// The engine searches an inbox query runs: one per filter, all of them AND-ed with the
/// process instances of `instances` when given.
fn searches(filters: Vec<TaskFilter>, instances: Option<&[i64]>) -> Vec<TaskFilter> {
    match instances {
        None => filters,
        Some(keys) => filters
            .iter()
            .flat_map(|filter| {
                keys.iter().map(|key| TaskFilter {
                    process_instance_key: Some(*key),
                    ..filter.clone()
                })
            })
            .collect(),
    }
}

/// The caller's inbox, soonest due first. Engine tasks whose instance runs no PENDING request
/// of the caller's tenant are left out (the engine serves every tenant; row-level security
/// decides what this tenant sees).
#[tracing::instrument(skip_all, err(level = "info"))]
pub async fn inbox(
    db: &PgPool,
    ports: &Ports,
    tasks: &dyn UserTaskEngine,
    ctx: &RequestContext,
    query: InboxQuery,
) -> AppResult<Vec<InboxItem>> {
    ctx.authorize(Action::WorkUserTasks)?;
    let tenant = &ctx.tenant_id;
    let filters = if query.candidate_group.is_none() && query.assignee.is_none() {
        let me = &ctx.actor.actor_id;
        let mut own: Vec<TaskFilter> = ports
            .directory
            .groups_of(tenant, me)
            .await?
            .into_iter()
            .map(|group| TaskFilter {
                candidate_group: Some(group.to_string()),
                ..TaskFilter::default()
            })
            .collect();
        own.push(TaskFilter {
            assignee: Some(me.to_string()),
            ..TaskFilter::default()
        });
        own
    } else {
        vec![TaskFilter {
            candidate_group: query.candidate_group.map(String::from),
            assignee: query.assignee.map(|a| a.to_string()),
            process_instance_key: None,
        }]
    };
    let quote_instances = match query.quote {
        None => None,
        Some(quote) => {
            let mut tx = begin_read_for_tenant(db, tenant).await?;
            let mut keys = Vec::new();
            for request in ports
                .requests
                .by_quote(&mut tx, tenant, quote, false)
                .await?
            {
                if request.status() != ApprovalStatus::Pending {
                    continue;
                }
                if let Some(key) = ports
                    .requests
                    .process_instance_key(&mut tx, tenant, request.id())
                    .await?
                {
                    keys.push(key);
                }
            }
            Some(keys)
        }
    };
    let mut found: BTreeMap<i64, EngineTask> = BTreeMap::new();
    for filter in searches(filters, quote_instances.as_deref()) {
        for task in tasks.search_open(&filter, INBOX_SEARCH_LIMIT).await? {
            found.insert(task.user_task_key, task);
        }
    }
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let instances: Vec<i64> = found
        .values()
        .map(|t| t.process_instance_key)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut tx = begin_read_for_tenant(db, tenant).await?;
    let open: BTreeMap<i64, OpenTask> = ports
        .requests
        .open_tasks_of_instances(&mut tx, tenant, &instances)
        .await?
        .into_iter()
        .map(|t| (t.process_instance_key, t.open))
        .collect();
    drop(tx);
    let mut items: Vec<InboxItem> = found
        .into_values()
        .filter_map(|task| {
            open.get(&task.process_instance_key).map(|open| InboxItem {
                open: open.clone(),
                task,
            })
        })
        .collect();
    items.sort_by(|a, b| {
        (
            a.task.due_date.is_none(),
            a.task.due_date,
            a.task.creation_date,
            a.task.user_task_key,
        )
            .cmp(&(
                b.task.due_date.is_none(),
                b.task.due_date,
                b.task.creation_date,
                b.task.user_task_key,
            ))
    });
    Ok(items)
}

/// A decision the REST door recorded, as its engine task is completed with it.
#[derive(Debug, Clone)]
pub struct SettledDecision {
    /// The request.
    pub request_id: ApprovalRequestId,
    /// The level decided.
    pub level: ApprovalLevel,
    /// The group the decision counts for: the task to complete is the one this group may claim.
    pub group: GroupId,
    /// Approve or reject.
    pub verdict: Verdict,
    /// Why, when given.
    pub reason: Option<String>,
    /// For whom, when delegated.
    pub on_behalf_of: Option<ActorId>,
}

/// What completing the settled task did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// The task was assigned to the decider and completed.
    Completed {
        /// The engine's task key.
        user_task_key: i64,
    },
    /// No process instance runs the request (yet): nothing to complete.
    NotLinked,
    /// The instance has no open task the decision's group may claim (completed through
    /// Tasklist meanwhile, or not created yet).
    NoOpenTask,
}

/// The variables a settled task completes with: `decision`, `reason` and `onBehalfOf` (the
/// last two when given), what the completing listener reads to find the decision recorded.
pub fn completion_variables(decision: &SettledDecision) -> Map<String, Value> {
    let mut variables = Map::new();
    variables.insert("decision".into(), json!(decision.verdict.as_str()));
    if let Some(reason) = &decision.reason {
        variables.insert("reason".into(), json!(reason));
    }
    if let Some(principal) = &decision.on_behalf_of {
        variables.insert("onBehalfOf".into(), json!(principal.as_str()));
    }
    variables
}

/// Completes the engine task of a decision already committed: assigns it to the caller (taking
/// it over) and completes it with [`completion_variables`]. Called after the decision's
/// transaction committed, with no lock held.
#[tracing::instrument(skip_all, fields(request = %decision.request_id), err(level = "warn"))]
pub async fn complete_settled(
    db: &PgPool,
    ports: &Ports,
    tasks: &dyn UserTaskEngine,
    ctx: &RequestContext,
    decision: &SettledDecision,
) -> AppResult<Completion> {
    let tenant = &ctx.tenant_id;
    let mut tx = begin_read_for_tenant(db, tenant).await?;
    let instance = ports
        .requests
        .process_instance_key(&mut tx, tenant, decision.request_id)
        .await?;
    drop(tx);
    let Some(instance) = instance else {
        return Ok(Completion::NotLinked);
    };
    let filter = TaskFilter {
        process_instance_key: Some(instance),
        ..TaskFilter::default()
    };
    let open = tasks.search_open(&filter, INBOX_SEARCH_LIMIT).await?;
    let Some(task) = open.iter().find(|t| {
        t.candidate_groups
            .iter()
            .any(|g| g == decision.group.as_str())
    }) else {
        return Ok(Completion::NoOpenTask);
    };
    tasks
        .assign(task.user_task_key, ctx.actor.actor_id.as_str())
        .await?;
    tasks
        .complete(task.user_task_key, completion_variables(decision))
        .await?;
    Ok(Completion::Completed {
        user_task_key: task.user_task_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_searches_multiply_filters_by_instances() {
        let filters = vec![
            TaskFilter {
                candidate_group: Some("a".into()),
                ..TaskFilter::default()
            },
            TaskFilter {
                assignee: Some("me".into()),
                ..TaskFilter::default()
            },
        ];
        assert_eq!(searches(filters.clone(), None), filters);
        let by_quote = searches(filters, Some(&[1, 2]));
        assert_eq!(by_quote.len(), 4);
        assert_eq!(by_quote[1].candidate_group.as_deref(), Some("a"));
        assert_eq!(by_quote[1].process_instance_key, Some(2));
        assert_eq!(by_quote[2].assignee.as_deref(), Some("me"));
        assert!(searches(vec![TaskFilter::default()], Some(&[])).is_empty());
    }

    #[test]
    fn completion_variables_carry_what_the_listener_needs() {
        let decision = SettledDecision {
            request_id: ApprovalRequestId::generate(),
            level: ApprovalLevel::Manager,
            group: GroupId::parse("approver-manager").unwrap(),
            verdict: Verdict::Reject,
            reason: Some("margin".into()),
            on_behalf_of: Some(ActorId::parse("manager1").unwrap()),
        };
        assert_eq!(
            Value::Object(completion_variables(&decision)),
            json!({"decision": "REJECT", "reason": "margin", "onBehalfOf": "manager1"})
        );
        let bare = SettledDecision {
            verdict: Verdict::Approve,
            reason: None,
            on_behalf_of: None,
            ..decision
        };
        assert_eq!(
            Value::Object(completion_variables(&bare)),
            json!({"decision": "APPROVE"})
        );
    }
}
