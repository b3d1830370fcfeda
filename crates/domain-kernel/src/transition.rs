//! Every state machine of the platform is one explicit table of `(from, command, to)` rows
//! (state-machines.md). [`Lifecycle`] turns such a table into a `transition` lookup, and
//! [`TransitionError`] is the one refusal every machine returns, so the HTTP edge maps all of
//! them the same way.

use std::fmt;
use std::hash::Hash;

/// Stable code of a refused transition, unless a machine names its own.
pub const ILLEGAL_TRANSITION: &str = "ILLEGAL_TRANSITION";

/// A status enum whose moves are one transition table.
pub trait Lifecycle: Copy + Eq + Hash + fmt::Debug + fmt::Display + 'static {
    /// What can happen to something in this lifecycle.
    type Command: Copy + Eq + Hash + fmt::Debug + fmt::Display + 'static;

    /// What the status belongs to, in refusal messages ("quote", "price").
    const SUBJECT: &'static str;

    /// Code of a refusal; [`ILLEGAL_TRANSITION`] unless a machine's clients already rely on
    /// another.
    const REFUSAL_CODE: &'static str = ILLEGAL_TRANSITION;

    /// The table: `(from, command, to)`. Anything absent is illegal.
    const TRANSITIONS: &'static [(Self, Self::Command, Self)];

    /// Where `command` takes this state, per [`Self::TRANSITIONS`]. Guards whose facts live
    /// outside the status are checked by the caller before.
    fn apply(self, command: Self::Command) -> Result<Self, TransitionError<Self>> {
        Self::TRANSITIONS
            .iter()
            .find(|(from, c, _)| *from == self && *c == command)
            .map(|(_, _, to)| *to)
            .ok_or(TransitionError {
                from: self,
                command,
            })
    }

    /// Whether no command moves this state any more.
    fn is_final(self) -> bool {
        !Self::TRANSITIONS.iter().any(|(from, _, _)| *from == self)
    }
}

/// A command the current state does not allow; nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransitionError<S: Lifecycle> {
    /// State the machine was in (and still is).
    pub from: S,
    /// The refused command.
    pub command: S::Command,
}

impl<S: Lifecycle> TransitionError<S> {
    /// The machine's refusal code, for problem responses.
    pub fn code(&self) -> &'static str {
        S::REFUSAL_CODE
    }
}

impl<S: Lifecycle> fmt::Display for TransitionError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not allowed when the {} is {}",
            self.command,
            S::SUBJECT,
            self.from
        )
    }
}

impl<S: Lifecycle> std::error::Error for TransitionError<S> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    enum Door {
        Open,
        Closed,
        Bricked,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    enum Push {
        Close,
        Open,
        Brick,
    }

    impl fmt::Display for Door {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(self, f)
        }
    }

    impl fmt::Display for Push {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(self, f)
        }
    }

    impl Lifecycle for Door {
        type Command = Push;
        const SUBJECT: &'static str = "door";
        const TRANSITIONS: &'static [(Self, Push, Self)] = &[
            (Door::Open, Push::Close, Door::Closed),
            (Door::Closed, Push::Open, Door::Open),
            (Door::Closed, Push::Brick, Door::Bricked),
        ];
    }

    #[test]
    fn the_table_decides_and_refusals_name_state_and_command() {
        assert_eq!(Door::Open.apply(Push::Close), Ok(Door::Closed));
        let refused = Door::Open.apply(Push::Brick).unwrap_err();
        assert_eq!(
            refused,
            TransitionError {
                from: Door::Open,
                command: Push::Brick
            }
        );
        assert_eq!(refused.code(), ILLEGAL_TRANSITION);
        assert_eq!(
            refused.to_string(),
            "Brick is not allowed when the door is Open"
        );
        assert!(Door::Bricked.is_final());
        assert!(!Door::Closed.is_final());
    }
}
