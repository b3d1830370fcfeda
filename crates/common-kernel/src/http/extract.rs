//! Extractors that answer bad input with problem+json instead of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, FieldError, codes};

/// A JSON body that was syntactically valid, matched `T` exactly (unknown fields are refused by
/// `#[serde(deny_unknown_fields)]` on `T`) and contains no NUL characters, plus a digest of its
/// canonical form for idempotency.
#[derive(Debug)]
pub struct ValidJson<T> {
    /// The deserialised body.
    pub body: T,
    /// SHA-256 of the body with object keys sorted, independent of whitespace and key order.
    pub digest: String,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ValidJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UNSUPPORTED_MEDIA_TYPE,
                "Expected a body with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes)
    }
}

/// A JSON body that may be absent: an empty body (with or without a content type) is `None`, and
/// so is a JSON `null` (the contract of an optional body allows it).
#[derive(Debug)]
pub struct OptionalJson<T> {
    /// The deserialised body, when one was sent.
    pub body: Option<T>,
    /// Digest of the canonical body; the digest of `null` when absent.
    pub digest: String,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let has_content_type = request.headers().contains_key(CONTENT_TYPE);
        let json = is_json(request.headers());
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(body_rejection)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self {
                body: None,
                digest: digest(&Value::Null),
            });
        }
        if has_content_type && !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UNSUPPORTED_MEDIA_TYPE,
                "Expected a body with Content-Type: application/json",
            ));
        }
        if bytes.trim_ascii() == b"null" {
            return Ok(Self {
                body: None,
                digest: digest(&Value::Null),
            });
        }
        let parsed: ValidJson<T> = parse_json(&bytes)?;
        Ok(Self {
            body: Some(parsed.body),
            digest: parsed.digest,
        })
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::PAYLOAD_TOO_LARGE,
            "The request body exceeds the size limit",
        )
    } else {
        ApiError::bad_request(codes::MALFORMED_JSON, "The request body could not be read")
    }
}

/// Parses, checks and digests a JSON body.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<ValidJson<T>, ApiError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(
            codes::MALFORMED_JSON,
            format!(
                "The body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    let mut nul_fields = Vec::new();
    find_nul(&value, String::new(), &mut nul_fields);
    if !nul_fields.is_empty() {
        return Err(ApiError::validation(
            nul_fields
                .into_iter()
                .map(|f| FieldError::new(f, "INVALID_CHARACTER", "must not contain NUL characters"))
                .collect(),
        ));
    }
    let digest = digest(&value);
    let body = serde_path_to_error::deserialize::<_, T>(&value).map_err(|e| {
        let path = pointer(&e.path().to_string());
        let message = e.inner().to_string();
        let code = if message.starts_with("unknown field") {
            "UNKNOWN_FIELD"
        } else if message.starts_with("missing field") {
            "REQUIRED"
        } else {
            "INVALID_TYPE"
        };
        ApiError::validation(vec![FieldError::new(path, code, message)])
    })?;
    Ok(ValidJson { body, digest })
}

/// Converts serde_path_to_error's `a.b[0].c` into a JSON pointer `/a/b/0/c`.
fn pointer(path: &str) -> String {
    if path == "." || path.is_empty() {
        return "/".to_owned();
    }
    let mut out = String::new();
    for segment in path.split('.') {
        let mut rest = segment;
        while let Some(open) = rest.find('[') {
            let (name, index) = rest.split_at(open);
            if !name.is_empty() {
                out.push('/');
                out.push_str(name);
            }
            let close = index.find(']').unwrap_or(index.len());
            out.push('/');
            out.push_str(&index[1..close]);
            rest = index.get(close + 1..).unwrap_or("");
        }
        if !rest.is_empty() {
            out.push('/');
            out.push_str(rest);
        }
    }
    out
}

fn find_nul(value: &Value, path: String, found: &mut Vec<String>) {
    match value {
        Value::String(s) if s.contains('\0') => {
            found.push(if path.is_empty() { "/".into() } else { path })
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_nul(item, format!("{path}/{i}"), found);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                if key.contains('\0') {
                    found.push(format!("{path}/{}", key.replace('\0', "\\u0000")));
                }
                find_nul(item, format!("{path}/{key}"), found);
            }
        }
        _ => {}
    }
}

/// SHA-256 over the canonical JSON text (object keys sorted at every level).
pub fn digest(value: &Value) -> String {
    let mut canonical = String::new();
    write_canonical(value, &mut canonical);
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*key).clone()).to_string());
                out.push(':');
                if let Some(item) = map.get(*key) {
                    write_canonical(item, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Path parameters whose parse failures become 400 problem+json.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Self(value))
            .map_err(|rejection: PathRejection| {
                ApiError::bad_request(codes::INVALID_PATH_PARAMETER, rejection.body_text())
            })
    }
}

