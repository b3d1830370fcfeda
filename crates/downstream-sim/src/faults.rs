//! Fault injection: what `POST /faults` registers and which request each fault hits. The first
//! active fault that matches (registration order) wins; a `times` fault is used up one match at
//! a time; a `probability` fault hits that share of matches.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::systems::{SYSTEMS, operations};

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    /// Wait, then process normally.
    Delay,
    /// Apply, then answer after the wait.
    Timeout,
    /// 503, no effect.
    #[serde(rename = "ERROR_5XX")]
    Error5xx,
    /// 422 with a code, no effect.
    Reject,
    /// Apply, then drop the connection without an answer.
    DropConnection,
    /// The system's listener is closed for the wait.
    Unavailable,
}

/// A registered fault, as `POST /faults` takes it and `GET /faults` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// Its id (set by the simulator).
    #[serde(default)]
    pub fault_id: u64,
    /// The system.
    pub system: String,
    /// The operation (`status` for status queries); every request of the system when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// What it does.
    pub mode: Mode,
    /// Matches left; until deleted when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Share of matches it hits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// The wait of DELAY, TIMEOUT and UNAVAILABLE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// REJECT's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// REJECT's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Only requests whose body contains this text (data the downstream refuses, which a
    /// corrected request no longer carries); every request when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
}

impl Fault {
    /// The wait this fault imposes.
    pub fn wait(&self) -> Duration {
        let default = match self.mode {
            Mode::Timeout => 60_000,
            _ => 1000,
        };
        Duration::from_millis(self.delay_ms.unwrap_or(default))
    }

    /// Every problem with the fault, as (field, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if !SYSTEMS.contains(&self.system.as_str()) {
            problems.push(("/system", format!("one of {}", SYSTEMS.join(", "))));
        }
        if let Some(operation) = &self.operation
            && operation != "status"
            && !operations(&self.system).contains(&operation.as_str())
        {
            problems.push(("/operation", "not an operation of the system".to_owned()));
        }
        if self.times.is_some() && self.probability.is_some() {
            problems.push(("/times", "give times or probability, not both".to_owned()));
        }
        if self.times == Some(0) {
            problems.push(("/times", "at least 1".to_owned()));
        }
        if self.probability.is_some_and(|p| !(p > 0.0 && p <= 1.0)) {
            problems.push(("/probability", "greater than 0, at most 1".to_owned()));
        }
        if self.mode == Mode::Unavailable {
            if self.operation.is_some() {
                problems.push((
                    "/operation",
                    "a system is unavailable as a whole".to_owned(),
                ));
            }
            if self.delay_ms.is_none() {
                problems.push((
                    "/delayMs",
                    "UNAVAILABLE needs the outage's length".to_owned(),
                ));
            }
        }
        problems
    }
}

/// The active faults.
#[derive(Debug, Default)]
pub struct Faults {
    active: Mutex<Vec<Fault>>,
    next_id: AtomicU64,
    dice: AtomicU64,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a checked fault; returns it with its id.
    pub fn add(&self, mut fault: Fault) -> Fault {
        fault.fault_id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        self.lock().push(fault.clone());
        fault
    }

    /// The active faults.
    pub fn list(&self) -> Vec<Fault> {
        self.lock().clone()
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Removes one; whether it existed.
    pub fn remove(&self, id: u64) -> bool {
        let mut active = self.lock();
        let before = active.len();
        active.retain(|f| f.fault_id != id);
        active.len() != before
    }

    fn roll(&self, probability: f64) -> bool {
        // A deterministic low-discrepancy sequence: tests see the share, not luck.
        let n = self.dice.fetch_add(1, Ordering::Relaxed);
        let x = (n as f64 * 0.618_033_988_749_895).fract();
        x < probability
    }

    /// The fault that hits a request of `operation` at `system`, used up by one when counted.
    pub fn hit(&self, system: &str, operation: &str) -> Option<Fault> {
        self.hit_body(system, operation, b"")
    }

    /// Like [`Faults::hit`], for a request with `body` (a fault with `bodyContains` hits only
    /// bodies that contain its text).
    pub fn hit_body(&self, system: &str, operation: &str, body: &[u8]) -> Option<Fault> {
        let mut active = self.lock();
        let index = active.iter().position(|f| {
            f.system == system
                && f.mode != Mode::Unavailable
                && f.operation.as_deref().is_none_or(|o| o == operation)
                && f.body_contains.as_deref().is_none_or(|text| {
                    !text.is_empty()
                        && body
                            .windows(text.len())
                            .any(|window| window == text.as_bytes())
                })
        })?;
        let fault = active[index].clone();
        if let Some(p) = fault.probability {
            drop(active);
            return self.roll(p).then_some(fault);
        }
        if let Some(times) = fault.times {
            if times <= 1 {
                active.remove(index);
            } else {
                active[index].times = Some(times - 1);
            }
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(json: serde_json::Value) -> Fault {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_body_fault_hits_only_the_data_it_names() {
        let faults = Faults::default();
        faults.add(fault(serde_json::json!({
            "system": "provisioning", "operation": "activate", "mode": "REJECT",
            "code": "BANDWIDTH_UNAVAILABLE", "bodyContains": "\"bandwidthMbps\":1000"
        })));
        assert!(
            faults
                .hit_body("provisioning", "activate", br#"{"bandwidthMbps":500}"#)
                .is_none()
        );
        assert!(faults.hit("provisioning", "activate").is_none());
        let hit = faults.hit_body(
            "provisioning",
            "activate",
            br#"{"x":{"bandwidthMbps":1000}}"#,
        );
        assert_eq!(hit.unwrap().code.as_deref(), Some("BANDWIDTH_UNAVAILABLE"));
    }

    #[test]
    fn times_are_used_up_and_the_first_match_wins() {
        let faults = Faults::default();
        faults.add(fault(serde_json::json!({"system": "billing", "operation": "start", "mode": "ERROR_5XX", "times": 2})));
        faults.add(fault(
            serde_json::json!({"system": "billing", "mode": "DELAY", "delayMs": 5}),
        ));
        assert_eq!(faults.hit("billing", "start").unwrap().mode, Mode::Error5xx);
        assert_eq!(faults.hit("billing", "start").unwrap().mode, Mode::Error5xx);
        assert_eq!(faults.hit("billing", "start").unwrap().mode, Mode::Delay);
        assert_eq!(faults.hit("billing", "status").unwrap().mode, Mode::Delay);
        assert!(faults.hit("inventory", "reserve").is_none());
        faults.clear();
        assert!(faults.hit("billing", "start").is_none());
    }

    #[test]
    fn probability_hits_its_share_and_bad_faults_name_their_fields() {
        let faults = Faults::default();
        faults.add(fault(
            serde_json::json!({"system": "crm", "mode": "ERROR_5XX", "probability": 0.25}),
        ));
        let hits = (0..1000)
            .filter(|_| faults.hit("crm", "update-order-status").is_some())
            .count();
        assert!((200..=300).contains(&hits), "{hits}");
        let bad = fault(
            serde_json::json!({"system": "erp", "operation": "x", "mode": "UNAVAILABLE", "times": 1, "probability": 2.0}),
        );
        let fields: Vec<_> = bad.problems().into_iter().map(|(f, _)| f).collect();
        assert!(
            fields.contains(&"/system")
                && fields.contains(&"/probability")
                && fields.contains(&"/delayMs")
        );
    }
}
