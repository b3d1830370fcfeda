//! Rate limits for tests that are not about them.
//!
//! Concurrent tests share the Redis server, one demo tenant and one client id, so with the
//! production defaults one test's requests would spend another's budget. Harnesses start
//! services with these budgets; the rate-limit tests pass their own, tight ones, with a tenant
//! of their own.

/// `APP__RATE_LIMIT__*` settings no test reaches: the largest rates and bursts the settings
/// accept. The limiter still runs on every request.
pub fn generous_rate_limits() -> [(&'static str, String); 4] {
    [
        ("APP__RATE_LIMIT__READ_PER_MINUTE", "60000000".to_owned()),
        ("APP__RATE_LIMIT__READ_BURST", "1000000".to_owned()),
        ("APP__RATE_LIMIT__COMMAND_PER_MINUTE", "60000000".to_owned()),
        ("APP__RATE_LIMIT__COMMAND_BURST", "1000000".to_owned()),
    ]
}
