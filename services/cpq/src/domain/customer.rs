//! The customer a quote is for: opaque text owned by the customer system, validated once here.

use std::fmt;

/// Longest customer id accepted (the database enforces the same bound).
pub const MAX_CUSTOMER_ID: usize = 128;

/// A customer identifier. Immutable on a quote (ownership invariant); the database refuses a
/// change with a trigger as well.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CustomerId(String);

/// Why a customer id was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CustomerIdError {
    /// Empty or whitespace.
    #[error("must not be empty")]
    Empty,
    /// Longer than [`MAX_CUSTOMER_ID`].
    #[error("must be at most {MAX_CUSTOMER_ID} characters")]
    TooLong,
    /// Control characters.
    #[error("must not contain control characters")]
    ControlCharacter,
}

impl CustomerId {
    /// Validates a customer id as sent by a client.
    pub fn parse(value: &str) -> Result<Self, CustomerIdError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(CustomerIdError::Empty);
        }
        if value.chars().count() > MAX_CUSTOMER_ID {
            return Err(CustomerIdError::TooLong);
        }
        if value.chars().any(char::is_control) {
            return Err(CustomerIdError::ControlCharacter);
        }
        Ok(Self(value.to_owned()))
    }

    /// The id text, for storage and wire formats.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids_are_validated() {
        assert_eq!(
            CustomerId::parse(" C-1 ").map(|c| c.0),
            Ok("C-1".to_owned())
        );
        assert_eq!(CustomerId::parse("  "), Err(CustomerIdError::Empty));
        assert_eq!(
            CustomerId::parse(&"x".repeat(129)),
            Err(CustomerIdError::TooLong)
        );
        assert_eq!(
            CustomerId::parse("a\u{0}b"),
            Err(CustomerIdError::ControlCharacter)
        );
    }
}
