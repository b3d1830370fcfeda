//! Redis for tests: the shared server, or a private `redis-server` process a test may stop to
//! prove the service works without its cache.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// URL of the Redis tests share.
pub fn redis_url() -> String {
    if let Ok(url) = std::env::var("REDIS_URL")
        && !url.trim().is_empty()
    {
        return url;
    }
    if crate::port_open(6379) {
        return "redis://127.0.0.1:6379".to_owned();
    }
    #[cfg(feature = "docker")]
    if let Some(port) = crate::docker::start("redis", "7", 6379, "Ready to accept connections") {
        return format!("redis://127.0.0.1:{port}");
    }
    panic!(
        "No Redis for tests: set REDIS_URL, start redis-server on 127.0.0.1:6379, or build test-support with the `docker` feature on a machine with Docker"
    )
}

/// A private Redis server on a free port, killed on [`RedisProcess::stop`] or drop.
#[derive(Debug)]
pub struct RedisProcess {
    child: Option<Child>,
    port: u16,
}

impl RedisProcess {
    /// Starts `redis-server` (without persistence) and waits until it accepts connections.
    pub fn start() -> Self {
        let port = crate::free_port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start redis-server (install Debian's redis-server): {e}")
            });
        let deadline = Instant::now() + Duration::from_secs(10);
        while !crate::port_open(port) {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child: Some(child),
            port,
        }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The keys matching `pattern` (`SCAN`, so a test sees what a service wrote).
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        let output = Command::new("redis-cli")
            .args(["-u", &self.url(), "--scan", "--pattern", pattern])
            .output()
            .expect("redis-cli runs");
        assert!(output.status.success(), "redis-cli failed: {output:?}");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Kills the server and waits until the port is closed.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while crate::port_open(self.port) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
