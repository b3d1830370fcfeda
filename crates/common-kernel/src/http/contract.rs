//! A service's OpenAPI contract: the platform's part of it, and the committed rendering shared so
//! that every service's drift test compares byte for byte against the same text.
//!
//! Handlers declare what their own logic answers (the success, the business 404/409/422…). What
//! the platform answers around them — a missing or refused token, a refused action, rate limits,
//! refused request-context headers, unreadable bodies, body limits, `If-Match` and
//! `Idempotency-Key` outcomes, a database that is down — depends only on what an operation has (a
//! security requirement, a body, path parameters, an `If-Match` header…), so [`PlatformContract`]
//! adds it to every operation from one table, [`PLATFORM_PROBLEMS`], with the headers those
//! responses carry from [`PROBLEM_HEADERS`]. It also declares the bearer scheme every operation
//! requires (ADR 0030) and states the schemas of the headers the kernel itself validates. Every
//! service's `ApiDoc` applies it with `#[openapi(modifiers(&PlatformContract))]`; an API whose
//! handlers map extractor refusals their own way applies [`EdgeContract`], the part the router
//! answers around every route.

use std::collections::{BTreeMap, BTreeSet};

use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};
use utoipa::{Modify, PartialSchema, ToSchema};

use crate::context::{
    BUSINESS_TRANSACTION_HEADER, CAUSATION_HEADER, CHANNEL_HEADER, IDEMPOTENCY_KEY_HEADER,
};
use crate::error::{FieldError, PROBLEM_JSON, ProblemDetails};

mod security;

pub use security::BEARER_SCHEME;

/// `doc` as pretty JSON with a trailing newline, exactly as `contracts/openapi/*.json` holds it.
pub fn contract_json(doc: &OpenApi) -> String {
    let mut text = doc.to_pretty_json().unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}

/// What an operation has that lets the platform answer it with a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// Every operation: middleware around every route.
    Every,
    /// A business operation: one that requires a bearer token (its own security requirement, or
    /// the document's, which the modifier adds), as opposed to health, metrics and docs.
    /// Authentication, authorisation (every business operation checks an action) and rate limits
    /// apply to exactly these.
    Business,
    /// The operation declares a request-context header the kernel bounds (`X-Channel`,
    /// `X-Causation-Id`, `X-Business-Transaction-Id`, `Idempotency-Key`):
    /// [`crate::context::RequestContext`] refuses one that is unreadable or too long.
    ContextHeaders,
    /// The operation takes a request body (`ValidJson` / `OptionalJson`).
    Body,
    /// The operation has path parameters (`ApiPath`, and the router matching them).
    PathParameters,
    /// The operation has query parameters (`ApiQuery`, `PageRequest`).
    QueryParameters,
    /// The operation declares `If-Match` (the `IfMatch` extractor and the version check).
    IfMatch,
    /// The operation declares `Idempotency-Key`: a command run by
    /// [`crate::idempotency::CommandRunner`].
    Command,
}

/// One problem the platform may answer, and on which operations.
#[derive(Debug, Clone, Copy)]
pub struct PlatformProblem {
    /// Which operations can get it.
    pub trigger: Trigger,
    /// The HTTP status.
    pub status: u16,
    /// The stable codes and why, as the contract tells them.
    pub reason: &'static str,
}

