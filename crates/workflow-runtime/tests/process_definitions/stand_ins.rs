//! In-test stand-ins for the workers of `order-fulfillment`, each keeping its side of the
//! contract in `workflow/README.md`: the order service's `order.*` (its `order.advance` plans a
//! fixed DAG (`plan.rs`) instead of the order's plan) and the integration service's external
//! calls `integration.*` (answering as `integration::workers` maps its outcomes).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use workflow_runtime::{JobContext, JobError, Registry, handler};

use crate::plan::{PARALLEL, PLAN, idempotency_key, reference, request};
use crate::platform::{Journal, eventually, worker};

/// The downstream system's retry budget in the stand-in: attempts of one call.
pub const BUDGET: usize = 3;

/// A task that answers only once something else happened in its instance.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    /// That task's external call answered.
    Answered(&'static str),
    /// A job of that type ran.
    Ran(&'static str),
}

/// Failures and timings the stand-ins are told to produce.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// `order.validate` refuses this order: VALIDATION_FAILED.
    pub invalid_order: Option<&'static str>,
    /// `order.decompose` cannot plan this order: DECOMPOSITION_FAILED.
    pub unplannable_order: Option<&'static str>,
    /// `order.advance` answers `halted` at its nth call for an order (1-based).
    pub halt_at_advance: Option<usize>,
    /// `order.complete` finds the order fallen out: ORDER_HALTED.
    pub halted_at_completion: bool,
    /// The downstream refuses this task: `<SYSTEM>_REJECTED` with its reason and task.
    pub refused_task: Option<&'static str>,
    /// This task's first call fails technically with budget left (FAILED_TECHNICAL).
    pub flaky_task: Option<&'static str>,
    /// This task's system is down while `down` is set: every call fails technically, the
    /// last one of the budget leaving 0 retries.
    pub down_task: Option<&'static str>,
    pub down: Arc<AtomicBool>,
    /// A task whose call answers only once the condition holds.
    pub hold: Option<(&'static str, Until)>,
}

/// The stand-in workers of one scenario, their journal and what they keep between jobs.
#[derive(Clone, Default)]
pub struct StandIns {
    pub journal: Journal,
    faults: Faults,
    /// Tasks each order's `order.advance` recorded as succeeded.
    succeeded: Arc<Mutex<HashMap<String, HashSet<String>>>>,
    /// `order.advance` calls per order.
    advances: Arc<Mutex<HashMap<String, usize>>>,
    /// External calls per (instance, task).
    attempts: Arc<Mutex<HashMap<(i64, String), usize>>>,
    /// The parallel tasks whose job was activated, per instance.
    activated: Arc<Mutex<HashMap<i64, HashSet<String>>>>,
    /// Parallel tasks that gave up waiting for their sibling's activation.
    overlap_missed: Arc<AtomicUsize>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderInput {
    tenant_id: String,
    order_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AdvanceInput {
    order_id: String,
    #[serde(default)]
    task_results: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FalloutInput {
    order_id: String,
    fallout_step: String,
    fallout_code: String,
    #[serde(default)]
    fallout_reason: Option<String>,
    #[serde(default)]
    rejected_task_id: Option<String>,
}

/// What an external-call job reads (`integration::workers::ExternalCallVariables`): tenant
/// and order from the process, task, item and request from the element's input mappings.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalCallInput {
    tenant_id: String,
    order_id: String,
    #[serde(default)]
    order_item_id: Option<String>,
    task_id: String,
    request: Value,
}

/// A refusal of an `order.*` step, as the order service's workers throw it.
fn order_refusal(error_code: &str, code: &str, reason: &str) -> JobError {
    JobError::business(error_code, format!("{code}: {reason}"))
        .with_variables(&json!({"falloutReason": format!("{code}: {reason}")}))
        .expect("refusal variables")
}

impl StandIns {
    pub fn new(faults: Faults) -> Self {
        Self {
            faults,
            ..Self::default()
        }
    }

    /// How many parallel tasks were not activated together with their sibling.
    pub fn overlap_missed(&self) -> usize {
        self.overlap_missed.load(Ordering::SeqCst)
    }

    /// Every job type of the process with its stand-in.
    pub fn registry(&self) -> Registry {
        let validate = self.order_step(|s, input| match s.faults.invalid_order {
            Some(id) if id == input.order_id => Err(order_refusal(
                "VALIDATION_FAILED",
                "CUSTOMER_BLOCKED",
                "customer cust-42 is blocked",
            )),
            _ => Ok(json!({"orderStep": "VALIDATED"})),
        });
        let decompose = self.order_step(|s, input| match s.faults.unplannable_order {
            Some(id) if id == input.order_id => Err(order_refusal(
                "DECOMPOSITION_FAILED",
                "NO_FULFILMENT_PROFILE",
                "offering FIBER-1G has no fulfilment profile",
            )),
            _ => Ok(json!({"planHash": format!("plan-{}", input.order_id)})),
        });
        let complete = self.order_step(|s, _| {
            if s.faults.halted_at_completion {
                Err(order_refusal(
                    "ORDER_HALTED",
                    "ORDER_IN_FALLOUT",
                    "the order is FALLOUT",
                ))
            } else {
                Ok(json!({"orderStep": "COMPLETED"}))
            }
        });
        let s = self.clone();
        let advance = handler(move |ctx: JobContext, input: AdvanceInput| {
            let answer = s.advance(&ctx, input);
            async move { Ok::<_, JobError>(answer) }
        });
        let s = self.clone();
        let external = move || {
            let s = s.clone();
            handler(move |ctx: JobContext, input: ExternalCallInput| {
                let s = s.clone();
                async move { s.external_call(ctx, input).await }
            })
        };
        let journal = self.journal.clone();
        let fallout = handler(move |ctx: JobContext, input: FalloutInput| {
            journal.record(
                &ctx,
                json!({"orderId": input.order_id, "falloutStep": input.fallout_step,
                       "falloutCode": input.fallout_code, "falloutReason": input.fallout_reason,
                       "rejectedTaskId": input.rejected_task_id}),
            );
            async move { Ok::<_, JobError>(json!({"orderStep": "FALLOUT"})) }
        });
        Registry::new()
            .register(worker("order.validate", 3), validate)
            .register(worker("order.decompose", 3), decompose)
            .register(worker("order.advance", 5), advance)
            .register(worker("integration.inventory.reserve", 5), external())
            .register(worker("integration.provisioning.activate", 5), external())
            .register(worker("integration.billing.start", 5), external())
            .register(worker("order.complete", 3), complete)
            .register(worker("order.record-fallout", 5), fallout)
    }

    /// An `order.*` step: records the job, then answers as `answer` says.
    fn order_step(
        &self,
        answer: impl Fn(&Self, &OrderInput) -> Result<Value, JobError> + Send + Sync + 'static,
    ) -> impl workflow_runtime::JobHandler {
        let s = self.clone();
        handler(move |ctx: JobContext, input: OrderInput| {
            s.journal.record(
                &ctx,
                json!({"tenantId": input.tenant_id, "orderId": input.order_id}),
            );
            let answer = answer(&s, &input);
            async move { answer }
        })
    }

    /// `order.advance`: records the finished batch's successes, answers every task not yet
    /// succeeded whose dependencies all succeeded (a redelivered job gets the same batch).
    fn advance(&self, ctx: &JobContext, input: AdvanceInput) -> Value {
        let call = {
            let mut advances = self.advances.lock().unwrap();
            let n = advances.entry(input.order_id.clone()).or_default();
            *n += 1;
            *n
        };
        let results = input.task_results.clone().unwrap_or(Value::Null);
        let answer = if self.faults.halt_at_advance == Some(call) {
            json!({"readyTasks": [], "planSettled": false, "halted": true})
        } else {
            let mut all = self.succeeded.lock().unwrap();
            let succeeded = all.entry(input.order_id.clone()).or_default();
            for result in results.as_array().into_iter().flatten() {
                if result["call"]["outcome"] == "SUCCEEDED" {
                    let task = result["taskId"].as_str().expect("taskId");
                    succeeded.insert(task.to_owned());
                }
            }
            let ready: Vec<Value> = PLAN
                .iter()
                .filter(|t| !succeeded.contains(t.task_id))
                .filter(|t| t.after.iter().all(|d| succeeded.contains(*d)))
                .map(|t| {
                    json!({"taskId": t.task_id, "orderItemId": t.order_item_id,
                           "taskType": t.task_type, "jobType": t.job_type, "retries": 5,
                           "request": request(t.task_id)})
                })
                .collect();
            let settled = PLAN.iter().all(|t| succeeded.contains(t.task_id));
            json!({"readyTasks": ready, "planSettled": settled, "halted": false})
        };
        let ready_ids: Vec<Value> = answer["readyTasks"]
            .as_array()
            .expect("readyTasks")
            .iter()
            .map(|t| t["taskId"].clone())
            .collect();
        self.journal.record(
            ctx,
            json!({"orderId": input.order_id, "taskResults": results, "readyTaskIds": ready_ids,
                   "planSettled": answer["planSettled"], "halted": answer["halted"]}),
        );
        answer
    }

    /// An external call: waits for its parallel sibling's activation and for its hold, then
    /// answers as the faults say and records what it was given and answered.
    async fn external_call(
        &self,
        ctx: JobContext,
        input: ExternalCallInput,
    ) -> Result<Value, JobError> {
        let instance = ctx.process_instance_key;
        let task = input.task_id.clone();
        if PARALLEL.contains(&task.as_str()) {
            self.activated
                .lock()
                .unwrap()
                .entry(instance)
                .or_default()
                .insert(task.clone());
            let activated = Arc::clone(&self.activated);
            let together = eventually(|| {
                let all = activated.lock().unwrap();
                PARALLEL.iter().all(|t| all[&instance].contains(*t))
            })
            .await;
            if !together {
                self.overlap_missed.fetch_add(1, Ordering::SeqCst);
            }
        }
        if let Some((held, until)) = self.faults.hold
            && held == task
        {
            let journal = self.journal.clone();
            eventually(|| {
                journal.calls(instance).iter().any(|c| match until {
                    Until::Answered(other) => c.seen["taskId"] == other,
                    Until::Ran(job_type) => c.job_type == job_type,
                })
            })
            .await;
            // Let the engine take the awaited answer before this one.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let n = attempts.entry((instance, task.clone())).or_default();
            *n += 1;
            *n
        };
        let key = idempotency_key(&input.order_id, &task);
        let (name, outcome) = if self.faults.refused_task == Some(task.as_str()) {
            ("REJECTED_BUSINESS", refusal(&ctx.job_type, &task, &key))
        } else if self.faults.flaky_task == Some(task.as_str()) && attempt == 1 {
            (
                "FAILED_TECHNICAL",
                Err(not_applied(&ctx.job_type, BUDGET - attempt)),
            )
        } else if self.faults.down_task == Some(task.as_str())
            && self.faults.down.load(Ordering::SeqCst)
        {
            let left = BUDGET.saturating_sub(attempt);
            ("FAILED_TECHNICAL", Err(not_applied(&ctx.job_type, left)))
        } else {
            let call = json!({"externalCall": {"idempotencyKey": key, "outcome": "SUCCEEDED",
                                               "externalReference": reference(&task)}});
            ("SUCCEEDED", Ok(call))
        };
        self.journal.record(
            &ctx,
            json!({"tenantId": input.tenant_id, "orderId": input.order_id,
                   "orderItemId": input.order_item_id, "taskId": task,
                   "request": input.request, "answer": name}),
        );
        outcome
    }
}

/// REJECTED_BUSINESS: the system's `<SYSTEM>_REJECTED` with `falloutReason` and the task.
fn refusal(job_type: &str, task: &str, key: &str) -> Result<Value, JobError> {
    let (error_code, code, message) = match job_type {
        "integration.inventory.reserve" => (
            "INVENTORY_REJECTED",
            "INSUFFICIENT_STOCK",
            "FIBER-ONT out of stock at DC-1",
        ),
        "integration.provisioning.activate" => (
            "PROVISIONING_REJECTED",
            "UNSUPPORTED_CPE_MODEL",
            "CPE-XR500 cannot be configured on this line",
        ),
        _ => (
            "BILLING_REJECTED",
            "ACCOUNT_CLOSED",
            "billing account BA-42 is closed",
        ),
    };
    Err(JobError::business(
        error_code,
        format!("{job_type} refused: {message} ({code})"),
    )
    .with_variables(&json!({
        "falloutReason": format!("{code}: {message}"),
        "rejectedTaskId": task,
        "externalCall": {"idempotencyKey": key, "outcome": "REJECTED_BUSINESS",
                         "failureCode": code},
    }))
    .expect("refusal variables"))
}

/// FAILED_TECHNICAL: `FailJob` with what the budget has left and its back-off.
fn not_applied(job_type: &str, left: usize) -> JobError {
    let system = job_type.split('.').nth(1).unwrap_or(job_type);
    JobError::technical(format!(
        "FAILED_TECHNICAL: {system} system unavailable; {left} attempts left"
    ))
    .retry_after(Duration::from_millis(100))
    .with_retries(i32::try_from(left).expect("small budget"))
}
