//! The database's lifecycle guard (`quote_transition_allowed`, the `quote_guard` trigger's
//! table) allows exactly the status pairs of the domain's one transition table, plus the one
//! collapsed step a command writes as a single update: replacing the items of a CONFIGURED or
//! PRICED quote is EDIT_ITEMS then CONFIGURE_ITEMS. Since ADR 0035 a submit writes SUBMITTED
//! only, so the former one-step PRICED → APPROVED / APPROVAL_PENDING is refused.

use std::collections::BTreeSet;

use cpq::domain::quote::QuoteStatus;
use cpq::domain::quote::lifecycle::QUOTE_TRANSITIONS;

use crate::harness::cpq_database;

#[tokio::test]
async fn the_database_guard_allows_exactly_the_lifecycle_pairs() {
    let database = cpq_database().await;
    let pool = sqlx::PgPool::connect(&database.url).await.unwrap();
    let mut expected: BTreeSet<(&str, &str)> = QUOTE_TRANSITIONS
        .iter()
        .map(|(from, _, to)| (from.as_str(), to.as_str()))
        .collect();
    expected.extend([("CONFIGURED", "CONFIGURED"), ("PRICED", "CONFIGURED")]);
    let mut differences = Vec::new();
    for from in QuoteStatus::ALL {
        for to in QuoteStatus::ALL {
            let allowed: bool =
                sqlx::query_scalar("SELECT cpq_schema.quote_transition_allowed($1, $2)")
                    .bind(from.as_str())
                    .bind(to.as_str())
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            if allowed != expected.contains(&(from.as_str(), to.as_str())) {
                differences.push(format!("{from} -> {to}: database says {allowed}"));
            }
        }
    }
    assert!(differences.is_empty(), "{differences:#?}");
    assert!(!expected.contains(&("PRICED", "APPROVED")));
    assert!(expected.contains(&("SUBMITTED", "REJECTED")));
    pool.close().await;
}
