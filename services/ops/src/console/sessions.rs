//! The console's server-side sessions: the operator's access token stays here, keyed by an
//! unguessable id the browser holds in an HttpOnly cookie; the browser never sees the token.
//! Sign-ins in flight are kept by their `state` for ten minutes. In memory: a restart signs
//! operators out, which the console answers by sending them through the issuer again (ADR 0047).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common_kernel::auth::Caller;

use super::secrets::{RandomUnavailable, random_token};

/// How long a sign-in may take between the redirect and the callback.
const LOGIN_TTL: Duration = Duration::from_secs(600);
/// The most sign-ins in flight kept (a flood of `/console/login` cannot grow memory unbounded).
const MAX_PENDING: usize = 10_000;

/// A sign-in between the redirect to the issuer and the callback.
#[derive(Debug, Clone)]
pub struct PendingLogin {
    /// The PKCE verifier.
    pub verifier: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// Where the operator was going.
    pub return_to: String,
    started: Instant,
}

/// A signed-in operator.
#[derive(Clone)]
pub struct Session {
    /// The access token, sent on with every call.
    pub access_token: String,
    /// Who the token proves.
    pub caller: Caller,
    /// When the token expires (the session with it).
    pub expires_at: Instant,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("actor", &self.caller.actor.actor_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Inner {
    pending: HashMap<String, PendingLogin>,
    sessions: HashMap<String, Session>,
}

/// The sessions and sign-ins of this process.
#[derive(Debug, Clone, Default)]
pub struct Sessions(Arc<Mutex<Inner>>);

impl Sessions {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut inner = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut inner)
    }

    /// Starts a sign-in; returns its `state`.
    pub fn begin(
        &self,
        verifier: String,
        nonce: String,
        return_to: String,
    ) -> Result<String, RandomUnavailable> {
        let state = random_token()?;
        let now = Instant::now();
        self.with(|inner| {
            inner
                .pending
                .retain(|_, p| now.duration_since(p.started) < LOGIN_TTL);
            if inner.pending.len() >= MAX_PENDING {
                inner.pending.clear();
            }
            inner.pending.insert(
                state.clone(),
                PendingLogin {
                    verifier,
                    nonce,
                    return_to,
                    started: now,
                },
            );
        });
        Ok(state)
    }

    /// Takes the sign-in of `state` (once).
    pub fn finish(&self, state: &str) -> Option<PendingLogin> {
        self.with(|inner| inner.pending.remove(state))
            .filter(|p| p.started.elapsed() < LOGIN_TTL)
    }

    /// Opens a session; returns its id.
    pub fn open(&self, session: Session) -> Result<String, RandomUnavailable> {
        let id = random_token()?;
        let now = Instant::now();
        self.with(|inner| {
            inner.sessions.retain(|_, s| s.expires_at > now);
            inner.sessions.insert(id.clone(), session);
        });
        Ok(id)
    }

    /// The live session of `id`.
    pub fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        self.with(|inner| match inner.sessions.get(id) {
            Some(session) if session.expires_at > now => Some(session.clone()),
            Some(_) => {
                inner.sessions.remove(id);
                None
            }
            None => None,
        })
    }

    /// Ends a session.
    pub fn close(&self, id: &str) {
        self.with(|inner| inner.sessions.remove(id));
    }
}
