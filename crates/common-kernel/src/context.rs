//! The request context: who acts, for which tenant, through which channel, in which chain of
//! causes. Extracted once per request and passed to every application command, so it reaches
//! history rows, audit evidence, events and logs without being re-derived.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use domain_kernel::access::{Action, Authority};

use crate::auth::{AuthError, Authenticated, BearerToken, Caller};
use crate::error::{ApiError, FieldError, codes};
use crate::http::correlation::CorrelationId;
use crate::ids::{ActorId, CommandId, TenantId};
pub use domain_kernel::actor::{Actor, ActorType};

/// Header carrying the calling channel.
pub const CHANNEL_HEADER: &str = "x-channel";
/// Header naming the message or command that caused this request.
pub const CAUSATION_HEADER: &str = "x-causation-id";
/// Header naming the business transaction this request belongs to.
pub const BUSINESS_TRANSACTION_HEADER: &str = "x-business-transaction-id";
/// W3C trace context header.
pub const TRACEPARENT_HEADER: &str = "traceparent";
/// Header making a command safe to retry.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Everything known about the caller and the causal chain of one request. Tenant, actor and
/// authority come from the verified token (ADR 0030), never from a header the caller chose.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Tenant the request acts for.
    pub tenant_id: TenantId,
    /// Who acts.
    pub actor: Actor,
    /// Roles and limits the issuer vouched for.
    pub authority: Authority,
    /// The caller's token, to act for them in calls to other services; `None` for work the
    /// platform does on its own (jobs, consumers).
    pub user_token: Option<BearerToken>,
    /// Calling channel (`API` unless stated): portal, partner API, devstack…
    pub channel: String,
    /// Correlation id of the request (generated when the caller sent none, echoed back).
    pub correlation_id: String,
    /// Id of this command execution; events and audit evidence name it as their cause.
    pub command_id: CommandId,
    /// What caused this request, when the caller says so.
    pub causation_id: Option<String>,
    /// The business transaction (defaults to the correlation id).
    pub business_transaction_id: String,
    /// W3C traceparent, when valid.
    pub traceparent: Option<String>,
    /// The idempotency key of a command, when sent.
    pub idempotency_key: Option<String>,
}

impl RequestContext {
    /// Builds the context of an authenticated request: identity from the verified caller, the
    /// causal chain from the headers; reports every bad header at once.
    pub fn from_request(
        headers: &HeaderMap,
        correlation_id: String,
        authenticated: &Authenticated,
    ) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let channel =
            bounded(headers, CHANNEL_HEADER, 64, &mut errors).unwrap_or_else(|| "API".to_owned());
        let causation_id = bounded(headers, CAUSATION_HEADER, 128, &mut errors);
        let business_transaction_id =
            bounded(headers, BUSINESS_TRANSACTION_HEADER, 128, &mut errors)
                .unwrap_or_else(|| correlation_id.clone());
        let idempotency_key = bounded(headers, IDEMPOTENCY_KEY_HEADER, 255, &mut errors);
        let traceparent = headers
            .get(TRACEPARENT_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| is_valid_traceparent(v))
            .map(str::to_owned);
        if !errors.is_empty() {
            return Err(ApiError::bad_request(
                codes::INVALID_HEADER,
                "One or more request headers are invalid",
            )
            .with_errors(errors));
        }
        let Caller {
            tenant,
            actor,
            authority,
        } = authenticated.caller.clone();
        Ok(Self {
            tenant_id: tenant,
            actor,
            authority,
            user_token: Some(authenticated.user_token.clone()),
            channel,
            correlation_id,
            command_id: CommandId::generate(),
            causation_id,
            business_transaction_id,
            traceparent,
            idempotency_key,
        })
    }

    /// The context of work the platform does on its own (a job, a consumer, a worker) in a
    /// tenant, as `actor_id`: no user token, no roles beyond what the caller grants it.
    pub fn system(
        tenant: TenantId,
        actor_id: ActorId,
        actor_type: ActorType,
        channel: &str,
        authority: Authority,
    ) -> Self {
        let correlation = uuid::Uuid::now_v7().to_string();
        Self {
            tenant_id: tenant,
            actor: Actor {
                actor_id,
                actor_type,
            },
            authority,
            user_token: None,
            channel: channel.to_owned(),
            business_transaction_id: correlation.clone(),
            correlation_id: correlation,
            command_id: CommandId::generate(),
            causation_id: None,
            traceparent: None,
            idempotency_key: None,
        }
    }

    /// Refuses the command unless the permission table lets the caller take `action`; checked
    /// by the application layer before any effect.
    pub fn authorize(&self, action: Action) -> Result<(), domain_kernel::access::Forbidden> {
        self.authority.authorize(action)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let correlation_id = parts
            .extensions
            .get::<CorrelationId>()
            .map(|c| c.0.clone())
            .unwrap_or_else(|| CorrelationId::generate().0);
        let authenticated = parts
            .extensions
            .get::<Authenticated>()
            .ok_or_else(|| ApiError::from(AuthError::Missing))?;
        let ctx = Self::from_request(&parts.headers, correlation_id, authenticated)?;
        // The request span was opened before the context existed; fill in its fields so every
        // log line of the request carries them.
        let span = tracing::Span::current();
        span.record("tenant_id", ctx.tenant_id.as_str());
        span.record("actor_id", ctx.actor.actor_id.as_str());
        span.record("command_id", tracing::field::display(ctx.command_id));
        if let Some(key) = &ctx.idempotency_key {
            span.record("idempotency_key", key.as_str());
        }
        Ok(ctx)
    }
}