/// Every problem the platform (rather than a handler) answers. Adding a platform-wide status is
/// adding a row here, with the trigger that fits it, and a [`PROBLEM_HEADERS`] row for a header
/// the response carries.
pub const PLATFORM_PROBLEMS: &[PlatformProblem] = &[
    PlatformProblem {
        trigger: Trigger::Business,
        status: 401,
        reason: "`UNAUTHENTICATED`: no bearer token, or one that is malformed, expired or not yet \
                 valid, from another issuer or for another audience, signed with a key the issuer \
                 does not publish or with an algorithm other than RS256 or ES256, or whose claims \
                 name no caller (`tenant_id`); WWW-Authenticate says which",
    },
    PlatformProblem {
        trigger: Trigger::Business,
        status: 403,
        reason: "`FORBIDDEN_ACTION`: the token's roles do not grant the action this operation \
                 takes (the detail names it), or a caller that is not a service sent X-Acting-User",
    },
    PlatformProblem {
        trigger: Trigger::ContextHeaders,
        status: 400,
        reason: "`INVALID_HEADER`: a request-context header is unreadable or too long",
    },
    PlatformProblem {
        trigger: Trigger::PathParameters,
        status: 400,
        reason: "`INVALID_PATH_PARAMETER`: a path parameter does not parse",
    },
    PlatformProblem {
        trigger: Trigger::PathParameters,
        status: 404,
        reason: "`ROUTE_NOT_FOUND`: an empty path parameter leaves a path no route matches",
    },
    PlatformProblem {
        trigger: Trigger::QueryParameters,
        status: 400,
        reason: "`INVALID_QUERY`: the query string does not parse or a paging value is out of \
                 range",
    },
    PlatformProblem {
        trigger: Trigger::Body,
        status: 400,
        reason: "`MALFORMED_JSON`: the body is not JSON or could not be read",
    },
    PlatformProblem {
        trigger: Trigger::Body,
        status: 413,
        reason: "`PAYLOAD_TOO_LARGE`: the body exceeds the service's size limit",
    },
    PlatformProblem {
        trigger: Trigger::Body,
        status: 415,
        reason: "`UNSUPPORTED_MEDIA_TYPE`: a body whose Content-Type is not JSON",
    },
    PlatformProblem {
        trigger: Trigger::Body,
        status: 422,
        reason: "`VALIDATION_FAILED`: the body does not match the request schema (`errors` \
                 point at the fields)",
    },
    PlatformProblem {
        trigger: Trigger::IfMatch,
        status: 400,
        reason: "`INVALID_HEADER`: If-Match does not name a version",
    },
    PlatformProblem {
        trigger: Trigger::IfMatch,
        status: 412,
        reason: "`VERSION_MISMATCH`: If-Match names a version that is no longer current",
    },
    PlatformProblem {
        trigger: Trigger::Command,
        status: 409,
        reason: "`IDEMPOTENCY_IN_PROGRESS`: a request with the same Idempotency-Key is still \
                 running, or `CONCURRENT_MODIFICATION`: the database saw a concurrent change \
                 (both retryable)",
    },
    PlatformProblem {
        trigger: Trigger::Command,
        status: 422,
        reason: "`IDEMPOTENCY_KEY_REUSED`: the Idempotency-Key was used for a different request",
    },
    PlatformProblem {
        trigger: Trigger::Business,
        status: 429,
        reason: "`RATE_LIMITED`: the client used up its tenant's budget for this kind of request \
                 (reads or commands); retry after Retry-After seconds (retryable)",
    },
    PlatformProblem {
        trigger: Trigger::Business,
        status: 503,
        reason: "`AUTH_UNAVAILABLE`: the identity provider's keys cannot be fetched to check the \
                 token (retryable)",
    },
    PlatformProblem {
        trigger: Trigger::Every,
        status: 503,
        reason: "`DATABASE_UNAVAILABLE` or `REQUEST_TIMEOUT`: a dependency is down or the \
                 request took too long (retryable)",
    },
];

/// How a [`ProblemHeader`]'s value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderValueKind {
    /// Whole seconds, at least 1 (`Retry-After` as the platform sends it).
    Seconds,
    /// Free text (`WWW-Authenticate`, for instance).
    Text,
}

/// A header the platform puts on one of its problem responses, so the contract tells clients to
/// read it.
#[derive(Debug, Clone, Copy)]
pub struct ProblemHeader {
    /// The status whose platform response carries the header.
    pub status: u16,
    /// Header name as sent.
    pub name: &'static str,
    /// What it tells the client.
    pub description: &'static str,
    /// Its value's shape.
    pub kind: HeaderValueKind,
}

