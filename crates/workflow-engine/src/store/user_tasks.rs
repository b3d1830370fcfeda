//! Camunda user tasks: created when the token enters, searched, assigned and completed through
//! the REST API, CANCELED when their element instance is terminated.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::engine::UserTaskSpec;

/// A stored user task.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserTaskRow {
    /// Key.
    pub user_task_key: i64,
    /// The element instance the token waits in.
    pub element_instance_key: i64,
    /// Process instance.
    pub process_instance_key: i64,
    /// Definition key.
    pub process_definition_key: i64,
    /// Definition version.
    pub process_definition_version: i32,
    /// Process id.
    pub bpmn_process_id: String,
    /// BPMN element id.
    pub element_id: String,
    /// The element's name in the model.
    pub name: Option<String>,
    /// CREATED, COMPLETING (listeners deciding a completion), COMPLETED or CANCELED.
    pub state: String,
    /// Current assignee.
    pub assignee: Option<String>,
    /// Candidate groups.
    pub candidate_groups: Vec<String>,
    /// Candidate users.
    pub candidate_users: Vec<String>,
    /// Due date.
    pub due_date: Option<DateTime<Utc>>,
    /// Follow-up date.
    pub follow_up_date: Option<DateTime<Utc>>,
    /// Form reference passed through to task lists.
    pub external_form_reference: Option<String>,
    /// 0–100 (Zeebe's default 50).
    pub priority: i32,
    /// Created at.
    pub creation_date: DateTime<Utc>,
    /// Completed or canceled at.
    pub completion_date: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "user_task_key, element_instance_key, process_instance_key,
    process_definition_key, process_definition_version, bpmn_process_id, element_id, name, state,
    assignee, candidate_groups, candidate_users, due_date, follow_up_date,
    external_form_reference, priority, creation_date, completion_date";

/// Where a new user task sits.
#[derive(Debug, Clone, Copy)]
pub struct NewUserTask<'a> {
    /// The waiting element instance.
    pub element_instance_key: i64,
    /// Process instance.
    pub process_instance_key: i64,
    /// Definition key.
    pub process_definition_key: i64,
    /// Definition version.
    pub process_definition_version: i32,
    /// Process id.
    pub bpmn_process_id: &'a str,
    /// Element id.
    pub element_id: &'a str,
    /// Element name.
    pub name: Option<&'a str>,
}

/// Creates a CREATED user task; returns its key.
pub async fn insert(
    conn: &mut PgConnection,
    task: NewUserTask<'_>,
    spec: &UserTaskSpec,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO user_task (element_instance_key, process_instance_key, process_definition_key,
           process_definition_version, bpmn_process_id, element_id, name, state, assignee,
           candidate_groups, candidate_users, due_date, follow_up_date, external_form_reference)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'CREATED', $8, $9, $10, $11, $12, $13)
         RETURNING user_task_key",
    )
    .bind(task.element_instance_key)
    .bind(task.process_instance_key)
    .bind(task.process_definition_key)
    .bind(task.process_definition_version)
    .bind(task.bpmn_process_id)
    .bind(task.element_id)
    .bind(task.name)
    .bind(spec.assignee.as_deref())
    .bind(&spec.candidate_groups)
    .bind(&spec.candidate_users)
    .bind(spec.due_date)
    .bind(spec.follow_up_date)
    .bind(spec.external_form_reference.as_deref())
    .fetch_one(conn)
    .await
}

/// A user task by key, unlocked.
pub async fn get(conn: &mut PgConnection, key: i64) -> Result<Option<UserTaskRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM user_task WHERE user_task_key = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(conn)
        .await
}

/// A user task by key, locked (the caller holds its instance lock already).
pub async fn lock(conn: &mut PgConnection, key: i64) -> Result<Option<UserTaskRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM user_task WHERE user_task_key = $1 FOR UPDATE");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(conn)
        .await
}