fn header_error(name: &str, code: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(format!("header:{}", display_header(name)), code, message)
}

fn display_header(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Reads a header as visible ASCII text; a present-but-unreadable header is an error, an empty
/// one counts as absent.
fn header_text(headers: &HeaderMap, name: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let value = headers.get(name)?;
    match value.to_str() {
        Ok(text) if text.trim().is_empty() => None,
        Ok(text) => Some(text.trim().to_owned()),
        Err(_) => {
            errors.push(header_error(
                name,
                "INVALID_ENCODING",
                "must be visible ASCII",
            ));
            None
        }
    }
}

fn bounded(
    headers: &HeaderMap,
    name: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let text = header_text(headers, name, errors)?;
    if text.len() > max {
        errors.push(header_error(
            name,
            "TOO_LONG",
            format!("must be at most {max} characters"),
        ));
        return None;
    }
    Some(text)
}

/// Whether a `traceparent` value follows W3C Trace Context level 1 (`00-<32 hex>-<16 hex>-<2 hex>`,
/// ids not all zero). Invalid values are ignored, as the specification requires.
pub fn is_valid_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    matches!(parts.as_slice(), [version, trace, span, flags]
        if hex(version, 2) && *version != "ff" && hex(trace, 32) && hex(span, 16) && hex(flags, 2)
            && trace.bytes().any(|b| b != b'0') && span.bytes().any(|b| b != b'0'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use domain_kernel::access::Role;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).expect("test header"));
        }
        map
    }

    fn authenticated() -> Authenticated {
        Authenticated {
            caller: Caller {
                tenant: TenantId::parse("acme").expect("tenant"),
                actor: Actor {
                    actor_id: ActorId::parse("jane").expect("actor"),
                    actor_type: ActorType::PartnerApiClient,
                },
                authority: Authority {
                    roles: vec![Role::Partner],
                    ..Authority::default()
                },
            },
            user_token: BearerToken::new("t"),
        }
    }

    #[test]
    fn identity_comes_from_the_token_and_the_chain_from_headers() {
        let ctx = RequestContext::from_request(
            &headers(&[
                ("x-tenant-id", "other"),
                ("x-actor-id", "mallory"),
                ("x-actor-type", "ADMIN_OPERATOR"),
                (CHANNEL_HEADER, "PARTNER_API"),
                (IDEMPOTENCY_KEY_HEADER, "k-1"),
                (
                    TRACEPARENT_HEADER,
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                ),
            ]),
            "corr-1".into(),
            &authenticated(),
        )
        .expect("valid context");
        assert_eq!(
            ctx.tenant_id.as_str(),
            "acme",
            "the identity headers are ignored"
        );
        assert_eq!(ctx.actor.actor_id.as_str(), "jane");
        assert_eq!(ctx.actor.actor_type, ActorType::PartnerApiClient);
        assert_eq!(ctx.channel, "PARTNER_API");
        assert_eq!(ctx.business_transaction_id, "corr-1");
        assert_eq!(ctx.idempotency_key.as_deref(), Some("k-1"));
        assert!(ctx.traceparent.is_some());
        assert!(ctx.authorize(Action::EditQuote).is_ok());
        assert!(ctx.authorize(Action::RepairFallout).is_err());
    }

    #[test]
    fn bad_chain_headers_are_refused_with_field_errors() {
        let long = "x".repeat(65);
        let err = RequestContext::from_request(
            &headers(&[(CHANNEL_HEADER, &long)]),
            "c".into(),
            &authenticated(),
        )
        .expect_err("too long");
        assert_eq!(err.code(), codes::INVALID_HEADER);
        assert_eq!(err.to_problem().errors[0].field, "header:X-Channel");
    }

    #[test]
    fn traceparent_validation_follows_w3c() {
        assert!(is_valid_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
        assert!(!is_valid_traceparent(
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01"
        ));
        assert!(!is_valid_traceparent(
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"
        ));
        assert!(!is_valid_traceparent("garbage"));
    }
}
