//! Idempotent command execution over PostgreSQL (architecture §11).
//!
//! A command with an `Idempotency-Key` first claims the key in its own short transaction
//! (`IN_PROGRESS`, with a lease). The command then runs in a second transaction that also marks
//! the key `COMPLETED` with the response, so the response is stored exactly when the change
//! commits. Outcomes for a repeated key:
//! * same request, completed ⇒ the stored status and body are replayed;
//! * different request ⇒ 422 `IDEMPOTENCY_KEY_REUSED`;
//! * same request still running ⇒ 409 `IDEMPOTENCY_IN_PROGRESS` (retryable);
//! * record past `expires_at`, or a lease abandoned by a crashed process ⇒ claimed afresh.
//!
//! Business refusals (4xx) are stored and replayed like successes; retryable failures release
//! the key so the client's retry runs the command again. A refusal of the caller (403) is about
//! who asked, not about the request: it is not stored, so it leaves no row and does not block a
//! caller who may take the action. A key belongs to the caller who used it: the stored request
//! hash covers the actor, so another caller's request under the same key is a different request
//! (422 `IDEMPOTENCY_KEY_REUSED`), never a replay of an answer the permission table may not give
//! them (ADR 0030).
//!
//! Every transaction the runner opens is scoped to the request's tenant
//! (`db::begin_for_tenant`), as row-level security on the app role's pool requires (ADR 0030).
//! Purging expired records crosses tenants and runs on the owner's pool.

use std::future::Future;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use crate::context::RequestContext;
use crate::db::begin_for_tenant;
use crate::error::{ApiError, codes};

/// Header set on replayed responses.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// How long a claimed key may stay in progress before another request may take it over.
const LEASE: Duration = Duration::from_secs(60);

/// A transaction handed to a command and handed back with its result.
pub type Tx = Transaction<'static, Postgres>;

/// A command's successful answer: status plus JSON body (and optional headers).
#[derive(Debug, Clone)]
pub struct CommandResponse {
    /// HTTP status of the answer (200 or 201).
    pub status: StatusCode,
    /// JSON body.
    pub body: Value,
    /// `Location` of a created resource.
    pub location: Option<String>,
    /// `ETag` of the returned representation.
    pub etag: Option<String>,
    /// Whether this answer was replayed from the idempotency store.
    pub replayed: bool,
}

impl CommandResponse {
    /// 200 with a body.
    pub fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body,
            location: None,
            etag: None,
            replayed: false,
        }
    }

    /// 201 with a body and the new resource's location.
    pub fn created(body: Value, location: String) -> Self {
        Self {
            status: StatusCode::CREATED,
            location: Some(location),
            ..Self::ok(body)
        }
    }

    /// Adds an entity tag.
    pub fn with_etag(mut self, etag: String) -> Self {
        self.etag = Some(etag);
        self
    }
}

impl IntoResponse for CommandResponse {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        let content_type = if self.status.is_success() {
            "application/json"
        } else {
            crate::error::PROBLEM_JSON
        };
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static(content_type),
        );
        if let Some(location) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(axum::http::header::LOCATION, location);
        }
        if let Some(etag) = self.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
            headers.insert(axum::http::header::ETAG, etag);
        }
        if self.replayed {
            headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
        }
        response
    }
}

/// What identifies "the same request" for a key: the command and a digest of its input.
#[derive(Debug, Clone)]
pub struct CommandFingerprint {
    /// Command name, e.g. `catalog.PublishOffering`.
    pub command_type: &'static str,
    /// Digest over command type, target and canonical body.
    pub request_hash: String,
}

impl CommandFingerprint {
    /// Fingerprints a command by its name, target (path parameters) and body digest.
    pub fn new(command_type: &'static str, target: &str, body_digest: &str) -> Self {
        let mut hasher = Sha256::new();
        for part in [command_type, target, body_digest] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        Self {
            command_type,
            request_hash: hex::encode(hasher.finalize()),
        }
    }

    /// The hash stored with a key: the request's, bound to the caller who sent it.
    fn for_caller(&self, ctx: &RequestContext) -> String {
        let mut hasher = Sha256::new();
        for part in [self.request_hash.as_str(), ctx.actor.actor_id.as_str()] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        hex::encode(hasher.finalize())
    }
}

/// Runs commands in transactions, idempotently when the request carries a key.
#[derive(Debug, Clone)]
pub struct CommandRunner {
    pool: PgPool,
    purge_pool: PgPool,
    ttl: Duration,
}

enum Claim {
    Claimed(Uuid),
    Replay(CommandResponse),
}

impl CommandRunner {
    /// A runner over a service pool (the app role's, in a service); records live for `ttl`.
    /// Expired records are purged through the same pool until [`CommandRunner::with_purge_pool`]
    /// names the jobs role's.
    pub fn new(pool: PgPool, ttl: Duration) -> Self {
        Self {
            purge_pool: pool.clone(),
            pool,
            ttl,
        }
    }

