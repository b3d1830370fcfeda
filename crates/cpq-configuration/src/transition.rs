//! The error every state machine of this crate returns for a command its current state does
//! not allow, with one stable code, so callers map all of them to the same problem response.

use std::fmt;

/// Stable code of every refused transition.
pub const ILLEGAL_TRANSITION: &str = "ILLEGAL_TRANSITION";

/// A command the current state does not allow; nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{command} is not allowed in state {from}")]
pub struct TransitionError<S: fmt::Display + fmt::Debug, C: fmt::Display + fmt::Debug> {
    /// State the machine was in (and still is).
    pub from: S,
    /// The refused command.
    pub command: C,
}

impl<S: fmt::Display + fmt::Debug, C: fmt::Display + fmt::Debug> TransitionError<S, C> {
    /// [`ILLEGAL_TRANSITION`], for problem responses.
    pub fn code(&self) -> &'static str {
        ILLEGAL_TRANSITION
    }
}
