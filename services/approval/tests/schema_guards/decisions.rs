//! A decision's guards: a reason for a rejection, separation of duties, the request's price,
//! one decision per actor, no rewriting, and deciding only a pending request.

use crate::guard::{GuardCase, Step, assert_refused, decide, open, set};
use crate::support::{HASH_A, HASH_B, INSUFFICIENT_PRIVILEGE, app_pool};

/// A pending request that `mia` has approved.
const APPROVED_BY_MIA: &[Step] = &[open("PENDING"), decide("mia", "APPROVE", None, HASH_A)];

const DECISIONS: &[GuardCase] = &[
    GuardCase {
        name: "reject without reason",
        setup: &[open("PENDING")],
        statement: decide("mia", "REJECT", None, HASH_A),
        refusal: "approval_decision_reject_reason",
    },
    GuardCase {
        name: "the submitter decides",
        setup: &[open("PENDING")],
        statement: decide("sally", "APPROVE", None, HASH_A),
        refusal: "approval_decision_separation_of_duties",
    },
    GuardCase {
        name: "another price",
        setup: &[open("PENDING")],
        statement: decide("mia", "APPROVE", None, HASH_B),
        refusal: "approval_decision_price_hash",
    },
    GuardCase {
        name: "blank reason",
        setup: &[open("PENDING")],
        statement: decide("mia", "REJECT", Some("  "), HASH_A),
        refusal: "approval_decision_reason_check",
    },
    GuardCase {
        name: "second decision",
        setup: APPROVED_BY_MIA,
        statement: decide("mia", "REJECT", Some("changed my mind"), HASH_A),
        refusal: "approval_decision_one_per_actor",
    },
    GuardCase {
        name: "rewrite a decision",
        setup: APPROVED_BY_MIA,
        statement: Step::Sql("UPDATE approval_decision SET decision = 'REJECT', reason = 'x'"),
        refusal: INSUFFICIENT_PRIVILEGE,
    },
    GuardCase {
        name: "decide an approved request",
        setup: &[
            open("PENDING"),
            decide("mia", "APPROVE", None, HASH_A),
            set("APPROVED"),
        ],
        statement: decide("max", "APPROVE", None, HASH_A),
        refusal: "approval_decision_request_pending",
    },
];

#[tokio::test]
async fn decisions_keep_their_guards() {
    let (_database, app) = app_pool().await;
    assert_refused(&app, "acme", DECISIONS).await;
}
