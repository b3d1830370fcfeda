//! Guards of the quote lifecycle whose facts live outside the status: item validity, time and
//! the price's state. Each returns every failed condition at once, so a client learns all
//! reasons in one answer.

use std::time::SystemTime;

use cpq_configuration::{ItemStatus, ValidationReport};

/// A guard condition that does not hold; each has a stable code for problem responses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// ConfigureItems with invalid items or quote-level violations.
    #[error("{invalid_items} item(s) and {quote_violations} quote-level rule(s) are not valid")]
    ConfigurationInvalid {
        /// Items with violations.
        invalid_items: usize,
        /// Quote-level violations (e.g. no items).
        quote_violations: usize,
    },
    /// Accept at or after `valid_until`.
    #[error("the quote was valid until {valid_until:?}")]
    QuoteExpired {
        /// When acceptance was attempted.
        now: SystemTime,
        /// End of validity (exclusive).
        valid_until: SystemTime,
    },
    /// Accept without a FROZEN price snapshot.
    #[error("the price is not frozen")]
    PriceNotFrozen,
    /// Accept with a price other than the one approved.
    #[error("the price hash {current} differs from the approved hash {approved}")]
    PriceHashMismatch {
        /// Hash recorded at approval.
        approved: String,
        /// Hash of the price being accepted.
        current: String,
    },
    /// Expire before `valid_until`.
    #[error("the quote is valid until {valid_until:?}")]
    QuoteNotExpired {
        /// When expiry was attempted.
        now: SystemTime,
        /// End of validity.
        valid_until: SystemTime,
    },
}

impl GuardError {
    /// Stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ConfigurationInvalid { .. } => "CONFIGURATION_INVALID",
            Self::QuoteExpired { .. } => "QUOTE_EXPIRED",
            Self::PriceNotFrozen => "PRICE_NOT_FROZEN",
            Self::PriceHashMismatch { .. } => "PRICE_HASH_MISMATCH",
            Self::QuoteNotExpired { .. } => "QUOTE_NOT_EXPIRED",
        }
    }
}

/// Every guard condition that failed for one command (never empty), so a client learns all
/// reasons at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("guard refused: {}", .reasons.iter().map(GuardError::code).collect::<Vec<_>>().join(", "))]
pub struct GuardRefused {
    /// The failed conditions, in a fixed order.
    pub reasons: Vec<GuardError>,
}

impl GuardRefused {
    /// Code of the first reason, for responses that carry a single code.
    pub fn code(&self) -> &'static str {
        self.reasons
            .first()
            .map_or("GUARD_REFUSED", GuardError::code)
    }

    fn check(reasons: Vec<GuardError>) -> Result<(), Self> {
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(Self { reasons })
        }
    }
}

/// The facts acceptance depends on, gathered by the caller from the quote, its price snapshot
/// and its approval evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptanceFacts<'a> {
    /// Time of the acceptance.
    pub now: SystemTime,
    /// End of the quote's validity (exclusive).
    pub valid_until: SystemTime,
    /// Whether the price snapshot is FROZEN.
    pub price_frozen: bool,
    /// Price hash recorded when the quote was approved.
    pub approved_price_hash: &'a str,
    /// Price hash of the snapshot being accepted.
    pub current_price_hash: &'a str,
}

/// Guard of [`QuoteCommand::ConfigureItems`]: every item VALID and no quote-level violation.
pub fn check_configure(report: &ValidationReport) -> Result<(), GuardRefused> {
    let invalid_items = report
        .items
        .iter()
        .filter(|i| i.status() == ItemStatus::Invalid)
        .count();
    let quote_violations = report.quote_violations.len();
    GuardRefused::check(if invalid_items + quote_violations > 0 {
        vec![GuardError::ConfigurationInvalid {
            invalid_items,
            quote_violations,
        }]
    } else {
        Vec::new()
    })
}

/// Guard of [`QuoteCommand::Accept`]: still valid (`now < valid_until`), price FROZEN, and the
/// accepted price hash equal, byte for byte, to the approved one — approving one number and
/// ordering another is what this prevents.
pub fn check_accept(facts: &AcceptanceFacts<'_>) -> Result<(), GuardRefused> {
    let mut reasons = Vec::new();
    if facts.now >= facts.valid_until {
        reasons.push(GuardError::QuoteExpired {
            now: facts.now,
            valid_until: facts.valid_until,
        });
    }
    if !facts.price_frozen {
        reasons.push(GuardError::PriceNotFrozen);
    }
    if facts.approved_price_hash != facts.current_price_hash {
        reasons.push(GuardError::PriceHashMismatch {
            approved: facts.approved_price_hash.to_owned(),
            current: facts.current_price_hash.to_owned(),
        });
    }
    GuardRefused::check(reasons)
}

