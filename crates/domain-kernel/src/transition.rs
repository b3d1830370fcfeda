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

/// How many pairs a transition-matrix check compared, and how many of them the table allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatrixCount {
    /// Every (state, command) pair given.
    pub pairs: usize,
    /// Pairs the table allows.
    pub allowed: usize,
}

/// The transition-matrix test every state machine has: compares `S`'s table, over every pair of
/// `states` × `commands`, with `expected` written independently of it, so a change to either is
/// caught. Each refusal must be the one [`TransitionError`] with the machine's code and message,
/// and the table must hold no row beyond `expected` (no duplicates). The error names the first
/// pair that differs.
pub fn check_transition_matrix<S: Lifecycle>(
    states: &[S],
    commands: &[S::Command],
    expected: &[(S, S::Command, S)],
) -> Result<MatrixCount, String> {
    let mut count = MatrixCount {
        pairs: 0,
        allowed: 0,
    };
    for &from in states {
        for &command in commands {
            count.pairs += 1;
            let want = expected
                .iter()
                .find(|(f, c, _)| *f == from && *c == command)
                .map(|(_, _, to)| *to);
            match (from.apply(command), want) {
                (Ok(to), Some(want)) if to == want => count.allowed += 1,
                (Err(error), None) => {
                    let message =
                        format!("{command} is not allowed when the {} is {from}", S::SUBJECT);
                    if error != (TransitionError { from, command })
                        || error.code() != S::REFUSAL_CODE
                        || error.to_string() != message
                    {
                        return Err(format!("{from} x {command}: refused as {error:?}"));
                    }
                }
                (got, want) => {
                    return Err(format!(
                        "{from} x {command}: got {got:?}, expected {want:?}"
                    ));
                }
            }
        }
    }
    if S::TRANSITIONS.len() != count.allowed || expected.len() != count.allowed {
        return Err(format!(
            "the table has {} rows and the expectation {}, but {} pairs are allowed: a duplicate \
             or a row outside the states and commands given",
            S::TRANSITIONS.len(),
            expected.len(),
            count.allowed
        ));
    }
    Ok(count)
}

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

    const DOORS: [Door; 3] = [Door::Open, Door::Closed, Door::Bricked];
    const PUSHES: [Push; 3] = [Push::Close, Push::Open, Push::Brick];

    #[test]
    fn the_matrix_check_passes_the_true_table_and_names_any_difference() {
        let truth = [
            (Door::Open, Push::Close, Door::Closed),
            (Door::Closed, Push::Open, Door::Open),
            (Door::Closed, Push::Brick, Door::Bricked),
        ];
        assert_eq!(
            check_transition_matrix(&DOORS, &PUSHES, &truth),
            Ok(MatrixCount {
                pairs: 9,
                allowed: 3
            })
        );
        let wrong_target = [truth[0], truth[1], (Door::Closed, Push::Brick, Door::Open)];
        assert_eq!(
            check_transition_matrix(&DOORS, &PUSHES, &wrong_target),
            Err("Closed x Brick: got Ok(Bricked), expected Some(Open)".to_owned())
        );
        let missing_row = [truth[0], truth[1]];
        assert!(
            check_transition_matrix(&DOORS, &PUSHES, &missing_row)
                .is_err_and(|e| e.starts_with("Closed x Brick"))
        );
        let not_in_table = [
            truth[0],
            truth[1],
            truth[2],
            (Door::Bricked, Push::Open, Door::Open),
        ];
        assert!(
            check_transition_matrix(&DOORS, &PUSHES, &not_in_table)
                .is_err_and(|e| e.starts_with("Bricked x Open"))
        );
        // A state left out of the sweep leaves table rows unaccounted for.
        assert!(
            check_transition_matrix(&[Door::Open, Door::Bricked], &PUSHES, &truth[..1])
                .is_err_and(|e| e.contains("3 rows"))
        );
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