/// Query parameters whose parse failures become 400 problem+json.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(name) = parts.uri.query().and_then(parameter_with_nul) {
            // PostgreSQL refuses NUL in text: refused here as bad input, never a 500 later.
            return Err(
                ApiError::bad_request(codes::INVALID_QUERY, "The query string is invalid")
                    .with_errors(vec![FieldError::new(
                        format!("query:{name}"),
                        "INVALID_CHARACTER",
                        "must not contain NUL characters",
                    )]),
            );
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection: QueryRejection| {
                let text = rejection.body_text();
                let detail = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text)
                    .to_owned();
                ApiError::bad_request(codes::INVALID_QUERY, "The query string is invalid")
                    .with_errors(vec![FieldError::new("query", "INVALID", detail)])
            })
    }
}

/// The name of the first query parameter whose name or value holds an encoded NUL (`%00`).
fn parameter_with_nul(query: &str) -> Option<String> {
    query
        .split('&')
        .find(|pair| pair.contains("%00"))
        .map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            name.replace("%00", "\\u0000")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Item {
        #[expect(dead_code, reason = "only deserialised")]
        quantity: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        #[expect(dead_code, reason = "only deserialised")]
        items: Vec<Item>,
    }

    #[test]
    fn digest_ignores_key_order_and_whitespace() {
        let a: Value = serde_json::from_str(r#"{"b":1,"a":{"y":[1,2],"x":"s"}}"#).expect("json");
        let b: Value =
            serde_json::from_str(r#"{ "a": {"x":"s", "y":[1, 2]}, "b": 1 }"#).expect("json");
        assert_eq!(digest(&a), digest(&b));
        let c: Value = serde_json::from_str(r#"{"b":2,"a":{"y":[1,2],"x":"s"}}"#).expect("json");
        assert_ne!(digest(&a), digest(&c));
    }

    #[test]
    fn type_errors_point_at_the_field() {
        let err = parse_json::<Body>(br#"{"items":[{"quantity":1},{"quantity":"x"}]}"#)
            .expect_err("bad type");
        let problem = err.to_problem();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem.errors[0].field, "/items/1/quantity");
        assert_eq!(problem.errors[0].code, "INVALID_TYPE");
    }

    #[test]
    fn unknown_fields_and_nul_are_refused() {
        let err = parse_json::<Body>(br#"{"items":[],"extra":1}"#).expect_err("unknown");
        assert_eq!(err.to_problem().errors[0].code, "UNKNOWN_FIELD");
        let err =
            parse_json::<Body>(br#"{"items":[{"quantity":1,"x\u0000":1}]}"#).expect_err("nul");
        assert_eq!(err.code(), codes::VALIDATION_FAILED);
    }

    #[tokio::test]
    async fn an_optional_body_may_be_null_or_absent() {
        let request = |body: &'static str| {
            Request::builder()
                .header(CONTENT_TYPE, "application/json")
                .body(axum::body::Body::from(body))
                .expect("request")
        };
        for body in ["", " null ", "null"] {
            let parsed = OptionalJson::<Body>::from_request(request(body), &())
                .await
                .expect("absent");
            assert!(parsed.body.is_none());
            assert_eq!(parsed.digest, digest(&Value::Null));
        }
        let err = OptionalJson::<Body>::from_request(request("[]"), &())
            .await
            .expect_err("not an object");
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[tokio::test]
    async fn a_nul_in_the_query_is_refused_with_the_parameter_named() {
        #[derive(Debug, Deserialize)]
        struct Filter {
            #[expect(dead_code, reason = "only deserialised")]
            code: Option<String>,
        }
        let request = axum::http::Request::get("/price-books?limit=2&code=a%00b")
            .body(())
            .expect("request");
        let (mut parts, ()) = request.into_parts();
        let error = ApiQuery::<Filter>::from_request_parts(&mut parts, &())
            .await
            .expect_err("NUL refused");
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert_eq!(error.code(), codes::INVALID_QUERY);
        assert_eq!(error.to_problem().errors[0].field, "query:code");
        let request = axum::http::Request::get("/price-books?code=a%01b")
            .body(())
            .expect("request");
        let (mut parts, ()) = request.into_parts();
        ApiQuery::<Filter>::from_request_parts(&mut parts, &())
            .await
            .expect("other characters pass");
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        let err = parse_json::<Body>(b"{\"items\": [").expect_err("syntax");
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        let err = parse_json::<Body>(b"\xff\xfe").expect_err("not utf-8");
        assert_eq!(err.code(), codes::MALFORMED_JSON);
    }
}

/// The aggregate version a client expects (`If-Match`), for optimistic concurrency. Absent means
/// "no precondition"; a present but unreadable value is a 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(axum::http::header::IF_MATCH) else {
            return Ok(Self(None));
        };
        value
            .to_str()
            .ok()
            .and_then(crate::version::Version::from_if_match)
            .map(|v| Self(Some(v.get())))
            .ok_or_else(|| {
                ApiError::bad_request(
                    codes::INVALID_HEADER,
                    "If-Match must name a version, e.g. \"3\"",
                )
                .with_errors(vec![FieldError::new(
                    "header:If-Match",
                    "INVALID",
                    "expected a quoted positive integer",
                )])
            })
    }
}
