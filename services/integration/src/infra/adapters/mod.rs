//! The HTTP adapters: one configured endpoint per downstream system, one shared connection
//! pool, every fault turned into the taxonomy's class. The request and response mapping is in
//! [`mapping`]; this module only moves bytes and measures.

pub mod mapping;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use reqwest::{Client, RequestBuilder, Response};
use serde_json::Value;

use crate::app::{CallTrace, Downstream, Exchange, StatusExchange, Wire};
use crate::domain::{
    Answer, BusinessIdentity, Classification, ExternalCommand, ExternalSystem, IdempotencyKey,
    Operation, Rejection, RetryBudget, StatusAnswer, Transport, classify,
};
use mapping::{refusal_of, request_of, result_of};

/// A secret sent as a bearer token; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    /// Wraps a token.
    pub fn new(token: String) -> Self {
        Self(token)
    }
}

impl std::fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretToken(***)")
    }
}

/// How one system is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemEndpoint {
    /// Base URL without a trailing slash.
    pub base_url: String,
    /// How long an attempt may wait for its answer before its outcome is unknown.
    pub timeout: Duration,
    /// How technical failures are retried.
    pub budget: RetryBudget,
    /// The bearer token, when the system wants one.
    pub token: Option<SecretToken>,
}

/// The downstream systems over HTTP.
#[derive(Debug, Clone)]
pub struct HttpDownstream {
    client: Client,
    systems: BTreeMap<ExternalSystem, SystemEndpoint>,
}

/// A system has no endpoint configured (a bug: settings give every system one).
#[derive(Debug, thiserror::Error)]
#[error("no endpoint is configured for {0}")]
pub struct MissingEndpoint(pub ExternalSystem);

impl HttpDownstream {
    /// Adapters over `systems`, which must name every system.
    pub fn new(systems: BTreeMap<ExternalSystem, SystemEndpoint>) -> Result<Self, reqwest::Error> {
        let client = Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Self { client, systems })
    }

    fn endpoint(&self, system: ExternalSystem) -> Option<&SystemEndpoint> {
        self.systems.get(&system)
    }

    fn prepare(
        &self,
        endpoint: &SystemEndpoint,
        builder: RequestBuilder,
        trace: &CallTrace,
    ) -> RequestBuilder {
        let mut builder = builder
            .timeout(endpoint.timeout)
            .header("X-Correlation-Id", &trace.correlation_id);
        if let Some(traceparent) = &trace.traceparent {
            builder = builder.header("traceparent", traceparent);
        }
        if let Some(token) = &endpoint.token {
            builder = builder.bearer_auth(&token.0);
        }
        builder
    }
}

/// What the transport saw of a failed send.
fn transport_of(error: &reqwest::Error) -> (Transport, &'static str) {
    if error.is_connect() {
        (Transport::NotConnected, "CONNECTION_REFUSED")
    } else if error.is_timeout() {
        (Transport::TimedOut, "TIMEOUT")
    } else {
        (Transport::Interrupted, "CONNECTION_LOST")
    }
}

/// Reads a response to the end; a body cut off is a broken connection (outcome unknown).
async fn read(response: Response) -> Result<(u16, String), (Transport, &'static str, String)> {
    let status = response.status().as_u16();
    match response.text().await {
        Ok(body) => Ok((status, body)),
        Err(error) => {
            let (transport, code) = transport_of(&error);
            Err((
                transport,
                code,
                format!("HTTP {status}, body lost: {error}"),
            ))
        }
    }
}

fn elapsed(started: Instant) -> Duration {
    started.elapsed()
}

fn unconfigured(system: ExternalSystem, request_body: String) -> Wire {
    Wire {
        started_at: Utc::now(),
        latency: Duration::ZERO,
        http_status: None,
        failure_code: Some("NOT_CONFIGURED".into()),
        detail: Some(MissingEndpoint(system).to_string()),
        request_body,
        response_body: None,
    }
}

