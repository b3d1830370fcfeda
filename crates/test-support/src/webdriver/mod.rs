//! A minimal W3C WebDriver client that drives a headless Chromium through `chromedriver`, for
//! end-to-end tests of the server-rendered operations console: what a user sees and clicks can
//! only be proven by a real browser running the real pages, forms and scripts.
//!
//! It speaks the protocol over `reqwest` (no WebDriver crate), and only the commands those tests
//! use. [`ChromeDriver::start`] runs Debian's `/usr/bin/chromedriver` (or `CHROMEDRIVER`) on a
//! free port, driving `/usr/bin/chromium` (or `CHROMIUM_BINARY`); [`ChromeDriver::available`]
//! tells whether both exist, and the caller decides what a missing browser means. Each
//! [`Browser`] gets a fresh profile directory, so sessions share no cookies or storage.
//!
//! Callers end a session with [`Browser::quit`] (an async drop is not possible). As a safety net,
//! dropping the [`ChromeDriver`] ends any session still open, with a blocking request, before it
//! kills the driver, so a failed test leaves no Chromium behind. The driver's output goes to a
//! log file in the temporary directory, named in every failure message and kept when the test
//! panics.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

mod browser;

pub use browser::{Browser, Element};
use browser::{Session, send};
#[cfg(test)]
use browser::{element_id, parse_answer};

/// The key of an element reference in W3C WebDriver answers and arguments.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Debian's `chromium-driver` package; `CHROMEDRIVER` overrides it.
const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Debian's `chromium` package; `CHROMIUM_BINARY` overrides it.
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// How long the driver may take to report itself ready.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How often the waits look at the page again.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// The longest any single command may take (starting a browser is the slowest).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// The W3C error code of a lookup that matched nothing.
const NO_SUCH_ELEMENT: &str = "no such element";

/// The W3C error code of an element the page has replaced since it was found.
const STALE_ELEMENT: &str = "stale element reference";

/// A failed WebDriver command.
#[derive(Debug)]
pub enum WebDriverError {
    /// The driver refused the command with a W3C error (`code` as in the specification, such as
    /// `no such element`).
    Driver {
        /// The W3C error code.
        code: String,
        /// The driver's explanation.
        message: String,
    },
    /// The HTTP request to the driver failed.
    Http(reqwest::Error),
    /// The driver answered something the protocol does not allow.
    Unexpected(String),
    /// A wait ran out; the message says what was awaited, on which page, and what was seen.
    Timeout(String),
}

impl WebDriverError {
    /// The W3C error code, when the driver refused the command.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Driver { code, .. } => Some(code.as_str()),
            _ => None,
        }
    }
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Driver { code, message } => write!(f, "WebDriver error `{code}`: {message}"),
            Self::Http(e) => write!(f, "WebDriver request failed: {e}"),
            Self::Unexpected(what) => write!(f, "unexpected WebDriver answer: {what}"),
            Self::Timeout(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for WebDriverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Http(e) => Some(e),
            _ => None,
        }
    }
}

impl From<reqwest::Error> for WebDriverError {
    fn from(e: reqwest::Error) -> Self {
        Self::Http(e)
    }
}

/// A session the driver still runs, with the profile directory its browser uses.
#[derive(Debug)]
struct OpenSession {
    id: String,
    profile: PathBuf,
}

/// A running `chromedriver` on a free local port; killed on drop, after it ends the sessions
/// still open.
#[derive(Debug)]
pub struct ChromeDriver {
    child: Child,
    port: u16,
    url: String,
    http: reqwest::Client,
    chromium: PathBuf,
    log: PathBuf,
    open: Arc<Mutex<Vec<OpenSession>>>,
}

impl ChromeDriver {
    /// Whether both `chromedriver` and `chromium` exist (at their Debian paths, or where
    /// `CHROMEDRIVER` and `CHROMIUM_BINARY` say).
    pub fn available() -> bool {
        chromedriver_path().is_file() && chromium_path().is_file()
    }