/// Guard of [`QuoteCommand::Expire`]: only once `valid_until` has passed (`now >=
/// valid_until`, the exact complement of acceptance's time condition).
pub fn check_expire(now: SystemTime, valid_until: SystemTime) -> Result<(), GuardRefused> {
    GuardRefused::check(if now < valid_until {
        vec![GuardError::QuoteNotExpired { now, valid_until }]
    } else {
        Vec::new()
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::lifecycle::walks::steer;
    use super::super::lifecycle::{QuoteCommand as C, QuoteStatus as S, transition};
    use super::*;
    use proptest::prelude::*;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn facts<'a>(
        now: u64,
        frozen: bool,
        approved: &'a str,
        current: &'a str,
    ) -> AcceptanceFacts<'a> {
        AcceptanceFacts {
            now: at(now),
            valid_until: at(100),
            price_frozen: frozen,
            approved_price_hash: approved,
            current_price_hash: current,
        }
    }

    #[test]
    fn acceptance_needs_time_frozen_price_and_the_approved_hash() {
        assert_eq!(check_accept(&facts(99, true, "aa", "aa")), Ok(()));

        let codes = |f: AcceptanceFacts<'_>| -> Vec<&'static str> {
            check_accept(&f)
                .err()
                .map(|e| e.reasons.iter().map(GuardError::code).collect())
                .unwrap_or_default()
        };
        assert_eq!(
            codes(facts(100, true, "aa", "aa")),
            ["QUOTE_EXPIRED"],
            "valid_until is exclusive"
        );
        assert_eq!(codes(facts(1, false, "aa", "aa")), ["PRICE_NOT_FROZEN"]);
        assert_eq!(
            codes(facts(1, true, "aa", "AA")),
            ["PRICE_HASH_MISMATCH"],
            "compared byte for byte"
        );
        assert_eq!(
            codes(facts(500, false, "aa", "bb")),
            ["QUOTE_EXPIRED", "PRICE_NOT_FROZEN", "PRICE_HASH_MISMATCH"],
            "every failed condition is reported"
        );
        let refused = check_accept(&facts(500, false, "aa", "bb")).unwrap_err();
        assert_eq!(refused.code(), "QUOTE_EXPIRED");
        assert_eq!(
            refused.to_string(),
            "guard refused: QUOTE_EXPIRED, PRICE_NOT_FROZEN, PRICE_HASH_MISMATCH"
        );
    }

    #[test]
    fn expiry_is_the_complement_of_acceptance_time() {
        for now in [0, 99, 100, 101] {
            let expirable = check_expire(at(now), at(100)).is_ok();
            let acceptable = check_accept(&facts(now, true, "x", "x")).is_ok();
            assert_ne!(expirable, acceptable, "now = {now}");
        }
        assert_eq!(
            check_expire(at(5), at(100)).unwrap_err().code(),
            "QUOTE_NOT_EXPIRED"
        );
    }

    #[test]
    fn configure_needs_a_fully_valid_report() {
        let empty = ValidationReport {
            quote_violations: Vec::new(),
            items: Vec::new(),
        };
        assert_eq!(check_configure(&empty), Ok(()));
        let no_items = ValidationReport {
            quote_violations: vec![cpq_configuration::Violation {
                item_id: None,
                code: cpq_configuration::ViolationCode::NoItems,
                path: "/items".into(),
                message: String::new(),
                details: serde_json::Value::Null,
            }],
            items: Vec::new(),
        };
        let refused = check_configure(&no_items).unwrap_err();
        assert_eq!(refused.code(), "CONFIGURATION_INVALID");
        assert_eq!(
            refused.reasons,
            [GuardError::ConfigurationInvalid {
                invalid_items: 0,
                quote_violations: 1
            }]
        );
    }

    proptest! {
        /// A service that consults the guard before Accept never holds an ACCEPTED quote whose
        /// price is not frozen, expired, or different from the approved one.
        #[test]
        fn accepted_quotes_hold_the_approved_frozen_price(
            steps in proptest::collection::vec(
                (any::<u8>(), any::<bool>(), any::<bool>(), any::<bool>()),
                0..80,
            )
        ) {
            let mut state = S::Draft;
            for (choice, in_time, frozen, same_hash) in steps {
                let command = steer(state, choice);
                let f = facts(if in_time { 50 } else { 150 }, frozen, "approved", if same_hash { "approved" } else { "other" });
                if command == C::Accept && check_accept(&f).is_err() {
                    continue;
                }
                if let Ok(next) = transition(state, command) {
                    if next == S::Accepted {
                        prop_assert!(in_time && frozen && same_hash);
                    }
                    state = next;
                }
            }
        }
    }
}
