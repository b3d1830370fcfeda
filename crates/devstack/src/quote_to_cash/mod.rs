//! `devstack demo`: one scripted quote-to-cash over the running stack, as the demo users, through
//! the public APIs only. sales1 quotes Business Internet, a Managed Router and a Static IP block
//! (an add-on of the internet line) from the demo catalog and price book, prices, submits; when
//! the approval policy holds the quote (APPROVAL_PENDING) the demo approver of each open level
//! decides it in the approval service; sales1 accepts and converts. The order service captures
//! the order from CPQ's conversion event, fulfilment runs (the `order-fulfillment` process, the
//! integration workers, the downstream simulator), and the demo waits for COMPLETED, then shows
//! the order's tasks, the product instances and the subscription it left.
//! `./dev up` runs it once on a stack without a demo order; `./dev demo` runs another.

mod api;
mod quote;
mod report;

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use dev_issuer::Directory;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::identity;
use crate::say;
use crate::seed::{CatalogClient, id_of};
use crate::services::{self, Probe};
use crate::settings::Settings;
use api::DemoApi;
use quote::{INTERNET, PRICE_BOOK, ROUTER, STATIC_IP, demo_catalog, price_summary, quote_request};
use report::{AssetSeen, OrderSeen, Outcome, SubscriptionSeen, Timeline};

/// The service that captures and fulfils the order.
pub const ORDER: &str = "order";
/// The services the flow calls, all of which must be running.
const FLOW_SERVICES: [&str; 4] = ["catalog", "cpq", "approval", ORDER];

/// The demo customer: every demo quote-to-cash is theirs, so `./dev up` knows whether one exists.
pub const DEMO_CUSTOMER: &str = "CUST-DEMO-Q2C";
/// The seller.
const SELLER: &str = "sales1";

/// How long the approval service may take to decide or open a task after submit (the policy
/// decides in well under a second on a healthy stack).
const DECISION_WAIT: Duration = Duration::from_secs(30);
/// How long the order service may take to capture the converted quote (CPQ's outbox relay, then
/// the order's consumer: Kafka round trips).
const CAPTURE_WAIT: Duration = Duration::from_secs(30);
/// How long fulfilment may take: the simulator answers in milliseconds; an injected fault may
/// spend a retry budget (about 47 s per call).
const FULFILMENT_WAIT: Duration = Duration::from_secs(180);
/// Between two polls.
const POLL: Duration = Duration::from_millis(200);

/// Where the flow's services answer.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// The catalog.
    pub catalog: String,
    /// CPQ.
    pub cpq: String,
    /// Approval.
    pub approval: String,
    /// Order.
    pub order: String,
}

impl Endpoints {
    /// The stack's services as `settings` places them.
    pub fn of(settings: &Settings) -> Result<Self> {
        Ok(Self {
            catalog: settings.service("catalog")?.base_url(),
            cpq: settings.service("cpq")?.base_url(),
            approval: settings.service("approval")?.base_url(),
            order: settings.service(ORDER)?.base_url(),
        })
    }
}

/// The demo approver who decides a level (each holds that approver role in the demo directory
/// and is named in the approval directory by `./dev up`).
fn approver_of(level: &str) -> Option<&'static str> {
    match level {
        "MANAGER" => Some("manager1"),
        "DIRECTOR" => Some("director1"),
        "FINANCE" => Some("finance1"),
        _ => None,
    }
}

/// An open approval task as `GET /approval-tasks` shows it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApprovalTask {
    approval_request_id: String,
    level: String,
    price_hash: Value,
}

/// A page of a list: the field that holds it varies by API.
fn items<T: serde::de::DeserializeOwned>(page: &Value, field: &str) -> Result<Vec<T>> {
    serde_json::from_value(page.get(field).cloned().unwrap_or(Value::Array(Vec::new())))
        .with_context(|| format!("unexpected list: {page}"))
}

/// The flow, one step at a time; `Ok` with the order once it is COMPLETED, an error naming why
/// otherwise (after printing what it saw).
pub struct Flow<'a> {
    api: DemoApi,
    endpoints: &'a Endpoints,
    catalog: CatalogClient,
    timeline: Timeline,
    /// Makes this run's Idempotency-Keys unique; a retried call inside the run repeats its key.
    run: Uuid,
    /// The approval tasks decided so far (request and level): an inbox may still show one for a
    /// moment after its decision.
    decided: HashSet<(String, String)>,
}

impl std::fmt::Debug for Flow<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flow").field("run", &self.run).finish()
    }
}

