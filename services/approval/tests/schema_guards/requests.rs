//! The request row's guards: its lifecycle trigger, immutable identity, version bump, no
//! deletes, the final rejection, and one open request per quote revision.

use crate::guard::{GuardCase, Step, assert_accepted, assert_refused, open, set};
use crate::support::{HASH_B, INSUFFICIENT_PRIVILEGE, app_pool, database, pool};

const LIFECYCLE: &[GuardCase] = &[
    GuardCase {
        name: "created approved",
        setup: &[],
        statement: open("APPROVED"),
        refusal: "approval_request_created_open",
    },
    GuardCase {
        name: "NOT_REQUIRED -> APPROVED",
        setup: &[open("NOT_REQUIRED")],
        statement: set("APPROVED"),
        refusal: "approval_request_transition",
    },
    GuardCase {
        name: "APPROVED -> PENDING",
        setup: &[open("PENDING"), set("APPROVED")],
        statement: set("PENDING"),
        refusal: "approval_request_transition",
    },
    GuardCase {
        name: "EXPIRED -> APPROVED",
        setup: &[open("PENDING"), set("EXPIRED")],
        statement: set("APPROVED"),
        refusal: "approval_request_transition",
    },
    GuardCase {
        name: "a new hash",
        setup: &[open("PENDING")],
        statement: Step::SqlOnRequest(
            "UPDATE approval_request SET price_hash = $2, aggregate_version = 2 WHERE approval_request_id = $1",
            &[HASH_B],
        ),
        refusal: "approval_request_identity_immutable",
    },
    GuardCase {
        name: "no version bump",
        setup: &[open("PENDING")],
        statement: Step::SqlOnRequest(
            "UPDATE approval_request SET status = 'APPROVED', approved_at = now() WHERE approval_request_id = $1",
            &[],
        ),
        refusal: "approval_request_version_transition",
    },
    GuardCase {
        name: "delete (approval_app may not delete)",
        setup: &[open("PENDING")],
        statement: Step::SqlOnRequest(
            "DELETE FROM approval_request WHERE approval_request_id = $1",
            &[],
        ),
        refusal: INSUFFICIENT_PRIVILEGE,
    },
];

#[tokio::test]
async fn the_status_moves_only_along_the_lifecycle() {
    let (_database, app) = app_pool().await;
    assert_refused(&app, "acme", LIFECYCLE).await;
}

const REJECTED: &[Step] = &[open("PENDING"), set("REJECTED")];

const REOPEN_REJECTED: &[GuardCase] = &[
    GuardCase {
        name: "REJECTED -> PENDING",
        setup: REJECTED,
        statement: set("PENDING"),
        refusal: "approval_request_rejected_final",
    },
    GuardCase {
        name: "REJECTED -> APPROVED",
        setup: REJECTED,
        statement: set("APPROVED"),
        refusal: "approval_request_rejected_final",
    },
    GuardCase {
        name: "REJECTED -> SUPERSEDED",
        setup: REJECTED,
        statement: set("SUPERSEDED"),
        refusal: "approval_request_rejected_final",
    },
];

#[tokio::test]
async fn a_rejected_request_is_never_reopened() {
    let (_database, app) = app_pool().await;
    assert_refused(&app, "acme", REOPEN_REJECTED).await;
    assert_accepted(
        &app,
        "acme",
        "a new submit after a rejection is a new request",
        &[open("PENDING"), set("REJECTED"), open("PENDING")],
    )
    .await;
}

/// The quote's revision 1 open, and its revision 2 open beside it.
const TWO_REVISIONS_OPEN: &[Step] = &[
    open("PENDING"),
    Step::Open {
        revision: 2,
        status: "PENDING",
    },
];

#[tokio::test]
async fn one_open_request_per_quote_revision() {
    let (_database, app) = app_pool().await;
    let second_open = GuardCase {
        name: "second open",
        setup: TWO_REVISIONS_OPEN,
        statement: open("PENDING"),
        refusal: "approval_request_one_open",
    };
    assert_refused(&app, "acme", &[second_open]).await;
    assert_accepted(
        &app,
        "acme",
        "a new request once the open one is superseded",
        &[
            TWO_REVISIONS_OPEN[0],
            TWO_REVISIONS_OPEN[1],
            set("SUPERSEDED"),
            open("PENDING"),
        ],
    )
    .await;
}

/// The trigger's status pairs are exactly the domain table's (from, to) pairs, so the two
/// cannot drift apart unnoticed.
#[tokio::test]
async fn the_database_lifecycle_mirrors_the_domain_table() {
    use approval::domain::ApprovalStatus;
    use approval::domain::lifecycle::APPROVAL_TRANSITIONS;
    let database = database().await;
    let owner = pool(&database, None).await;
    for from in ApprovalStatus::ALL {
        for to in ApprovalStatus::ALL {
            let allowed: bool = sqlx::query_scalar("SELECT approval_transition_allowed($1, $2)")
                .bind(from.as_str())
                .bind(to.as_str())
                .fetch_one(&owner)
                .await
                .expect("ask the database");
            let domain = APPROVAL_TRANSITIONS
                .iter()
                .any(|(f, _, t)| *f == from && *t == to);
            assert_eq!(allowed, domain, "{from} -> {to}");
        }
    }
}
