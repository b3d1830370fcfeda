//! The error taxonomy: every attempt at a downstream ends in exactly one of four classes, and
//! the class alone decides what happens next. The mapping (docs/adr/0038):
//!
//! | what the transport saw                                   | class               |
//! |----------------------------------------------------------|---------------------|
//! | 2xx                                                      | `SUCCEEDED`         |
//! | 400, 404, 409, 410, 422 and other 4xx not listed below   | `REJECTED_BUSINESS` |
//! | 401, 403, 408, 425, 429 (credentials, throttling)        | `FAILED_TECHNICAL`  |
//! | 5xx                                                      | `FAILED_TECHNICAL`  |
//! | the connection was refused or never established          | `FAILED_TECHNICAL`  |
//! | no answer within the timeout                             | `OUTCOME_UNKNOWN`   |
//! | the connection broke after the request was sent          | `OUTCOME_UNKNOWN`   |
//!
//! Only `FAILED_TECHNICAL` is retried blindly: the request either never reached the downstream
//! or the downstream said it did not apply it. `OUTCOME_UNKNOWN` is never a failure: the
//! downstream may have applied the effect, so it is reconciled (asked by key) before anything
//! else is sent. `REJECTED_BUSINESS` is never retried: the downstream said no, with its code.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What the transport saw of one attempt, before any meaning is given to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// The downstream answered with this HTTP status.
    Answered(u16),
    /// No connection was made (refused, no route, DNS): nothing was sent.
    NotConnected,
    /// The request was sent and no answer came within the timeout.
    TimedOut,
    /// The connection broke after the request was (or may have been) sent.
    Interrupted,
}

/// The closed classification of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Classification {
    /// The effect is applied (or was already, for this key).
    Succeeded,
    /// The downstream refused for a business reason; never retried.
    RejectedBusiness,
    /// Not applied, for a technical reason; retried with back-off within the budget.
    FailedTechnical,
    /// May or may not be applied; reconciled before anything else.
    OutcomeUnknown,
}

impl Classification {
    /// Every class.
    pub const ALL: [Self; 4] = [
        Self::Succeeded,
        Self::RejectedBusiness,
        Self::FailedTechnical,
        Self::OutcomeUnknown,
    ];

    /// The stored and published name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "SUCCEEDED",
            Self::RejectedBusiness => "REJECTED_BUSINESS",
            Self::FailedTechnical => "FAILED_TECHNICAL",
            Self::OutcomeUnknown => "OUTCOME_UNKNOWN",
        }
    }

    /// Reads a stored or query name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == value)
    }

    /// Whether sending the same request again is safe without asking first.
    pub fn retryable(self) -> bool {
        self == Self::FailedTechnical
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The class of what the transport saw (the table above).
pub fn classify(transport: Transport) -> Classification {
    match transport {
        Transport::Answered(status) if (200..300).contains(&status) => Classification::Succeeded,
        Transport::Answered(401 | 403 | 408 | 425 | 429) => Classification::FailedTechnical,
        Transport::Answered(status) if (400..500).contains(&status) => {
            Classification::RejectedBusiness
        }
        // 5xx, and 1xx/3xx a downstream API has no business sending: nothing is known to be
        // applied, and the same key makes a retry safe.
        Transport::Answered(_) | Transport::NotConnected => Classification::FailedTechnical,
        Transport::TimedOut | Transport::Interrupted => Classification::OutcomeUnknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_mapping_holds_for_every_status_and_transport_fault() {
        for status in 100..600u16 {
            let class = classify(Transport::Answered(status));
            let expected = match status {
                200..=299 => Classification::Succeeded,
                401 | 403 | 408 | 425 | 429 => Classification::FailedTechnical,
                400..=499 => Classification::RejectedBusiness,
                _ => Classification::FailedTechnical,
            };
            assert_eq!(class, expected, "HTTP {status}");
        }
        assert_eq!(
            classify(Transport::NotConnected),
            Classification::FailedTechnical
        );
        assert_eq!(
            classify(Transport::TimedOut),
            Classification::OutcomeUnknown
        );
        assert_eq!(
            classify(Transport::Interrupted),
            Classification::OutcomeUnknown
        );
    }

    #[test]
    fn only_a_technical_failure_is_blindly_retryable() {
        for class in Classification::ALL {
            assert_eq!(class.retryable(), class == Classification::FailedTechnical);
            assert_eq!(Classification::parse(class.as_str()), Some(class));
        }
    }
}
