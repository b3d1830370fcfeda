//! The quote aggregate (state-machines.md, "Quote"): its lifecycle table and guards, its
//! items, price and approval stages, the commands as methods, and the typed events they emit.

pub mod aggregate;
pub mod approvals;
pub mod catalog_pins;
pub mod commitment;
pub mod decisions;
pub mod editing;
pub mod error;
pub mod events;
pub mod guards;
pub mod items;
pub mod lifecycle;
pub mod price;
#[cfg(test)]
mod tests;

pub use aggregate::{PriceBookPin, Quote, QuoteIdentity, QuoteParts};
pub use approvals::ApprovalApplication;
pub use commitment::{Acceptance, Approval, ApprovalBasis, Approved, Commitment, Conversion};
pub use decisions::ConversionOutcome;
pub use editing::{NewQuote, OverrideDraft};
pub use error::QuoteError;
pub use events::{ApprovalRecorded, EventDetail, QuoteEvent, QuoteSummary};
pub use items::{ConfigurationViolation, ItemConfiguration, ItemDraft, QuoteItem};
pub use lifecycle::{QuoteCommand, QuoteStatus};
pub use price::{PriceOverride, PriceSnapshot, QuotePrice};
