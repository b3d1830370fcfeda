//! Child processes: starting them, relaying their output, waiting for readiness, noticing when one
//! dies, and stopping them all (SIGTERM, then SIGKILL after a grace period).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::process::{Child, Command};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::say;

/// How long a service gets to become ready after it was spawned.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a service gets to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// How often readiness is polled.
const READY_POLL: Duration = Duration::from_millis(250);

/// The signals that end `devstack up`. SIGHUP is included so closing the terminal does not leave
/// services running (they are in their own process group and would not get it themselves).
#[derive(Debug)]
pub struct ShutdownSignals {
    interrupt: Signal,
    terminate: Signal,
    hangup: Signal,
}

impl ShutdownSignals {
    /// Installs the handlers; done before anything is started so no signal is lost.
    pub fn install() -> Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt()).context("installing SIGINT handler")?,
            terminate: signal(SignalKind::terminate()).context("installing SIGTERM handler")?,
            hangup: signal(SignalKind::hangup()).context("installing SIGHUP handler")?,
        })
    }

    /// Waits for the next of the three signals and names it.
    pub async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.hangup.recv() => "SIGHUP",
        }
    }
}

/// Where a child's standard output and error go.
#[derive(Debug, Clone)]
pub enum ChildOutput {
    /// Copied line by line to devstack's own, prefixed with the child's name.
    Relay,
    /// Written to this file (created or truncated), for runs whose own output must stay readable.
    File(PathBuf),
}

/// A child that ended without being asked to.
#[derive(Debug)]
pub struct ChildExit {
    /// The service's name.
    pub name: &'static str,
    /// Its exit status, described for humans.
    pub status: String,
}

/// One running child and the means to stop it.
#[derive(Debug)]
struct Supervised {
    name: &'static str,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

/// The children this devstack started (and only those: services found already running are never
/// recorded here, so they are never stopped).
#[derive(Debug)]
pub struct Stack {
    running: Vec<Supervised>,
    exits_tx: mpsc::UnboundedSender<ChildExit>,
    exits_rx: mpsc::UnboundedReceiver<ChildExit>,
}

/// How [`Stack::shutdown`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// Every child exited (on its own, on SIGTERM, or on SIGKILL after the grace period).
    Complete,
    /// A second signal arrived and every remaining child was killed at once.
    Forced,
}

impl Stack {
    /// An empty stack.
    pub fn new() -> Self {
        let (exits_tx, exits_rx) = mpsc::unbounded_channel();
        Self {
            running: Vec::new(),
            exits_tx,
            exits_rx,
        }
    }

    /// Spawns a service binary in its own process group (so a terminal Ctrl-C reaches devstack
    /// alone, and devstack decides the stop order), with its output prefixed by its name.
    pub fn spawn(
        &mut self,
        name: &'static str,
        binary: &Path,
        working_dir: &Path,
        env: &[(&str, String)],
    ) -> Result<u32> {
        self.spawn_with_output(name, binary, working_dir, env, ChildOutput::Relay)
    }

    /// Like [`Stack::spawn`], with the child's output going where `output` says.
    pub fn spawn_with_output(
        &mut self,
        name: &'static str,
        binary: &Path,
        working_dir: &Path,
        env: &[(&str, String)],
        output: ChildOutput,
    ) -> Result<u32> {
        self.spawn_with_arguments(name, binary, &[], working_dir, env, output)
    }

