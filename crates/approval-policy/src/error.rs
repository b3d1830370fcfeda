//! Why a policy could not be loaded or evaluated.
//!
//! dsntk's own error type implements no `std::error::Error` (see `workflow-model`), so its
//! message is kept as text; every other cause keeps its source.

/// Everything that can go wrong between the embedded DMN file and a [`crate::PolicyEvaluation`].
/// `Clone`, because a failed load is kept in the process-wide cache and handed to every caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The DMN file is not well-formed XML (caught by the embedded-file tests before release).
    #[error("DMN file {file} is not well-formed XML: {reason}")]
    Xml {
        /// The file under `workflow/dmn/`.
        file: &'static str,
        /// roxmltree's message.
        reason: String,
    },
    /// The DMN file lacks something the policy needs (a definitions id, a decision, its version).
    #[error("DMN file {file} is not a usable policy: {reason}")]
    Malformed {
        /// The file under `workflow/dmn/`.
        file: &'static str,
        /// What is missing.
        reason: String,
    },
    /// dsntk refused the model (parse or build).
    #[error("the DMN engine refused {file}: {reason}")]
    Engine {
        /// The file under `workflow/dmn/`.
        file: &'static str,
        /// dsntk's message.
        reason: String,
    },
    /// No embedded policy has this version.
    #[error("no embedded quote approval policy has version {0}")]
    UnknownVersion(String),
    /// The decision evaluated to something that is not a list of findings (a FEEL null with the
    /// engine's explanation, a wrong type, a missing column).
    #[error(
        "the decision {decision} of policy version {version} gave an unusable result: {reason}"
    )]
    Evaluation {
        /// The decision name.
        decision: String,
        /// The policy version.
        version: String,
        /// What was wrong.
        reason: String,
    },
    /// A number does not survive the Decimal ↔ FEEL crossing exactly.
    #[error("number {number} cannot cross into or out of FEEL exactly: {reason}")]
    Number {
        /// The number as text.
        number: String,
        /// Why.
        reason: String,
    },
    /// An aggregate over the lines overflowed `Decimal` (28 digits); such a quote is refused.
    #[error("the {variable} aggregate overflows a decimal")]
    Overflow {
        /// The aggregate's DMN name.
        variable: &'static str,
    },
}
