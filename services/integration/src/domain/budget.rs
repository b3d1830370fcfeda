//! The retry budget of one downstream system: how many technical failures an effect may take
//! before an operator must look, and how long to wait between attempts. The engine does the
//! waiting (the job fails with this back-off), so no worker sleeps and a restart loses nothing.

use std::time::Duration;

/// How technical failures of one system are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryBudget {
    /// Attempts an effect may make before its technical failures go to an operator (≥ 1).
    pub max_attempts: u32,
    /// Wait after the first failure.
    pub base_backoff: Duration,
    /// Longest wait between two attempts.
    pub max_backoff: Duration,
}

impl Default for RetryBudget {
    /// 10 attempts, 0.5 s doubling to 8 s: about 47 s of waiting, enough to ride out a
    /// downstream restart without paging anyone.
    fn default() -> Self {
        Self {
            max_attempts: 10,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }
}

impl RetryBudget {
    /// Attempts left after `failures` technical failures.
    pub fn remaining(&self, failures: u32) -> u32 {
        self.max_attempts.saturating_sub(failures)
    }

    /// The wait after failure number `failures` (1-based): `min(max, base · 2^(failures-1))`.
    pub fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32
            .checked_pow(failures.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_the_default_rides_out_thirty_seconds() {
        let budget = RetryBudget::default();
        assert_eq!(budget.backoff(1), Duration::from_millis(500));
        assert_eq!(budget.backoff(2), Duration::from_secs(1));
        assert_eq!(budget.backoff(5), Duration::from_secs(8));
        assert_eq!(budget.backoff(40), Duration::from_secs(8));
        let waited: Duration = (1..budget.max_attempts).map(|n| budget.backoff(n)).sum();
        assert!(waited > Duration::from_secs(30), "{waited:?}");
        assert_eq!(budget.remaining(3), 7);
        assert_eq!(budget.remaining(12), 0);
    }
}
