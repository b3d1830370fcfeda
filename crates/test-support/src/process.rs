//! A service binary run as a child process with its stdout and stderr captured, for tests that
//! read what the real process logs (no tokens, no secrets).

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running service binary; its output goes to a file read by [`ServiceProcess::stop`].
#[derive(Debug)]
pub struct ServiceProcess {
    child: Option<Child>,
    output: PathBuf,
}

impl ServiceProcess {
    /// Starts `program` with exactly `env` (plus `PATH`) and waits until `ready_url` answers
    /// 2xx (30 s at most, failing with what the process wrote).
    pub fn start(program: &str, env: &[(&str, String)], ready_url: &str) -> Self {
        let output = std::env::temp_dir().join(format!("service-{}.log", uuid::Uuid::now_v7()));
        let file = File::create(&output).expect("cannot create the output file");
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(Stdio::from(
                file.try_clone().expect("cannot share the output file"),
            ))
            .stderr(Stdio::from(file));
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let mut process = Self {
            child: Some(child),
            output,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !answers(ready_url) {
            if let Some(status) = process
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("{program} exited with {status}:\n{}", process.output());
            }
            assert!(
                Instant::now() < deadline,
                "{program} did not answer {ready_url} within 30 s:\n{}",
                process.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        process
    }

    /// What the process wrote so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    /// Stops the process with SIGTERM (SIGKILL after 10 s) and returns everything it wrote.
    pub fn stop(mut self) -> String {
        self.terminate();
        self.output()
    }

    /// Kills the process with SIGKILL, as a crash or an OOM kill would: no shutdown hook runs.
    /// Returns everything it wrote.
    pub fn kill(mut self) -> String {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.output()
    }

    fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        self.terminate();
        let _ = std::fs::remove_file(&self.output);
    }
}

/// Whether a plain HTTP/1.1 GET of `url` (`http://host:port/path`) answers 2xx.
fn answers(url: &str) -> bool {
    use std::io::{Read, Write};
    let Some(rest) = url.strip_prefix("http://") else {
        panic!("only http:// URLs: {url}");
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(mut stream) = std::net::TcpStream::connect(authority) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 2")
}

/// Fails naming each `(what, value)` that occurs in `logs` (tokens, their signatures, secrets),
/// with the first lines that contain one.
pub fn assert_not_logged(logs: &str, secrets: &[(String, String)]) {
    let present = |line: &str| {
        secrets
            .iter()
            .any(|(_, value)| !value.is_empty() && line.contains(value.as_str()))
    };
    let leaked: Vec<&str> = secrets
        .iter()
        .filter(|(_, value)| !value.is_empty() && logs.contains(value.as_str()))
        .map(|(what, _)| what.as_str())
        .collect();
    let lines: Vec<&str> = logs.lines().filter(|l| present(l)).take(5).collect();
    assert!(
        leaked.is_empty(),
        "the logs contain {leaked:?}:\n{}",
        lines.join("\n")
    );
}