impl<'a> Flow<'a> {
    /// A flow over the stack at `endpoints` whose issuer is `issuer_url`.
    pub async fn new(
        http: reqwest::Client,
        endpoints: &'a Endpoints,
        issuer_url: &str,
        directory: Directory,
    ) -> Result<Self> {
        let seller = directory
            .user(SELLER)
            .with_context(|| format!("no demo user {SELLER:?} in the identity directory"))?;
        let token =
            crate::token::user_token(&http, issuer_url, &seller.username, &seller.password).await?;
        Ok(Self {
            catalog: CatalogClient::new(http.clone(), endpoints.catalog.clone(), token),
            api: DemoApi::new(http, issuer_url.to_owned(), directory),
            endpoints,
            timeline: Timeline::start("quote-to-cash (wall clock, elapsed since the start)"),
            run: Uuid::now_v7(),
            decided: HashSet::new(),
        })
    }

    /// One poll of `url` as the seller: `None` after a failed read (a dropped connection, a
    /// 503 while a service restarts), which is tried again after a pause until `wait` has passed
    /// since `began`; then the failure is the error.
    async fn poll(&mut self, url: &str, began: Duration, wait: Duration) -> Result<Option<Value>> {
        match self.api.get(SELLER, url).await {
            Ok(answer) => Ok(Some(answer)),
            Err(error) if self.timeline.elapsed() - began > wait => Err(error),
            Err(error) => {
                say(&format!("    (retrying: {error:#})"));
                tokio::time::sleep(POLL).await;
                Ok(None)
            }
        }
    }

    fn key(&self, step: &str) -> String {
        format!("devstack-demo:{}:{step}", self.run)
    }

    /// Runs every step; the order as last seen, COMPLETED.
    pub async fn run(mut self) -> Result<OrderSeen> {
        let catalog = demo_catalog(&self.catalog).await?;
        self.timeline.step(&format!(
            "demo catalog: {INTERNET}, {ROUTER}, {STATIC_IP} in price book {PRICE_BOOK}"
        ));
        let cpq = self.endpoints.cpq.clone();
        let quote = self
            .api
            .post(
                SELLER,
                &format!("{cpq}/quotes"),
                Some(&quote_request(&catalog)?),
                &self.key("create"),
            )
            .await?;
        let quote_id = id_of(&quote, "the created quote")?;
        self.timeline.step(&format!(
            "quote {quote_id} created by {SELLER} for {DEMO_CUSTOMER} ({})",
            quote["status"].as_str().unwrap_or("?")
        ));
        let priced = self
            .api
            .post(
                SELLER,
                &format!("{cpq}/quotes/{quote_id}/price"),
                None,
                &self.key("price"),
            )
            .await?;
        self.timeline
            .step(&format!("quote priced ({})", price_summary(&priced)));
        self.api
            .post(
                SELLER,
                &format!("{cpq}/quotes/{quote_id}/submit"),
                None,
                &self.key("submit"),
            )
            .await?;
        self.timeline.step("quote submitted");
        self.until_approved(&quote_id).await?;
        self.api
            .post(
                SELLER,
                &format!("{cpq}/quotes/{quote_id}/accept"),
                Some(&json!({"reference": format!("PO-DEMO-{}", &self.run.simple().to_string()[..8])})),
                &self.key("accept"),
            )
            .await?;
        self.timeline.step("quote accepted by the customer");
        let conversion = self
            .api
            .post(
                SELLER,
                &format!("{cpq}/quotes/{quote_id}/convert-to-order"),
                None,
                &self.key("convert"),
            )
            .await?;
        self.timeline.step(&format!(
            "quote converted: order {}",
            conversion["orderId"].as_str().unwrap_or("?")
        ));
        let order_id = self.until_captured(&quote_id).await?;
        let order = self.until_settled(&order_id).await?;
        report::print_tasks(&order);
        let order_url = self.endpoints.order.clone();
        let assets: Vec<AssetSeen> = items(
            &self
                .api
                .get(
                    SELLER,
                    &format!("{order_url}/assets?customerId={DEMO_CUSTOMER}&limit=500"),
                )
                .await?,
            "assets",
        )?;
        let assets: Vec<AssetSeen> = assets
            .into_iter()
            .filter(|a| a.origin_order_id == order.id)
            .collect();
        let subscriptions: Vec<SubscriptionSeen> = items(
            &self
                .api
                .get(
                    SELLER,
                    &format!("{order_url}/subscriptions?customerId={DEMO_CUSTOMER}&limit=500"),
                )
                .await?,
            "subscriptions",
        )?;
        let subscriptions: Vec<SubscriptionSeen> = subscriptions
            .into_iter()
            .filter(|s| s.order_id == order.id)
            .collect();
        report::print_assets(&assets, |id| catalog.code_of(id));
        report::print_subscriptions(&subscriptions);
        say(&format!(
            "    see      curl -s -H \"Authorization: Bearer $(./dev token sales1)\" \
             '{order_url}/orders/{}/plan'",
            order.id
        ));
        Ok(order)
    }