    /// Like [`Stack::spawn_with_output`], with command-line arguments (the services take none;
    /// the downstream simulator takes its addresses as flags).
    pub fn spawn_with_arguments(
        &mut self,
        name: &'static str,
        binary: &Path,
        arguments: &[String],
        working_dir: &Path,
        env: &[(&str, String)],
        output: ChildOutput,
    ) -> Result<u32> {
        let mut command = Command::new(binary);
        command
            .args(arguments)
            .current_dir(working_dir)
            .envs(env.iter().map(|(key, value)| (*key, value.as_str())))
            .stdin(Stdio::null())
            .process_group(0)
            .kill_on_drop(true);
        match &output {
            ChildOutput::Relay => {
                command.stdout(Stdio::piped()).stderr(Stdio::piped());
            }
            ChildOutput::File(path) => {
                let file = File::create(path)
                    .with_context(|| format!("could not create {}", path.display()))?;
                let copy = file
                    .try_clone()
                    .with_context(|| format!("could not share {}", path.display()))?;
                command.stdout(Stdio::from(file)).stderr(Stdio::from(copy));
            }
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("could not start {}", binary.display()))?;
        let pid = child
            .id()
            .with_context(|| format!("{name} exited before its pid could be read"))?;
        if let Some(stdout) = child.stdout.take() {
            relay_lines(name, stdout.into_owned_fd()?, Stream::Stdout)?;
        }
        if let Some(stderr) = child.stderr.take() {
            relay_lines(name, stderr.into_owned_fd()?, Stream::Stderr)?;
        }
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(supervise(name, child, stop_rx, self.exits_tx.clone()));
        self.running.push(Supervised {
            name,
            stop: Some(stop_tx),
            task,
        });
        Ok(pid)
    }

    /// Whether this devstack started anything it must stop.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// The next child that exits on its own. Never completes when nothing was started.
    pub async fn next_exit(&mut self) -> ChildExit {
        match self.exits_rx.recv().await {
            Some(exit) => exit,
            // Unreachable while `self.exits_tx` lives, but never report a phantom exit.
            None => std::future::pending().await,
        }
    }

    /// Polls `GET <base_url>/health/ready` until it answers 200, failing early if any started
    /// child exits and late after [`READY_TIMEOUT`]. Returns the time since `spawned_at`.
    pub async fn wait_ready(
        &mut self,
        http: &reqwest::Client,
        name: &str,
        base_url: &str,
        spawned_at: Instant,
    ) -> Result<Duration> {
        self.wait_answering(http, name, &format!("{base_url}/health/ready"), spawned_at)
            .await
    }

    /// Polls `GET <url>` until it answers 2xx, failing early if any started child exits and
    /// late after [`READY_TIMEOUT`]. Returns the time since `spawned_at`.
    pub async fn wait_answering(
        &mut self,
        http: &reqwest::Client,
        name: &str,
        url: &str,
        spawned_at: Instant,
    ) -> Result<Duration> {
        loop {
            let attempt = async {
                let answer = http.get(url).timeout(Duration::from_secs(2)).send().await;
                let ready = matches!(&answer, Ok(response) if response.status().is_success());
                if !ready {
                    tokio::time::sleep(READY_POLL).await;
                }
                (ready, answer)
            };
            tokio::select! {
                exit = self.next_exit() => {
                    if exit.name == name {
                        bail!("{name} exited before becoming ready ({})", exit.status);
                    }
                    bail!(
                        "{} exited while {name} was starting ({})",
                        exit.name,
                        exit.status
                    );
                }
                (ready, answer) = attempt => {
                    if ready {
                        return Ok(spawned_at.elapsed());
                    }
                    if spawned_at.elapsed() >= READY_TIMEOUT {
                        let last_answer = match answer {
                            Ok(response) => format!("HTTP {}", response.status()),
                            Err(error) if error.is_connect() => "not listening".to_owned(),
                            Err(error) => error.to_string(),
                        };
                        bail!(
                            "{name} did not become ready within {} s (last answer from {url}: \
                             {last_answer})",
                            READY_TIMEOUT.as_secs()
                        );
                    }
                }
            }
        }
    }