/// Sets or clears the assignee.
pub async fn set_assignee(
    conn: &mut PgConnection,
    key: i64,
    assignee: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE user_task SET assignee = $2 WHERE user_task_key = $1")
        .bind(key)
        .bind(assignee)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Moves a task between CREATED and COMPLETING (a completion meets its listeners, or one
/// of them denied it).
pub async fn set_state(conn: &mut PgConnection, key: i64, state: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE user_task SET state = $2 WHERE user_task_key = $1")
        .bind(key)
        .bind(state)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Marks a task COMPLETED.
pub async fn complete(conn: &mut PgConnection, key: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE user_task SET state = 'COMPLETED', completion_date = now() WHERE user_task_key = $1",
    )
    .bind(key)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Cancels the open (CREATED or COMPLETING) user tasks of an element instance or a whole
/// process instance (the element was interrupted, or the instance canceled), and the
/// completions their listeners were deciding.
pub async fn cancel_open(
    conn: &mut PgConnection,
    element_instance_key: Option<i64>,
    process_instance_key: Option<i64>,
) -> Result<(), sqlx::Error> {
    let canceled: Vec<(i64, String)> = sqlx::query_as(
        "UPDATE user_task t SET state = 'CANCELED', completion_date = now()
         FROM (SELECT user_task_key, state FROM user_task
               WHERE state IN ('CREATED', 'COMPLETING')
                 AND ($1::bigint IS NULL OR element_instance_key = $1)
                 AND ($2::bigint IS NULL OR process_instance_key = $2)) before
         WHERE t.user_task_key = before.user_task_key
         RETURNING t.user_task_key, before.state",
    )
    .bind(element_instance_key)
    .bind(process_instance_key)
    .fetch_all(&mut *conn)
    .await?;
    let completing: Vec<i64> = canceled
        .into_iter()
        .filter(|(_, state)| state == "COMPLETING")
        .map(|(key, _)| key)
        .collect();
    super::completions::cancel_pending(conn, &completing).await
}

/// The open user task of an element instance, if any (operator view).
pub async fn of_element(
    conn: &mut PgConnection,
    element_instance_key: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT user_task_key FROM user_task
         WHERE element_instance_key = $1 AND state IN ('CREATED', 'COMPLETING')",
    )
    .bind(element_instance_key)
    .fetch_optional(conn)
    .await
}

/// What a search filters on; every field set must match.
#[derive(Debug, Clone, Default)]
pub struct UserTaskFilter {
    /// CREATED, COMPLETING, COMPLETED or CANCELED.
    pub state: Option<String>,
    /// Exact assignee.
    pub assignee: Option<String>,
    /// One of the candidate groups.
    pub candidate_group: Option<String>,
    /// One of the candidate users.
    pub candidate_user: Option<String>,
    /// Process instance.
    pub process_instance_key: Option<i64>,
    /// Process definition.
    pub process_definition_key: Option<i64>,
    /// Process id.
    pub bpmn_process_id: Option<String>,
    /// Element id.
    pub element_id: Option<String>,
    /// Element instance.
    pub element_instance_key: Option<i64>,
    /// The task itself.
    pub user_task_key: Option<i64>,
}

/// Sort columns a search may order by (whitelisted: they are spliced into SQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortColumn {
    /// Creation date (default).
    CreationDate,
    /// Completion date.
    CompletionDate,
    /// Due date.
    DueDate,
    /// Follow-up date.
    FollowUpDate,
    /// Priority.
    Priority,
}

impl SortColumn {
    fn column(self) -> &'static str {
        match self {
            Self::CreationDate => "creation_date",
            Self::CompletionDate => "completion_date",
            Self::DueDate => "due_date",
            Self::FollowUpDate => "follow_up_date",
            Self::Priority => "priority",
        }
    }
}

/// One page of a search: `(column, descending)` sort keys, then `limit` rows after `offset`.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// Sort keys in order; the task key breaks ties.
    pub sort: Vec<(SortColumn, bool)>,
    /// Rows to skip.
    pub offset: i64,
    /// Rows to return.
    pub limit: i64,
}

fn push_filter(query: &mut QueryBuilder<Postgres>, filter: &UserTaskFilter) {
    query.push(" WHERE TRUE");
    if let Some(v) = &filter.state {
        query.push(" AND state = ").push_bind(v.clone());
    }
    if let Some(v) = &filter.assignee {
        query.push(" AND assignee = ").push_bind(v.clone());
    }
    if let Some(v) = &filter.candidate_group {
        query
            .push(" AND candidate_groups @> ARRAY[")
            .push_bind(v.clone())
            .push("]::text[]");
    }
    if let Some(v) = &filter.candidate_user {
        query
            .push(" AND candidate_users @> ARRAY[")
            .push_bind(v.clone())
            .push("]::text[]");
    }
    if let Some(v) = filter.process_instance_key {
        query.push(" AND process_instance_key = ").push_bind(v);
    }
    if let Some(v) = filter.process_definition_key {
        query.push(" AND process_definition_key = ").push_bind(v);
    }
    if let Some(v) = &filter.bpmn_process_id {
        query.push(" AND bpmn_process_id = ").push_bind(v.clone());
    }
    if let Some(v) = &filter.element_id {
        query.push(" AND element_id = ").push_bind(v.clone());
    }
    if let Some(v) = filter.element_instance_key {
        query.push(" AND element_instance_key = ").push_bind(v);
    }
    if let Some(v) = filter.user_task_key {
        query.push(" AND user_task_key = ").push_bind(v);
    }
}

/// One page of matching tasks and the number of matches in total.
pub async fn search(
    conn: &mut PgConnection,
    filter: &UserTaskFilter,
    page: &SearchPage,
) -> Result<(Vec<UserTaskRow>, i64), sqlx::Error> {
    let mut count = QueryBuilder::<Postgres>::new("SELECT count(*) FROM user_task");
    push_filter(&mut count, filter);
    let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;
    let mut query = QueryBuilder::<Postgres>::new(format!("SELECT {COLUMNS} FROM user_task"));
    push_filter(&mut query, filter);
    query.push(" ORDER BY ");
    for (column, descending) in &page.sort {
        query.push(column.column()).push(if *descending {
            " DESC NULLS LAST, "
        } else {
            " ASC NULLS LAST, "
        });
    }
    query
        .push("user_task_key LIMIT ")
        .push_bind(page.limit)
        .push(" OFFSET ")
        .push_bind(page.offset);
    let rows = query.build_query_as().fetch_all(conn).await?;
    Ok((rows, total))
}
