//! The browser side of the WebDriver client: a session, the page and its elements.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use super::{
    ELEMENT_KEY, NO_SUCH_ELEMENT, OpenSession, POLL_INTERVAL, STALE_ELEMENT, WebDriverError,
};

/// One browser session, shared by the [`Browser`] and the [`Element`]s found in it.
#[derive(Debug)]
pub(super) struct Session {
    pub(super) http: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`.
    pub(super) url: String,
    pub(super) id: String,
    pub(super) profile: PathBuf,
    pub(super) open: Arc<Mutex<Vec<OpenSession>>>,
}

impl Session {
    async fn get(&self, path: &str) -> Result<Value, WebDriverError> {
        send(
            &self.http,
            Method::GET,
            &format!("{}{path}", self.url),
            None,
        )
        .await
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value, WebDriverError> {
        send(
            &self.http,
            Method::POST,
            &format!("{}{path}", self.url),
            Some(body),
        )
        .await
    }

    /// Finds the first element matching `css`.
    async fn find(self: &Arc<Self>, css: &str) -> Result<Element, WebDriverError> {
        let value = self
            .post("/element", &json!({"using": "css selector", "value": css}))
            .await?;
        Ok(Element {
            session: Arc::clone(self),
            id: element_id(&value)?,
        })
    }

    /// Finds every element matching `css`, in document order.
    async fn find_all(self: &Arc<Self>, css: &str) -> Result<Vec<Element>, WebDriverError> {
        let value = self
            .post("/elements", &json!({"using": "css selector", "value": css}))
            .await?;
        match value {
            Value::Array(references) => references
                .iter()
                .map(|reference| {
                    element_id(reference).map(|id| Element {
                        session: Arc::clone(self),
                        id,
                    })
                })
                .collect(),
            other => Err(WebDriverError::Unexpected(format!(
                "elements are not a list: {other}"
            ))),
        }
    }
}

/// A browser session; end it with [`Browser::quit`].
///
/// Its commands fail once the [`ChromeDriver`] that started it is dropped.
#[derive(Debug)]
pub struct Browser {
    pub(super) session: Arc<Session>,
}

impl Browser {
    /// Opens `url` and waits until the page has loaded.
    pub async fn goto(&self, url: &str) -> Result<(), WebDriverError> {
        self.session.post("/url", &json!({"url": url})).await?;
        Ok(())
    }

    /// The URL of the current page.
    pub async fn current_url(&self) -> Result<String, WebDriverError> {
        string(self.session.get("/url").await?, "the current URL")
    }

    /// The title of the current page.
    pub async fn title(&self) -> Result<String, WebDriverError> {
        string(self.session.get("/title").await?, "the title")
    }

    /// The first element matching the CSS selector `css`; a `no such element` error when none
    /// does.
    pub async fn find(&self, css: &str) -> Result<Element, WebDriverError> {
        self.session.find(css).await
    }

    /// Every element matching the CSS selector `css`, in document order (possibly none).
    pub async fn find_all(&self, css: &str) -> Result<Vec<Element>, WebDriverError> {
        self.session.find_all(css).await
    }

    /// Waits until an element matching `css` is displayed and returns the first such element,
    /// looking every 200 ms; on timeout the error names the selector and the page's URL.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element, WebDriverError> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self.find_all(css).await?;
            let matched = found.len();
            for element in found {
                match element.is_displayed().await {
                    Ok(true) => return Ok(element),
                    Ok(false) => {}
                    // Replaced by a re-render since it was found: the next look sees the new one.
                    Err(e) if e.code() == Some(STALE_ELEMENT) => {}
                    Err(e) => return Err(e),
                }
            }
            if Instant::now() >= deadline {
                return Err(WebDriverError::Timeout(format!(
                    "no displayed element matched `{css}` within {} ms on {} ({matched} matched but \
                     were not displayed)",
                    timeout.as_millis(),
                    self.url_for_message().await
                )));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits until the first element matching `css` has the visible text `expected` and returns
    /// it, looking every 200 ms; on timeout the error names the last text seen.
    pub async fn wait_for_text(
        &self,
        css: &str,
        expected: &str,
        timeout: Duration,
    ) -> Result<Element, WebDriverError> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = match self.find(css).await {
                Ok(element) => match element.text().await {
                    Ok(text) if text == expected => return Ok(element),
                    Ok(text) => format!("{text:?}"),
                    Err(e) if e.code() == Some(STALE_ELEMENT) => "a replaced element".to_owned(),
                    Err(e) => return Err(e),
                },
                Err(e) if e.code() == Some(NO_SUCH_ELEMENT) => "no matching element".to_owned(),
                Err(e) => return Err(e),
            };
            if Instant::now() >= deadline {
                return Err(WebDriverError::Timeout(format!(
                    "`{css}` did not read {expected:?} within {} ms on {}; last seen: {seen}",
                    timeout.as_millis(),
                    self.url_for_message().await
                )));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Runs `script` as the body of a function called with `args` in the page and returns what it
    /// returns (elements come back as W3C element references).
    pub async fn execute(&self, script: &str, args: &[Value]) -> Result<Value, WebDriverError> {
        self.session
            .post("/execute/sync", &json!({"script": script, "args": args}))
            .await
    }

    /// A PNG screenshot of the viewport.
    pub async fn screenshot_png(&self) -> Result<Vec<u8>, WebDriverError> {
        let encoded = string(self.session.get("/screenshot").await?, "the screenshot")?;
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| WebDriverError::Unexpected(format!("the screenshot is not base64: {e}")))
    }

    /// Ends the session: the browser exits and its profile directory is removed.
    pub async fn quit(self) -> Result<(), WebDriverError> {
        send(&self.session.http, Method::DELETE, &self.session.url, None).await?;
        self.session
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|open| open.id != self.session.id);
        let _ = std::fs::remove_dir_all(&self.session.profile);
        Ok(())
    }

    /// The current URL for an error message, or why it is unknown.
    async fn url_for_message(&self) -> String {
        self.current_url()
            .await
            .unwrap_or_else(|e| format!("<unknown URL: {e}>"))
    }
}

/// An element of the page, found by [`Browser::find`] and its kin.
#[derive(Debug, Clone)]
pub struct Element {
    session: Arc<Session>,
    pub(super) id: String,
}

impl Element {
    /// Clicks the element's centre, scrolling it into view first.
    pub async fn click(&self) -> Result<(), WebDriverError> {
        self.session
            .post(&format!("/element/{}/click", self.id), &json!({}))
            .await?;
        Ok(())
    }

    /// Types `text` into the element, after what it already holds.
    pub async fn send_keys(&self, text: &str) -> Result<(), WebDriverError> {
        self.session
            .post(
                &format!("/element/{}/value", self.id),
                &json!({"text": text}),
            )
            .await?;
        Ok(())
    }

    /// Empties an input or text area.
    pub async fn clear(&self) -> Result<(), WebDriverError> {
        self.session
            .post(&format!("/element/{}/clear", self.id), &json!({}))
            .await?;
        Ok(())
    }

    /// The element's rendered text, as a user sees it (hidden parts are left out).
    pub async fn text(&self) -> Result<String, WebDriverError> {
        let value = self
            .session
            .get(&format!("/element/{}/text", self.id))
            .await?;
        string(value, "the element text")
    }

    /// The value of the attribute `name`, or `None` when the element has none.
    pub async fn attribute(&self, name: &str) -> Result<Option<String>, WebDriverError> {
        let value = self
            .session
            .get(&format!("/element/{}/attribute/{name}", self.id))
            .await?;
        match value {
            Value::Null => Ok(None),
            other => string(other, "the attribute").map(Some),
        }
    }

    /// Whether the element is displayed (the WebDriver visibility rules).
    pub async fn is_displayed(&self) -> Result<bool, WebDriverError> {
        let value = self
            .session
            .get(&format!("/element/{}/displayed", self.id))
            .await?;
        value.as_bool().ok_or_else(|| {
            WebDriverError::Unexpected(format!("`displayed` is not a boolean: {value}"))
        })
    }
}

/// Sends one command and returns the `value` of its answer.
pub(super) async fn send(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    body: Option<&Value>,
) -> Result<Value, WebDriverError> {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    parse_answer(status, &text)
}

/// The `value` of a WebDriver answer, or the error it carries.
pub(super) fn parse_answer(status: u16, body: &str) -> Result<Value, WebDriverError> {
    let mut answer: Value = serde_json::from_str(body).map_err(|e| {
        WebDriverError::Unexpected(format!("HTTP {status}, not JSON ({e}): {}", excerpt(body)))
    })?;
    let Some(value) = answer.get_mut("value").map(Value::take) else {
        return Err(WebDriverError::Unexpected(format!(
            "HTTP {status} without a `value`: {}",
            excerpt(body)
        )));
    };
    if (200..300).contains(&status) {
        return Ok(value);
    }
    match value.get("error").and_then(Value::as_str) {
        Some(code) => Err(WebDriverError::Driver {
            code: code.to_owned(),
            message: value
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        }),
        None => Err(WebDriverError::Unexpected(format!(
            "HTTP {status} without an error code: {}",
            excerpt(body)
        ))),
    }
}

/// The element id in a W3C element reference.
pub(super) fn element_id(reference: &Value) -> Result<String, WebDriverError> {
    reference
        .get(ELEMENT_KEY)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| WebDriverError::Unexpected(format!("not an element reference: {reference}")))
}

/// The answer's `value` as a string.
fn string(value: Value, what: &str) -> Result<String, WebDriverError> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(WebDriverError::Unexpected(format!(
            "{what} is not a string: {other}"
        ))),
    }
}

/// The start of an answer, for error messages.
fn excerpt(body: &str) -> String {
    body.chars().take(300).collect()
}
