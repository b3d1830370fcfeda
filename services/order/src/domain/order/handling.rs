//! Why a task exists and whether a person has to act on it. A plan only ever grows: a
//! compensation undoes a succeeded task's effect as a task of its own, a redo replaces a task
//! whose effect must be made again with other data, and an operator's settlement is recorded
//! on the task, never by rewriting it.

use serde::{Deserialize, Serialize};

use super::super::FulfilmentTaskId;

/// Why a task is in the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum TaskPurpose {
    /// A step of the decomposed plan.
    Fulfil,
    /// Undoes the effect of `of` (which SUCCEEDED): a new action, never a rollback.
    Compensate {
        /// The task whose effect it undoes.
        of: FulfilmentTaskId,
    },
    /// Makes the effect of `replaces` again with corrected or amended data, under a new
    /// idempotency key (the replaced task is CANCELLED, its history kept).
    Redo {
        /// The task it replaces.
        replaces: FulfilmentTaskId,
    },
}

impl TaskPurpose {
    /// The stored kind.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Fulfil => "FULFIL",
            Self::Compensate { .. } => "COMPENSATE",
            Self::Redo { .. } => "REDO",
        }
    }

    /// The task this one refers to (the compensated or the replaced one).
    pub fn refers_to(self) -> Option<FulfilmentTaskId> {
        match self {
            Self::Fulfil => None,
            Self::Compensate { of } => Some(of),
            Self::Redo { replaces } => Some(replaces),
        }
    }

    /// Reads the stored kind and reference back.
    pub fn from_stored(kind: &str, refers_to: Option<FulfilmentTaskId>) -> Option<Self> {
        match (kind, refers_to) {
            ("FULFIL", None) => Some(Self::Fulfil),
            ("COMPENSATE", Some(of)) => Some(Self::Compensate { of }),
            ("REDO", Some(replaces)) => Some(Self::Redo { replaces }),
            _ => None,
        }
    }
}

/// Whether a person has to act on a task, and what they did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskHandling {
    /// The process runs it.
    Automatic,
    /// Its effect must be undone by hand (irreversible, or its item is past the point of no
    /// return) before the cancellation can finish.
    ManualUndoRequired,
    /// An operator verified downstream that the effect is applied (force-complete).
    VerifiedByOperator,
    /// An operator declared the step not needed, with evidence (skip).
    SkippedByOperator,
    /// An operator undid the effect by hand, with evidence.
    UndoneByOperator,
}

impl TaskHandling {
    /// Every handling.
    pub const ALL: [Self; 5] = [
        Self::Automatic,
        Self::ManualUndoRequired,
        Self::VerifiedByOperator,
        Self::SkippedByOperator,
        Self::UndoneByOperator,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Automatic => "AUTOMATIC",
            Self::ManualUndoRequired => "MANUAL_UNDO_REQUIRED",
            Self::VerifiedByOperator => "VERIFIED_BY_OPERATOR",
            Self::SkippedByOperator => "SKIPPED_BY_OPERATOR",
            Self::UndoneByOperator => "UNDONE_BY_OPERATOR",
        }
    }

    /// Reads a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.as_str() == value)
    }

    /// Whether the task left an effect downstream that a compensation could undo (a skipped
    /// step left none).
    pub fn left_an_effect(self) -> bool {
        !matches!(self, Self::SkippedByOperator)
    }
}
