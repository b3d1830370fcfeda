//! Property test over random command sequences through HTTP, with the approval service's
//! outcomes delivered through CPQ's consumer handler in between: whatever order they come in, no
//! quote is ACCEPTED (or CONVERTED) without a FROZEN price whose hash equals the approved hash,
//! and items never change after SUBMITTED except through a revise.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::approval_support::ApprovalEvent;
use crate::harness::{TestApp, expect_status, id_of};

#[derive(Debug, Clone)]
enum Command {
    Items {
        quantity: i64,
        valid: bool,
    },
    Price,
    Override,
    Submit,
    /// The approval service's outcome for the quote's revision and price as they stand.
    Outcome {
        pending: bool,
    },
    Revise,
    Accept,
    Cancel,
    Convert,
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        3 => (1i64..4, proptest::bool::weighted(0.8)).prop_map(|(quantity, valid)| Command::Items { quantity, valid }),
        3 => Just(Command::Price),
        1 => Just(Command::Override),
        3 => Just(Command::Submit),
        3 => proptest::bool::ANY.prop_map(|pending| Command::Outcome { pending }),
        1 => Just(Command::Revise),
        2 => Just(Command::Accept),
        1 => Just(Command::Cancel),
        1 => Just(Command::Convert),
    ]
}

const EDITABLE: [&str; 3] = ["DRAFT", "CONFIGURED", "PRICED"];

async fn run(app: &TestApp, quote: Uuid, command: &Command) -> StatusCode {
    let path = |c: &str| format!("/quotes/{quote}/{c}");
    let response = match command {
        Command::Items { quantity, valid } => {
            let bandwidth = if *valid { 500 } else { 42 };
            let body = json!({"items": [{"id": "1", "offeringId": app.fixture.offering, "quantity": quantity,
                "characteristics": {"bandwidthMbps": bandwidth}}]});
            app.put(&path("items"), &body).await
        }
        Command::Override => {
            let current = app.quote(quote).await;
            let original = current["price"]["lines"][0]["charges"][0]["computed"]["amount"]
                .as_str()
                .unwrap_or("0.00")
                .to_owned();
            let body = json!({"charge": "ONE_TIME", "originalPrice": original, "newPrice": "1.00", "reason": "property"});
            app.post(&path("items/1/price-override"), &body).await
        }
        Command::Price => app.post_empty(&path("price")).await,
        Command::Submit => app.post_empty(&path("submit")).await,
        Command::Outcome { pending } => {
            deliver_outcome(app, quote, *pending).await;
            return StatusCode::OK;
        }
        Command::Revise => app.post_empty(&path("revise")).await,
        Command::Accept => app.post_empty(&path("accept")).await,
        Command::Cancel => app.post_empty(&path("cancel")).await,
        Command::Convert => app.post_empty(&path("convert-to-order")).await,
    };
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(
        status.is_success() || status.is_client_error(),
        "{command:?}: {status} {text}"
    );
    status
}

/// The approval service answers for the quote as it stands (when priced): NOT_REQUIRED, or
/// PENDING and then approved. CPQ's handler decides whether anything moves.
async fn deliver_outcome(app: &TestApp, quote: Uuid, pending: bool) {
    let view = app.quote(quote).await;
    if !view["priceHash"].is_string() {
        return;
    }
    let status = if pending { "PENDING" } else { "NOT_REQUIRED" };
    let requested = ApprovalEvent::requested(&view, status);
    app.deliver(&requested).await;
    if pending {
        app.deliver(&requested.approved()).await;
    }
}

async fn invariants_hold(app: &TestApp) {
    let broken: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM quote WHERE status IN ('ACCEPTED', 'CONVERTED') \
         AND (pricing_state <> 'FROZEN' OR price_hash IS DISTINCT FROM approved_price_hash)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        broken, 0,
        "an accepted quote without a frozen, approved price"
    );
    let unfrozen: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM quote q JOIN quote_price_snapshot s USING (quote_id) \
         WHERE q.status IN ('ACCEPTED', 'CONVERTED') AND s.revision = q.revision AND NOT s.frozen",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(unfrozen, 0, "an accepted quote with a live price snapshot");
}

#[tokio::test]
async fn random_command_sequences_keep_the_quote_invariants() {
    let app = TestApp::spawn().await;
    let mut runner = TestRunner::new(Config {
        cases: 24,
        ..Config::default()
    });
    let strategy = proptest::collection::vec(command(), 1..12);
    for _ in 0..24 {
        let commands = strategy.new_tree(&mut runner).unwrap().current();
        let created = expect_status(
            app.post("/quotes", &app.create_body(3600, json!(null)))
                .await,
            StatusCode::CREATED,
        )
        .await;
        let quote = id_of(&created, "id");
        for command in &commands {
            let before = app.quote(quote).await;
            let status = run(&app, quote, command).await;
            let after = app.quote(quote).await;
            let prior = before["status"].as_str().unwrap();
            if matches!(command, Command::Items { .. }) && !EDITABLE.contains(&prior) {
                assert_eq!(status, StatusCode::CONFLICT, "edit in {prior} refused");
            }
            if !matches!(command, Command::Items { .. } | Command::Revise) {
                assert_eq!(
                    items_of(&before),
                    items_of(&after),
                    "{command:?} changed the items"
                );
            }
            if !EDITABLE.contains(&prior) && !matches!(command, Command::Revise) {
                assert_eq!(
                    before["revision"], after["revision"],
                    "only a revise opens a new revision"
                );
            }
            invariants_hold(&app).await;
        }
    }
    app.stop().await;
}

/// The items of a view without the fields acceptance legitimately changes.
fn items_of(view: &Value) -> Vec<(Value, Value, Value)> {
    view["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    (
                        i["id"].clone(),
                        i["quantity"].clone(),
                        i["characteristics"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
