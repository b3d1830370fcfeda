//! The per-item configuration lifecycle (state-machines.md, "Configuration"):
//! EMPTY → IN_PROGRESS → VALID | INVALID → FROZEN, as one table. FROZEN is terminal: a frozen
//! configuration is what an order is built from, so nothing may change it.

use std::fmt;

use domain_kernel::{Lifecycle, TransitionError};

/// Where an item's configuration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConfigurationStatus {
    /// Nothing configured yet (no offering chosen).
    Empty,
    /// Changed since it was last validated.
    InProgress,
    /// Validated with no violation; has a configuration hash.
    Valid,
    /// Validated with violations; blocks submission of the quote.
    Invalid,
    /// Snapshotted for acceptance and ordering; never changes again.
    Frozen,
}

/// What can happen to an item's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigurationCommand {
    /// The seller changed offering, values, quantity or parent.
    Edit,
    /// Validation found no violation.
    ValidatePassed,
    /// Validation found violations.
    ValidateFailed,
    /// The configuration is snapshotted (on acceptance).
    Freeze,
}

impl ConfigurationStatus {
    /// Every status, for matrices and property tests.
    pub const ALL: [Self; 5] = [
        Self::Empty,
        Self::InProgress,
        Self::Valid,
        Self::Invalid,
        Self::Frozen,
    ];

    /// Wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Empty => "EMPTY",
            Self::InProgress => "IN_PROGRESS",
            Self::Valid => "VALID",
            Self::Invalid => "INVALID",
            Self::Frozen => "FROZEN",
        }
    }

    /// Reads the wire and storage name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Whether no command changes this state any more.
    pub fn is_terminal(self) -> bool {
        self == Self::Frozen
    }
}

impl ConfigurationCommand {
    /// Every command, for matrices and property tests.
    pub const ALL: [Self; 4] = [
        Self::Edit,
        Self::ValidatePassed,
        Self::ValidateFailed,
        Self::Freeze,
    ];

    /// Name used in history rows and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Edit => "EDIT",
            Self::ValidatePassed => "VALIDATE_PASSED",
            Self::ValidateFailed => "VALIDATE_FAILED",
            Self::Freeze => "FREEZE",
        }
    }

    /// Reads the name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == value)
    }
}

impl fmt::Display for ConfigurationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ConfigurationCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The configuration lifecycle: (from, command, to). Anything absent is illegal.
///
/// VALID and INVALID accept both validation outcomes because validity depends on the other
/// items of the quote (REQUIRES, EXCLUDES, add-on counts): editing one item re-validates all
/// of them, and an untouched item may flip either way. Only VALID freezes.
pub const CONFIGURATION_TRANSITIONS: &[(
    ConfigurationStatus,
    ConfigurationCommand,
    ConfigurationStatus,
)] = {
    use ConfigurationCommand as C;
    use ConfigurationStatus as S;
    &[
        (S::Empty, C::Edit, S::InProgress),
        (S::InProgress, C::Edit, S::InProgress),
        (S::InProgress, C::ValidatePassed, S::Valid),
        (S::InProgress, C::ValidateFailed, S::Invalid),
        (S::Valid, C::Edit, S::InProgress),
        (S::Valid, C::ValidatePassed, S::Valid),
        (S::Valid, C::ValidateFailed, S::Invalid),
        (S::Valid, C::Freeze, S::Frozen),
        (S::Invalid, C::Edit, S::InProgress),
        (S::Invalid, C::ValidatePassed, S::Valid),
        (S::Invalid, C::ValidateFailed, S::Invalid),
    ]
};

impl Lifecycle for ConfigurationStatus {
    type Command = ConfigurationCommand;
    const SUBJECT: &'static str = "configuration";
    const TRANSITIONS: &'static [(Self, ConfigurationCommand, Self)] = CONFIGURATION_TRANSITIONS;
}

/// Refused configuration command.
pub type ConfigurationTransitionError = TransitionError<ConfigurationStatus>;

/// Where `command` takes a configuration in state `from`.
pub fn transition(
    from: ConfigurationStatus,
    command: ConfigurationCommand,
) -> Result<ConfigurationStatus, ConfigurationTransitionError> {
    from.apply(command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConfigurationCommand as C;
    use ConfigurationStatus as S;
    use proptest::prelude::*;

    /// Every (state, command) pair against a list written independently of the table.
    #[test]
    fn transition_matrix() {
        let allowed: [(S, C, S); 11] = [
            (S::Empty, C::Edit, S::InProgress),
            (S::InProgress, C::Edit, S::InProgress),
            (S::InProgress, C::ValidatePassed, S::Valid),
            (S::InProgress, C::ValidateFailed, S::Invalid),
            (S::Valid, C::Edit, S::InProgress),
            (S::Valid, C::ValidatePassed, S::Valid),
            (S::Valid, C::ValidateFailed, S::Invalid),
            (S::Valid, C::Freeze, S::Frozen),
            (S::Invalid, C::Edit, S::InProgress),
            (S::Invalid, C::ValidatePassed, S::Valid),
            (S::Invalid, C::ValidateFailed, S::Invalid),
        ];
        let count = domain_kernel::check_transition_matrix(&S::ALL, &C::ALL, &allowed);
        assert_eq!(
            count,
            Ok(domain_kernel::MatrixCount {
                pairs: 20,
                allowed: allowed.len()
            })
        );
    }

    #[test]
    fn names_round_trip() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
        for c in C::ALL {
            assert_eq!(C::parse(c.as_str()), Some(c));
        }
        assert_eq!(S::parse("frozen"), None);
    }

    #[test]
    fn only_a_valid_configuration_freezes() {
        for from in S::ALL {
            assert_eq!(
                transition(from, C::Freeze).is_ok(),
                from == S::Valid,
                "{from}"
            );
        }
    }

    proptest! {
        /// Once FROZEN, no command sequence changes the configuration; and FROZEN is only
        /// ever entered from VALID.
        #[test]
        fn frozen_never_changes(
            commands in proptest::collection::vec(proptest::sample::select(C::ALL.to_vec()), 0..60)
        ) {
            let mut state = S::Empty;
            for command in commands {
                let before = state;
                match transition(state, command) {
                    Ok(next) => {
                        prop_assert!(!before.is_terminal(), "{before} accepted {command}");
                        if next == S::Frozen {
                            prop_assert_eq!(before, S::Valid);
                        }
                        state = next;
                    }
                    Err(error) => {
                        prop_assert_eq!(error.from, before);
                    }
                }
                if before == S::Frozen {
                    prop_assert_eq!(state, S::Frozen);
                }
            }
        }
    }
}