    /// Purges expired records through `jobs`: the purge crosses tenants, and on the app role's
    /// pool row-level security would let it see none. The jobs role may read only the records'
    /// `expires_at` and delete them.
    pub fn with_purge_pool(mut self, jobs: PgPool) -> Self {
        self.purge_pool = jobs;
        self
    }

    /// Runs `command` in a transaction and commits it; with an idempotency key in `ctx`, at most
    /// once per key and request.
    pub async fn run<F, Fut>(
        &self,
        ctx: &RequestContext,
        fingerprint: CommandFingerprint,
        command: F,
    ) -> Result<CommandResponse, ApiError>
    where
        F: FnOnce(Tx) -> Fut,
        Fut: Future<Output = (Tx, Result<CommandResponse, ApiError>)>,
    {
        self.run_prepared(ctx, fingerprint, async { Ok(()) }, |tx, ()| command(tx))
            .await
    }

    /// Like [`CommandRunner::run`], with a `prepare` step that runs after the key is claimed and
    /// before the transaction opens: the place for network calls (another service, a cache),
    /// so no row lock or pooled connection is held while they wait. A replayed key never runs
    /// `prepare`; its refusals are stored and replayed like the command's.
    pub async fn run_prepared<P, Prep, F, Fut>(
        &self,
        ctx: &RequestContext,
        fingerprint: CommandFingerprint,
        prepare: Prep,
        command: F,
    ) -> Result<CommandResponse, ApiError>
    where
        Prep: Future<Output = Result<P, ApiError>>,
        F: FnOnce(Tx, P) -> Fut,
        Fut: Future<Output = (Tx, Result<CommandResponse, ApiError>)>,
    {
        let Some(key) = ctx.idempotency_key.as_deref() else {
            let prepared = prepare.await?;
            let tx = begin_for_tenant(&self.pool, &ctx.tenant_id).await?;
            let (tx, result) = command(tx, prepared).await;
            return match result {
                Ok(response) => {
                    tx.commit().await?;
                    Ok(response)
                }
                Err(error) => {
                    tx.rollback().await.ok();
                    Err(error)
                }
            };
        };

        let lease_token = match self.claim(ctx, key, &fingerprint).await? {
            Claim::Replay(response) => return Ok(response),
            Claim::Claimed(token) => token,
        };
        let prepared = match prepare.await {
            Ok(prepared) => prepared,
            Err(error) => {
                self.settle_refusal(ctx, key, lease_token, &error).await;
                return Err(error);
            }
        };

        let tx = match begin_for_tenant(&self.pool, &ctx.tenant_id).await {
            Ok(tx) => tx,
            Err(error) => {
                self.release(ctx, key, lease_token).await;
                return Err(error.into());
            }
        };
        let (mut tx, result) = command(tx, prepared).await;
        match result {
            Ok(response) => {
                match complete(&mut tx, ctx, key, lease_token, &response).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tx.rollback().await.ok();
                        return Err(in_progress());
                    }
                    Err(error) => {
                        tx.rollback().await.ok();
                        self.release(ctx, key, lease_token).await;
                        return Err(error.into());
                    }
                }
                if let Err(error) = tx.commit().await {
                    self.release(ctx, key, lease_token).await;
                    return Err(error.into());
                }
                Ok(response)
            }
            Err(error) => {
                tx.rollback().await.ok();
                self.settle_refusal(ctx, key, lease_token, &error).await;
                Err(error)
            }
        }
    }

    /// After a failed command: a business refusal (non-retryable 4xx) is stored and replayed
    /// like a success; a refusal of the caller (403) and anything retryable release the key, so
    /// nothing stays behind and a caller who may, or the client's retry, runs the command.
    async fn settle_refusal(
        &self,
        ctx: &RequestContext,
        key: &str,
        lease_token: Uuid,
        error: &ApiError,
    ) {
        if error.status().is_client_error()
            && error.status() != StatusCode::FORBIDDEN
            && !error.retryable()
        {
            let refusal = CommandResponse {
                status: error.status(),
                body: serde_json::to_value(error.to_problem()).unwrap_or(Value::Null),
                location: None,
                etag: None,
                replayed: false,
            };
            if let Ok(mut tx) = begin_for_tenant(&self.pool, &ctx.tenant_id).await {
                let stored = match complete(&mut tx, ctx, key, lease_token, &refusal).await {
                    Ok(true) => tx.commit().await.is_ok(),
                    _ => false,
                };
                if !stored {
                    self.release(ctx, key, lease_token).await;
                }
            }
        } else {
            self.release(ctx, key, lease_token).await;
        }
    }

    async fn claim(
        &self,
        ctx: &RequestContext,
        key: &str,
        fingerprint: &CommandFingerprint,
    ) -> Result<Claim, ApiError> {
        let token = Uuid::now_v7();
        let request_hash = fingerprint.for_caller(ctx);
        let now = Utc::now();
        let lease_until = now + LEASE;
        let expires_at = now + self.ttl;
        let mut tx = begin_for_tenant(&self.pool, &ctx.tenant_id).await?;
        let claimed: Option<Uuid> = sqlx::query_scalar(
            "INSERT INTO idempotency_record AS r \
               (tenant_id, idempotency_key, command_type, request_hash, status, lease_token, locked_until, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, 'IN_PROGRESS', $5, $6, $7, $8) \
             ON CONFLICT (tenant_id, idempotency_key) DO UPDATE SET \
               command_type = EXCLUDED.command_type, request_hash = EXCLUDED.request_hash, status = 'IN_PROGRESS', \
               lease_token = EXCLUDED.lease_token, locked_until = EXCLUDED.locked_until, created_at = EXCLUDED.created_at, \
               expires_at = EXCLUDED.expires_at, response_status = NULL, response_body = NULL, response_hash = NULL, \
               completed_at = NULL \
             WHERE r.expires_at < now() \
                OR (r.status = 'IN_PROGRESS' AND r.locked_until < now() AND r.request_hash = EXCLUDED.request_hash) \
             RETURNING lease_token",
        )
        .bind(ctx.tenant_id.as_str())
        .bind(key)
        .bind(fingerprint.command_type)
        .bind(&request_hash)
        .bind(token)
        .bind(lease_until)
        .bind(now)
        .bind(expires_at)
        .fetch_optional(&mut *tx)
        .await?;
        if claimed.is_some() {
            tx.commit().await?;
            return Ok(Claim::Claimed(token));
        }

        let existing: Option<StoredRecord> = sqlx::query_as(
            "SELECT request_hash, status, response_status, response_body, response_location FROM idempotency_record \
             WHERE tenant_id = $1 AND idempotency_key = $2",
        )
        .bind(ctx.tenant_id.as_str())
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        // Nothing was written: dropping the transaction rolls it back with the pool's release
        // check instead of a COMMIT round trip.
        drop(tx);
        match existing {
            None => Err(in_progress()),
            Some((hash, _, _, _, _)) if hash != request_hash => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                codes::IDEMPOTENCY_KEY_REUSED,
                "This Idempotency-Key was already used for a different request",
            )
            .with_retryable(false)),
            Some((_, status, Some(code), Some(body), location)) if status == "COMPLETED" => {
                Ok(Claim::Replay(CommandResponse {
                    status: u16::try_from(code)
                        .ok()
                        .and_then(|c| StatusCode::from_u16(c).ok())
                        .unwrap_or(StatusCode::OK),
                    location,
                    body,
                    etag: None,
                    replayed: true,
                }))
            }
            Some(_) => Err(in_progress()),
        }
    }

    /// Gives a claimed key up so that a retry executes the command.
    async fn release(&self, ctx: &RequestContext, key: &str, lease_token: Uuid) {
        let released = async {
            let mut tx = begin_for_tenant(&self.pool, &ctx.tenant_id).await?;
            sqlx::query(
                "DELETE FROM idempotency_record WHERE tenant_id = $1 AND idempotency_key = $2 \
                 AND status = 'IN_PROGRESS' AND lease_token = $3",
            )
            .bind(ctx.tenant_id.as_str())
            .bind(key)
            .bind(lease_token)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        }
        .await;
        if let Err(error) = released {
            tracing::warn!(%error, "idempotency key not released; it frees itself when its lease ends");
        }
    }

    /// Deletes records past their expiry, every tenant's (through the purge pool); returns how
    /// many went.
    pub async fn purge_expired(&self) -> Result<u64, sqlx::Error> {
        let result = sqlx::query("DELETE FROM idempotency_record WHERE expires_at < now()")
            .execute(&self.purge_pool)
            .await?;
        Ok(result.rows_affected())
    }
}

