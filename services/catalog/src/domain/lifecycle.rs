//! Lifecycles as explicit transition tables (state-machines.md): one table per aggregate, one
//! function that consults it, and typed errors for everything the table does not allow.

use std::fmt;

use domain_kernel::Lifecycle;

/// Lifecycle of a product offering version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OfferingStatus {
    /// Being written; the only state whose content may change.
    Draft,
    /// Frozen for review; goes back to draft for rework or on to publication.
    ReadyForReview,
    /// On sale: the only state that can be quoted for new acquisition.
    Published,
    /// Not sold new; still serves modify/disconnect of existing assets.
    Retired,
    /// Historical reconstruction only.
    Archived,
}

/// Commands that act on an offering version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OfferingCommand {
    /// Change a draft's content.
    Edit,
    /// Freeze a draft for review.
    SubmitForReview,
    /// Send a version under review back for rework.
    ReturnToDraft,
    /// Put a reviewed version on sale (retiring the version it replaces).
    Publish,
    /// Stop selling a published version.
    Retire,
    /// Move a retired version to the archive.
    Archive,
    /// Open a new draft version copied from this one (this one is unchanged).
    DeriveNewVersion,
}

impl OfferingStatus {
    /// Every status, for matrices and property tests.
    pub const ALL: [Self; 5] = [
        Self::Draft,
        Self::ReadyForReview,
        Self::Published,
        Self::Retired,
        Self::Archived,
    ];

    /// Wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::ReadyForReview => "READY_FOR_REVIEW",
            Self::Published => "PUBLISHED",
            Self::Retired => "RETIRED",
            Self::Archived => "ARCHIVED",
        }
    }

    /// Parses the wire and storage name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Whether the version's content can never change again (PUBLISHED and later; a
    /// READY_FOR_REVIEW version may still return to DRAFT and be edited).
    pub fn is_content_frozen(self) -> bool {
        matches!(self, Self::Published | Self::Retired | Self::Archived)
    }
}

impl OfferingCommand {
    /// Every command, for matrices and property tests.
    pub const ALL: [Self; 7] = [
        Self::Edit,
        Self::SubmitForReview,
        Self::ReturnToDraft,
        Self::Publish,
        Self::Retire,
        Self::Archive,
        Self::DeriveNewVersion,
    ];

    /// Name used in history rows and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Edit => "EDIT",
            Self::SubmitForReview => "SUBMIT_FOR_REVIEW",
            Self::ReturnToDraft => "RETURN_TO_DRAFT",
            Self::Publish => "PUBLISH",
            Self::Retire => "RETIRE",
            Self::Archive => "ARCHIVE",
            Self::DeriveNewVersion => "DERIVE_NEW_VERSION",
        }
    }
}

/// The offering lifecycle: (from, command, to). Anything absent is illegal.
pub const OFFERING_TRANSITIONS: &[(OfferingStatus, OfferingCommand, OfferingStatus)] = {
    use OfferingCommand as C;
    use OfferingStatus as S;
    &[
        (S::Draft, C::Edit, S::Draft),
        (S::Draft, C::SubmitForReview, S::ReadyForReview),
        (S::ReadyForReview, C::ReturnToDraft, S::Draft),
        (S::ReadyForReview, C::Publish, S::Published),
        (S::Published, C::Retire, S::Retired),
        (S::Retired, C::Archive, S::Archived),
        (S::Published, C::DeriveNewVersion, S::Published),
        (S::Retired, C::DeriveNewVersion, S::Retired),
    ]
};

/// A command the current state does not allow (the platform's one refusal type).
pub use domain_kernel::TransitionError;

impl Lifecycle for OfferingStatus {
    type Command = OfferingCommand;
    const SUBJECT: &'static str = "version";
    const TRANSITIONS: &'static [(Self, OfferingCommand, Self)] = OFFERING_TRANSITIONS;
}

impl Lifecycle for PriceBookStatus {
    type Command = PriceBookCommand;
    const SUBJECT: &'static str = "version";
    const TRANSITIONS: &'static [(Self, PriceBookCommand, Self)] = PRICE_BOOK_TRANSITIONS;
}

impl fmt::Display for OfferingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for OfferingCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where `command` takes a version in state `from`.
pub fn offering_transition(
    from: OfferingStatus,
    command: OfferingCommand,
) -> Result<OfferingStatus, TransitionError<OfferingStatus>> {
    from.apply(command)
}

/// Lifecycle of a price book version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PriceBookStatus {
    /// Being prepared; charges may be replaced.
    Draft,
    /// In force: prices new quotes.
    Published,
    /// Replaced by a newer version or withdrawn; still resolvable for existing quotes.
    Retired,
}

/// Commands that act on a price book version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PriceBookCommand {
    /// Put a draft in force (retiring the version it replaces).
    Publish,
    /// Withdraw a published version.
    Retire,
    /// Open a new draft copied from this version.
    DeriveNewVersion,
}