#[async_trait]
impl Downstream for HttpDownstream {
    async fn send(
        &self,
        command: &ExternalCommand,
        identity: &BusinessIdentity,
        key: &IdempotencyKey,
        trace: &CallTrace,
    ) -> Exchange {
        let operation = command.operation();
        let request = request_of(command, identity);
        let request_body = request.body.to_string();
        let Some(endpoint) = self.endpoint(operation.system()) else {
            return Exchange {
                classification: Classification::FailedTechnical,
                answer: Answer::NotApplied {
                    reason: MissingEndpoint(operation.system()).to_string(),
                },
                wire: unconfigured(operation.system(), request_body),
            };
        };
        let url = format!("{}{}", endpoint.base_url, request.path);
        let builder = self
            .client
            .request(request.method.clone(), &url)
            .header("Idempotency-Key", key.as_str())
            .header("Content-Type", "application/json")
            .body(request_body.clone());
        let builder = self.prepare(endpoint, builder, trace);
        let started_at = Utc::now();
        let started = Instant::now();
        let outcome = match builder.send().await {
            Ok(response) => read(response).await,
            Err(error) => {
                let (transport, code) = transport_of(&error);
                Err((transport, code, error.to_string()))
            }
        };
        let latency = elapsed(started);
        let (transport, http_status, failure_code, detail, response_body) = match outcome {
            Ok((status, body)) => (
                Transport::Answered(status),
                Some(status),
                None,
                None,
                Some(body),
            ),
            Err((transport, code, detail)) => {
                (transport, None, Some(code.to_owned()), Some(detail), None)
            }
        };
        let classification = classify(transport);
        let document = response_body
            .as_deref()
            .and_then(|body| serde_json::from_str::<Value>(body).ok());
        let (answer, classification, failure_code, detail) = match classification {
            Classification::Succeeded => match document
                .as_ref()
                .ok_or_else(|| "the answer is not JSON".to_owned())
                .and_then(|d| result_of(operation, d))
            {
                Ok(result) => (Answer::Applied(result), classification, None, None),
                // Applied, but unreadable: nobody can say what the core should record.
                Err(reason) => (
                    Answer::Unknown {
                        reason: reason.clone(),
                    },
                    Classification::OutcomeUnknown,
                    Some("UNREADABLE_ANSWER".to_owned()),
                    Some(reason),
                ),
            },
            Classification::RejectedBusiness => {
                let status = http_status.unwrap_or(400);
                let (code, message) = refusal_of(status, document.as_ref());
                (
                    Answer::Rejected(Rejection {
                        code: code.clone(),
                        message: message.clone(),
                    }),
                    classification,
                    Some(code),
                    Some(message),
                )
            }
            Classification::FailedTechnical => {
                let (code, detail) = match http_status {
                    Some(status) => {
                        let (code, message) = refusal_of(status, document.as_ref());
                        (Some(code), Some(message))
                    }
                    None => (failure_code, detail),
                };
                (
                    Answer::NotApplied {
                        reason: detail.clone().unwrap_or_else(|| "technical failure".into()),
                    },
                    classification,
                    code,
                    detail,
                )
            }
            Classification::OutcomeUnknown => (
                Answer::Unknown {
                    reason: detail.clone().unwrap_or_else(|| "no answer".into()),
                },
                classification,
                failure_code,
                detail,
            ),
        };
        Exchange {
            classification,
            answer,
            wire: Wire {
                started_at,
                latency,
                http_status,
                failure_code,
                detail,
                request_body,
                response_body,
            },
        }
    }

    async fn query_status(
        &self,
        operation: Operation,
        key: &IdempotencyKey,
        trace: &CallTrace,
    ) -> StatusExchange {
        let Some(endpoint) = self.endpoint(operation.system()) else {
            return StatusExchange {
                answer: StatusAnswer::Unanswered {
                    reason: MissingEndpoint(operation.system()).to_string(),
                },
                wire: unconfigured(operation.system(), String::new()),
            };
        };
        let url = format!("{}/requests/{}", endpoint.base_url, key.as_str());
        let builder = self.prepare(endpoint, self.client.get(&url), trace);
        let started_at = Utc::now();
        let started = Instant::now();
        let outcome = match builder.send().await {
            Ok(response) => read(response).await,
            Err(error) => {
                let (transport, code) = transport_of(&error);
                Err((transport, code, error.to_string()))
            }
        };
        let latency = elapsed(started);
        let (answer, http_status, failure_code, detail, response_body) = match outcome {
            Ok((status, body)) => {
                let document = serde_json::from_str::<Value>(&body).ok();
                let said = document
                    .as_ref()
                    .and_then(|d| d.get("status"))
                    .and_then(Value::as_str);
                let answer = match (status, said) {
                    (200, Some("APPLIED")) => match document
                        .as_ref()
                        .and_then(|d| d.get("response"))
                        .ok_or_else(|| "the status answer has no response".to_owned())
                        .and_then(|response| result_of(operation, response))
                    {
                        Ok(result) => StatusAnswer::Applied(result),
                        Err(reason) => StatusAnswer::Unanswered { reason },
                    },
                    (404, Some("NOT_APPLIED")) => StatusAnswer::NotApplied,
                    _ => StatusAnswer::Unanswered {
                        reason: format!("the status query answered HTTP {status}"),
                    },
                };
                let code = match &answer {
                    StatusAnswer::Unanswered { .. } => Some(format!("HTTP_{status}")),
                    _ => None,
                };
                (answer, Some(status), code, None, Some(body))
            }
            Err((_, code, detail)) => (
                StatusAnswer::Unanswered {
                    reason: detail.clone(),
                },
                None,
                Some(code.to_owned()),
                Some(detail),
                None,
            ),
        };
        StatusExchange {
            answer,
            wire: Wire {
                started_at,
                latency,
                http_status,
                failure_code,
                detail,
                request_body: String::new(),
                response_body,
            },
        }
    }

    fn budget(&self, operation: Operation) -> RetryBudget {
        self.endpoint(operation.system())
            .map_or_else(RetryBudget::default, |e| e.budget)
    }
}