/// `(request_hash, status, response_status, response_body, response_location)` of a stored key.
type StoredRecord = (String, String, Option<i16>, Option<Value>, Option<String>);

fn in_progress() -> ApiError {
    ApiError::conflict(
        codes::IDEMPOTENCY_IN_PROGRESS,
        "A request with this Idempotency-Key is still being processed; retry shortly",
    )
    .with_retryable(true)
}

/// Marks the claimed key completed with `response`, only while this request still holds the
/// lease. Returns whether it did.
async fn complete(
    conn: &mut sqlx::PgConnection,
    ctx: &RequestContext,
    key: &str,
    lease_token: Uuid,
    response: &CommandResponse,
) -> Result<bool, sqlx::Error> {
    let text = serde_json::to_string(&response.body).unwrap_or_default();
    let response_hash = hex::encode(Sha256::digest(text.as_bytes()));
    let result = sqlx::query(
        "UPDATE idempotency_record SET status = 'COMPLETED', response_status = $4, response_body = $5, \
         response_hash = $6, response_location = $7, completed_at = now(), locked_until = NULL \
         WHERE tenant_id = $1 AND idempotency_key = $2 AND lease_token = $3 AND status = 'IN_PROGRESS'",
    )
    .bind(ctx.tenant_id.as_str())
    .bind(key)
    .bind(lease_token)
    .bind(i16::try_from(response.status.as_u16()).unwrap_or(200))
    .bind(&response.body)
    .bind(response_hash)
    .bind(response.location.as_deref())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}