impl PriceBookStatus {
    /// Every status.
    pub const ALL: [Self; 3] = [Self::Draft, Self::Published, Self::Retired];

    /// Wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Published => "PUBLISHED",
            Self::Retired => "RETIRED",
        }
    }

    /// Parses the wire and storage name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

impl PriceBookCommand {
    /// Every command.
    pub const ALL: [Self; 3] = [Self::Publish, Self::Retire, Self::DeriveNewVersion];

    /// Name used in history rows and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "PUBLISH",
            Self::Retire => "RETIRE",
            Self::DeriveNewVersion => "DERIVE_NEW_VERSION",
        }
    }
}

impl fmt::Display for PriceBookStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for PriceBookCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The price book lifecycle: (from, command, to).
pub const PRICE_BOOK_TRANSITIONS: &[(PriceBookStatus, PriceBookCommand, PriceBookStatus)] = {
    use PriceBookCommand as C;
    use PriceBookStatus as S;
    &[
        (S::Draft, C::Publish, S::Published),
        (S::Published, C::Retire, S::Retired),
        (S::Published, C::DeriveNewVersion, S::Published),
        (S::Retired, C::DeriveNewVersion, S::Retired),
    ]
};

/// Where `command` takes a price book version in state `from`.
pub fn price_book_transition(
    from: PriceBookStatus,
    command: PriceBookCommand,
) -> Result<PriceBookStatus, TransitionError<PriceBookStatus>> {
    from.apply(command)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every (state, command) pair, with the expected outcome written out independently of the
    /// table so a change to either is caught.
    #[test]
    fn offering_transition_matrix() {
        use OfferingCommand as C;
        use OfferingStatus as S;
        let expected = |from: S, command: C| -> Option<S> {
            match (from, command) {
                (S::Draft, C::Edit) => Some(S::Draft),
                (S::Draft, C::SubmitForReview) => Some(S::ReadyForReview),
                (S::ReadyForReview, C::ReturnToDraft) => Some(S::Draft),
                (S::ReadyForReview, C::Publish) => Some(S::Published),
                (S::Published, C::Retire) => Some(S::Retired),
                (S::Retired, C::Archive) => Some(S::Archived),
                (S::Published | S::Retired, C::DeriveNewVersion) => Some(from),
                _ => None,
            }
        };
        let mut allowed = 0;
        for from in S::ALL {
            for command in C::ALL {
                let outcome = offering_transition(from, command);
                assert_eq!(outcome.ok(), expected(from, command), "{from} x {command}");
                if let Err(error) = outcome {
                    assert_eq!(error, TransitionError { from, command });
                } else {
                    allowed += 1;
                }
            }
        }
        assert_eq!(allowed, 8);
        assert_eq!(S::ALL.len() * C::ALL.len(), 35);
    }

    #[test]
    fn archived_is_terminal() {
        for command in OfferingCommand::ALL {
            assert!(offering_transition(OfferingStatus::Archived, command).is_err());
        }
    }

    #[test]
    fn price_book_transition_matrix() {
        use PriceBookCommand as C;
        use PriceBookStatus as S;
        for from in S::ALL {
            for command in C::ALL {
                let expected = match (from, command) {
                    (S::Draft, C::Publish) => Some(S::Published),
                    (S::Published, C::Retire) => Some(S::Retired),
                    (S::Published | S::Retired, C::DeriveNewVersion) => Some(from),
                    _ => None,
                };
                assert_eq!(
                    price_book_transition(from, command).ok(),
                    expected,
                    "{from} x {command}"
                );
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for status in OfferingStatus::ALL {
            assert_eq!(OfferingStatus::parse(status.as_str()), Some(status));
        }
        for status in PriceBookStatus::ALL {
            assert_eq!(PriceBookStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(OfferingStatus::parse("draft"), None);
    }

    fn any_command() -> impl Strategy<Value = OfferingCommand> {
        proptest::sample::select(OfferingCommand::ALL.to_vec())
    }

    proptest! {
        /// Once a version leaves DRAFT its content never changes again, whatever commands follow,
        /// and status only moves forward except for the review rework loop.
        #[test]
        fn frozen_content_stays_frozen(commands in proptest::collection::vec(any_command(), 0..40)) {
            let mut status = OfferingStatus::Draft;
            let mut ever_published = false;
            for command in commands {
                if let Ok(next) = offering_transition(status, command) {
                    if command == OfferingCommand::Edit {
                        prop_assert_eq!(status, OfferingStatus::Draft, "only drafts are edited");
                    }
                    if ever_published {
                        prop_assert!(next >= OfferingStatus::Published, "a published version never returns to draft or review");
                    }
                    status = next;
                    ever_published |= status == OfferingStatus::Published;
                }
            }
        }
    }
}
