//! Liveness and readiness: live means the process answers, ready means it can serve requests
//! (its database answers). Redis is reported but never makes a service unready: it only
//! accelerates.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sqlx::PgPool;

use crate::cache::Cache;

/// What the health endpoints need.
#[derive(Debug, Clone)]
pub struct HealthState {
    /// Service name reported by the endpoints (lets a launcher tell services apart).
    pub service: &'static str,
    /// The service's database pool.
    pub db: PgPool,
    /// The service's cache.
    pub cache: Cache,
}

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    service: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<Checks>,
}

#[derive(Debug, Serialize)]
struct Checks {
    database: &'static str,
    cache: &'static str,
}

/// `GET /health/live`.
pub async fn live(State(state): State<HealthState>) -> Response {
    Json(Health {
        status: "UP",
        service: state.service,
        checks: None,
    })
    .into_response()
}

/// `GET /health/ready`: 200 when the database answers within two seconds, else 503.
pub async fn ready(State(state): State<HealthState>) -> Response {
    let database_up = tokio::time::timeout(
        Duration::from_secs(2),
        sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.db),
    )
    .await
    .map(|r| r.is_ok())
    .unwrap_or(false);
    let cache = if state.cache.ping().await {
        "UP"
    } else {
        "DOWN"
    };
    let body = Health {
        status: if database_up { "UP" } else { "DOWN" },
        service: state.service,
        checks: Some(Checks {
            database: if database_up { "UP" } else { "DOWN" },
            cache,
        }),
    };
    let status = if database_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
