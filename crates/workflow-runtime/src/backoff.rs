//! Retry back-off for technical failures.
//!
//! Zeebe tells a worker only how many retries a job has *left*, not how many it started with,
//! so the attempt number is derived from a configured starting count (the BPMN default, 3):
//!
//! ```text
//! attempt  = max(1, initial_retries - retries_left + 1)          // 1 for the first failure
//! back-off = min(max, base * 2^(attempt - 1))                     // base, 2·base, 4·base, …
//! ```
//!
//! With the defaults (base 1 s, max 5 min, 3 retries) the failures of a 3-retry task wait 1 s and
//! 2 s, and the third failure leaves 0 retries, which raises an incident (no back-off applies).
//! A task configured with more retries than `initial_retries` starts at `base` and grows from
//! there once its remaining retries drop below `initial_retries`. No jitter: the engine
//! schedules each job's retry on its own, and a deterministic delay keeps tests exact.

use std::time::Duration;

/// How technical failures are retried; one per worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries a task is assumed to start with (Zeebe's default is 3), to number attempts.
    pub initial_retries: i32,
    /// Back-off after the first failure.
    pub base: Duration,
    /// Upper bound of any back-off, so a long-failing job is still retried regularly.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial_retries: 3,
            base: Duration::from_secs(1),
            max: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The 1-based number of this failure, from the retries the job had when it was activated.
    pub fn attempt(&self, retries_left: i32) -> u32 {
        let attempt = i64::from(self.initial_retries) - i64::from(retries_left) + 1;
        u32::try_from(attempt.max(1)).unwrap_or(u32::MAX)
    }

    /// The back-off after failure number `attempt` (1-based): `min(max, base * 2^(attempt-1))`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32
            .checked_pow(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The back-off for a job failing with `retries_left` retries at activation.
    pub fn backoff_for(&self, retries_left: i32) -> Duration {
        self.backoff(self.attempt(retries_left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_count_up_as_retries_run_out() {
        let p = RetryPolicy::default();
        assert_eq!(p.attempt(3), 1);
        assert_eq!(p.attempt(2), 2);
        assert_eq!(p.attempt(1), 3);
        // More retries than assumed: still the first attempt, never 0 or negative.
        assert_eq!(p.attempt(10), 1);
        // Nonsense input stays in range instead of overflowing: 3 - i32::MIN + 1 fits a u32.
        let expected = u32::try_from(3 - i64::from(i32::MIN) + 1).unwrap_or(u32::MAX);
        assert_eq!(p.attempt(i32::MIN), expected);
    }

    #[test]
    fn backoff_doubles_from_base_and_is_capped() {
        let p = RetryPolicy {
            initial_retries: 10,
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        let got: Vec<u128> = (1..=6).map(|a| p.backoff(a).as_millis()).collect();
        assert_eq!(got, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(p.backoff(0), Duration::from_millis(100));
        assert_eq!(p.backoff(u32::MAX), Duration::from_secs(1), "no overflow");
        assert_eq!(p.backoff_for(10), Duration::from_millis(100));
        assert_eq!(p.backoff_for(8), Duration::from_millis(400));
    }
}
