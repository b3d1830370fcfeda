//! The demo's HTTP calls: each as a named demo user (password grant from the stack's issuer,
//! fetched once per user), JSON in and out, a refusal turned into an error that carries the
//! problem's code and detail.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result};
use dev_issuer::Directory;
use reqwest::Method;
use serde_json::Value;

use crate::seed;
use crate::token;

/// Per-request time limit: every call of the flow answers in milliseconds on a healthy stack.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The channel audit records name for the demo.
const CHANNEL: (&str, &str) = ("X-Channel", "DEVSTACK_DEMO");

/// A client that calls as the demo users.
#[derive(Debug)]
pub struct DemoApi {
    http: reqwest::Client,
    issuer_url: String,
    directory: Directory,
    tokens: HashMap<String, String>,
}

impl DemoApi {
    /// A client for the stack whose issuer is `issuer_url`, with the users of `directory`.
    pub fn new(http: reqwest::Client, issuer_url: String, directory: Directory) -> Self {
        Self {
            http,
            issuer_url,
            directory,
            tokens: HashMap::new(),
        }
    }

    /// `user`'s access token, fetched on first use.
    async fn token(&mut self, user: &str) -> Result<String> {
        if let Some(token) = self.tokens.get(user) {
            return Ok(token.clone());
        }
        let known = self
            .directory
            .user(user)
            .with_context(|| format!("no demo user {user:?} in the identity directory"))?;
        let token = token::user_token(
            &self.http,
            &self.issuer_url,
            &known.username,
            &known.password,
        )
        .await?;
        self.tokens.insert(user.to_owned(), token.clone());
        Ok(token)
    }

    /// `GET url` as `user`.
    pub async fn get(&mut self, user: &str, url: &str) -> Result<Value> {
        self.send(user, Method::GET, url, None, None).await
    }

    /// `POST url` as `user`, with a body when given and an Idempotency-Key: every command of the
    /// flow is safe to send again.
    pub async fn post(
        &mut self,
        user: &str,
        url: &str,
        body: Option<&Value>,
        idempotency_key: &str,
    ) -> Result<Value> {
        self.send(user, Method::POST, url, body, Some(idempotency_key))
            .await
    }

    async fn send(
        &mut self,
        user: &str,
        method: Method,
        url: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Value> {
        let token = self.token(user).await?;
        let what = format!("{method} {url} as {user}");
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(token)
            .header(CHANNEL.0, CHANNEL.1)
            .timeout(REQUEST_TIMEOUT);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{what}: unreachable"))?;
        seed::success_body(response, &what).await
    }
}
