//! When an order counts as stuck: it sits in a status that is not terminal and has made no
//! progress (no order, task or external-call event) for longer than that status's threshold.
//! Thresholds are per status because "a few seconds" is long for ACKNOWLEDGED and normal for
//! IN_PROGRESS with a slow provisioning system.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

/// Statuses an order never leaves on its own: never stuck.
pub const TERMINAL_ORDER_STATUSES: &[&str] = &["COMPLETED", "CANCELLED", "FAILED", "CLOSED"];

/// Thresholds per order status, with a default for the statuses not named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StuckThresholds {
    default: Duration,
    by_status: BTreeMap<String, Duration>,
}

impl Default for StuckThresholds {
    /// Two minutes before fulfilment starts, 30 minutes in fulfilment or cancellation, four
    /// hours in FALLOUT or HELD (an operator owns those), 10 minutes otherwise.
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        let by_status = [
            ("DRAFT", minutes(2)),
            ("ACKNOWLEDGED", minutes(2)),
            ("VALIDATED", minutes(2)),
            ("DECOMPOSED", minutes(2)),
            ("IN_PROGRESS", minutes(30)),
            ("PARTIALLY_COMPLETED", minutes(30)),
            ("CANCELLATION_PENDING", minutes(30)),
            ("FALLOUT", minutes(240)),
            ("HELD", minutes(240)),
        ]
        .into_iter()
        .map(|(status, after)| (status.to_owned(), after))
        .collect();
        Self {
            default: minutes(10),
            by_status,
        }
    }
}

impl StuckThresholds {
    /// Every status after `after` (tests, drills).
    pub fn uniform(after: Duration) -> Self {
        Self {
            default: after,
            by_status: BTreeMap::new(),
        }
    }

    /// Overrides one status's threshold.
    pub fn with(mut self, status: &str, after: Duration) -> Self {
        self.by_status.insert(status.to_owned(), after);
        self
    }

    /// How long an order may sit in `status` without progress.
    pub fn threshold(&self, status: &str) -> Duration {
        self.by_status.get(status).copied().unwrap_or(self.default)
    }

    /// Whether an order in `status`, last progressing at `last_progress`, is stuck at `now`.
    pub fn is_stuck(&self, status: &str, last_progress: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        if TERMINAL_ORDER_STATUSES.contains(&status) {
            return false;
        }
        let idle = (now - last_progress).to_std().unwrap_or_default();
        idle > self.threshold(status)
    }

    /// Every (status, threshold) pair named, for the view and the docs.
    pub fn named(&self) -> impl Iterator<Item = (&str, Duration)> {
        self.by_status.iter().map(|(s, d)| (s.as_str(), *d))
    }

    /// The default threshold.
    pub fn default_threshold(&self) -> Duration {
        self.default
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_orders_are_never_stuck_and_others_after_their_threshold() {
        let thresholds = StuckThresholds::default().with("IN_PROGRESS", Duration::from_secs(60));
        let now = Utc::now();
        let long_ago = now - chrono::Duration::hours(48);
        for terminal in TERMINAL_ORDER_STATUSES {
            assert!(!thresholds.is_stuck(terminal, long_ago, now));
        }
        assert!(thresholds.is_stuck("IN_PROGRESS", now - chrono::Duration::seconds(61), now));
        assert!(!thresholds.is_stuck("IN_PROGRESS", now - chrono::Duration::seconds(59), now));
        assert!(!thresholds.is_stuck("FALLOUT", now - chrono::Duration::minutes(60), now));
        assert!(thresholds.is_stuck("SOMETHING_NEW", now - chrono::Duration::minutes(11), now));
    }
}
