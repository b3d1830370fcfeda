//! Replacing the items of a CONFIGURED or PRICED quote with valid ones is one command that ends
//! CONFIGURED (EDIT_ITEMS to DRAFT, then CONFIGURE_ITEMS): the database's lifecycle guard allows
//! the collapsed step, as it does for a submit.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{TestApp, expect_status};

#[tokio::test]
async fn items_of_a_configured_or_priced_quote_are_replaced_in_one_command() {
    let app = TestApp::spawn().await;
    let configured = app.configured_quote().await;
    let priced = app.configured_quote().await;
    app.command(priced, "price").await;
    for (quote, quantity) in [(configured, 3), (priced, 4)] {
        let items = json!({"items": [app.item("1", quantity)]});
        let replaced = expect_status(
            app.put(&format!("/quotes/{quote}/items"), &items).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(replaced["status"], "CONFIGURED", "{replaced}");
        assert_eq!(
            replaced["pricingState"],
            if quote == priced {
                "PRICE_STALE"
            } else {
                "NOT_PRICED"
            }
        );
        assert_eq!(replaced["items"][0]["quantity"], quantity, "{replaced}");
    }
    app.stop().await;
}
