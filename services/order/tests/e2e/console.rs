//! The operations console in a real browser (issue 26): headless Chromium through chromedriver
//! signs in as ops1 at the stack's issuer (authorization code with PKCE), finds the order that
//! provisioning left in fallout among the stuck orders, retries it with a reason and evidence
//! through the console (which sends the order service's command with ops1's token), and sees it
//! complete. The ops service projects the whole stack's events; nothing is mocked.

use std::time::Duration;

use serde_json::json;
use test_support::webdriver::{Browser, ChromeDriver};

use super::actions::id;
use super::exceptions::router_order;
use super::stack::Stack;

const WAIT: Duration = Duration::from_secs(60);

async fn sign_in(browser: &Browser, console: &str) {
    browser.goto(&format!("{console}/console")).await.unwrap();
    // The console sends the browser to the issuer's sign-in form.
    browser
        .wait_for("#username", WAIT)
        .await
        .unwrap()
        .send_keys("ops1")
        .await
        .unwrap();
    browser
        .find("#password")
        .await
        .unwrap()
        .send_keys("demo")
        .await
        .unwrap();
    browser
        .find("#sign-in")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("#session-user", "ops1", WAIT)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_operator_retries_a_stuck_order_in_the_console_and_sees_it_complete() {
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

    browser
        .find("#nav-stuck")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let row = format!("#stuck-table tr[data-order-id=\"{order}\"]");
    browser.wait_for(&row, WAIT).await.unwrap();
    browser
        .find(&format!("{row} button.open-order"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("#order-status", "FALLOUT", WAIT)
        .await
        .unwrap();
    browser
        .wait_for("button.retry-fallout", WAIT)
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for("#repair-reason", WAIT)
        .await
        .unwrap()
        .send_keys("provisioning is back (INC-CONSOLE closed)")
        .await
        .unwrap();
    browser
        .find("#repair-evidence")
        .await
        .unwrap()
        .send_keys("INC-CONSOLE")
        .await
        .unwrap();
    browser
        .find("#repair-submit")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("#order-status", "COMPLETED", WAIT)
        .await
        .unwrap();
    let done = stack.wait_order(order, &["COMPLETED"]).await;
    assert_eq!(done["status"], "COMPLETED");
    // The retry went through the order service as ops1, with the reason the console asked for:
    // its evidence is on the order's timeline in the ops views.
    let timeline = format!("{}/timelines/orders/{order}?limit=500", ops.base);
    let started = std::time::Instant::now();
    loop {
        let (_, page) = stack
            .call("ops1", reqwest::Method::GET, timeline.clone(), None, None)
            .await;
        let retried = page["entries"].as_array().into_iter().flatten().find(|e| {
            e["kind"] == "AUDIT_DECISION" && e["summary"]["decision"] == "oms.order.repaired"
        });
        if let Some(entry) = retried {
            assert_eq!(entry["summary"]["actor"], "ops1", "{entry}");
            assert!(
                entry["summary"]["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("INC-CONSOLE")),
                "{entry}"
            );
            break;
        }
        assert!(started.elapsed() < WAIT, "no retry evidence: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The stuck list lets it go.
    browser
        .find("#nav-stuck")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for("#stuck-table", WAIT).await.unwrap();
    let started = std::time::Instant::now();
    while !browser.find_all(&row).await.unwrap().is_empty() {
        assert!(
            started.elapsed() < WAIT,
            "the completed order left the stuck list"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if let Ok(path) = std::env::var("OPS_CONSOLE_SCREENSHOT") {
        browser
            .find("#nav-dashboard")
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        browser.wait_for("#dashboard", WAIT).await.unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        std::fs::write(&path, browser.screenshot_png().await.unwrap()).unwrap();
    }
    browser.quit().await.unwrap();
    stack.stop().await;
}