/// Headers of platform problem responses, by status; declared wherever [`PLATFORM_PROBLEMS`]
/// declares that status.
pub const PROBLEM_HEADERS: &[ProblemHeader] = &[
    ProblemHeader {
        status: 401,
        name: "WWW-Authenticate",
        description: "The bearer challenge (RFC 6750): `Bearer realm=\"cpq-oms\"`, with \
                      `error=\"invalid_token\"` when the request carried a token",
        kind: HeaderValueKind::Text,
    },
    ProblemHeader {
        status: 429,
        name: "Retry-After",
        description: "Seconds to wait before the request would be accepted",
        kind: HeaderValueKind::Seconds,
    },
];

/// The utoipa modifier every service's `ApiDoc` applies: the bearer scheme every operation
/// requires, platform problems on every operation, and the schemas of the headers the kernel
/// validates.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlatformContract;

impl Modify for PlatformContract {
    fn modify(&self, openapi: &mut OpenApi) {
        declare_platform_contract(openapi);
    }
}

/// The part of [`PlatformContract`] that `platform::assemble` answers around every route, whatever
/// its handler extracts: the bearer scheme, 401/403/503 of authentication, 429 of rate limits and
/// 503 of timeouts and the database ([`Trigger::Business`] and [`Trigger::Every`] rows). For an
/// API whose handlers refuse requests their own way, so the extractor rows would claim statuses it
/// never sends: the workflow engine's Camunda-compatible REST API answers 400 where the kernel's
/// extractors answer 422 (ADR 0029 brings it under the whole table when it joins the gate).
#[derive(Debug, Clone, Copy, Default)]
pub struct EdgeContract;

impl Modify for EdgeContract {
    fn modify(&self, openapi: &mut OpenApi) {
        declare(openapi, Scope::Edge);
    }
}

/// Which rows a modifier applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Every row ([`PlatformContract`]).
    Platform,
    /// The router's rows only ([`EdgeContract`]).
    Edge,
}

impl Scope {
    fn includes(self, trigger: Trigger) -> bool {
        self == Scope::Platform || matches!(trigger, Trigger::Every | Trigger::Business)
    }
}

/// Applies [`PlatformContract`] to a document; applying it twice changes nothing more.
pub fn declare_platform_contract(doc: &mut OpenApi) {
    declare(doc, Scope::Platform);
}

fn declare(doc: &mut OpenApi, scope: Scope) {
    register_problem_schemas(doc);
    security::declare_bearer_security(doc);
    let secured = security::document_requires_credentials(doc);
    for item in doc.paths.paths.values_mut() {
        for operation in operations(item) {
            if scope == Scope::Platform {
                describe_platform_headers(operation);
            }
            declare_platform_problems(operation, secured, scope);
        }
    }
}

/// Every operation of a path item.
fn operations(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
        item.query.as_mut(),
    ]
    .into_iter()
    .flatten()
    .chain(item.additional_operations.values_mut())
}

/// The operation's inline parameters (a `$ref` parameter is not inspected).
fn parameters(operation: &Operation) -> impl Iterator<Item = &Parameter> {
    operation
        .parameters
        .iter()
        .flatten()
        .filter_map(|parameter| match parameter {
            RefOr::T(parameter) => Some(parameter),
            RefOr::Ref(_) => None,
        })
}

/// Lower-cased names of the operation's header parameters.
fn header_names(operation: &Operation) -> BTreeSet<String> {
    parameters(operation)
        .filter(|p| p.parameter_in == ParameterIn::Header)
        .map(|p| p.name.to_ascii_lowercase())
        .collect()
}

/// The request-context headers [`crate::context::RequestContext`] bounds and refuses.
const BOUNDED_CONTEXT_HEADERS: [&str; 4] = [
    CHANNEL_HEADER,
    CAUSATION_HEADER,
    BUSINESS_TRANSACTION_HEADER,
    IDEMPOTENCY_KEY_HEADER,
];

/// Whether `operation` has what `trigger` names; `document_secured` says whether the document
/// requires a token of operations that state no requirement of their own.
fn has_trigger(operation: &Operation, trigger: Trigger, document_secured: bool) -> bool {
    let headers = header_names(operation);
    let has_in = |place: ParameterIn| parameters(operation).any(|p| p.parameter_in == place);
    match trigger {
        Trigger::Every => true,
        Trigger::Business => security::operation_requires_credentials(operation, document_secured),
        Trigger::ContextHeaders => BOUNDED_CONTEXT_HEADERS
            .iter()
            .any(|name| headers.contains(*name)),
        Trigger::Body => operation.request_body.is_some(),
        Trigger::PathParameters => has_in(ParameterIn::Path),
        Trigger::QueryParameters => has_in(ParameterIn::Query),
        Trigger::IfMatch => headers.contains(IF_MATCH_HEADER),
        Trigger::Command => headers.contains(IDEMPOTENCY_KEY_HEADER),
    }
}

