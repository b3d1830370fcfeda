//! The operations console in a real browser (issue 26): headless Chromium through chromedriver
//! signs in as ops1 at the stack's issuer (authorization code with PKCE), finds the order that
//! provisioning left in fallout among the stuck orders, retries it with a reason and evidence
//! through the console (which sends the order service's command with ops1's token), and sees it
//! complete; then retries two more from the fallout queue in one bulk action and cancels a third
//! after the impact preview. The ops service projects the whole stack's events; nothing is mocked.

use std::time::{Duration, Instant};

use serde_json::json;
use test_support::webdriver::{Browser, ChromeDriver};

use uuid::Uuid;

use super::actions::{Catalog, id};
use super::exceptions::router_order;
use super::stack::Stack;

const WAIT: Duration = Duration::from_secs(60);

/// Clicks the element `css` names once it shows; a table the console re-rendered between the
/// look and the click is looked at again.
async fn click(browser: &Browser, css: &str) {
    let started = Instant::now();
    loop {
        let element = browser.wait_for(css, WAIT).await.unwrap();
        match element.click().await {
            Ok(()) => return,
            Err(e) if e.code() == Some("stale element reference") && started.elapsed() < WAIT => {}
            Err(e) => panic!("clicking `{css}`: {e}"),
        }
    }
}

/// Types `text` into the element `css` names once it shows.
async fn type_into(browser: &Browser, css: &str, text: &str) {
    let element = browser.wait_for(css, WAIT).await.unwrap();
    element.send_keys(text).await.unwrap();
}

async fn sign_in(browser: &Browser, console: &str) {
    browser.goto(&format!("{console}/console")).await.unwrap();
    // The console sends the browser to the issuer's sign-in form.
    type_into(browser, "#username", "ops1").await;
    type_into(browser, "#password", "demo").await;
    click(browser, "#sign-in").await;
    browser
        .wait_for_text("#session-user", "ops1", WAIT)
        .await
        .unwrap();
}

