//! The quote approval policy, owned by the approval service (issue 21).
//!
//! The rules are not code: they are DMN decision tables kept under `workflow/dmn/`, one file per
//! version, embedded in the binary (`include_str!`, so nothing is read at run time), parsed once
//! and evaluated with a real DMN engine (dsntk: `dsntk-model` parses the XML,
//! `dsntk-model-evaluator` evaluates the decision). Every evaluation names the policy id, the
//! table's declared version and the SHA-256 of the exact file, so an approval can always be
//! traced to the table that decided it.
//!
//! # Rules of `quote-approval-policy` version 2
//! Hit policy COLLECT: every rule that matches is a [`Finding`].
//! - `LINE_DISCOUNT_ABOVE_AUTHORITY` — the largest line discount is above the submitter's
//!   discount authority: MANAGER.
//! - `QUOTE_DISCOUNT_ABOVE_AUTHORITY` — the quote-level discount is above that authority:
//!   MANAGER.
//! - `LINE_DISCOUNT_ABOVE_40`, `QUOTE_DISCOUNT_ABOVE_40` — a discount above 40 %: DIRECTOR as
//!   well (a 45 % quote by a 10 % agent needs MANAGER then DIRECTOR).
//! - `MANUAL_OVERRIDE` — any manual price override: MANAGER; `MANUAL_OVERRIDE_AMOUNT` records
//!   what the overrides took off (MANAGER too), so a larger cut is approved again.
//! - `BELOW_PRICE_FLOOR` — some charge's net is below 50 % of its list amount: DIRECTOR.
//! - `CONTRACT_VALUE_ABOVE_FINANCE_LIMIT` — one-time + monthly recurring × term months above
//!   1 000 000 in the quote currency: FINANCE.
//!
//! The chain is every level some finding requires, in the order MANAGER → DIRECTOR → FINANCE;
//! levels are not implied (a floor breach alone needs a DIRECTOR only). No finding: approval is
//! not required and the quote is approved by policy.
//!
//! # Flow
//! [`PolicyInput`] (per line and quote facts, built by the approval service from
//! `cpq.quote.submitted.v1`) → [`PolicyVariables`] (aggregates computed in Rust: the table
//! sees only these) → the DMN decision → [`PolicyEvaluation`] (findings, chain, per-level
//! tested inputs for smart re-approval, and the evidence pin).

mod dmn;
mod error;
mod evaluation;
mod feel;
mod input;
mod variables;

pub use dmn::{DmnPolicy, POLICY_FILES, PolicyFile, current, policy};
pub use error::PolicyError;
pub use evaluation::{Finding, LevelInputs, PolicyEvaluation, PolicyRef, evaluate};
pub use input::{LineInput, PolicyInput};
pub use variables::{Direction, PolicyVariables, Variable};