const IF_MATCH_HEADER: &str = "if-match";

/// Adds (or completes) a problem response for every platform status of `scope` the operation can
/// get.
fn declare_platform_problems(operation: &mut Operation, document_secured: bool, scope: Scope) {
    let mut reasons: BTreeMap<u16, Vec<&'static str>> = BTreeMap::new();
    for problem in PLATFORM_PROBLEMS {
        if scope.includes(problem.trigger)
            && has_trigger(operation, problem.trigger, document_secured)
        {
            reasons
                .entry(problem.status)
                .or_default()
                .push(problem.reason);
        }
    }
    for (status, reasons) in reasons {
        let entry = operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(Response::new("")));
        let RefOr::T(response) = entry else {
            continue;
        };
        for reason in reasons {
            if !response.description.contains(reason) {
                if !response.description.is_empty() {
                    response.description.push_str("; or ");
                }
                response.description.push_str(reason);
            }
        }
        response
            .content
            .entry(PROBLEM_JSON.to_owned())
            .or_insert_with(|| RefOr::T(problem_content()));
        for header in PROBLEM_HEADERS.iter().filter(|h| h.status == status) {
            response
                .headers
                .entry(header.name.to_owned())
                .or_insert_with(|| RefOr::T(problem_header(header)));
        }
    }
}

fn problem_header(header: &ProblemHeader) -> Header {
    let schema = match header.kind {
        HeaderValueKind::Seconds => ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .build(),
        HeaderValueKind::Text => ObjectBuilder::new().schema_type(Type::String).build(),
    };
    HeaderBuilder::new()
        .schema(Some(Schema::Object(schema)))
        .description(Some(header.description))
        .build()
}

fn problem_content() -> Content {
    Content::new(Some(Ref::from_schema_name(ProblemDetails::name())))
}

/// Makes sure the problem schemas the responses refer to are in the document.
fn register_problem_schemas(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, schema) in [
        (ProblemDetails::name(), ProblemDetails::schema()),
        (FieldError::name(), FieldError::schema()),
    ] {
        components
            .schemas
            .entry(name.into_owned())
            .or_insert(schema);
    }
}

/// Visible ASCII without leading or trailing blanks, 1 to `max` characters: what the kernel reads
/// from a bounded free-text header (it trims the value and refuses non-ASCII bytes).
fn visible_ascii(max: usize) -> String {
    format!("^[!-~]([ -~]{{0,{}}}[!-~])?$", max.saturating_sub(2))
}

/// The schema the kernel enforces for a header it reads itself, by lower-case name.
fn platform_header_schema(name: &str) -> Option<Schema> {
    let text = |pattern: String| {
        Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern))
                .build(),
        )
    };
    match name {
        CHANNEL_HEADER => Some(text(visible_ascii(64))),
        CAUSATION_HEADER | BUSINESS_TRANSACTION_HEADER => Some(text(visible_ascii(128))),
        IDEMPOTENCY_KEY_HEADER => Some(text(visible_ascii(255))),
        // `Version::from_if_match`: a positive version, quoted as the ETag gives it.
        IF_MATCH_HEADER => Some(text("^(W/)?\"[1-9][0-9]{0,17}\"$".to_owned())),
        _ => None,
    }
}

/// States the schema of every header the kernel validates, as it validates it.
fn describe_platform_headers(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        let RefOr::T(parameter) = parameter else {
            continue;
        };
        if parameter.parameter_in != ParameterIn::Header {
            continue;
        }
        if let Some(schema) = platform_header_schema(&parameter.name.to_ascii_lowercase()) {
            parameter.schema = Some(RefOr::T(schema));
        }
    }
}