    /// Starts `chromedriver` on a free port and waits until `GET /status` reports it ready
    /// (20 s at most, failing with what the driver wrote).
    pub async fn start() -> Self {
        let driver = chromedriver_path();
        let chromium = chromium_path();
        assert!(
            driver.is_file(),
            "no chromedriver at {}: install Debian's `chromium-driver` or set CHROMEDRIVER",
            driver.display()
        );
        assert!(
            chromium.is_file(),
            "no Chromium at {}: install Debian's `chromium` or set CHROMIUM_BINARY",
            chromium.display()
        );
        let port = crate::free_port();
        let log = std::env::temp_dir().join(format!("cpq-oms-chromedriver-{port}.log"));
        let file = File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create the driver log {}: {e}", log.display()));
        let file_err = file
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot share the driver log: {e}"));
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(file_err))
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
        let http = reqwest::Client::builder()
            // The driver is local; a proxy from the environment must not sit in between.
            .no_proxy()
            .timeout(COMMAND_TIMEOUT)
            .build()
            .expect("cannot build an HTTP client for chromedriver");
        let mut process = Self {
            child,
            port,
            url: format!("http://127.0.0.1:{port}"),
            http,
            chromium,
            log,
            open: Arc::default(),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        while !process.ready().await {
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!(
                    "chromedriver exited ({status}) before it was ready; see {}:\n{}",
                    process.log.display(),
                    process.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver was not ready on port {port} within {} s; see {}:\n{}",
                START_TIMEOUT.as_secs(),
                process.log.display(),
                process.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        process
    }

    /// Starts a headless Chromium with a fresh profile directory and returns its session.
    pub async fn new_session(&self) -> Browser {
        let profile =
            std::env::temp_dir().join(format!("cpq-oms-chromium-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&profile).unwrap_or_else(|e| {
            panic!(
                "cannot create the profile directory {}: {e}",
                profile.display()
            )
        });
        let answer = send(
            &self.http,
            Method::POST,
            &format!("{}/session", self.url),
            Some(&capabilities(&self.chromium, &profile)),
        )
        .await
        .and_then(|value| session_id(&value));
        let id = match answer {
            Ok(id) => id,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&profile);
                panic!(
                    "chromedriver could not start {}: {e}; see {}",
                    self.chromium.display(),
                    self.log.display()
                );
            }
        };
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(OpenSession {
                id: id.clone(),
                profile: profile.clone(),
            });
        Browser {
            session: Arc::new(Session {
                http: self.http.clone(),
                url: format!("{}/session/{id}", self.url),
                id,
                profile,
                open: Arc::clone(&self.open),
            }),
        }
    }

    /// Whether `GET /status` answers with `value.ready == true`.
    async fn ready(&self) -> bool {
        let Ok(response) = self
            .http
            .get(format!("{}/status", self.url))
            .timeout(Duration::from_secs(2))
            .send()
            .await
        else {
            return false;
        };
        response.text().await.is_ok_and(|body| status_ready(&body))
    }

    /// What the driver wrote so far.
    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let open = std::mem::take(&mut *self.open.lock().unwrap_or_else(PoisonError::into_inner));
        for session in &open {
            delete_session_blocking(self.port, &session.id);
        }
        let _ = self.child.start_kill();
        let deadline = Instant::now() + Duration::from_secs(2);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        for session in &open {
            let _ = std::fs::remove_dir_all(&session.profile);
        }
        // The log only matters when the test failed; then it stays for reading.
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// The session id in the answer to `POST /session`.
fn session_id(value: &Value) -> Result<String, WebDriverError> {
    value
        .get("sessionId")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| WebDriverError::Unexpected(format!("no session id in {value}")))
}

/// Whether a `GET /status` answer says the driver accepts new sessions.
fn status_ready(body: &str) -> bool {
    serde_json::from_str::<Value>(body)
        .is_ok_and(|answer| answer.pointer("/value/ready").and_then(Value::as_bool) == Some(true))
}

