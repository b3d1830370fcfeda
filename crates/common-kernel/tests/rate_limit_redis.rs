//! The shared limiter against real Redis servers: replicas share one budget, a killed or stalled
//! Redis hands the decisions to each process (limits still apply, nothing answers 5xx, no request
//! waits long) and a restarted one takes them back, each switch logged once; and the Lua script
//! decides exactly as the per-process limiter for any sequence of arrivals.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod rate_limit_support;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common_kernel::rate_limit::{Decision, GCRA_SCRIPT, Limit, LocalLimiter, RouteClass};
use proptest::prelude::*;
use rate_limit_support::{
    TestServer, key, limiter, limits, stored, unique_tenant, wait_until_shared,
};
use test_support::{RedisProcess, TcpProxy};

#[tokio::test]
async fn replicas_share_one_budget_through_redis() {
    let url = test_support::redis_url();
    let settings = limits((60, 3), (60, 1));
    let (one, two) = (limiter(&settings, &url), limiter(&settings, &url));
    wait_until_shared(&one, &url).await;
    wait_until_shared(&two, &url).await;
    let key = key(&unique_tenant(), "web", RouteClass::Read);
    assert_eq!(one.check(&key).await, Decision::Allowed);
    assert_eq!(two.check(&key).await, Decision::Allowed);
    assert_eq!(one.check(&key).await, Decision::Allowed);
    assert!(matches!(two.check(&key).await, Decision::Refused { .. }));
    assert!(matches!(one.check(&key).await, Decision::Refused { .. }));
}

/// Collects what the process logs at WARN and above.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn install() -> Self {
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    }

    fn count(&self, text: &str) -> usize {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .matches(text)
            .count()
    }
}

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A `redis-server` started on the port a stopped [`RedisProcess`] had.
struct Restarted(Child);

impl Restarted {
    fn on_port_of(url: &str) -> Self {
        let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !test_support::port_open(port) {
            assert!(Instant::now() < deadline, "redis-server did not restart");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self(child)
    }
}

impl Drop for Restarted {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends `count` reads as one client and returns the statuses, asserting none took long.
async fn burst(server: &TestServer, tenant: &str, count: usize) -> Vec<u16> {
    let mut statuses = Vec::new();
    for _ in 0..count {
        let started = Instant::now();
        statuses.push(server.status(RouteClass::Read, tenant, "web").await);
        assert!(started.elapsed() < Duration::from_millis(500));
    }
    statuses
}

#[tokio::test]
async fn a_killed_redis_leaves_limits_per_process_and_a_restarted_one_takes_them_back() {
    let logs = Logs::install();
    let mut redis = RedisProcess::start();
    let url = redis.url();
    // One read every 10 s with a burst of 3: no budget refills while the test runs.
    let limiter = limiter(&limits((6, 3), (6, 1)), &url);
    wait_until_shared(&limiter, &url).await;
    let server = TestServer::start(limiter.clone()).await;
    let tenant = unique_tenant();
    assert_eq!(burst(&server, &tenant, 5).await, [200, 200, 200, 429, 429]);
    assert!(stored(&url, &key(&tenant, "web", RouteClass::Read)));

    redis.stop();
    // This process now decides alone, from an empty budget: the burst again, then 429s; never
    // a 5xx, never unlimited.
    let statuses = burst(&server, &tenant, 8).await;
    assert_eq!(statuses, [200, 200, 200, 429, 429, 429, 429, 429]);
    let other = unique_tenant();
    assert_eq!(burst(&server, &other, 4).await, [200, 200, 200, 429]);
    assert_eq!(logs.count("Redis unavailable"), 1, "one WARN per switch");

    let _restarted = Restarted::on_port_of(&url);
    let fresh = unique_tenant();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !stored(&url, &key(&fresh, "web", RouteClass::Read)) {
        assert!(Instant::now() < deadline, "Redis was never used again");
        let status = server.status(RouteClass::Read, &fresh, "web").await;
        assert!(status == 200 || status == 429, "{status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Decisions are shared again: a second replica sees this one's spending.
    let replica = rate_limit_support::limiter(&limits((6, 3), (6, 1)), &url);
    wait_until_shared(&replica, &url).await;
    let shared_key = key(&unique_tenant(), "web", RouteClass::Read);
    for _ in 0..3 {
        assert_eq!(limiter.check(&shared_key).await, Decision::Allowed);
    }
    assert!(matches!(
        replica.check(&shared_key).await,
        Decision::Refused { .. }
    ));
    assert_eq!(logs.count("Redis unavailable"), 1);
    assert_eq!(logs.count("Redis answers again"), 1);
}

#[tokio::test]
async fn a_stalled_redis_costs_each_request_at_most_the_timeout() {
    let redis = RedisProcess::start();
    let proxy = TcpProxy::start(&redis.url().replace("redis://", ""));
    let url = format!("redis://{}", proxy.address());
    let settings = limits((6, 2), (6, 1));
    let limiter = limiter(&settings, &url);
    wait_until_shared(&limiter, &redis.url()).await;

    proxy.stall();
    let key = key(&unique_tenant(), "web", RouteClass::Read);
    let mut decisions = Vec::new();
    for _ in 0..6 {
        let started = Instant::now();
        decisions.push(limiter.check(&key).await == Decision::Allowed);
        // The timeout is 50 ms; the margin is for a busy test machine.
        assert!(
            started.elapsed() < Duration::from_millis(400),
            "{:?}",
            started.elapsed()
        );
    }
    assert_eq!(decisions, [true, true, false, false, false, false]);
    proxy.unblock();
    drop(redis);
}

/// Runs [`GCRA_SCRIPT`] as the limiter does, at a given arrival time.
fn script_at(connection: &mut redis::Connection, key: &str, limit: Limit, now: u64) -> (i64, i64) {
    redis::cmd("EVAL")
        .arg(GCRA_SCRIPT)
        .arg(1)
        .arg(key)
        .arg(limit.interval_micros())
        .arg(limit.burst())
        .arg(now)
        .query(connection)
        .unwrap()
}

/// A limit and arrival gaps (µs) that mix back-to-back bursts with waits around the interval.
/// Rates stay at or below 300/min (5/s) so a stored time-to-live (computed on the replayed clock, at
/// least one interval) outlasts the real time a case takes.
fn arrivals() -> impl Strategy<Value = (Limit, Vec<u64>)> {
    (12u32..300, 1u32..6).prop_flat_map(|(per_minute, burst)| {
        let limit = Limit::new(per_minute, burst);
        let interval = limit.interval_micros();
        let gap = prop_oneof![Just(0), 0..interval / 4, 0..interval * 3];
        (Just(limit), proptest::collection::vec(gap, 1..40))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn the_script_decides_exactly_as_the_local_limiter((limit, gaps) in arrivals()) {
        let mut connection = rate_limit_support::redis(&test_support::redis_url());
        let local = LocalLimiter::new(16);
        let key = key(&unique_tenant(), "web", RouteClass::Command);
        // A realistic epoch in microseconds: the script's doubles must stay exact there.
        let mut now = 1_767_225_600_000_000_u64;
        for gap in gaps {
            now += gap;
            let shared = script_at(&mut connection, &key.redis_key(), limit, now);
            let expected = match local.check_at(&key, limit, now) {
                Decision::Allowed => (1, 0),
                Decision::Refused { retry_after } => {
                    (0, i64::try_from(retry_after.as_micros()).unwrap())
                }
            };
            prop_assert_eq!(shared, expected, "at {}", now);
        }
    }
}
