//! The operations console at `/console` (ADR 0047): a page and a small script served from this
//! binary (no CDN), signed in through the platform's OIDC issuer with the authorization code
//! flow and PKCE. The token stays in a server-side session; the browser holds an HttpOnly
//! cookie. The console's API is the ops views themselves (the same handlers, authenticated by
//! the session) and the order service's commands, sent on with the operator's token: the
//! console holds no logic of its own.

pub mod guard;
pub mod oidc;
pub mod proxy;
pub mod secrets;
pub mod sessions;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use common_kernel::auth::Verifier;
use domain_kernel::access::Action;
use serde::Deserialize;
use serde_json::json;

use self::guard::{SESSION_COOKIE, require_session, same_origin, session_of};
use self::oidc::Oidc;
use self::secrets::{challenge_of, random_token};
use self::sessions::{Session, Sessions};
use crate::settings::ConsoleSettings;

/// The cookie binding a sign-in in flight to the browser that started it.
const LOGIN_COOKIE: &str = "ops_console_login";

const INDEX_HTML: &str = include_str!("../../console/index.html");
const CONSOLE_JS: &str = include_str!("../../console/console.js");
const CONSOLE_CSS: &str = include_str!("../../console/console.css");

/// What the console's handlers share.
#[derive(Debug, Clone)]
pub struct ConsoleState {
    /// Where it signs in and sends repairs.
    pub settings: Arc<ConsoleSettings>,
    /// Sessions and sign-ins in flight.
    pub sessions: Sessions,
    /// Checks the tokens the issuer hands out (and again on every call).
    pub verifier: Arc<Verifier>,
    /// The issuer.
    pub oidc: Arc<Oidc>,
    /// Calls to the order service.
    pub http: reqwest::Client,
}

/// The console's routes; `api` is the ops views' router, served again under
/// `/console/api/ops` behind the session.
pub fn routes(state: ConsoleState, api: Router) -> Router {
    let guarded = Router::new()
        .route("/console/api/session", get(session_info))
        .route("/console/api/order/{*path}", any(proxy::to_order))
        .with_state(state.clone())
        .nest("/console/api/ops", api)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            require_session,
        ));
    Router::new()
        .route("/console", get(index))
        .route("/console/", get(index))
        .route("/console/assets/console.js", get(script))
        .route("/console/assets/console.css", get(stylesheet))
        .route("/console/login", get(login))
        .route("/console/callback", get(callback))
        .route("/console/logout", post(logout))
        .with_state(state)
        .merge(guarded)
}

fn secure(state: &ConsoleState) -> &'static str {
    if state.settings.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

fn with_cookie(mut response: Response, cookie: String) -> Response {
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn index(State(state): State<ConsoleState>, headers: HeaderMap) -> Response {
    if session_of(&state, &headers).await.is_none() {
        return Redirect::to("/console/login").into_response();
    }
    let mut response = no_store(Html(INDEX_HTML).into_response());
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    response
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        CONSOLE_JS,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        CONSOLE_CSS,
    )
        .into_response()
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    (
        status,
        Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title></head>\
             <body><h1>{t}</h1><p>{x}</p><p><a href=\"/console/login\">Sign in again</a></p></body></html>",
            t = escape(title),
            x = escape(text)
        )),
    )
        .into_response()
}

/// Starts a sign-in: PKCE verifier, nonce and state kept here, the browser sent to the issuer.
fn broken_host() -> Response {
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Sign-in unavailable",
        "The console cannot make a secure sign-in on this host.",
    )
}

async fn login(State(state): State<ConsoleState>) -> Response {
    let (Ok(verifier), Ok(nonce)) = (random_token(), random_token()) else {
        return broken_host();
    };
    let challenge = challenge_of(&verifier);
    let Ok(login_state) = state
        .sessions
        .begin(verifier, nonce.clone(), "/console".to_owned())
    else {
        return broken_host();
    };
    match state
        .oidc
        .authorization_url(&login_state, &nonce, &challenge)
        .await
    {
        Ok(url) => with_cookie(
            no_store(Redirect::to(&url).into_response()),
            format!(
                "{LOGIN_COOKIE}={login_state}; Path=/console; HttpOnly; SameSite=Lax; Max-Age=600{}",
                secure(&state)
            ),
        ),
        Err(error) => {
            tracing::warn!(%error, "the console cannot reach the issuer");
            page(
                StatusCode::BAD_GATEWAY,
                "The sign-in service is unavailable",
                "The console could not reach the identity provider. Try again in a moment.",
            )
        }
    }
}