/// The capabilities of a headless Chromium at `chromium` using the profile directory `profile`.
fn capabilities(chromium: &Path, profile: &Path) -> Value {
    json!({
        "capabilities": {
            "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chromium.to_string_lossy(),
                    "args": [
                        "--headless=new",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-dev-shm-usage",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--no-first-run",
                        "--window-size=1400,1000",
                        format!("--user-data-dir={}", profile.display()),
                    ],
                },
            },
        },
    })
}

/// `CHROMEDRIVER`, else Debian's path.
fn chromedriver_path() -> PathBuf {
    binary_path("CHROMEDRIVER", DEFAULT_CHROMEDRIVER)
}

/// `CHROMIUM_BINARY`, else Debian's path.
fn chromium_path() -> PathBuf {
    binary_path("CHROMIUM_BINARY", DEFAULT_CHROMIUM)
}

/// The path in the environment variable `variable` when it is set and not empty, else `default`.
fn binary_path(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable)
        .filter(|path| !path.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// Ends session `id` with a plain blocking HTTP/1.1 `DELETE`, for [`Drop`], where nothing can be
/// awaited. Best effort: failures are ignored, the driver is killed next anyway.
fn delete_session_blocking(port: u16, id: &str) {
    use std::io::{Read, Write};
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&address, Duration::from_secs(1))
    else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return;
    }
    // The driver answers once the browser has exited; the headers are enough to know it did.
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_element_reference() {
        let value = json!({ELEMENT_KEY: "f.1.e.2"});
        assert_eq!(element_id(&value).ok().as_deref(), Some("f.1.e.2"));
    }

    #[test]
    fn refuses_what_is_not_an_element_reference() {
        let error = element_id(&json!({"ELEMENT": "legacy"})).expect_err("not W3C");
        assert!(matches!(error, WebDriverError::Unexpected(_)), "{error}");
    }

    #[test]
    fn returns_the_value_of_a_success() {
        let value = parse_answer(200, r#"{"value": {"ready": true}}"#).expect("a success");
        assert_eq!(value, json!({"ready": true}));
        assert_eq!(
            parse_answer(200, r#"{"value": null}"#).ok(),
            Some(Value::Null)
        );
    }

    #[test]
    fn reads_the_code_and_message_of_an_error() {
        let body = r#"{"value": {"error": "no such element", "message": "Unable to locate",
                       "stacktrace": "0x55 main"}}"#;
        let error = parse_answer(404, body).expect_err("an error");
        assert_eq!(error.code(), Some(NO_SUCH_ELEMENT));
        assert_eq!(
            error.to_string(),
            "WebDriver error `no such element`: Unable to locate"
        );
    }

    #[test]
    fn refuses_malformed_answers() {
        for (status, body) in [
            (500, "<html>oops</html>"),
            (200, r#"{"status": 0}"#),
            (500, r#"{"value": "broken"}"#),
        ] {
            let error = parse_answer(status, body).expect_err("malformed");
            assert!(matches!(error, WebDriverError::Unexpected(_)), "{error}");
        }
    }

    #[test]
    fn reads_readiness_and_the_session_id() {
        assert!(status_ready(
            r#"{"value": {"ready": true, "message": "ChromeDriver ready for new sessions."}}"#
        ));
        assert!(!status_ready(r#"{"value": {"ready": false}}"#));
        assert!(!status_ready("not json"));
        let answer = json!({"sessionId": "abc123", "capabilities": {}});
        assert_eq!(session_id(&answer).ok().as_deref(), Some("abc123"));
    }

    #[test]
    fn asks_for_a_headless_chromium_with_its_own_profile() {
        let value = capabilities(Path::new("/usr/bin/chromium"), Path::new("/tmp/profile-1"));
        let options = value
            .pointer("/capabilities/alwaysMatch/goog:chromeOptions")
            .expect("Chrome options");
        assert_eq!(options.get("binary"), Some(&json!("/usr/bin/chromium")));
        let args = options
            .get("args")
            .and_then(Value::as_array)
            .expect("arguments");
        assert!(args.contains(&json!("--headless=new")));
        assert!(args.contains(&json!("--user-data-dir=/tmp/profile-1")));
    }
}