    /// Waits for the approval outcome; while the quote is APPROVAL_PENDING, the demo approver of
    /// each open level approves it through the approval API (as the portal does).
    async fn until_approved(&mut self, quote_id: &str) -> Result<()> {
        let quote_url = format!("{}/quotes/{quote_id}", self.endpoints.cpq);
        let mut last = String::new();
        let began = self.timeline.elapsed();
        loop {
            let Some(quote) = self.poll(&quote_url, began, DECISION_WAIT).await? else {
                continue;
            };
            let status = quote["status"].as_str().unwrap_or("?").to_owned();
            if status != last {
                self.timeline.step(&format!("quote {status}"));
                last.clone_from(&status);
            }
            match status.as_str() {
                "APPROVED" => return Ok(()),
                "REJECTED" => bail!("quote {quote_id} was REJECTED by an approver"),
                "APPROVAL_PENDING" => self.decide_open_tasks(quote_id).await?,
                _ => {}
            }
            if self.timeline.elapsed() - began > DECISION_WAIT {
                bail!(
                    "quote {quote_id} is still {status} after {} s: is the approval service \
                     consuming cpq.quote.events.v1 (Kafka up, ./dev topics)? \
                     docs/runbooks/approval.md",
                    DECISION_WAIT.as_secs()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Every open task of the quote that a demo approver's inbox shows, approved by them.
    async fn decide_open_tasks(&mut self, quote_id: &str) -> Result<()> {
        for approver in ["manager1", "director1", "finance1"] {
            let url = format!(
                "{}/approval-tasks?quoteId={quote_id}",
                self.endpoints.approval
            );
            let tasks: Vec<ApprovalTask> = items(&self.api.get(approver, &url).await?, "items")?;
            let open: Vec<ApprovalTask> = tasks
                .into_iter()
                .filter(|t| {
                    approver_of(&t.level) == Some(approver)
                        && !self
                            .decided
                            .contains(&(t.approval_request_id.clone(), t.level.clone()))
                })
                .collect();
            for task in &open {
                let decision = json!({
                    "level": task.level,
                    "decision": "APPROVE",
                    "reason": "demo: within the account's plan",
                    "priceHash": task.price_hash,
                });
                let url = format!(
                    "{}/approval-requests/{}/decisions",
                    self.endpoints.approval, task.approval_request_id
                );
                let key = self.key(&format!("decide-{}", task.level));
                self.api.post(approver, &url, Some(&decision), &key).await?;
                self.decided
                    .insert((task.approval_request_id.clone(), task.level.clone()));
                self.timeline
                    .step(&format!("{} level approved by {approver}", task.level));
            }
        }
        Ok(())
    }

    /// Polls `GET /orders?quoteId=` until the order service has captured the converted quote.
    async fn until_captured(&mut self, quote_id: &str) -> Result<String> {
        let url = format!("{}/orders?quoteId={quote_id}", self.endpoints.order);
        let began = self.timeline.elapsed();
        loop {
            let Some(page) = self.poll(&url, began, CAPTURE_WAIT).await? else {
                continue;
            };
            let orders: Vec<OrderSeen> = items(&page, "orders")?;
            if let Some(order) = orders.first() {
                self.timeline.step(&format!(
                    "order {} captured from the quote ({})",
                    order.id, order.status
                ));
                return Ok(order.id.clone());
            }
            if self.timeline.elapsed() - began > CAPTURE_WAIT {
                bail!(
                    "no order for quote {quote_id} after {} s: is the order service consuming \
                     cpq.quote.events.v1 (Kafka up, ./dev topics)? docs/runbooks/order.md",
                    CAPTURE_WAIT.as_secs()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Polls `GET /orders/{id}`, a step per status, until COMPLETED, FALLOUT or FAILED.
    async fn until_settled(&mut self, order_id: &str) -> Result<OrderSeen> {
        let url = format!("{}/orders/{order_id}", self.endpoints.order);
        let began = self.timeline.elapsed();
        let mut last = String::new();
        loop {
            let Some(answer) = self.poll(&url, began, FULFILMENT_WAIT).await? else {
                continue;
            };
            let order: OrderSeen = serde_json::from_value(answer)
                .with_context(|| format!("GET {url} did not answer an order"))?;
            if order.status != last {
                self.timeline.step(&format!("order {}", order.status));
                last.clone_from(&order.status);
            }
            match order.outcome() {
                Outcome::Completed => return Ok(order),
                Outcome::Stopped => {
                    report::print_tasks(&order);
                    let reasons = order.reasons();
                    for reason in &reasons {
                        say(&format!("    why: {reason}"));
                    }
                    bail!(
                        "order {order_id} ended {} ({}); docs/runbooks/order.md",
                        order.status,
                        reasons.first().map_or("no reason recorded", String::as_str)
                    );
                }
                Outcome::Open => {}
            }
            if self.timeline.elapsed() - began > FULFILMENT_WAIT {
                report::print_tasks(&order);
                bail!(
                    "order {order_id} is still {} after {} s (an ACKNOWLEDGED order has no \
                     process yet; an IN_PROGRESS one waits on a task or an incident): \
                     docs/runbooks/order.md",
                    order.status,
                    FULFILMENT_WAIT.as_secs()
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// The demo customer's newest order, if any (`./dev up` runs the flow only on a stack without
/// one).
pub async fn existing_demo_order(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    issuer_url: &str,
    directory: &Directory,
) -> Result<Option<(String, String)>> {
    let mut api = DemoApi::new(http.clone(), issuer_url.to_owned(), directory.clone());
    let page = api
        .get(
            SELLER,
            &format!(
                "{}/orders?customerId={DEMO_CUSTOMER}&limit=1",
                endpoints.order
            ),
        )
        .await?;
    let orders: Vec<OrderSeen> = items(&page, "orders")?;
    Ok(orders.into_iter().next().map(|o| (o.id, o.status)))
}

/// `./dev up`'s demo data: one completed quote-to-cash, unless the demo customer already has an
/// order. It never fails the start-up: a stack without Kafka, or an engine without the
/// multi-instance `order-fulfillment` needs, still serves; the warning says what happened.
pub async fn demo_data(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    issuer_url: &str,
    directory: &Directory,
) {
    match existing_demo_order(http, endpoints, issuer_url, directory).await {
        Ok(Some((id, status))) => {
            say(&format!(
                "==> demo order: {DEMO_CUSTOMER} already has order {id} ({status}); ./dev demo \
                 runs another quote-to-cash"
            ));
            return;
        }
        Ok(None) => {}
        Err(error) => {
            say(&format!(
                "    warning: could not look for a demo order ({error:#}); skipping the demo \
                 quote-to-cash"
            ));
            return;
        }
    }
    let outcome = async {
        Flow::new(http.clone(), endpoints, issuer_url, directory.clone())
            .await?
            .run()
            .await
    }
    .await;
    match outcome {
        Ok(order) => say(&format!("==> demo order {} COMPLETED", order.id)),
        Err(error) => say(&format!(
            "    warning: the demo quote-to-cash did not complete: {error:#}\n    the stack \
             keeps running; ./dev demo tries again"
        )),
    }
}

/// `devstack demo`: one more quote-to-cash over the running stack; exit 0 on COMPLETED.
pub async fn command() -> Result<ExitCode> {
    let settings = Settings::from_env()?;
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(2))
        .build()
        .context("could not build the HTTP client")?;
    for name in FLOW_SERVICES {
        let service = settings.service(name)?;
        match services::probe(&http, name, &service.base_url()).await {
            Probe::AlreadyRunning => {}
            Probe::Free => bail!(
                "{name} is not running at {} (start the stack with ./dev up, or set {} if it \
                 runs on another port)",
                service.base_url(),
                service.spec.port_env
            ),
            Probe::Foreign(what) => {
                bail!("port {} does not belong to {name}: {what}", service.port)
            }
        }
    }
    let directory = identity::load_directory(&settings.workspace_root)?;
    let endpoints = Endpoints::of(&settings)?;
    let flow = Flow::new(http, &endpoints, &settings.issuer.url(), directory).await?;
    match flow.run().await {
        Ok(order) => {
            say(&format!("==> order {} COMPLETED", order.id));
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            say(&format!("==> quote-to-cash did not complete: {error:#}"));
            Ok(ExitCode::FAILURE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_level_has_a_demo_approver_who_holds_its_role() -> Result<()> {
        let directory = Directory::demo().map_err(anyhow::Error::msg)?;
        for (level, role) in [
            ("MANAGER", "approver-manager"),
            ("DIRECTOR", "approver-director"),
            ("FINANCE", "approver-finance"),
        ] {
            let user = approver_of(level).context(level)?;
            let known = directory.user(user).context("in the directory")?;
            assert!(known.roles.iter().any(|r| r == role), "{user} holds {role}");
            assert_ne!(user, SELLER, "no one approves their own quote");
        }
        assert_eq!(approver_of("SALES"), None);
        assert!(directory.user(SELLER).is_some());
        Ok(())
    }

    #[test]
    fn lists_are_read_from_their_field_and_missing_ones_are_empty() -> Result<()> {
        let page = json!({"items": [{"approvalRequestId": "r", "level": "MANAGER",
                                     "priceHash": "h", "quoteId": "q"}]});
        let tasks: Vec<ApprovalTask> = items(&page, "items")?;
        assert_eq!(tasks[0].level, "MANAGER");
        let none: Vec<ApprovalTask> = items(&json!({}), "items")?;
        assert!(none.is_empty());
        assert!(items::<ApprovalTask>(&json!({"items": [1]}), "items").is_err());
        Ok(())
    }
}
