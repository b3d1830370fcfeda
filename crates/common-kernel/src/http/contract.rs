//! A service's OpenAPI contract: the platform's part of it, and the committed rendering shared so
//! that every service's drift test compares byte for byte against the same text.
//!
//! Handlers declare what their own logic answers (the success, the business 404/409/422…). What
//! the platform answers around them — refused request-context headers, unreadable bodies, body
//! limits, `If-Match` and `Idempotency-Key` outcomes, rate limits, a database that is down —
//! depends only on
//! what an operation has (a body, path parameters, an `If-Match` header…), so [`PlatformContract`]
//! adds it to every operation from one table, [`PLATFORM_PROBLEMS`], with the headers those
//! responses carry from [`PROBLEM_HEADERS`]. It also states the schemas of
//! the headers the kernel itself validates, and carries the request context across OpenAPI links
//! so a client (or a contract test) that follows a link stays in the tenant that created the
//! resource. Every service's `ApiDoc` applies it with `#[openapi(modifiers(&PlatformContract))]`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};
use utoipa::{Modify, PartialSchema, ToSchema};

use crate::context::{
    ACTOR_HEADER, ACTOR_TYPE_HEADER, BUSINESS_TRANSACTION_HEADER, CAUSATION_HEADER, CHANNEL_HEADER,
    IDEMPOTENCY_KEY_HEADER, TENANT_HEADER,
};
use crate::error::{FieldError, PROBLEM_JSON, ProblemDetails};
use domain_kernel::actor::ActorType;

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
    /// A business operation: one that acts for a tenant (it declares the `X-Tenant-Id` header or
    /// a security requirement), as opposed to health, metrics and docs. Authentication,
    /// authorisation and rate limits apply to exactly these.
    Business,
    /// The operation reads the request context (declares the `X-Tenant-Id` or `X-Actor-Id`
    /// header): [`crate::context::RequestContext`] refuses bad context headers.
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

/// Every problem the platform (rather than a handler) answers. Adding a platform-wide status
/// (401 and 403 with authentication) is adding a row here, with [`Trigger::Business`], and a
/// [`PROBLEM_HEADERS`] row for a header the response carries.
pub const PLATFORM_PROBLEMS: &[PlatformProblem] = &[
    PlatformProblem {
        trigger: Trigger::ContextHeaders,
        status: 400,
        reason: "`MISSING_TENANT`, `MISSING_ACTOR` or `INVALID_HEADER`: a request-context header \
                 is missing, malformed or too long",
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
pub const PROBLEM_HEADERS: &[ProblemHeader] = &[ProblemHeader {
    status: 429,
    name: "Retry-After",
    description: "Seconds to wait before the request would be accepted",
    kind: HeaderValueKind::Seconds,
}];

/// The utoipa modifier every service's `ApiDoc` applies: platform problems on every operation,
/// the schemas of the headers the kernel validates, and the request context carried across links.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlatformContract;

impl Modify for PlatformContract {
    fn modify(&self, openapi: &mut OpenApi) {
        declare_platform_contract(openapi);
    }
}

/// Applies [`PlatformContract`] to a document; applying it twice changes nothing more.
pub fn declare_platform_contract(doc: &mut OpenApi) {
    register_problem_schemas(doc);
    let mut declared_headers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for item in doc.paths.paths.values_mut() {
        for operation in operations(item) {
            describe_platform_headers(operation);
            declare_platform_problems(operation);
            if let Some(id) = &operation.operation_id {
                declared_headers.insert(id.clone(), header_names(operation));
            }
        }
    }
    for item in doc.paths.paths.values_mut() {
        for operation in operations(item) {
            carry_context_across_links(operation, &declared_headers);
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

fn has_trigger(operation: &Operation, trigger: Trigger) -> bool {
    let headers = header_names(operation);
    let has_in = |place: ParameterIn| parameters(operation).any(|p| p.parameter_in == place);
    match trigger {
        Trigger::Every => true,
        Trigger::Business => headers.contains(TENANT_HEADER) || operation.security.is_some(),
        Trigger::ContextHeaders => {
            headers.contains(TENANT_HEADER) || headers.contains(ACTOR_HEADER)
        }
        Trigger::Body => operation.request_body.is_some(),
        Trigger::PathParameters => has_in(ParameterIn::Path),
        Trigger::QueryParameters => has_in(ParameterIn::Query),
        Trigger::IfMatch => headers.contains(IF_MATCH_HEADER),
        Trigger::Command => headers.contains(IDEMPOTENCY_KEY_HEADER),
    }
}

const IF_MATCH_HEADER: &str = "if-match";

/// Adds (or completes) a problem response for every platform status the operation can get.
fn declare_platform_problems(operation: &mut Operation) {
    let mut reasons: BTreeMap<u16, Vec<&'static str>> = BTreeMap::new();
    for problem in PLATFORM_PROBLEMS {
        if has_trigger(operation, problem.trigger) {
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
        // `TenantId::parse`: 1–64 of letters, digits, '.', '_' and '-'.
        TENANT_HEADER => Some(text("^[A-Za-z0-9._-]{1,64}$".to_owned())),
        // `ActorId::parse`: 1–128 printable characters.
        ACTOR_HEADER => Some(text(visible_ascii(128))),
        ACTOR_TYPE_HEADER => Some(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(ActorType::ALL.iter().map(|t| t.as_str())))
                .build(),
        )),
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

/// The context headers a link must carry so that the linked request acts in the same tenant, as
/// the same actor, as the request whose response it follows.
const LINKED_CONTEXT: [&str; 2] = [TENANT_HEADER, ACTOR_HEADER];

/// Adds `header.X-Tenant-Id: $request.header.X-Tenant-Id` (and the actor) to every link whose
/// source and target operations both declare the header.
fn carry_context_across_links(
    operation: &mut Operation,
    declared_headers: &BTreeMap<String, BTreeSet<String>>,
) {
    let own_headers: BTreeMap<String, String> = parameters(operation)
        .filter(|p| p.parameter_in == ParameterIn::Header)
        .map(|p| (p.name.to_ascii_lowercase(), p.name.clone()))
        .collect();
    for response in operation.responses.responses.values_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        for link in response.links.values_mut() {
            let RefOr::T(link) = link else {
                continue;
            };
            let Some(target_headers) = declared_headers.get(&link.operation_id) else {
                continue;
            };
            for header in LINKED_CONTEXT {
                let Some(name) = own_headers.get(header) else {
                    continue;
                };
                let already = link.parameters.keys().any(|key| {
                    let bare = key.strip_prefix("header.").unwrap_or(key);
                    bare.eq_ignore_ascii_case(header)
                });
                if target_headers.contains(header) && !already {
                    link.parameters.insert(
                        format!("header.{name}"),
                        Value::String(format!("$request.header.{name}")),
                    );
                }
            }
        }
    }
}