/// The issuer's answer.
#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Ends a sign-in: the state must be this browser's, the code is exchanged over the back
/// channel, the access token verified and its caller allowed to view operations.
async fn callback(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Query(answer): Query<CallbackQuery>,
) -> Response {
    if let Some(error) = answer.error {
        let detail = answer.error_description.unwrap_or_default();
        return page(
            StatusCode::UNAUTHORIZED,
            "Sign-in refused",
            &format!("{error}: {detail}"),
        );
    }
    let (Some(code), Some(login_state)) = (answer.code, answer.state) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Sign-in incomplete",
            "The identity provider answered without a code.",
        );
    };
    if guard::cookie(&headers, LOGIN_COOKIE) != Some(login_state.as_str()) {
        return page(
            StatusCode::BAD_REQUEST,
            "Sign-in not started here",
            "This sign-in was not started in this browser.",
        );
    }
    let Some(pending) = state.sessions.finish(&login_state) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Sign-in expired",
            "The sign-in took too long or was already used.",
        );
    };
    let tokens = match state
        .oidc
        .exchange(&code, &pending.verifier, &pending.nonce)
        .await
    {
        Ok(tokens) => tokens,
        Err(error) => {
            tracing::warn!(%error, "console sign-in failed at the code exchange");
            return page(
                StatusCode::BAD_GATEWAY,
                "Sign-in failed",
                &error.to_string(),
            );
        }
    };
    let caller = match state.verifier.verify(&tokens.access_token).await {
        Ok(caller) => caller,
        Err(error) => {
            return page(
                StatusCode::UNAUTHORIZED,
                "Sign-in failed",
                &format!("the token does not verify: {error}"),
            );
        }
    };
    if !caller.authority.may(Action::ViewOperations) {
        return page(
            StatusCode::FORBIDDEN,
            "Not an operator",
            "Your roles do not include operations (operator, ops-lead or auditor).",
        );
    }
    let lifetime = Duration::from_secs(tokens.expires_in.unwrap_or(300));
    tracing::info!(actor = %caller.actor.actor_id, "operator signed in to the console");
    let Ok(id) = state.sessions.open(Session {
        access_token: tokens.access_token,
        caller,
        expires_at: Instant::now() + lifetime,
    }) else {
        return broken_host();
    };
    // A page, not a redirect: the navigation to the console then starts here.
    let landing = page_redirect(&pending.return_to);
    let response = with_cookie(
        no_store(landing),
        format!(
            "{SESSION_COOKIE}={id}; Path=/console; HttpOnly; SameSite=Lax; Max-Age={}{}",
            lifetime.as_secs(),
            secure(&state)
        ),
    );
    with_cookie(
        response,
        format!("{LOGIN_COOKIE}=; Path=/console; HttpOnly; SameSite=Lax; Max-Age=0"),
    )
}

fn page_redirect(to: &str) -> Response {
    let to = if to.starts_with("/console") {
        to
    } else {
        "/console"
    };
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0;url={to}\"><title>Signed in</title></head>\
         <body><p>Signed in. <a href=\"{to}\">Open the console</a>.</p></body></html>"
    ))
    .into_response()
}

async fn logout(State(state): State<ConsoleState>, headers: HeaderMap) -> Response {
    if !same_origin(&headers, &state.settings.public_url) {
        return StatusCode::FORBIDDEN.into_response();
    }
    if let Some(id) = guard::cookie(&headers, SESSION_COOKIE) {
        state.sessions.close(id);
    }
    with_cookie(
        StatusCode::NO_CONTENT.into_response(),
        format!("{SESSION_COOKIE}=; Path=/console; HttpOnly; SameSite=Lax; Max-Age=0"),
    )
}

async fn session_info(axum::Extension(session): axum::Extension<Session>) -> Response {
    let caller = &session.caller;
    axum::Json(json!({
        "username": caller.actor.actor_id.as_str(),
        "roles": caller.authority.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "tenantId": caller.tenant.as_str(),
    }))
    .into_response()
}