    /// Stops every child this devstack started: SIGTERM to all at once, then waits. A second
    /// signal while waiting kills the rest immediately.
    pub async fn shutdown(mut self, signals: &mut ShutdownSignals) -> Shutdown {
        for child in &mut self.running {
            if let Some(stop) = child.stop.take() {
                // A send error means the child already exited and was reported; nothing to stop.
                let _already_gone = stop.send(());
            }
        }
        let outcome = {
            let wait_all = async {
                for child in self.running.iter_mut().rev() {
                    if let Err(error) = (&mut child.task).await {
                        say(&format!(
                            "    {}: supervisor task failed: {error}",
                            child.name
                        ));
                    }
                }
            };
            tokio::select! {
                () = wait_all => Shutdown::Complete,
                name = signals.recv() => {
                    say(&format!("==> {name} again: killing the remaining services now"));
                    Shutdown::Forced
                }
            }
        };
        if outcome == Shutdown::Forced {
            for child in &self.running {
                // Dropping the aborted task drops its `Child`, whose kill_on_drop sends SIGKILL.
                child.task.abort();
            }
            for child in &mut self.running {
                let _cancelled = (&mut child.task).await;
            }
        }
        outcome
    }
}

/// Owns one child: reports it if it exits by itself, or stops it when asked.
async fn supervise(
    name: &'static str,
    mut child: Child,
    stop: oneshot::Receiver<()>,
    exits: mpsc::UnboundedSender<ChildExit>,
) {
    enum Event {
        Exited(std::io::Result<ExitStatus>),
        StopRequested,
    }
    let event = tokio::select! {
        status = child.wait() => Event::Exited(status),
        // A dropped sender means devstack itself is going away: stop the child too.
        _ = stop => Event::StopRequested,
    };
    match event {
        Event::Exited(status) => {
            let _receiver_gone = exits.send(ChildExit {
                name,
                status: describe(status),
            });
        }
        Event::StopRequested => terminate(name, &mut child).await,
    }
}

/// SIGTERM, a grace period, then SIGKILL.
async fn terminate(name: &str, child: &mut Child) {
    let started = Instant::now();
    let Some(pid) = child.id() else {
        return;
    };
    say(&format!("    stopping {name} (pid {pid}) with SIGTERM"));
    // `kill` keeps this crate free of unsafe code; until we wait on the child its pid cannot be
    // reused, so this signal reaches the right process.
    let sent = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .stdin(Stdio::null())
        .status()
        .await
        .is_ok_and(|status| status.success());
    if !sent {
        say(&format!("    could not SIGTERM {name}; killing it"));
        let _not_running = child.start_kill();
    }
    match tokio::time::timeout(STOP_GRACE, child.wait()).await {
        Ok(status) => say(&format!(
            "    {name} stopped after {:.1} s ({})",
            started.elapsed().as_secs_f64(),
            describe(status)
        )),
        Err(_elapsed) => {
            say(&format!(
                "    {name} still running after {} s; sending SIGKILL",
                STOP_GRACE.as_secs()
            ));
            let _not_running = child.start_kill();
            say(&format!(
                "    {name} killed ({})",
                describe(child.wait().await)
            ));
        }
    }
}

/// An exit status in words.
fn describe(status: std::io::Result<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => format!("exit code {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => status.to_string(),
        },
        Err(error) => format!("status unknown: {error}"),
    }
}

/// Which of our own streams a child's stream is copied to.
#[derive(Debug, Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

/// Copies a child's output line by line, prefixed with its name, on a plain thread (blocking reads
/// on a pipe need no async machinery, and a line-reader thread per stream is cheap).
fn relay_lines(name: &'static str, fd: OwnedFd, stream: Stream) -> Result<()> {
    let width = crate::workflow::name_width();
    let prefix = format!("{name:>width$} | ");
    std::thread::Builder::new()
        .name(format!("{name}-output"))
        .spawn(move || {
            let reader = BufReader::new(File::from(fd));
            for line in reader.split(b'\n') {
                let Ok(line) = line else { break };
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches('\r');
                let written = match stream {
                    Stream::Stdout => writeln!(std::io::stdout().lock(), "{prefix}{text}"),
                    Stream::Stderr => writeln!(std::io::stderr().lock(), "{prefix}{text}"),
                };
                if written.is_err() {
                    break;
                }
            }
        })
        .with_context(|| format!("could not start the output relay for {name}"))?;
    Ok(())
}