/// Waits for ops1's repair evidence (actor and reason) on the order's timeline in the ops views.
async fn repair_evidence_on_the_timeline(stack: &Stack, ops_base: &str, order: uuid::Uuid) {
    let timeline = format!("{ops_base}/timelines/orders/{order}?limit=500");
    let started = Instant::now();
    loop {
        let (_, page) = stack
            .call("ops1", reqwest::Method::GET, timeline.clone(), None, None)
            .await;
        let repaired = page["entries"].as_array().into_iter().flatten().find(|e| {
            e["kind"] == "AUDIT_DECISION" && e["summary"]["decision"] == "oms.order.repaired"
        });
        if let Some(entry) = repaired {
            assert_eq!(entry["summary"]["actor"], "ops1", "{entry}");
            let reason = entry["summary"]["reason"].as_str().unwrap_or_default();
            assert!(reason.contains("INC-CONSOLE"), "{entry}");
            return;
        }
        assert!(started.elapsed() < WAIT, "no repair evidence: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Places `count` router orders while provisioning refuses every activation and waits until each
/// is in fallout; the fault is cleared afterwards.
async fn orders_in_fallout(stack: &Stack, catalog: Catalog, keys: &[&str]) -> Vec<Uuid> {
    stack
        .sim
        .add_fault(json!({"system": "provisioning", "operation": "activate", "mode": "ERROR_5XX"}))
        .await;
    let mut orders = Vec::new();
    for key in keys {
        let body = router_order(catalog, "CUST-CONSOLE", "SRX-300");
        orders.push(stack.place("sales1", key, &body).await);
    }
    for order in &orders {
        let fell = stack.wait_order(*order, &["FALLOUT", "COMPLETED"]).await;
        assert_eq!(fell["status"], "FALLOUT", "{fell}");
    }
    stack.sim.clear_faults().await;
    orders
}

/// The id of the one fallout record of `order`.
async fn fallout_of(stack: &Stack, order: Uuid) -> Uuid {
    let fallouts = stack.fallouts_of(order).await;
    assert_eq!(fallouts.len(), 1, "{fallouts:?}");
    id(&fallouts[0], "falloutId")
}

/// Selects the fallouts of `orders` in the console's queue and retries them in one bulk action.
async fn bulk_retry(browser: &Browser, stack: &Stack, orders: &[Uuid]) {
    click(browser, "#nav-fallout").await;
    for order in orders {
        let fallout = fallout_of(stack, *order).await;
        click(
            browser,
            &format!("input.select-fallout[data-fallout-id=\"{fallout}\"]"),
        )
        .await;
    }
    browser
        .wait_for_text(
            "#bulk-retry",
            &format!("Retry selected ({})", orders.len()),
            WAIT,
        )
        .await
        .unwrap();
    click(browser, "#bulk-retry").await;
    type_into(browser, "#repair-reason", "provisioning fixed (INC-BULK)").await;
    type_into(browser, "#repair-evidence", "INC-BULK").await;
    click(browser, "#repair-submit").await;
    for order in orders {
        let done = stack.wait_order(*order, &["COMPLETED"]).await;
        assert_eq!(done["status"], "COMPLETED");
        let fallouts = stack.fallouts_of(*order).await;
        assert_eq!(fallouts[0]["status"], "RESOLVED", "{fallouts:?}");
    }
}

/// Opens `order` in the console, asks to cancel it, confirms once the server's impact preview
/// shows (the confirm button stays disabled until then) and sees it cancelled.
async fn cancel_after_preview(browser: &Browser, stack: &Stack, console: &str, order: Uuid) {
    browser
        .goto(&format!("{console}/console#/orders/{order}"))
        .await
        .unwrap();
    browser
        .wait_for_text("#order-status", "FALLOUT", WAIT)
        .await
        .unwrap();
    click(browser, "#cancel-order").await;
    browser
        .wait_for("#repair-preview .impact", WAIT)
        .await
        .unwrap();
    let submit = browser.find("#repair-submit").await.unwrap();
    assert_eq!(submit.attribute("disabled").await.unwrap(), None);
    type_into(browser, "#repair-reason", "the customer withdrew (console)").await;
    click(browser, "#repair-submit").await;
    let cancelled = stack.wait_order(order, &["CANCELLED"]).await;
    assert_eq!(cancelled["status"], "CANCELLED");
    browser
        .wait_for_text("#order-status", "CANCELLED", WAIT)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_operator_repairs_orders_in_the_console_by_retry_bulk_retry_and_cancellation() {
    assert!(
        ChromeDriver::available(),
        "chromium and chromedriver are missing: ./dev test installs them (apt chromium chromium-driver)"
    );
    let stack = Stack::start_with(
        true,
        vec![("APP__ORDER__STUCK_CALL_AFTER_SECONDS", "60".to_owned())],
    )
    .await;
    let (ops, _ops_db) = stack
        .start_ops(&[("APP__OPS__STUCK_AFTER__FALLOUT", "1".to_owned())])
        .await;
    let catalog = stack.seed_catalog().await;
    stack
        .sim
        .add_fault(json!({"system": "provisioning", "operation": "activate", "mode": "ERROR_5XX"}))
        .await;
    let (status, body) = stack
        .direct_order(
            "sales1",
            "console-1",
            &router_order(catalog, "CUST-CONSOLE", "SRX-300"),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let order = id(&body, "id");
    let fell = stack.wait_order(order, &["FALLOUT", "COMPLETED"]).await;
    assert_eq!(fell["status"], "FALLOUT", "{fell}");
    stack.sim.clear_faults().await;

    let driver = ChromeDriver::start().await;
    let browser = driver.new_session().await;
    sign_in(&browser, &ops.base).await;

    click(&browser, "#nav-stuck").await;
    let row = format!("#stuck-table tr[data-order-id=\"{order}\"]");
    click(&browser, &format!("{row} button.open-order")).await;
    browser
        .wait_for_text("#order-status", "FALLOUT", WAIT)
        .await
        .unwrap();
    click(&browser, "button.retry-fallout").await;
    type_into(
        &browser,
        "#repair-reason",
        "provisioning is back (INC-CONSOLE closed)",
    )
    .await;
    type_into(&browser, "#repair-evidence", "INC-CONSOLE").await;
    click(&browser, "#repair-submit").await;
    browser
        .wait_for_text("#order-status", "COMPLETED", WAIT)
        .await
        .unwrap();
    let done = stack.wait_order(order, &["COMPLETED"]).await;
    assert_eq!(done["status"], "COMPLETED");
    // The retry went through the order service as ops1, with the reason the console asked for.
    repair_evidence_on_the_timeline(&stack, &ops.base, order).await;

    // The stuck list lets it go.
    click(&browser, "#nav-stuck").await;
    browser.wait_for("#stuck-table", WAIT).await.unwrap();
    let started = Instant::now();
    while !browser.find_all(&row).await.unwrap().is_empty() {
        assert!(
            started.elapsed() < WAIT,
            "the completed order left the stuck list"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Two more from the fallout queue in one bulk retry, and a third cancelled after its preview.
    let failed = orders_in_fallout(&stack, catalog, &["console-2", "console-3", "console-4"]).await;
    bulk_retry(&browser, &stack, &failed[..2]).await;
    cancel_after_preview(&browser, &stack, &ops.base, failed[2]).await;

    if let Ok(path) = std::env::var("OPS_CONSOLE_SCREENSHOT") {
        click(&browser, "#nav-dashboard").await;
        browser.wait_for("#dashboard", WAIT).await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        std::fs::write(&path, browser.screenshot_png().await.unwrap()).unwrap();
    }
    browser.quit().await.unwrap();
    stack.stop().await;
}
