//! Table-driven guard checks: a [`GuardCase`] is set-up [`Step`]s that must succeed, then one
//! statement that must be refused by name (constraint or trigger) or SQLSTATE. Each case runs
//! in its own tenant transaction, rolled back afterwards, on a quote of its own.

use sqlx::PgConnection;
use sqlx::PgPool;
use sqlx::types::Uuid;

use crate::support::{
    Decision, Delegation, insert_decision, insert_delegation, insert_request, new_quote,
    set_status, tenant_tx, try_refusal,
};

/// One statement against the schema, run in a case's transaction.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    /// Insert a request for the case's quote at this revision and status (`insert_request`);
    /// the first one opened is the case's request.
    Open { revision: i32, status: &'static str },
    /// Move the case's request to this status (`set_status`).
    SetStatus(&'static str),
    /// Decide on the case's request.
    Decide(Decision),
    /// Grant a delegation.
    Delegate(Delegation),
    /// SQL with `$1` the case's request id and `$2..` these texts.
    SqlOnRequest(&'static str, &'static [&'static str]),
    /// SQL without parameters.
    Sql(&'static str),
}

/// Open a request for the case's quote at revision 1.
pub const fn open(status: &'static str) -> Step {
    Step::Open {
        revision: 1,
        status,
    }
}

pub const fn set(status: &'static str) -> Step {
    Step::SetStatus(status)
}

pub const fn decide(
    actor: &'static str,
    verdict: &'static str,
    reason: Option<&'static str>,
    hash: &'static str,
) -> Step {
    Step::Decide(Decision {
        actor,
        verdict,
        reason,
        hash,
    })
}

pub const fn delegate(from: &'static str, to: &'static str, start: i32, end: i32) -> Step {
    Step::Delegate(Delegation {
        from,
        to,
        start,
        end,
    })
}

/// A statement that must be refused after a set-up that must succeed.
#[derive(Debug)]
pub struct GuardCase {
    /// What is tried; names the case in a failure.
    pub name: &'static str,
    pub setup: &'static [Step],
    pub statement: Step,
    /// The constraint or trigger name, or SQLSTATE, that refuses `statement`.
    pub refusal: &'static str,
}

/// The tenant, quote and (once opened) request one case's steps act on.
struct Subject<'a> {
    tenant: &'a str,
    quote: Uuid,
    request: Option<Uuid>,
}

impl Subject<'_> {
    fn request(&self, step: Step) -> Uuid {
        self.request
            .unwrap_or_else(|| panic!("{step:?} needs an opened request before it"))
    }
}

async fn run(
    conn: &mut PgConnection,
    subject: &mut Subject<'_>,
    step: Step,
) -> Result<(), sqlx::Error> {
    match step {
        Step::Open { revision, status } => {
            let id = insert_request(conn, subject.tenant, subject.quote, revision, status).await?;
            subject.request.get_or_insert(id);
            Ok(())
        }
        Step::SetStatus(status) => set_status(conn, subject.request(step), status).await,
        Step::Decide(decision) => {
            insert_decision(conn, subject.tenant, subject.request(step), decision).await
        }
        Step::Delegate(delegation) => insert_delegation(conn, subject.tenant, delegation).await,
        Step::SqlOnRequest(sql, texts) => {
            let mut query = sqlx::query(sql).bind(subject.request(step));
            for text in texts {
                query = query.bind(*text);
            }
            query.execute(&mut *conn).await.map(drop)
        }
        Step::Sql(sql) => sqlx::query(sql).execute(&mut *conn).await.map(drop),
    }
}

/// Runs `steps`, stopping at the first error, which it describes with the failing step.
async fn run_all(
    conn: &mut PgConnection,
    subject: &mut Subject<'_>,
    steps: &[Step],
) -> Result<(), String> {
    for step in steps {
        run(conn, subject, *step)
            .await
            .map_err(|e| format!("set-up step {step:?} failed: {e}"))?;
    }
    Ok(())
}

/// Tries every case as `tenant` and fails naming each case whose set-up failed, whose
/// statement went through, or whose refusal was not the expected one.
pub async fn assert_refused(app: &PgPool, tenant: &str, cases: &[GuardCase]) {
    let mut failures = Vec::new();
    for case in cases {
        let mut tx = tenant_tx(app, tenant).await;
        let mut subject = Subject {
            tenant,
            quote: new_quote(),
            request: None,
        };
        let outcome = match run_all(&mut tx, &mut subject, case.setup).await {
            Err(setup) => Err(setup),
            Ok(()) => try_refusal(run(&mut tx, &mut subject, case.statement).await),
        };
        match outcome {
            Ok(refusal) if refusal == case.refusal => {}
            Ok(refusal) => failures.push(format!(
                "{}: expected refusal {}, got {refusal}",
                case.name, case.refusal
            )),
            Err(e) => failures.push(format!("{}: {e}", case.name)),
        }
        tx.rollback().await.expect("roll back a case");
    }
    assert!(
        failures.is_empty(),
        "{} of {} guard cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Runs `steps` as `tenant` on a fresh quote, all of which must succeed, and commits them.
pub async fn assert_accepted(app: &PgPool, tenant: &str, name: &str, steps: &[Step]) {
    let mut tx = tenant_tx(app, tenant).await;
    let mut subject = Subject {
        tenant,
        quote: new_quote(),
        request: None,
    };
    if let Err(e) = run_all(&mut tx, &mut subject, steps).await {
        panic!("{name}: {e}");
    }
    tx.commit().await.expect("commit");
}
